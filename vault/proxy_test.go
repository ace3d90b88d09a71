package vault

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
)

// A key rotated in Vault reaches the upstream's Authorization header within the rotation
// interval, without a restart, while a request that was in flight when it rotated completes
// with the key it started with.
func TestRotationReachesUpstream(t *testing.T) {
	path := uniquePath(t)
	old, rotated := secretValue(), secretValue()
	putV2(t, path, map[string]any{"key": "Bearer " + old})
	const interval = 250 * time.Millisecond
	r := newResolver(t, func(c *Config) { c.RotationInterval = interval })
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	p, err := aiproxy.New(aiproxy.Config{
		Vaults: map[string]secret.Resolver{"hashicorp-vault": r},
		Targets: []aiproxy.Target{{
			Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: up.ChatURL()}},
			Auth:  aiproxy.Auth{HeaderName: "Authorization", HeaderValue: secret.Secret("{vault://hashicorp-vault/" + path + "/key}")},
		}},
	})
	require.NoError(t, err)
	defer p.Close()
	srv := httptest.NewServer(p)
	defer srv.Close()
	post := func() int {
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	up.Stall(1, 4*interval) // the first request stays in flight across the rotation
	inflight := make(chan int, 1)
	go func() { inflight <- post() }()
	require.Eventually(t, func() bool { return len(up.Requests()) == 1 }, 5*time.Second, 5*time.Millisecond)

	putV2(t, path, map[string]any{"key": "Bearer " + rotated})
	rotatedAt := time.Now()
	require.Eventually(t, func() bool {
		if post() != http.StatusOK {
			return false
		}
		reqs := up.Requests()
		return reqs[len(reqs)-1].Header.Get("Authorization") == "Bearer "+rotated
	}, 20*interval, 10*time.Millisecond)
	took := time.Since(rotatedAt)
	t.Logf("the rotated key reached the upstream %v after the write (rotation interval %v)", took, interval)
	assert.Less(t, took, 2*interval+100*time.Millisecond, "within one rotation interval, plus a request or two")

	assert.Equal(t, http.StatusOK, <-inflight, "the request in flight completed")
	reqs := up.Requests()
	assert.Equal(t, "Bearer "+old, reqs[0].Header.Get("Authorization"))
	for _, r := range reqs[1:] {
		auth := r.Header.Get("Authorization")
		assert.True(t, auth == "Bearer "+old || auth == "Bearer "+rotated, "only whole keys, old or new")
	}
}
