package aiproxy

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/aiproxy/aiproxy/provider"
)

// defaultRoleSessionName is the RoleSessionName of AssumeRole when
// model.options.bedrock.aws_role_session_name is not set (Kong's default for its AWS
// plugins).
const defaultRoleSessionName = "kong"

// roleExpiryWindow is how long before their expiry assumed-role credentials are replaced.
const roleExpiryWindow = time.Minute

// assumedRole gives a signing target the temporary credentials of
// model.options.bedrock.aws_assume_role_arn: the target's base AWS credentials (auth's
// aws_access_key_id and aws_secret_access_key, or the environment's) call STS AssumeRole,
// at aws_sts_endpoint_url if set, and the answer is cached until roleExpiryWindow before it
// expires. Concurrent requests share one AssumeRole call.
type assumedRole struct {
	cache *aws.CredentialsCache
}

// newAssumedRole returns nil when the target assumes no role.
func newAssumedRole(p *Proxy, t *target) *assumedRole {
	o := t.cfg.Model.Options.Bedrock
	if t.signer == nil || o == nil || o.AWSAssumeRoleARN == "" {
		return nil
	}
	a, secrets := &t.auth, p.secrets
	// The base credentials are read again for each AssumeRole call (they may be references
	// whose values rotate); marking them as expiring now keeps the STS client's own cache
	// from holding them.
	base := aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) {
		c, err := a.credentials(ctx, secrets)
		if err != nil {
			return aws.Credentials{}, err
		}
		if c.AWSAccessKeyID == "" || c.AWSSecretAccessKey == "" {
			return aws.Credentials{}, errors.New("no AWS credentials to assume the role with: set auth.aws_access_key_id and auth.aws_secret_access_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
		}
		return aws.Credentials{AccessKeyID: c.AWSAccessKeyID, SecretAccessKey: c.AWSSecretAccessKey,
			SessionToken: c.AWSSessionToken, Source: "aiproxy", CanExpire: true, Expires: time.Now()}, nil
	})
	region := o.AWSRegion
	if region == "" {
		region = "us-east-1" // the region of STS's global endpoint
	}
	opts := sts.Options{Region: region, Credentials: base, HTTPClient: t.client}
	if o.AWSSTSEndpointURL != "" {
		opts.BaseEndpoint = aws.String(o.AWSSTSEndpointURL)
	}
	name := o.AWSRoleSessionName
	if name == "" {
		name = defaultRoleSessionName
	}
	role := stscreds.NewAssumeRoleProvider(sts.New(opts), o.AWSAssumeRoleARN, func(ro *stscreds.AssumeRoleOptions) {
		ro.RoleSessionName = name
	})
	return &assumedRole{cache: aws.NewCredentialsCache(role, func(co *aws.CredentialsCacheOptions) {
		co.ExpiryWindow = roleExpiryWindow
	})}
}

// credentials returns the role's temporary credentials, assuming the role when the cached
// ones are missing or about to expire.
func (r *assumedRole) credentials(ctx context.Context) (provider.Credentials, error) {
	c, err := r.cache.Retrieve(ctx)
	if err != nil {
		return provider.Credentials{}, errors.New("assuming model.options.bedrock.aws_assume_role_arn: " + err.Error())
	}
	return provider.Credentials{AWSAccessKeyID: c.AccessKeyID, AWSSecretAccessKey: c.SecretAccessKey, AWSSessionToken: c.SessionToken}, nil
}
