package aiproxy

import (
	"context"
	"errors"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/aiproxy/aiproxy/credential/entra"
	"github.com/aiproxy/aiproxy/credential/gcpauth"
	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
)

// This file is a target's credential handling: its auth header and parameter, the bearer
// tokens of a GCP service account or an Azure identity, and the AWS credentials a signing
// provider signs with. Every value that may be a reference is resolved per attempt through
// the vaults' caches, so a rotated secret is used without a restart.

// auth is a target's Auth prepared for requests: literal values are kept as strings, and
// only references are resolved per attempt.
type auth struct {
	cfg    *Auth
	static bool // no references: header and param below are final
	header credential
	param  credential
}

// credential is one name/value pair, resolved.
type credential struct{ name, value string }

func newAuth(a *Auth) auth {
	au := auth{cfg: a, static: true}
	for _, f := range a.fields() {
		if !f.Value.IsLiteral() {
			au.static = false
		}
	}
	if au.static {
		au.header = credential{string(a.HeaderName), string(a.HeaderValue)}
		au.param = credential{string(a.ParamName), string(a.ParamValue)}
	}
	return au
}

// resolve returns the header and parameter credentials, resolving references.
func (a *auth) resolve(ctx context.Context, s *secret.Vaults) (header, param credential, err error) {
	if a.static {
		return a.header, a.param, nil
	}
	pairs := [4]string{}
	for i, v := range []Secret{a.cfg.HeaderName, a.cfg.HeaderValue, a.cfg.ParamName, a.cfg.ParamValue} {
		if pairs[i], err = s.Expand(ctx, v); err != nil {
			return credential{}, credential{}, err
		}
	}
	return credential{pairs[0], pairs[1]}, credential{pairs[2], pairs[3]}, nil
}

// bodyParam returns the JSON-body edit that Kong's param_location "body" makes, if any.
func (a *auth) bodyParam(param credential) (jsonx.Edit, bool) {
	if param.name == "" || a.cfg.ParamLocation != "body" {
		return jsonx.Edit{}, false
	}
	return jsonx.Edit{Key: param.name, Value: jsonx.AppendString(nil, param.value), OnlyIfAbsent: a.cfg.AllowOverride}, true
}

// apply sets the header and query credentials on an upstream request. With allow_override,
// a value the client sent (copied into req already) wins.
func (a *auth) apply(req *http.Request, header, param credential) {
	if header.name != "" {
		key := http.CanonicalHeaderKey(header.name)
		if !a.cfg.AllowOverride || req.Header.Get(key) == "" {
			req.Header[key] = []string{header.value}
		}
	}
	if param.name != "" && a.cfg.ParamLocation != "body" {
		q := req.URL.Query()
		if !a.cfg.AllowOverride || !q.Has(param.name) {
			q.Set(param.name, param.value)
			req.URL.RawQuery = q.Encode()
		}
	}
}

// awsCredentials returns the AWS credentials a signing provider signs with: auth's
// aws_access_key_id and aws_secret_access_key, or, as in Kong, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the environment; with
// model.options.bedrock.aws_assume_role_arn, those of the role they assume through assume
// (Config.AssumeRole).
func awsCredentials(a *Auth, o *provider.BedrockOptions, s *secret.Vaults, client *http.Client,
	assume func(provider.BedrockOptions, provider.CredentialsFunc, *http.Client) provider.CredentialsFunc) provider.CredentialsFunc {
	base := func(ctx context.Context) (provider.Credentials, error) {
		if a.AWSAccessKeyID == "" && a.AWSSecretAccessKey == "" {
			return provider.EnvCredentials(), nil
		}
		id, err := s.Expand(ctx, a.AWSAccessKeyID)
		if err != nil {
			return provider.Credentials{}, err
		}
		key, err := s.Expand(ctx, a.AWSSecretAccessKey)
		return provider.Credentials{AWSAccessKeyID: id, AWSSecretAccessKey: key}, err
	}
	if o == nil || o.AWSAssumeRoleARN == "" {
		return base
	}
	return assume(*o, base, client)
}

// tokenSource gives OAuth bearer tokens, cached by the source.
type tokenSource interface {
	Token(ctx context.Context) (string, error)
}

