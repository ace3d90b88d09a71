// Package formattest holds what the client-format packages' tests share: the drivers of
// their benchmarks and fuzz targets, the chat inputs they feed, and the checks of the
// output that more than one format frames alike. Each package passes its own ParseRequest,
// Response and NewStream as functions.
package formattest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/golden"
)

// Completion4KB returns a chat completion with 4 KB of text.
func Completion4KB() []byte {
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 91)
	return []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4.1","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		text + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":900,"total_tokens":1000}}`)
}

// ChatStream200 returns a chat stream of 200 chunks: role, 197 text deltas, finish, usage.
func ChatStream200() [][]byte {
	head := `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4.1","choices":[`
	chunks := [][]byte{[]byte(head + `{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`)}
	for i := range 197 {
		chunks = append(chunks, fmt.Appendf(nil, `%s{"index":0,"delta":{"content":"word %d "},"finish_reason":null}]}`, head, i))
	}
	return append(chunks, []byte(head+`{"index":0,"delta":{},"finish_reason":"stop"}]}`),
		[]byte(head+`],"usage":{"prompt_tokens":25,"completion_tokens":400,"total_tokens":425}}`))
}

// BenchParse is BenchmarkParseRequest: parse (a package's ParseRequest) of body, with the
// bytes per second and allocations.
func BenchParse(b *testing.B, body []byte, parse func(body []byte) error) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for range b.N {
		if err := parse(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchResponse is BenchmarkResponse4KB: response (a parsed request's Response) of
// Completion4KB.
func BenchResponse(b *testing.B, response func(chat []byte) ([]byte, error)) {
	body := Completion4KB()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for range b.N {
		if _, err := response(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchStream is BenchmarkStream200: it translates ChatStream200 with a new stream each
// time and reports allocs/chunk and ns/chunk; the output buffer is reused, as a proxy
// writing each chunk's events out would.
//
// newStream returns a fresh stream. A Stream that a caller of NewStream keeps on its stack
// costs no allocation there, so a package whose Stream does not escape resets one variable
// (s = *r.NewStream(); return &s) rather than counting an allocation the proxy does not make;
// one whose Stream escapes anyway (format/responses) returns r.NewStream().
func BenchStream(b *testing.B, newStream func() golden.Stream) {
	chunks := ChatStream200()
	var buf []byte
	run := func() {
		s := newStream()
		for _, c := range chunks {
			var err error
			if buf, err = s.Chunk(buf[:0], c); err != nil {
				b.Fatal(err)
			}
		}
		buf = s.End(buf[:0])
	}
	run()
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		run()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	n := float64(b.N * len(chunks))
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/chunk")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/chunk")
}
