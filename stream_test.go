package aiproxy

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
)

// chunk is an OpenAI chat.completion.chunk event carrying content, and usage when set.
func chunk(content string, usage bool) string {
	u := ""
	if usage {
		u = `,"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}`
	}
	return fmt.Sprintf(`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":%q},"finish_reason":null}]%s}`+"\n\n", content, u)
}

// TestCloseDuringRead: a RoundTripper client that closes a stream's body from another
// goroutine while a Read waits for the upstream (how an SDK cancels) ends the stream: the
// Read returns an error, the upstream request is cancelled, and the request's Stats are
// reported once, as abandoned. Run with -race.
func TestCloseDuringRead(t *testing.T) {
	upstreamDone := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(upstreamDone)
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; ; i++ { // events with usage, until the proxy goes away
			if _, err := io.WriteString(w, chunk("w ", true)); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Millisecond):
			}
		}
	}))
	defer up.Close()
	var reports atomic.Int32
	var stats atomic.Pointer[Stats]
	tg := Target{Model: provider.Model{Provider: "openai", Name: "m", Options: provider.Options{UpstreamURL: up.URL + "/v1/chat/completions"}}}
	p := newProxy(t, Config{Targets: []Target{tg}, Hooks: onStats(func(s Stats) { reports.Add(1); stats.Store(&s) })})

	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(`{"stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	resp, err := p.RoundTrip(req)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	reading := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		buf := make([]byte, 64)
		for n := 0; ; n++ {
			if _, err := resp.Body.Read(buf); err != nil {
				readErr <- err
				return
			}
			if n == 3 {
				close(reading)
			}
		}
	}()
	<-reading
	time.Sleep(20 * time.Millisecond) // the reader keeps reading events with usage
	require.NoError(t, resp.Body.Close())
	select {
	case err := <-readErr:
		assert.Error(t, err)
		assert.NotErrorIs(t, err, io.EOF)
	case <-time.After(5 * time.Second):
		t.Fatal("Read did not return after Close")
	}
	select {
	case <-upstreamDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream request was not cancelled")
	}
	assert.Equal(t, int32(1), reports.Load())
	assert.ErrorIs(t, stats.Load().Err, errStreamAbandoned)
	assert.Equal(t, 6, stats.Load().Usage.TotalTokens, "the usage read before Close")
	assert.Zero(t, p.targets[0].inflight.Load())
}

// TestEventsFlushedOneByOne: through the Handler, each upstream event reaches the client
// when the upstream sends it: the client reads the first event while the upstream still
// holds back the second. Stats.TimeToFirstToken measures the wait for the first event.
func TestEventsFlushedOneByOne(t *testing.T) {
	second := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		time.Sleep(50 * time.Millisecond)
		_, _ = io.WriteString(w, chunk("one ", false))
		w.(http.Flusher).Flush()
		select {
		case <-second:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, chunk("two", false)+"data: [DONE]\n\n")
	}))
	defer up.Close()
	stats := make(chan Stats, 1)
	tg := Target{Model: provider.Model{Provider: "openai", Name: "m", Options: provider.Options{UpstreamURL: up.URL + "/v1/chat/completions"}}}
	p := newProxy(t, Config{Targets: []Target{tg}, Hooks: onStats(func(s Stats) { stats <- s })})
	srv := httptest.NewServer(p)
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	r := bufio.NewReader(resp.Body)
	first := make(chan string, 1)
	go func() {
		var ev strings.Builder
		for !strings.HasSuffix(ev.String(), "\n\n") {
			line, err := r.ReadString('\n')
			ev.WriteString(line)
			if err != nil {
				break
			}
		}
		first <- ev.String()
	}()
	select {
	case ev := <-first:
		assert.Equal(t, chunk("one ", false), ev)
	case <-time.After(5 * time.Second):
		close(second)
		t.Fatal("the first event did not reach the client before the upstream sent the second")
	}
	time.Sleep(100 * time.Millisecond)
	close(second)
	rest, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, chunk("two", false)+"data: [DONE]\n\n", string(rest))

	s := <-stats
	assert.GreaterOrEqual(t, s.TimeToFirstToken, 50*time.Millisecond, "the upstream waited 50 ms before the first event")
	assert.GreaterOrEqual(t, s.Latency-s.TimeToFirstToken, 100*time.Millisecond, "the second event came 100 ms after the first")
	assert.True(t, s.Stream)
}
