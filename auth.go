package aiproxy

import (
	"context"
	"errors"
	"net/http"
	"os"
	"sync"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/gemini/gcpauth"
)

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
		if !f.value.IsLiteral() {
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
func (a *auth) resolve(ctx context.Context, s *secrets) (header, param credential, err error) {
	if a.static {
		return a.header, a.param, nil
	}
	pairs := [4]string{}
	for i, v := range []Secret{a.cfg.HeaderName, a.cfg.HeaderValue, a.cfg.ParamName, a.cfg.ParamValue} {
		if pairs[i], err = s.resolve(ctx, v); err != nil {
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

// credentials returns the resolved AWS credentials a signing provider needs: auth's
// aws_access_key_id and aws_secret_access_key, or, as in Kong, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the environment.
func (a *auth) credentials(ctx context.Context, s *secrets) (provider.Credentials, error) {
	if a.cfg.AWSAccessKeyID == "" && a.cfg.AWSSecretAccessKey == "" {
		return provider.Credentials{AWSAccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"),
			AWSSecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"), AWSSessionToken: os.Getenv("AWS_SESSION_TOKEN")}, nil
	}
	id, err := s.resolve(ctx, a.cfg.AWSAccessKeyID)
	if err != nil {
		return provider.Credentials{}, err
	}
	key, err := s.resolve(ctx, a.cfg.AWSSecretAccessKey)
	return provider.Credentials{AWSAccessKeyID: id, AWSSecretAccessKey: key}, err
}

// gcpTokens gives a target's GCP access tokens (auth.gcp_use_service_account): from the
// service account of gcp_service_account_json or, as in Kong, GCP_SERVICE_ACCOUNT. The key is
// resolved on each use (the resolver caches it), and the token source is built again when it
// changed, so a key rotated in a vault is used without a restart.
type gcpTokens struct {
	mu  sync.Mutex
	key string // the key src was built from
	src *gcpauth.TokenSource
}

func (g *gcpTokens) token(ctx context.Context, a *Auth, s *secrets, client *http.Client) (string, error) {
	key, err := s.resolve(ctx, a.GCPServiceAccountJSON)
	if err != nil {
		return "", err
	}
	if key == "" {
		key = os.Getenv("GCP_SERVICE_ACCOUNT")
	}
	if key == "" {
		return "", errors.New("auth.gcp_use_service_account is set but there is no gcp_service_account_json or GCP_SERVICE_ACCOUNT")
	}
	g.mu.Lock()
	if g.src == nil || g.key != key {
		src, err := gcpauth.New(gcpauth.Config{CredentialsJSON: []byte(key), HTTPClient: client})
		if err != nil {
			g.mu.Unlock()
			return "", err
		}
		g.key, g.src = key, src
	}
	src := g.src
	g.mu.Unlock()
	return src.Token(ctx)
}

// authorize adds the bearer token of a target that authenticates with a GCP service account.
func (p *Proxy) authorize(ctx context.Context, t *target, req *http.Request) error {
	if t.gcp == nil {
		return nil
	}
	tok, err := t.gcp.token(ctx, &t.cfg.Auth, p.secrets, t.client)
	if err != nil {
		return err
	}
	req.Header["Authorization"] = []string{"Bearer " + tok}
	return nil
}
