package otelaiproxy_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/otelaiproxy"
	"github.com/aiproxy/aiproxy/provider"
)

var benchRequest = []byte(`{"model":"gpt-4o","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"` +
	strings.Repeat("Explain the difference between a mutex and a channel. ", 17) + `"}]}`)

const benchResponse = `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"A mutex guards shared memory."},"finish_reason":"stop"}],"usage":{"prompt_tokens":230,"completion_tokens":17,"total_tokens":247}}`

type memoryUpstream struct{}

func (memoryUpstream) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return &http.Response{StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}, "Content-Length": {strconv.Itoa(len(benchResponse))}},
		Body:   io.NopCloser(strings.NewReader(benchResponse)), ContentLength: int64(len(benchResponse))}, nil
}

// BenchmarkOverheadOTel is the in-memory overhead benchmark (the proxy's own work, no
// network) without telemetry, with the hook over no-op providers, and with the SDK's.
// Run: go test -run '^$' -bench OverheadOTel -benchmem -count 6 ./otelaiproxy
func BenchmarkOverheadOTel(b *testing.B) {
	sdk := otelaiproxy.Options{
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder())),
		MeterProvider:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())),
		Propagator:     propagation.TraceContext{},
	}
	noopOpts := otelaiproxy.Options{TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: noop.NewMeterProvider(),
		Propagator: propagation.NewCompositeTextMapPropagator()}
	for _, bc := range []struct {
		name string
		opts *otelaiproxy.Options
	}{{"otel=off", nil}, {"otel=noop", &noopOpts}, {"otel=sdk", &sdk}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := aiproxy.Config{Transport: memoryUpstream{}, Targets: []aiproxy.Target{{
				Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: "http://upstream/v1/chat/completions"}},
				Auth:  aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer sk-bench"},
			}}}
			if bc.opts != nil {
				hook, err := otelaiproxy.New(*bc.opts)
				if err != nil {
					b.Fatal(err)
				}
				cfg.Hooks = []aiproxy.Hook{hook}
			}
			p, err := aiproxy.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, "http://upstream/v1/chat/completions", bytes.NewReader(benchRequest))
				resp, err := p.RoundTrip(req)
				if err != nil || resp.StatusCode != 200 {
					b.Fatal(err, resp)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
