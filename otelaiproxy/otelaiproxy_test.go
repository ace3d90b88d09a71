package otelaiproxy_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/otelaiproxy"
	"github.com/aiproxy/aiproxy/provider"
)

type telemetry struct {
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	opts   otelaiproxy.Options
}

func newTelemetry() *telemetry {
	t := &telemetry{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	t.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(t.spans))
	t.opts = otelaiproxy.Options{TracerProvider: t.tp, MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(t.reader)),
		Propagator: propagation.TraceContext{}}
	return t
}

// metrics returns the collected metrics by name.
func (t *telemetry) metrics(tb testing.TB) map[string]metricdata.Aggregation {
	var rm metricdata.ResourceMetrics
	require.NoError(tb, t.reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

func attrs(set attribute.Set) map[string]string {
	out := map[string]string{}
	for _, kv := range set.ToSlice() {
		out[string(kv.Key)] = kv.Value.Emit()
	}
	return out
}

// A request that fails over from one target to another: its span is a child of the
// incoming request's, each attempt's span a child of it, the upstream gets the attempt's
// trace context, and the GenAI metrics carry the semantic conventions' names and attributes.
func TestSpansAndMetrics(t *testing.T) {
	tel := newTelemetry()
	bad, good := aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()
	defer bad.Close()
	defer good.Close()
	bad.Fail(503, 1, "")
	hook, err := otelaiproxy.New(tel.opts)
	require.NoError(t, err)
	p, err := aiproxy.New(aiproxy.Config{
		Targets: []aiproxy.Target{
			{Name: "bad", Weight: 100, Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: bad.ChatURL(), InputCost: 2, OutputCost: 4}}},
			{Name: "good", Weight: 10, Model: provider.Model{Provider: "azure", Name: "gpt-4o-mini",
				Options: provider.Options{UpstreamURL: good.ChatURL(), InputCost: 1, OutputCost: 2}}, Auth: aiproxy.Auth{HeaderName: "api-key", HeaderValue: "k"}},
		},
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Priority, FailoverCriteria: []string{"http_503", "non_idempotent"}},
		Hooks:    []aiproxy.Hook{hook},
	})
	require.NoError(t, err)
	defer p.Close()
	reg, err := otelaiproxy.ObserveTargets(p, tel.opts)
	require.NoError(t, err)
	defer reg.Unregister()

	ctx, parent := tel.tp.Tracer("test").Start(context.Background(), "incoming")
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions",
		strings.NewReader(`{"model":"","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello"}]}`)).WithContext(ctx)
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	parent.End()
	require.Equal(t, 200, rec.Code, rec.Body.String())

	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range tel.spans.Ended() {
		byName[s.Name()] = s
	}
	request, ok := byName["chat "]
	require.True(t, ok, "the request span, named after the operation and the model asked for")
	assert.Equal(t, parent.SpanContext().SpanID(), request.Parent().SpanID())
	first, second := byName["attempt bad"], byName["attempt good"]
	require.NotNil(t, first)
	require.NotNil(t, second)
	for _, a := range []sdktrace.ReadOnlySpan{first, second} {
		assert.Equal(t, request.SpanContext().SpanID(), a.Parent().SpanID())
	}
	assert.Equal(t, codes.Error, first.Status().Code)
	ra := attrMap(request.Attributes())
	assert.Equal(t, "chat", ra["gen_ai.operation.name"])
	assert.Equal(t, "azure.ai.openai", ra["gen_ai.provider.name"])
	assert.Equal(t, "gpt-4o-mini", ra["gen_ai.response.model"])
	assert.Equal(t, "200", ra["http.response.status_code"])
	assert.NotEmpty(t, ra["gen_ai.usage.input_tokens"])
	assert.NotEmpty(t, ra["gen_ai.usage.output_tokens"])
	fa := attrMap(first.Attributes())
	assert.Equal(t, "http_503", fa["error.type"])
	assert.Equal(t, "openai", fa["gen_ai.provider.name"])
	traceparent := good.Requests()[0].Header.Get("Traceparent")
	assert.Contains(t, traceparent, second.SpanContext().TraceID().String())
	assert.Contains(t, traceparent, second.SpanContext().SpanID().String(), "the upstream continues the attempt's span")

	m := tel.metrics(t)
	names := map[string]bool{}
	for name := range m {
		names[name] = true
	}
	for _, name := range []string{"gen_ai.client.token.usage", "gen_ai.client.operation.duration", "gen_ai.server.time_to_first_token",
		"aiproxy.attempts", "aiproxy.failovers", "aiproxy.cost", "aiproxy.requests.in_flight", "aiproxy.target.held", "aiproxy.target.in_flight"} {
		assert.True(t, names[name], name)
	}
	usage, ok := m["gen_ai.client.token.usage"].(metricdata.Histogram[int64])
	require.True(t, ok)
	types := map[string]bool{}
	for _, dp := range usage.DataPoints {
		a := attrs(dp.Attributes)
		types[a["gen_ai.token.type"]] = true
		assert.Equal(t, "chat", a["gen_ai.operation.name"])
		assert.Equal(t, "azure.ai.openai", a["gen_ai.provider.name"])
	}
	assert.Equal(t, map[string]bool{"input": true, "output": true}, types)
	att := m["aiproxy.attempts"].(metricdata.Sum[int64])
	outcomes := map[string]int64{}
	for _, dp := range att.DataPoints {
		outcomes[attrs(dp.Attributes)["aiproxy.target"]+" "+attrs(dp.Attributes)["aiproxy.outcome"]] = dp.Value
	}
	assert.Equal(t, map[string]int64{"bad http_503": 1, "good ok": 1}, outcomes)
	fo := m["aiproxy.failovers"].(metricdata.Sum[int64])
	require.Len(t, fo.DataPoints, 1)
	assert.Equal(t, int64(1), fo.DataPoints[0].Value)
	inflight := m["aiproxy.requests.in_flight"].(metricdata.Sum[int64])
	require.Len(t, inflight.DataPoints, 1)
	assert.Equal(t, int64(0), inflight.DataPoints[0].Value, "nothing left in flight")
}

// A request refused before any attempt still ends its span, with error.type its status.
func TestRefusedRequestSpan(t *testing.T) {
	tel := newTelemetry()
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	hook, err := otelaiproxy.New(tel.opts)
	require.NoError(t, err)
	p, err := aiproxy.New(aiproxy.Config{Targets: []aiproxy.Target{{Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: up.ChatURL()}}}},
		Hooks: []aiproxy.Hook{hook}})
	require.NoError(t, err)
	defer p.Close()
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(`{"model":"nope","messages":[{"role":"user","content":"hi"}]}`)))
	require.Equal(t, 400, rec.Code)
	spans := tel.spans.Ended()
	require.Len(t, spans, 1)
	assert.Equal(t, "400", attrMap(spans[0].Attributes())["error.type"])
}

func attrMap(kvs []attribute.KeyValue) map[string]string {
	return attrs(attribute.NewSet(kvs...))
}
