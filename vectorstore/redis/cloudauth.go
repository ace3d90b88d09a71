package redisstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/aiproxy/aiproxy/credential/entra"
	"github.com/aiproxy/aiproxy/credential/gcpauth"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
)

// CloudAuthentication is Kong's cloud_authentication: each new connection authenticates with
// a short-lived token of the cloud's identity service instead of a static password
// (Options.Password is then ignored). AuthProvider picks the cloud:
//
//   - "aws", AWS ElastiCache and MemoryDB IAM authentication: the password is a SigV4
//     presigned "connect" request for AWSCacheName (the replication group or serverless cache
//     name, not its host) and Options.Username (required: the ElastiCache user ID), valid 15
//     minutes, signed for service "elasticache" in AWSRegion with AWSAccessKeyID and
//     AWSSecretAccessKey, else AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN
//     from the environment, or with the credentials of AWSAssumeRoleARN (Options.AssumeRole
//     must be set: package kong sets it);
//   - "gcp", Memorystore IAM authentication: the password is an OAuth access token of the
//     service account GCPServiceAccountJSON (else GCP_SERVICE_ACCOUNT), scope cloud-platform;
//   - "azure", Azure Managed Redis and Azure Cache for Redis with Microsoft Entra ID: the
//     password is an Entra ID token for https://redis.azure.com/, from the client-credentials
//     flow with AzureClientID, AzureClientSecret and AzureTenantID (each else AZURE_CLIENT_ID,
//     AZURE_CLIENT_SECRET, AZURE_TENANT_ID; at AZURE_AUTHORITY_HOST, default
//     login.microsoftonline.com), or from the host's managed identity (user-assigned with a
//     client ID); Options.Username is the identity's object ID.
//
// GCP and Azure tokens are cached until 5 minutes before they expire. A block whose
// AuthProvider is null or empty, as Kong's Admin API exports an unused one, does nothing.
type CloudAuthentication struct {
	AuthProvider string `json:"auth_provider,omitempty" yaml:"auth_provider,omitempty"`

	AWSCacheName       string        `json:"aws_cache_name,omitempty" yaml:"aws_cache_name,omitempty"`
	AWSIsServerless    bool          `json:"aws_is_serverless,omitempty" yaml:"aws_is_serverless,omitempty"`
	AWSRegion          string        `json:"aws_region,omitempty" yaml:"aws_region,omitempty"`
	AWSAccessKeyID     secret.Secret `json:"aws_access_key_id,omitempty" yaml:"aws_access_key_id,omitempty"`
	AWSSecretAccessKey secret.Secret `json:"aws_secret_access_key,omitempty" yaml:"aws_secret_access_key,omitempty"`
	AWSAssumeRoleARN   string        `json:"aws_assume_role_arn,omitempty" yaml:"aws_assume_role_arn,omitempty"`
	AWSRoleSessionName string        `json:"aws_role_session_name,omitempty" yaml:"aws_role_session_name,omitempty"`

	GCPServiceAccountJSON secret.Secret `json:"gcp_service_account_json,omitempty" yaml:"gcp_service_account_json,omitempty"`

	AzureClientID     string        `json:"azure_client_id,omitempty" yaml:"azure_client_id,omitempty"`
	AzureClientSecret secret.Secret `json:"azure_client_secret,omitempty" yaml:"azure_client_secret,omitempty"`
	AzureTenantID     string        `json:"azure_tenant_id,omitempty" yaml:"azure_tenant_id,omitempty"`
}

// redisResource is the Entra ID audience of Azure's Redis services.
const redisResource = "https://redis.azure.com/"

// elastiCacheTokenLife is how long an ElastiCache IAM token is valid (AWS's maximum).
const elastiCacheTokenLife = 15 * time.Minute

