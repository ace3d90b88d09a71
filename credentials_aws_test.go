package aiproxy

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/credential/awsrole"
	"github.com/aiproxy/aiproxy/provider"
)

const (
	baseKeyID    = "AKIAIOSFODNN7EXAMPLE"
	baseSecret   = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	tempKeyID    = "ASIAIOSFODNN7TEMPKEY"
	tempSecret   = "tempSecretAccessKeyOfTheAssumedRoleXXXXX"
	sessionToken = "FwoGZXIvYXdzEBYaDTEMPORARYSESSIONTOKEN"
	roleARN      = "arn:aws:iam::123456789012:role/bedrock-invoker"
)

// fakeSTS answers AssumeRole the way STS's Query API does
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html): a form POST of
// Action=AssumeRole&Version=2011-06-15&RoleArn=…&RoleSessionName=…, signed with SigV4 for
// service "sts", answered with an AssumeRoleResponse XML document.
type fakeSTS struct {
	*httptest.Server
	calls   atomic.Int32
	expires func() time.Time
	status  int // non-zero: answer with this STS error status

	mu    sync.Mutex
	forms []url.Values
	auths []string
}

func newFakeSTS(t *testing.T) *fakeSTS {
	f := &fakeSTS{expires: func() time.Time { return time.Now().Add(time.Hour) }}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		form, err := url.ParseQuery(string(body))
		assert.NoError(t, err)
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
		f.mu.Lock()
		f.forms = append(f.forms, form)
		f.auths = append(f.auths, r.Header.Get("Authorization"))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		if f.status != 0 {
			w.WriteHeader(f.status)
			fmt.Fprint(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/base is not authorized to perform: sts:AssumeRole on resource: `+roleARN+`</Message></Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>`)
			return
		}
		fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/bedrock-invoker/%s</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:%[1]s</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>%s</AccessKeyId>
      <SecretAccessKey>%s</SecretAccessKey>
      <SessionToken>%s</SessionToken>
      <Expiration>%s</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>`, form.Get("RoleSessionName"), tempKeyID, tempSecret, sessionToken, f.expires().UTC().Format(time.RFC3339))
	}))
	t.Cleanup(f.Close)
	return f
}

// fakeBedrock answers Converse and records each request's signature headers.
type fakeBedrock struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
}

