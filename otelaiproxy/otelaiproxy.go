// Package otelaiproxy traces and measures an aiproxy.Proxy with OpenTelemetry, following the
// GenAI semantic conventions: a span per request and one per attempt (parented to the
// incoming request's span, their trace context propagated upstream), and the
// gen_ai.client.token.usage, gen_ai.client.operation.duration,
// gen_ai.server.time_to_first_token and gen_ai.server.time_per_output_token histograms, with
// aiproxy's own attempts, failovers, cost, semantic distance, in-flight and per-target
// breaker instruments. A program that does not import it links no OpenTelemetry.
//
//	hook, err := otelaiproxy.New(otelaiproxy.Options{})
//	cfg.Hooks = append(cfg.Hooks, hook)
//	p, err := aiproxy.New(cfg)
//	reg, err := otelaiproxy.ObserveTargets(p, otelaiproxy.Options{})
package otelaiproxy

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/semconv/v1.41.0/genaiconv"
	"go.opentelemetry.io/otel/trace"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/provider"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/aiproxy/aiproxy/otelaiproxy"

// Options say where the telemetry goes. The zero value uses OpenTelemetry's global providers
// and propagator.
type Options struct {
	// TracerProvider makes the spans. Nil means otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// MeterProvider makes the instruments. Nil means otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// Propagator writes the trace context into upstream requests. Nil means
	// otel.GetTextMapPropagator().
	Propagator propagation.TextMapPropagator
}

func (o *Options) fill() {
	if o.TracerProvider == nil {
		o.TracerProvider = otel.GetTracerProvider()
	}
	if o.MeterProvider == nil {
		o.MeterProvider = otel.GetMeterProvider()
	}
	if o.Propagator == nil {
		o.Propagator = otel.GetTextMapPropagator()
	}
}

type instruments struct {
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	tokens     genaiconv.ClientTokenUsage
	duration   genaiconv.ClientOperationDuration
	ttft       genaiconv.ServerTimeToFirstToken
	tpot       genaiconv.ServerTimePerOutputToken
	attempts   metric.Int64Counter
	failovers  metric.Int64Counter
	cost       metric.Float64Counter
	distance   metric.Float64Histogram
	inFlight   metric.Int64UpDownCounter
	unreported metric.Int64Counter
	sets       optionCache
}

// setKey identifies a combination of attribute values that measurements reuse.
type setKey struct {
	kind                                            byte // which family: 'a' attempts, 'r' requests, 'i'/'o' token types
	target, provider, model, responseModel, outcome string
}

// optionCache keeps the measurement options (attribute sets) of the combinations seen, so
// that recording a measurement allocates no attribute set: targets, models and outcomes are
// few.
type optionCache struct {
	mu sync.RWMutex
	m  map[setKey]metric.MeasurementOption
}

func (c *optionCache) get(k setKey) metric.MeasurementOption {
	c.mu.RLock()
	o, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return o
	}
	o = metric.WithAttributeSet(attribute.NewSet(k.attributes()...))
	c.mu.Lock()
	if c.m == nil {
		c.m = map[setKey]metric.MeasurementOption{}
	}
	if len(c.m) < maxCachedSets { // a bound against unbounded model names from clients
		c.m[k] = o
	}
	c.mu.Unlock()
	return o
}

// attributes are the key's attributes, by the instrument family.
func (k setKey) attributes() []attribute.KeyValue {
	if k.kind == 'a' {
		return []attribute.KeyValue{attribute.String("aiproxy.target", k.target),
			semconv.GenAIProviderNameKey.String(providerName(k.provider)), attribute.String("aiproxy.outcome", k.outcome)}
	}
	kv := []attribute.KeyValue{semconv.GenAIOperationNameKey.String(k.target), semconv.GenAIRequestModelKey.String(k.model)}
	if k.provider != "" {
		kv = append(kv, semconv.GenAIProviderNameKey.String(providerName(k.provider)), semconv.GenAIResponseModelKey.String(k.responseModel))
	}
	if k.outcome != "" {
		kv = append(kv, semconv.ErrorTypeKey.String(k.outcome))
	}
	switch k.kind {
	case 'i':
		kv = append(kv, semconv.GenAITokenTypeInput)
	case 'o':
		kv = append(kv, semconv.GenAITokenTypeOutput)
	}
	return kv
}

// maxCachedSets bounds the option cache.
const maxCachedSets = 4096

// New returns the hook that traces and measures each request; add it to
// aiproxy.Config.Hooks. The error is an instrument OpenTelemetry could not create.
func New(o Options) (aiproxy.Hook, error) {
	o.fill()
	in, err := newInstruments(o)
	if err != nil {
		return aiproxy.Hook{}, err
	}
	return aiproxy.Hook{Start: in.start, BeforeRoute: in.beforeRoute, Attempt: in.attempt, AfterResponse: in.afterResponse}, nil
}