// credentials is the go-redis CredentialsProviderContext of o's cloud authentication; nil
// without one.
func (o *Options) credentials() (func(ctx context.Context) (string, string, error), error) {
	c := o.CloudAuthentication
	if c == nil || c.AuthProvider == "" {
		return nil, nil
	}
	user := string(o.Username)
	client := cmp.Or(o.HTTPClient, http.DefaultClient)
	now := o.Now
	if now == nil {
		now = time.Now
	}
	token := func(src interface {
		Token(context.Context) (string, error)
	}, what string) func(ctx context.Context) (string, string, error) {
		return func(ctx context.Context) (string, string, error) {
			t, err := src.Token(ctx)
			if err != nil {
				return "", "", fmt.Errorf("redisstore: cloud_authentication: %s token: %w", what, err)
			}
			return user, t, nil
		}
	}
	switch c.AuthProvider {
	case "aws":
		if user == "" || c.AWSCacheName == "" || c.AWSRegion == "" {
			return nil, errors.New("redisstore: cloud_authentication: auth_provider aws needs username, aws_cache_name and aws_region")
		}
		creds := o.awsCredentials(client)
		return func(ctx context.Context) (string, string, error) {
			cr, err := creds(ctx)
			if err != nil {
				return "", "", fmt.Errorf("redisstore: cloud_authentication: AWS credentials: %w", err)
			}
			t, err := elastiCacheToken(ctx, c, user, cr, now())
			return user, t, err
		}, nil
	case "gcp":
		key := cmp.Or(string(c.GCPServiceAccountJSON), os.Getenv("GCP_SERVICE_ACCOUNT"))
		if key == "" {
			return nil, errors.New("redisstore: cloud_authentication: auth_provider gcp needs gcp_service_account_json or GCP_SERVICE_ACCOUNT")
		}
		src, err := gcpauth.New(gcpauth.Config{CredentialsJSON: []byte(key), HTTPClient: client, Now: now})
		if err != nil {
			return nil, fmt.Errorf("redisstore: cloud_authentication.gcp_service_account_json: %w", err)
		}
		return token(src, "GCP"), nil
	case "azure":
		if user == "" {
			return nil, errors.New("redisstore: cloud_authentication: auth_provider azure needs username, the identity's object ID")
		}
		cfg := entra.FromEnvironment(entra.Config{ClientID: c.AzureClientID, ClientSecret: string(c.AzureClientSecret),
			TenantID: c.AzureTenantID, Resource: redisResource, HTTPClient: client, Now: now})
		return token(entra.New(cfg), "Entra ID"), nil
	}
	return nil, fmt.Errorf("redisstore: cloud_authentication.auth_provider %q: want aws, gcp or azure", c.AuthProvider)
}

// awsCredentials are the credentials that sign ElastiCache tokens: the block's keys, else the
// environment's, through Options.AssumeRole when aws_assume_role_arn is set.
func (o *Options) awsCredentials(client *http.Client) provider.CredentialsFunc {
	c := o.CloudAuthentication
	base := func(context.Context) (provider.Credentials, error) {
		if c.AWSAccessKeyID != "" || c.AWSSecretAccessKey != "" {
			return provider.Credentials{AWSAccessKeyID: string(c.AWSAccessKeyID), AWSSecretAccessKey: string(c.AWSSecretAccessKey)}, nil
		}
		return provider.EnvCredentials(), nil
	}
	if c.AWSAssumeRoleARN == "" {
		return base
	}
	if o.AssumeRole == nil {
		return func(context.Context) (provider.Credentials, error) {
			return provider.Credentials{}, errors.New("aws_assume_role_arn is set but Options.AssumeRole is not (set it to awsrole.Assume)")
		}
	}
	return o.AssumeRole(provider.BedrockOptions{AWSRegion: c.AWSRegion, AWSAssumeRoleARN: c.AWSAssumeRoleARN,
		AWSRoleSessionName: c.AWSRoleSessionName}, base, client)
}

// elastiCacheToken is the IAM authentication token of user for cache c at now: the URL
// "{cache}/?Action=connect&User={user}[&ResourceType=ServerlessCache]" presigned with SigV4
// (query parameters, an empty payload, expiry 900 s), without its scheme.
func elastiCacheToken(ctx context.Context, c *CloudAuthentication, user string, cr provider.Credentials, now time.Time) (string, error) {
	if cr.AWSAccessKeyID == "" || cr.AWSSecretAccessKey == "" {
		return "", errors.New("redisstore: cloud_authentication: no AWS credentials: set aws_access_key_id and aws_secret_access_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	q := url.Values{"Action": {"connect"}, "User": {user}}
	if c.AWSIsServerless {
		q.Set("ResourceType", "ServerlessCache")
	}
	q.Set("X-Amz-Expires", strconv.Itoa(int(elastiCacheTokenLife.Seconds())))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.AWSCacheName+"/?"+q.Encode(), nil)
	if err != nil {
		return "", fmt.Errorf("redisstore: cloud_authentication.aws_cache_name: %w", err)
	}
	emptyPayload := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // SHA-256 of ""
	signed, _, err := v4.NewSigner().PresignHTTP(ctx, aws.Credentials{AccessKeyID: cr.AWSAccessKeyID,
		SecretAccessKey: cr.AWSSecretAccessKey, SessionToken: cr.AWSSessionToken}, req, emptyPayload, "elasticache", c.AWSRegion, now)
	if err != nil {
		return "", errors.New("redisstore: cloud_authentication: signing the ElastiCache token failed")
	}
	return strings.TrimPrefix(signed, "http://"), nil
}
