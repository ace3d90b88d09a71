// Package awsrole gives Bedrock targets the temporary credentials of an assumed AWS role
// (Kong's model.options.bedrock.aws_assume_role_arn), and Redis stores those of
// vectordb.redis.cloud_authentication.aws_assume_role_arn, through STS AssumeRole. It is apart from
// package aiproxy so that only programs that assume roles link the STS client: set
// aiproxy.Config.AssumeRole to Assume (package kong does for Kong files that name a role).
package awsrole

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/aiproxy/aiproxy/provider"
)

// DefaultSessionName is the RoleSessionName of AssumeRole when
// model.options.bedrock.aws_role_session_name is not set (Kong's default for its AWS plugins).
const DefaultSessionName = "kong"

// expiryWindow is how long before their expiry assumed-role credentials are replaced.
const expiryWindow = time.Minute

// Assume returns the credentials of the role o.AWSAssumeRoleARN names: base gives the
// credentials that call STS AssumeRole (read again for each call, as they may rotate), at
// o.AWSSTSEndpointURL if set, in o.AWSRegion (default us-east-1, the region of STS's global
// endpoint), through client. The answer is cached until a minute before it expires, and
// concurrent callers share one AssumeRole call. Errors never quote a credential.
func Assume(o provider.BedrockOptions, base provider.CredentialsFunc, client *http.Client) provider.CredentialsFunc {
	// Marking the base credentials as expiring now keeps the STS client's own cache from
	// holding them.
	baseProvider := aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) {
		c, err := base(ctx)
		if err != nil {
			return aws.Credentials{}, err
		}
		if c.AWSAccessKeyID == "" || c.AWSSecretAccessKey == "" {
			return aws.Credentials{}, errors.New("no AWS credentials to assume the role with: set the access key ID and secret access key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
		}
		return aws.Credentials{AccessKeyID: c.AWSAccessKeyID, SecretAccessKey: c.AWSSecretAccessKey,
			SessionToken: c.AWSSessionToken, Source: "aiproxy", CanExpire: true, Expires: time.Now()}, nil
	})
	opts := sts.Options{Region: cmp.Or(o.AWSRegion, "us-east-1"), Credentials: baseProvider, HTTPClient: client}
	if o.AWSSTSEndpointURL != "" {
		opts.BaseEndpoint = aws.String(o.AWSSTSEndpointURL)
	}
	role := stscreds.NewAssumeRoleProvider(sts.New(opts), o.AWSAssumeRoleARN, func(ro *stscreds.AssumeRoleOptions) {
		ro.RoleSessionName = cmp.Or(o.AWSRoleSessionName, DefaultSessionName)
	})
	cache := aws.NewCredentialsCache(role, func(co *aws.CredentialsCacheOptions) { co.ExpiryWindow = expiryWindow })
	return func(ctx context.Context) (provider.Credentials, error) {
		c, err := cache.Retrieve(ctx)
		if err != nil {
			return provider.Credentials{}, errors.New("assuming role " + o.AWSAssumeRoleARN + ": " + err.Error())
		}
		return provider.Credentials{AWSAccessKeyID: c.AccessKeyID, AWSSecretAccessKey: c.SecretAccessKey, AWSSessionToken: c.SessionToken}, nil
	}
}
