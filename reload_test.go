package aiproxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/secret"
)

// Reloads under load lose no request: requests in flight finish on the Proxy they started on,
// which is closed once they have, and the unchanged targets keep their state (here a breaker
// held open by a 429 with Retry-After).
func TestLiveReloadUnderLoad(t *testing.T) {
	a, b := aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()
	defer a.Close()
	defer b.Close()
	var closers []*liveCloser
	cfg := func(model string) Config {
		ta, tb := openaiTarget(a, "gpt-4o"), openaiTarget(b, "gpt-4o")
		ta.Name, tb.Name, ta.Weight, tb.Weight = "a", "b", 100, 10
		tb.Model.Options.MaxTokens = new(len(model)) // a change that leaves the targets' identity
		c := &liveCloser{}
		closers = append(closers, c)
		return Config{Targets: []Target{ta, tb}, Balancer: BalancerConfig{Algorithm: Priority, FailoverCriteria: []string{"http_429", "non_idempotent"}},
			MaxRetryAfter: 2 * time.Hour, Vaults: map[string]secret.Resolver{"counted": c}}
	}
	first, err := New(cfg("x"))
	require.NoError(t, err)
	live := NewLive(first)
	a.Fail(429, 1, "3600")
	rec := httptest.NewRecorder()
	live.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(hello)))
	require.Equal(t, 200, rec.Code)
	require.Len(t, a.Requests(), 1, "a answered 429 and is held for an hour")

	var lost, served atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
				resp, err := live.RoundTrip(req.WithContext(context.Background()))
				if err != nil || resp.StatusCode != 200 {
					lost.Add(1)
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || !strings.Contains(string(body), "data: [DONE]") {
					lost.Add(1)
					continue
				}
				served.Add(1)
			}
		}()
	}
	for i := range 5 {
		time.Sleep(20 * time.Millisecond)
		require.NoError(t, live.Reload(cfg(strings.Repeat("y", i+2))))
	}
	assert.Error(t, live.Reload(Config{}), "an invalid configuration is refused")
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	assert.Zero(t, lost.Load(), "no request lost")
	assert.Greater(t, served.Load(), int64(20))
	assert.Len(t, a.Requests(), 1, "the held target stayed held across 5 reloads")
	assert.True(t, live.Proxy().targets[0].health.heldFor(time.Now()) > 50*time.Minute)
	require.NoError(t, live.Close())
	for i, c := range closers {
		assert.Eventually(t, func() bool { return c.n.Load() == 1 }, 5*time.Second, 10*time.Millisecond, "proxy %d closed once", i)
	}
}

// liveCloser is a vault resolver that counts its Close calls, from any goroutine.
type liveCloser struct{ n atomic.Int32 }

func (*liveCloser) Resolve(context.Context, secret.Ref) (string, error) { return "", nil }
func (c *liveCloser) Close() error                                      { c.n.Add(1); return nil }