func newInstruments(o Options) (*instruments, error) {
	m := o.MeterProvider.Meter(ScopeName)
	in := &instruments{tracer: o.TracerProvider.Tracer(ScopeName), propagator: o.Propagator}
	var errs [10]error
	in.tokens, errs[0] = genaiconv.NewClientTokenUsage(m)
	in.duration, errs[1] = genaiconv.NewClientOperationDuration(m)
	in.ttft, errs[2] = genaiconv.NewServerTimeToFirstToken(m)
	in.tpot, errs[3] = genaiconv.NewServerTimePerOutputToken(m)
	in.attempts, errs[4] = m.Int64Counter("aiproxy.attempts", metric.WithUnit("{attempt}"),
		metric.WithDescription("Upstream attempts, by target and outcome (error.type is the failover criterion of a failed one)."))
	in.failovers, errs[5] = m.Int64Counter("aiproxy.failovers", metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts made after a failed one within the same request."))
	in.cost, errs[6] = m.Float64Counter("aiproxy.cost", metric.WithUnit("USD"),
		metric.WithDescription("Price of the requests served, from model.options input_cost and output_cost."))
	in.distance, errs[7] = m.Float64Histogram("aiproxy.semantic.distance", metric.WithUnit("1"),
		metric.WithDescription("Distance from the prompt to the nearest target description."))
	in.inFlight, errs[8] = m.Int64UpDownCounter("aiproxy.requests.in_flight", metric.WithUnit("{request}"),
		metric.WithDescription("Requests being answered."))
	in.unreported, errs[9] = m.Int64Counter("aiproxy.usage.unreported", metric.WithUnit("{request}"),
		metric.WithDescription("Requests served whose upstream reported no token usage."))
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return in, nil
}

// operation is the GenAI operation name of a route type.
func operation(r provider.RouteType) string {
	switch r {
	case provider.Completions:
		return string(genaiconv.OperationNameTextCompletion)
	case provider.Embeddings:
		return string(genaiconv.OperationNameEmbeddings)
	}
	return string(genaiconv.OperationNameChat)
}

// providerName is the GenAI provider name of a Kong model.provider.
func providerName(p string) string {
	switch p {
	case "azure":
		return string(genaiconv.ProviderNameAzureAIOpenAI)
	case "gemini":
		return string(genaiconv.ProviderNameGCPGemini)
	case "bedrock":
		return string(genaiconv.ProviderNameAWSBedrock)
	case "mistral":
		return string(genaiconv.ProviderNameMistralAI)
	case "xai":
		return string(genaiconv.ProviderNameXAI)
	}
	return p
}

var (
	serverKind = trace.WithSpanKind(trace.SpanKindServer)
	clientKind = trace.WithSpanKind(trace.SpanKindClient)
)

// start begins the request's span, a server-side view of the client's call.
func (in *instruments) start(ctx context.Context, r *http.Request) context.Context {
	ctx, _ = in.tracer.Start(ctx, "aiproxy", serverKind)
	in.inFlight.Add(ctx, 1)
	return ctx
}

// beforeRoute names the span after the operation and the model asked for.
func (in *instruments) beforeRoute(ctx context.Context, _ *http.Request, req aiproxy.Inbound) error {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return nil
	}
	op := operation(req.Route)
	span.SetName(op + " " + req.Model)
	span.SetAttributes(semconv.GenAIOperationNameKey.String(op), semconv.GenAIRequestModelKey.String(req.Model),
		attribute.String("aiproxy.request_id", req.RequestID), attribute.Bool("aiproxy.stream", req.Stream))
	return nil
}

// attempt begins an attempt's client span and writes its trace context into the upstream
// request.
func (in *instruments) attempt(ctx context.Context, t aiproxy.TargetInfo, up *http.Request) func(aiproxy.Attempt) {
	ctx, span := in.tracer.Start(ctx, "attempt", clientKind)
	in.propagator.Inject(ctx, propagation.HeaderCarrier(up.Header))
	if span.IsRecording() {
		span.SetName("attempt " + t.Name)
		span.SetAttributes(semconv.GenAIProviderNameKey.String(providerName(t.Provider)), semconv.GenAIRequestModelKey.String(t.Model),
			attribute.String("aiproxy.target", t.Name), semconv.ServerAddress(up.URL.Hostname()))
	}
	return func(a aiproxy.Attempt) {
		outcome := "ok"
		if a.Err != nil {
			outcome = a.Class
			if outcome == "" {
				outcome = "_OTHER"
			}
			span.SetStatus(codes.Error, a.Err.Error())
			span.SetAttributes(semconv.ErrorTypeKey.String(outcome))
		}
		if a.Status != 0 && span.IsRecording() {
			span.SetAttributes(semconv.HTTPResponseStatusCode(a.Status))
		}
		span.End()
		in.attempts.Add(ctx, 1, in.sets.get(setKey{kind: 'a', target: t.Name, provider: t.Provider, outcome: outcome}))
	}
}

