package aiproxy

import (
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
)

// Stats describes one request after its response ended. Hook.AfterResponse receives it, and
// it is logged for targets with logging.log_statistics.
type Stats struct {
	// RequestID identifies the request (the client's X-Request-Id, or one generated); it is
	// sent back in the X-Aiproxy-Request-Id response header and logged.
	RequestID string
	// Route is the request's route type.
	Route provider.RouteType
	// RequestedModel is the model the client asked for, if any.
	RequestedModel string
	// Target, Provider and Model name the target that answered, its provider and the
	// model that served (the upstream's own name for it when it reports one). Empty when
	// no target answered.
	Target, Provider, Model string
	// Attempts lists the failed attempts before the one that answered.
	Attempts []Attempt
	// Status is the HTTP status sent to the client.
	Status int
	// Stream reports a streamed response.
	Stream bool
	// Latency runs from receiving the request to the end of the response.
	Latency time.Duration
	// TimeToFirstToken runs from receiving the request to the first streamed event that
	// carries content or a tool call (not the role-only first chunk); zero for responses that
	// are not streamed or that carried none.
	TimeToFirstToken time.Duration
	// Usage is the token usage the upstream reported.
	Usage provider.Usage
	// UsageReported is false when the upstream reported no usage: Usage's zeros (and Cost)
	// are then unknown, not zero.
	UsageReported bool
	// Cost is the request's price from model.options input_cost and output_cost (per 1M
	// tokens).
	Cost float64
	// Semantic is the semantic balancer's decision, for semantic routing.
	Semantic *Decision
	// Err is why the request failed, nil if it succeeded; see the sentinel errors.
	Err error

	// resolvedModel is the model name the current attempt's target resolved from template
	// variables; "" for a target without.
	resolvedModel string
}

// finish completes the stats of a request and reports them.
func (p *Proxy) finish(c *call, status int) {
	s := &c.stats
	s.Status = status
	s.Latency = p.now().Sub(c.start)
	p.afterResponse(c)
	t := c.served
	if t != nil && !t.cfg.Logging.LogStatistics || t == nil && !p.logsStatistics {
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", s.RequestID),
		slog.String("route", string(s.Route)),
		slog.String("target", s.Target),
		slog.String("provider", s.Provider),
		slog.String("model", s.Model),
		slog.Int("status", s.Status),
		slog.Int("attempts", len(s.Attempts)+1),
		slog.Bool("stream", s.Stream),
		slog.String("latency", readable(s.Latency)),
		slog.Int("prompt_tokens", s.Usage.PromptTokens),
		slog.Int("completion_tokens", s.Usage.CompletionTokens),
		slog.Int("total_tokens", s.Usage.TotalTokens),
		slog.Float64("cost", s.Cost),
		slog.Bool("usage_reported", s.UsageReported),
	}
	if s.Stream {
		attrs = append(attrs, slog.String("time_to_first_token", readable(s.TimeToFirstToken)))
	}
	if s.Semantic != nil {
		attrs = append(attrs, slog.Bool("semantic_matched", s.Semantic.Matched))
		if !math.IsInf(s.Semantic.Distance, 0) { // JSON has no infinity
			attrs = append(attrs, slog.Float64("semantic_distance", s.Semantic.Distance))
		}
	}
	if s.Err != nil {
		attrs = append(attrs, slog.String("error", s.Err.Error()))
	}
	if t != nil && t.cfg.Logging.LogPayloads {
		attrs = append(attrs, slog.String("request", string(redactPayload(c.body, t))),
			slog.String("response", secret.Scrub(string(c.response), c.creds[:])))
	}
	p.logger.LogAttrs(c.ctx, slog.LevelInfo, "aiproxy request", attrs...)
}

// readable renders a duration for a log line as people read it, whatever the handler
// ("1.234ms", "2.5s"), to the microsecond.
func readable(d time.Duration) string { return d.Round(time.Microsecond).String() }

// redactPayload returns a request body for logging, with the target's body credential
// replaced.
func redactPayload(body []byte, t *target) []byte {
	name := string(t.cfg.Auth.ParamName)
	if t.cfg.Auth.ParamLocation != "body" || name == "" || !t.cfg.Auth.ParamName.IsLiteral() {
		return body
	}
	out := body
	_ = jsonx.Object(body, func(m jsonx.Member) bool {
		if string(m.Key) == name {
			out = slices.Concat(body[:m.Start], []byte(`"[redacted]"`), body[m.End:])
			return false
		}
		return true
	})
	return out
}
