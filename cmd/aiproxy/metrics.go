package main

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// metrics are the server's OpenTelemetry instruments, exported in Prometheus's format at
// /metrics together with the Go runtime's and the process's metrics. Its MeterProvider is
// also the global one (otel.SetMeterProvider), so instruments that libraries create through
// otel.GetMeterProvider appear at /metrics too.
type metrics struct {
	registry *prometheus.Registry
	duration metric.Float64Histogram
	active   metric.Int64UpDownCounter
	reloads  metric.Int64Counter
}

// durationBuckets are the histogram's bounds in seconds: LLM requests last up to minutes.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// pluginKey labels a request with the plugin that served it.
const pluginKey = attribute.Key("aiproxy.plugin")

func newMetrics() (*metrics, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, err
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	otel.SetMeterProvider(provider)
	meter := provider.Meter("github.com/aiproxy/aiproxy/cmd/aiproxy")
	m := &metrics{registry: reg}
	if m.duration, err = meter.Float64Histogram("http.server.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP server requests, by plugin and route path, to the end of the response (a stream's included)."),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return nil, err
	}
	if m.active, err = meter.Int64UpDownCounter("http.server.active_requests", metric.WithUnit("{request}"),
		metric.WithDescription("Number of HTTP server requests in flight, by plugin and route path.")); err != nil {
		return nil, err
	}
	if m.reloads, err = meter.Int64Counter("aiproxy.config.reloads", metric.WithUnit("{reload}"),
		metric.WithDescription(`Reloads of the configuration, by result: "success", or "failure" (the previous configuration kept serving).`)); err != nil {
		return nil, err
	}
	return m, nil
}

// handler serves the metrics in Prometheus's text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// instrument measures the requests h serves, a plugin's handler on path.
func (m *metrics) instrument(plugin, path string, h http.Handler) http.Handler {
	route := []attribute.KeyValue{pluginKey.String(plugin), semconv.HTTPRoute(path)}
	activeAttrs := metric.WithAttributes(route...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx := context.WithoutCancel(r.Context()) // recorded even when the client has gone
		m.active.Add(ctx, 1, activeAttrs)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			m.active.Add(ctx, -1, activeAttrs)
			m.duration.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(append(route,
				semconv.HTTPRequestMethodKey.String(r.Method), semconv.HTTPResponseStatusCode(rec.status))...))
		}()
		h.ServeHTTP(rec, r)
	})
}

// reloaded counts a reload.
func (m *metrics) reloaded(err error) {
	result := "success"
	if err != nil {
		result = "failure"
	}
	m.reloads.Add(context.Background(), 1, metric.WithAttributes(attribute.String("result", result)))
}

// statusRecorder remembers the status a handler sent. Unwrap lets http.ResponseController
// flush the stream through it.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
