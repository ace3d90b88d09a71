package providertest

import (
	"bytes"
	"io"
	"runtime"
	"testing"

	"github.com/aiproxy/aiproxy/provider"
)

// BenchmarkResponse measures ParseResponse on body.
func BenchmarkResponse(b *testing.B, p provider.Provider, r *provider.Request, body []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	if _, err := p.ParseResponse(r, nil, body); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := p.ParseResponse(r, nil, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStream measures translating the stream in body and reports, besides the usual
// figures for the whole stream, "chunks" (events per stream), "allocs/chunk" and "ns/chunk".
func BenchmarkStream(b *testing.B, p provider.Provider, r *provider.Request, body []byte) {
	drain := func() int {
		s := p.NewStream(r, nil, bytes.NewReader(body))
		n := 0
		for {
			if _, err := s.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				return n
			}
			n++
		}
	}
	chunks := drain()
	if chunks == 0 {
		b.Fatal("the stream gave no events")
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		drain()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	total := float64(b.N * chunks)
	b.ReportMetric(float64(chunks), "chunks")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/total, "allocs/chunk")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/total, "ns/chunk")
}
