package redisstore

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
	"github.com/aiproxy/aiproxy/vectorstore"
)

var tokenTime = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// checkSigV4 verifies an ElastiCache IAM token against AWS's SigV4 query-string signing
// rules, computed here from the specification: the canonical request of a GET of "/" on the
// cache name, its query without the signature, the host header, an empty payload.
func checkSigV4(t *testing.T, token, cache, secretKey string) url.Values {
	t.Helper()
	host, rawQuery, ok := strings.Cut(token, "/?")
	require.True(t, ok, token)
	require.Equal(t, cache, host)
	q, err := url.ParseQuery(rawQuery)
	require.NoError(t, err)
	sig := q.Get("X-Amz-Signature")
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "X-Amz-Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	enc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	var cq []string
	for _, k := range keys {
		cq = append(cq, enc(k)+"="+enc(q.Get(k)))
	}
	emptyHash := sha256.Sum256(nil)
	canonical := "GET\n/\n" + strings.Join(cq, "&") + "\nhost:" + cache + "\n\nhost\n" + hex.EncodeToString(emptyHash[:])
	crHash := sha256.Sum256([]byte(canonical))
	scope := strings.SplitN(q.Get("X-Amz-Credential"), "/", 2)[1]
	toSign := "AWS4-HMAC-SHA256\n" + q.Get("X-Amz-Date") + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])
	mac := func(key []byte, data string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(data))
		return h.Sum(nil)
	}
	parts := strings.Split(scope, "/") // date/region/service/aws4_request
	key := mac([]byte("AWS4"+secretKey), parts[0])
	for _, p := range parts[1:] {
		key = mac(key, p)
	}
	assert.Equal(t, hex.EncodeToString(mac(key, toSign)), sig, "SigV4 signature")
	return q
}

// ElastiCache IAM tokens: SigV4-presigned connect requests, checked against the specification
// for a provisioned and a serverless cache, with keys from the block and from the environment.
func TestElastiCacheToken(t *testing.T) {
	const secretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	for _, serverless := range []bool{false, true} {
		c := &CloudAuthentication{AuthProvider: "aws", AWSCacheName: "my-cache", AWSRegion: "eu-west-1", AWSIsServerless: serverless}
		tok, err := elastiCacheToken(context.Background(), c, "app-user", provider.Credentials{AWSAccessKeyID: "AKIDEXAMPLE",
			AWSSecretAccessKey: secretKey, AWSSessionToken: "session-token"}, tokenTime)
		require.NoError(t, err)
		q := checkSigV4(t, tok, "my-cache", secretKey)
		assert.Equal(t, "connect", q.Get("Action"))
		assert.Equal(t, "app-user", q.Get("User"))
		assert.Equal(t, "AWS4-HMAC-SHA256", q.Get("X-Amz-Algorithm"))
		assert.Equal(t, "AKIDEXAMPLE/20261204/eu-west-1/elasticache/aws4_request", q.Get("X-Amz-Credential"))
		assert.Equal(t, "20261204T120000Z", q.Get("X-Amz-Date"))
		assert.Equal(t, "900", q.Get("X-Amz-Expires"))
		assert.Equal(t, "host", q.Get("X-Amz-SignedHeaders"))
		assert.Equal(t, "session-token", q.Get("X-Amz-Security-Token"))
		assert.Equal(t, map[bool]string{true: "ServerlessCache"}[serverless], q.Get("ResourceType"))
		assert.NotContains(t, tok, secretKey)
	}
	_, err := elastiCacheToken(context.Background(), &CloudAuthentication{AWSCacheName: "c", AWSRegion: "r"}, "u", provider.Credentials{}, tokenTime)
	require.Error(t, err)
}