// afterResponse ends the request's span and records the request's measurements.
func (in *instruments) afterResponse(ctx context.Context, _ *http.Request, s *aiproxy.Stats) {
	in.inFlight.Add(ctx, -1)
	op := operation(s.Route)
	errType := errorType(s)
	key := setKey{kind: 'r', target: op, provider: s.Provider, model: s.RequestedModel, responseModel: s.Model, outcome: errType}
	attrs := func(kind byte) metric.MeasurementOption {
		key.kind = kind
		return in.sets.get(key)
	}
	withSet := attrs('r')
	in.duration.Float64Histogram.Record(ctx, s.Latency.Seconds(), withSet)
	if n := len(s.Attempts); n > 0 && s.Target != "" || n > 1 {
		in.failovers.Add(ctx, int64(n), withSet)
	}
	if s.Target != "" && errType == "" {
		if s.UsageReported {
			in.tokens.Int64Histogram.Record(ctx, int64(s.Usage.PromptTokens), attrs('i'))
			in.tokens.Int64Histogram.Record(ctx, int64(s.Usage.CompletionTokens), attrs('o'))
			in.cost.Add(ctx, s.Cost, withSet)
		} else {
			in.unreported.Add(ctx, 1, withSet)
		}
		if s.Stream && s.TimeToFirstToken > 0 {
			in.ttft.Float64Histogram.Record(ctx, s.TimeToFirstToken.Seconds(), withSet)
			if n := s.Usage.CompletionTokens; n > 1 {
				in.tpot.Float64Histogram.Record(ctx, (s.Latency-s.TimeToFirstToken).Seconds()/float64(n-1), withSet)
			}
		}
	}
	if d := s.Semantic; d != nil && !math.IsInf(d.Distance, 0) {
		in.distance.Record(ctx, d.Distance, matched[boolInt(d.Matched)])
	}

	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		span.End()
		return
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(s.Status), attribute.Int("aiproxy.attempts", len(s.Attempts)+boolInt(s.Target != "")))
	if s.Target != "" {
		span.SetAttributes(attribute.String("aiproxy.target", s.Target), semconv.GenAIProviderNameKey.String(providerName(s.Provider)),
			semconv.GenAIResponseModelKey.String(s.Model))
	}
	if s.UsageReported {
		span.SetAttributes(semconv.GenAIUsageInputTokensKey.Int(s.Usage.PromptTokens), semconv.GenAIUsageOutputTokensKey.Int(s.Usage.CompletionTokens))
	}
	if s.Stream && s.TimeToFirstToken > 0 {
		span.SetAttributes(attribute.Float64("aiproxy.time_to_first_token", s.TimeToFirstToken.Seconds()))
	}
	if errType != "" {
		span.SetAttributes(semconv.ErrorTypeKey.String(errType))
		span.SetStatus(codes.Error, s.Err.Error())
	}
	span.End()
}

// matched are the attribute sets of the semantic distance: not matched, matched.
var matched = [2]metric.MeasurementOption{
	metric.WithAttributeSet(attribute.NewSet(attribute.Bool("aiproxy.semantic.matched", false))),
	metric.WithAttributeSet(attribute.NewSet(attribute.Bool("aiproxy.semantic.matched", true))),
}

// errorType is the error.type of a request: "" when it succeeded, else its HTTP status.
func errorType(s *aiproxy.Stats) string {
	if s.Err == nil {
		return ""
	}
	if s.Status == 0 {
		return "_OTHER"
	}
	return strconv.Itoa(s.Status)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ObserveTargets reports each target of p as the aiproxy.target.held gauge (1 while its
// breaker is open or a Retry-After holds it out, else 0) and aiproxy.target.in_flight, read
// when the metrics are collected. Unregister the registration before closing p.
func ObserveTargets(p *aiproxy.Proxy, o Options) (metric.Registration, error) {
	o.fill()
	m := o.MeterProvider.Meter(ScopeName)
	held, err := m.Int64ObservableGauge("aiproxy.target.held", metric.WithUnit("1"),
		metric.WithDescription("1 while the target is out of the balancer (open circuit breaker or Retry-After), else 0."))
	if err != nil {
		return nil, err
	}
	inFlight, err := m.Int64ObservableGauge("aiproxy.target.in_flight", metric.WithUnit("{request}"),
		metric.WithDescription("Requests the target is answering now."))
	if err != nil {
		return nil, err
	}
	return m.RegisterCallback(func(_ context.Context, obs metric.Observer) error {
		now := time.Now()
		for _, t := range p.Targets() {
			set := metric.WithAttributes(attribute.String("aiproxy.target", t.Name), semconv.GenAIProviderNameKey.String(providerName(t.Provider)))
			obs.ObserveInt64(held, int64(boolInt(t.HeldUntil.After(now))), set)
			obs.ObserveInt64(inFlight, t.InFlight, set)
		}
		return nil
	}, held, inFlight)
}
