package aiproxy_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/internal/cputime"
	"github.com/aiproxy/aiproxy/provider"
)

// The benchmarks compare the proxy with a bare httputil.ReverseProxy (as a Handler) and with
// a direct http.Client call (as a RoundTripper), side by side, against the same loopback
// upstream that answers a chat completion from memory. Besides wall time they report
// cpu-ns/op, the CPU time of the whole process (client, proxy and upstream) per request,
// which stays meaningful on a busy machine where wall time does not. Run:
//
//	go test -run '^$' -bench 'Overhead' -benchmem -count 6 . | benchstat -col /path -

// benchRequest is a 1 KB chat completions request.
var benchRequest = func() []byte {
	b := []byte(`{"model":"gpt-4o","temperature":0.2,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"`)
	b = append(b, strings.Repeat("Explain the difference between a mutex and a channel. ", 17)...)
	b = append(b, `"}]}`...)
	return b
}()

const benchResponse = `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"A mutex guards shared memory; a channel passes ownership of data between goroutines."},"finish_reason":"stop"}],"usage":{"prompt_tokens":230,"completion_tokens":17,"total_tokens":247}}`

func benchUpstream(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, benchResponse)
	}))
	b.Cleanup(srv.Close)
	return srv
}

func benchProxy(b *testing.B, upstream string) *aiproxy.Proxy {
	p, err := aiproxy.New(aiproxy.Config{Targets: []aiproxy.Target{{
		Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: upstream + "/v1/chat/completions"}},
		Auth:  aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer sk-bench"},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

// measure runs one request per iteration and reports allocations and CPU time per request.
func measure(b *testing.B, request func()) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchRequest)))
	start := cputime.Process()
	for b.Loop() {
		request()
	}
	if cpu := cputime.Process() - start; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func post(b *testing.B, c *http.Client, url string) {
	resp, err := c.Post(url, "application/json", bytes.NewReader(benchRequest))
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkOverheadHandler: client → HTTP server (ReverseProxy or aiproxy) → upstream.
func BenchmarkOverheadHandler(b *testing.B) {
	up := benchUpstream(b)
	target, _ := url.Parse(up.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = http.DefaultTransport.(*http.Transport).Clone()
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"path=ReverseProxy", rp},
		{"path=aiproxy", benchProxy(b, up.URL)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(bc.h)
			defer srv.Close()
			c := srv.Client()
			measure(b, func() { post(b, c, srv.URL+"/v1/chat/completions") })
		})
	}
}

// BenchmarkOverheadRoundTripper: an http.Client whose transport is the proxy, against one
// that calls the upstream directly.
func BenchmarkOverheadRoundTripper(b *testing.B) {
	up := benchUpstream(b)
	direct := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	viaProxy := &http.Client{Transport: benchProxy(b, up.URL)}
	for _, bc := range []struct {
		name string
		c    *http.Client
	}{
		{"path=direct", direct},
		{"path=aiproxy", viaProxy},
	} {
		b.Run(bc.name, func(b *testing.B) {
			measure(b, func() { post(b, bc.c, up.URL+"/v1/chat/completions") })
		})
	}
}

// memoryUpstream answers every request with benchResponse, without a network.
type memoryUpstream struct{}

func (memoryUpstream) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}, "Content-Length": {strconv.Itoa(len(benchResponse))}},
		Body:          io.NopCloser(strings.NewReader(benchResponse)),
		ContentLength: int64(len(benchResponse)),
	}, nil
}

// BenchmarkOverheadInMemory isolates the proxy's own cost: the same request sent to an
// in-memory upstream directly and through the proxy (Config.Transport), with no network
// or scheduler noise.
func BenchmarkOverheadInMemory(b *testing.B) {
	p, err := aiproxy.New(aiproxy.Config{Transport: memoryUpstream{}, Targets: []aiproxy.Target{{
		Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: "http://upstream/v1/chat/completions"}},
		Auth:  aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer sk-bench"},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	for _, bc := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"path=direct", memoryUpstream{}},
		{"path=aiproxy", p},
	} {
		b.Run(bc.name, func(b *testing.B) {
			measure(b, func() {
				req, _ := http.NewRequest(http.MethodPost, "http://upstream/v1/chat/completions", bytes.NewReader(benchRequest))
				req.Header.Set("Content-Type", "application/json")
				resp, err := bc.rt.RoundTrip(req)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatal(err, resp)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		})
	}
}