// The token is what each connection authenticates with, the ElastiCache user ID its user:
// a Redis ACL user whose password is the token (at a fixed clock) accepts the store.
func TestElastiCacheAuthentication(t *testing.T) {
	a := os.Getenv("AIPROXY_REDIS7_ADDR")
	if a == "" {
		t.Fatal("AIPROXY_REDIS7_ADDR is not set: run the tests with ./scripts/test.sh")
	}
	host, port, err := net.SplitHostPort(a)
	require.NoError(t, err)
	p, _ := strconv.Atoi(port)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "env-secret-key")
	t.Setenv("AWS_SESSION_TOKEN", "")
	user := fmt.Sprintf("elasticache-user-%d", time.Now().UnixNano())
	c := &CloudAuthentication{AuthProvider: "aws", AWSCacheName: "my-cache", AWSRegion: "us-east-1"}
	tok, err := elastiCacheToken(context.Background(), c, user, provider.Credentials{AWSAccessKeyID: "AKIDFROMENV", AWSSecretAccessKey: "env-secret-key"}, tokenTime)
	require.NoError(t, err)

	admin := redis.NewClient(&redis.Options{Addr: a})
	defer admin.Close()
	ctx := context.Background()
	require.NoError(t, admin.Do(ctx, "ACL", "SETUSER", user, "reset", "on", "~*", "&*", "+@all", ">"+tok).Err())
	defer admin.Do(ctx, "ACL", "DELUSER", user)

	ns := fmt.Sprintf("aiproxy-test:elasticache:%d", time.Now().UnixNano())
	s, err := New(ctx, Options{Host: host, Port: p, Username: secret.Secret(user), CloudAuthentication: c, Dimensions: 4, Namespace: ns,
		Now: func() time.Time { return tokenTime }})
	require.NoError(t, err)
	defer s.Close()
	defer admin.Del(ctx, s.Key())
	require.NoError(t, s.Upsert(ctx, vectorstore.Vector{ID: "a", Values: []float32{1, 0, 0, 0}}))

	// With aws_assume_role_arn, the role's credentials sign (AssumeRole is awsrole.Assume in
	// package kong; here a stand-in that checks what it is given).
	role := *c
	role.AWSAssumeRoleARN, role.AWSRoleSessionName = "arn:aws:iam::123456789012:role/cache", "gateway"
	roleTok, err := elastiCacheToken(ctx, &role, user, provider.Credentials{AWSAccessKeyID: "ASIAROLE", AWSSecretAccessKey: "role-secret", AWSSessionToken: "role-session"}, tokenTime)
	require.NoError(t, err)
	require.NoError(t, admin.Do(ctx, "ACL", "SETUSER", user, ">"+roleTok).Err())
	assume := func(o provider.BedrockOptions, base provider.CredentialsFunc, _ *http.Client) provider.CredentialsFunc {
		assert.Equal(t, provider.BedrockOptions{AWSRegion: "us-east-1", AWSAssumeRoleARN: role.AWSAssumeRoleARN, AWSRoleSessionName: "gateway"}, o)
		b, err := base(ctx)
		assert.NoError(t, err)
		assert.Equal(t, "AKIDFROMENV", b.AWSAccessKeyID, "the environment's keys call STS")
		return func(context.Context) (provider.Credentials, error) {
			return provider.Credentials{AWSAccessKeyID: "ASIAROLE", AWSSecretAccessKey: "role-secret", AWSSessionToken: "role-session"}, nil
		}
	}
	s2, err := New(ctx, Options{Host: host, Port: p, Username: secret.Secret(user), CloudAuthentication: &role, Dimensions: 4, Namespace: ns,
		Now: func() time.Time { return tokenTime }, AssumeRole: assume})
	require.NoError(t, err)
	require.NoError(t, s2.Upsert(ctx, vectorstore.Vector{ID: "b", Values: []float32{0, 1, 0, 0}}))
	s2.Close()
	_, err = New(ctx, Options{Host: host, Port: p, Username: secret.Secret(user), CloudAuthentication: &role, Dimensions: 4, Namespace: ns})
	require.ErrorContains(t, err, "Options.AssumeRole is not")

	// A minute later the token differs, and this server (standing for ElastiCache, which
	// would accept it) refuses it: each connection signs anew.
	_, err = New(ctx, Options{Host: host, Port: p, Username: secret.Secret(user), CloudAuthentication: c, Dimensions: 4, Namespace: ns,
		Now: func() time.Time { return tokenTime.Add(time.Minute) }})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "env-secret-key")
}