func newFakeBedrock(t *testing.T) *fakeBedrock {
	f := &fakeBedrock{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.headers = append(f.headers, r.Header.Clone())
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"output":{"message":{"role":"assistant","content":[{"text":"Hi."}]}},"stopReason":"end_turn","usage":{"inputTokens":3,"outputTokens":2,"totalTokens":5}}`)
	}))
	t.Cleanup(f.Close)
	return f
}

func assumeRoleTarget(sts *fakeSTS, bedrock *fakeBedrock) Target {
	return Target{
		Model: provider.Model{Provider: "bedrock", Name: "anthropic.claude-3-haiku-20240307-v1:0", Options: provider.Options{
			UpstreamURL: bedrock.URL + "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
			Bedrock: &provider.BedrockOptions{AWSRegion: "eu-west-1", AWSAssumeRoleARN: roleARN,
				AWSRoleSessionName: "aiproxy-test", AWSSTSEndpointURL: sts.URL},
		}},
		Auth: Auth{AWSAccessKeyID: baseKeyID, AWSSecretAccessKey: baseSecret},
	}
}

func TestBedrockAssumeRole(t *testing.T) {
	sts, bedrock := newFakeSTS(t), newFakeBedrock(t)
	p := newProxy(t, Config{Targets: []Target{assumeRoleTarget(sts, bedrock)}, AssumeRole: awsrole.Assume})

	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			rec := post(t, p, hello)
			assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		})
	}
	wg.Wait()

	assert.EqualValues(t, 1, sts.calls.Load(), "one AssumeRole for many requests")
	require.Len(t, sts.forms, 1)
	form := sts.forms[0]
	assert.Equal(t, "AssumeRole", form.Get("Action"))
	assert.Equal(t, "2011-06-15", form.Get("Version"))
	assert.Equal(t, roleARN, form.Get("RoleArn"))
	assert.Equal(t, "aiproxy-test", form.Get("RoleSessionName"))
	assert.Contains(t, sts.auths[0], "Credential="+baseKeyID+"/", "STS is called with the base credentials")
	assert.Contains(t, sts.auths[0], "/eu-west-1/sts/aws4_request")

	require.Len(t, bedrock.headers, n)
	for _, h := range bedrock.headers {
		auth := h.Get("Authorization")
		assert.True(t, strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+tempKeyID+"/"), auth)
		assert.Contains(t, auth, "/eu-west-1/bedrock/aws4_request")
		assert.Contains(t, auth, "x-amz-security-token", "the session token is signed")
		assert.Equal(t, sessionToken, h.Get("X-Amz-Security-Token"))
	}
}

func TestBedrockAssumeRoleRefreshesNearExpiry(t *testing.T) {
	sts, bedrock := newFakeSTS(t), newFakeBedrock(t)
	// Credentials that expire within the expiry window are used once, then replaced.
	sts.expires = func() time.Time { return time.Now().Add(time.Minute / 2) }
	p := newProxy(t, Config{Targets: []Target{assumeRoleTarget(sts, bedrock)}, AssumeRole: awsrole.Assume})
	for range 3 {
		rec := post(t, p, hello)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	}
	assert.EqualValues(t, 3, sts.calls.Load())
	assert.Equal(t, sessionToken, bedrock.headers[2].Get("X-Amz-Security-Token"))
}

func TestBedrockAssumeRoleDefaultsAndEnv(t *testing.T) {
	sts, bedrock := newFakeSTS(t), newFakeBedrock(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "envSecretEXAMPLE")
	t.Setenv("AWS_SESSION_TOKEN", "")
	tg := assumeRoleTarget(sts, bedrock)
	tg.Auth = Auth{}
	tg.Model.Options.Bedrock.AWSRoleSessionName = ""
	p := newProxy(t, Config{Targets: []Target{tg}, AssumeRole: awsrole.Assume})
	rec := post(t, p, hello)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, awsrole.DefaultSessionName, sts.forms[0].Get("RoleSessionName"))
	assert.Contains(t, sts.auths[0], "Credential=AKIAENVEXAMPLE/")
	assert.Contains(t, bedrock.headers[0].Get("Authorization"), "Credential="+tempKeyID+"/")
}

func TestBedrockAssumeRoleDenied(t *testing.T) {
	sts, bedrock := newFakeSTS(t), newFakeBedrock(t)
	sts.status = http.StatusForbidden
	var logs strings.Builder
	var stats []Stats
	p := newProxy(t, Config{Targets: []Target{assumeRoleTarget(sts, bedrock)}, AssumeRole: awsrole.Assume, Hooks: onStats(func(s Stats) { stats = append(stats, s) })})
	rec := post(t, p, hello)
	assert.Equal(t, http.StatusBadGateway, rec.Code, rec.Body.String())
	assert.Empty(t, bedrock.headers, "nothing is sent unsigned")
	msg, _, _ := openaiError(t, rec.Body.Bytes())
	assert.Contains(t, msg, "AccessDenied")
	require.Len(t, stats, 1)
	logs.WriteString(rec.Body.String())
	logs.WriteString(fmt.Sprintf("%+v", stats[0]))
	for _, secret := range []string{baseSecret, tempSecret, sessionToken} {
		assert.NotContains(t, logs.String(), secret)
	}
}

// A role to assume needs Config.AssumeRole, which only programs that import credential/awsrole
// (and so link AWS's STS client) can set: without it New names the package.
func TestBedrockAssumeRoleNeedsTheAdapter(t *testing.T) {
	_, err := New(Config{Targets: []Target{assumeRoleTarget(newFakeSTS(t), newFakeBedrock(t))}})
	require.ErrorIs(t, err, ErrInvalidConfig)
	assert.ErrorContains(t, err, "github.com/aiproxy/aiproxy/credential/awsrole")
}