// bearerTokens gives a target's bearer tokens from a token source built from the target's
// credentials C. The credentials are resolved on each use (the resolver caches them), and
// the source is built again when they changed, so a credential rotated in a vault is used
// without a restart while unchanged ones keep their cached token.
type bearerTokens[C comparable] struct {
	resolve func(ctx context.Context) (C, error)
	build   func(C) (tokenSource, error)

	mu   sync.Mutex
	cred C // the credentials src was built from
	src  tokenSource
}

func (b *bearerTokens[C]) token(ctx context.Context) (string, error) {
	cred, err := b.resolve(ctx)
	if err != nil {
		return "", err
	}
	b.mu.Lock()
	if b.src == nil || b.cred != cred {
		src, err := b.build(cred)
		if err != nil {
			b.mu.Unlock()
			return "", err
		}
		b.cred, b.src = cred, src
	}
	src := b.src
	b.mu.Unlock()
	return src.Token(ctx)
}

// bearer is a target's source of bearer tokens: a GCP service account or an Azure identity.
type bearer interface {
	token(ctx context.Context) (string, error)
}

// newBearer returns the bearer tokens of a target's auth, or nil when it uses none. As in
// Kong, azure_use_managed_identity applies to provider azure only.
func newBearer(a *Auth, provider string, s *secret.Vaults, client *http.Client, now func() time.Time) bearer {
	switch {
	case a.GCPUseServiceAccount:
		return gcpTokens(a, s, client, now)
	case a.AzureUseManagedIdentity && provider == "azure":
		return azureTokens(a, s, client, now)
	}
	return nil
}

// gcpTokens gives the tokens of auth.gcp_use_service_account: from the service account of
// gcp_service_account_json or, as in Kong, GCP_SERVICE_ACCOUNT.
func gcpTokens(a *Auth, s *secret.Vaults, client *http.Client, now func() time.Time) *bearerTokens[string] {
	return &bearerTokens[string]{
		resolve: func(ctx context.Context) (string, error) {
			key, err := s.Expand(ctx, a.GCPServiceAccountJSON)
			if err != nil {
				return "", err
			}
			if key == "" {
				key = os.Getenv("GCP_SERVICE_ACCOUNT")
			}
			if key == "" {
				return "", errors.New("auth.gcp_use_service_account is set but there is no gcp_service_account_json or GCP_SERVICE_ACCOUNT")
			}
			return key, nil
		},
		build: func(key string) (tokenSource, error) {
			return gcpauth.New(gcpauth.Config{CredentialsJSON: []byte(key), HTTPClient: client, Now: now})
		},
	}
}

// azureIdentity is what azureTokens' source is built from.
type azureIdentity struct {
	clientID, clientSecret, tenantID, authority, endpoint, header string
}

// azureTokens gives the Entra ID tokens of auth.azure_use_managed_identity. As in Kong
// (lua-resty-azure), an empty azure_client_id, azure_client_secret or azure_tenant_id is
// read from AZURE_CLIENT_ID, AZURE_CLIENT_SECRET or AZURE_TENANT_ID; all three make the
// client-credentials flow (at AZURE_AUTHORITY_HOST, default login.microsoftonline.com),
// otherwise the host's managed identity is asked, at IDENTITY_ENDPOINT with IDENTITY_HEADER
// when both are set (App Service, Container Apps), else at IMDS.
func azureTokens(a *Auth, s *secret.Vaults, client *http.Client, now func() time.Time) *bearerTokens[azureIdentity] {
	return &bearerTokens[azureIdentity]{
		resolve: func(ctx context.Context) (azureIdentity, error) {
			var vals [3]string
			for i, v := range []Secret{a.AzureClientID, a.AzureClientSecret, a.AzureTenantID} {
				var err error
				if vals[i], err = s.Expand(ctx, v); err != nil {
					return azureIdentity{}, err
				}
			}
			c := entra.FromEnvironment(entra.Config{ClientID: vals[0], ClientSecret: vals[1], TenantID: vals[2]})
			return azureIdentity{clientID: c.ClientID, clientSecret: c.ClientSecret, tenantID: c.TenantID, authority: c.AuthorityHost,
				endpoint: c.IdentityEndpoint, header: c.IdentityHeader}, nil
		},
		build: func(id azureIdentity) (tokenSource, error) {
			return entra.New(entra.Config{ClientID: id.clientID, ClientSecret: id.clientSecret, TenantID: id.tenantID,
				AuthorityHost: id.authority, IdentityEndpoint: id.endpoint, IdentityHeader: id.header,
				HTTPClient: client, Now: now}), nil
		},
	}
}
