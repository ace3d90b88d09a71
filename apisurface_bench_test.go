package aiproxy_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/provider"
)

// The same 1 KB prompt in each client API, for the in-memory comparison below.
var (
	benchPrompt   = strings.Repeat("Explain the difference between a mutex and a channel. ", 17)
	benchChat     = `{"model":"gpt-4o","temperature":0.2,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"` + benchPrompt + `"}]}`
	benchRespReq  = `{"model":"gpt-4o","temperature":0.2,"instructions":"You are a helpful assistant.","input":"` + benchPrompt + `"}`
	benchMessages = `{"model":"gpt-4o","max_tokens":1024,"temperature":0.2,"system":"You are a helpful assistant.","messages":[{"role":"user","content":"` + benchPrompt + `"}]}`
	benchGemini   = `{"systemInstruction":{"parts":[{"text":"You are a helpful assistant."}]},"contents":[{"role":"user","parts":[{"text":"` + benchPrompt + `"}]}],"generationConfig":{"temperature":0.2}}`
	benchConverse = `{"system":[{"text":"You are a helpful assistant."}],"messages":[{"role":"user","content":[{"text":"` + benchPrompt + `"}]}],"inferenceConfig":{"temperature":0.2}}`
	benchCohere   = `{"model":"gpt-4o","temperature":0.2,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"` + benchPrompt + `"}]}`
)

// benchAPI is a client API compared: its llm_format, path and body.
type benchAPI struct{ name, format, path, body string }

// benchAPIs are the client APIs compared, streamed or not (in the body, or in the path for
// Gemini and Bedrock).
func benchAPIs(stream bool) []benchAPI {
	s, gemini, converse := "", ":generateContent", "/converse"
	if stream {
		s, gemini, converse = `,"stream":true`, ":streamGenerateContent?alt=sse", "/converse-stream"
	}
	with := func(body string) string { return strings.TrimSuffix(body, "}") + s + "}" }
	return []benchAPI{
		{"api=chat", "anthropic", "/v1/chat/completions", with(benchChat)},
		{"api=responses", "anthropic", "/v1/responses", with(benchRespReq)},
		{"api=anthropic", "anthropic", "/v1/messages", with(benchMessages)},
		{"api=gemini", "gemini", "/v1beta/models/gpt-4o" + gemini, benchGemini},
		{"api=bedrock", "bedrock", "/model/gpt-4o" + converse, benchConverse},
		{"api=cohere", "cohere", "/v2/chat", with(benchCohere)},
	}
}

// benchAPIProxy is a Proxy for clients of llm_format over one OpenAI target at rt.
func benchAPIProxy(b *testing.B, rt http.RoundTripper, format string) *aiproxy.Proxy {
	p, err := aiproxy.New(aiproxy.Config{LLMFormat: format, Transport: rt, Targets: []aiproxy.Target{{
		Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: "http://upstream/v1/chat/completions"}},
		Auth:  aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer sk-bench"},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

func roundTrip(b *testing.B, rt http.RoundTripper, path, body string) {
	req, _ := http.NewRequest(http.MethodPost, "http://proxy"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := rt.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatal(err, resp)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// BenchmarkClientAPIInMemory: the cost of a request in each client API (translated to chat
// and back) next to the same chat request, through the RoundTripper to
// an in-memory upstream (BenchmarkOverheadInMemory's), with no network.
//
//	go test -run '^$' -bench 'ClientAPI' -benchmem -count 6 . | benchstat -col /api -
func BenchmarkClientAPIInMemory(b *testing.B) {
	for _, bc := range benchAPIs(false) {
		p := benchAPIProxy(b, memoryUpstream{}, bc.format)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				roundTrip(b, p, bc.path, bc.body)
			}
		})
	}
}

// benchChunks is the length of the in-memory stream: text chunks, finish, usage.
const benchChunks = 200

// memoryStream answers every request with a chat-completion stream of benchChunks events.
type memoryStream struct{ body []byte }

func newMemoryStream() memoryStream {
	var b bytes.Buffer
	head := `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[`
	b.WriteString(head + `{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}` + "\n\n")
	for i := range benchChunks - 3 {
		fmt.Fprintf(&b, "%s{\"index\":0,\"delta\":{\"content\":\"word %d \"},\"finish_reason\":null}]}\n\n", head, i)
	}
	b.WriteString(head + `{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n")
	b.WriteString(head + `],"usage":{"prompt_tokens":230,"completion_tokens":197,"total_tokens":427}}` + "\n\ndata: [DONE]\n\n")
	return memoryStream{body: b.Bytes()}
}

func (m memoryStream) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: io.NopCloser(bytes.NewReader(m.body)), ContentLength: -1}, nil
}

// BenchmarkClientAPIStream: a 200-chunk stream in each client API, through the
// RoundTripper from an in-memory upstream; ns/chunk and allocs/chunk are per upstream chunk,
// the request's own costs included (spread over the 200).
//
//	go test -run '^$' -bench 'ClientAPIStream' -benchmem -count 6 . | benchstat -col /api -
func BenchmarkClientAPIStream(b *testing.B) {
	for _, bc := range benchAPIs(true) {
		p := benchAPIProxy(b, newMemoryStream(), bc.format)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				roundTrip(b, p, bc.path, bc.body)
			}
			runtime.ReadMemStats(&after)
			chunks := float64(b.N * benchChunks)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/chunks, "ns/chunk")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/chunks, "allocs/chunk")
		})
	}
}
