package aiproxy

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aiproxy/aiproxy/provider"
)

// A Hook is a host program's callbacks around each request: for its own budgets, rate limits,
// caller keys, metrics and traces (package otelaiproxy builds one for OpenTelemetry). Each
// receives the request's context, so trace-aware loggers and values that a middleware put
// there work, and the client's *http.Request, whose headers say who is calling. Every field
// may be nil. Hooks run in the order of Config.Hooks; they must be safe for concurrent use and must not block.
type Hook struct {
	// Start runs first, when the request arrives. The context it returns is the request's from
	// then on: for the other hooks, the upstream requests and the logs (a span started here
	// parents the attempts' spans).
	Start func(ctx context.Context, r *http.Request) context.Context
	// BeforeRoute runs once the request is read and checked, before a target is chosen. An
	// error refuses the request: a *RequestError is sent as it is (status, type, code,
	// message); any other error as 403 permission_error with its text.
	BeforeRoute func(ctx context.Context, r *http.Request, in Inbound) error
	// Attempt runs before each attempt's upstream request is sent; it may add headers to
	// upstream (trace context). The function it returns, if not nil, runs once the attempt's
	// outcome is known (for a stream: when its first event came, or it failed before).
	Attempt func(ctx context.Context, target TargetInfo, upstream *http.Request) func(Attempt)
	// AfterResponse runs once per request, refused and failed ones included, after its
	// response ended (a stream: after its last event), with what happened.
	AfterResponse func(ctx context.Context, r *http.Request, s *Stats)
}

// Inbound is what BeforeRoute learns of a request.
type Inbound struct {
	// RequestID identifies the request: the client's X-Request-Id, or one generated.
	RequestID string
	Route     provider.RouteType
	// Model is the model the client asked for; empty if none.
	Model  string
	Stream bool
	// Body is the client's body as read. It must not be modified.
	Body []byte
}

// TargetInfo names a target for Hooks.Attempt.
type TargetInfo struct {
	Name, Provider, Model string
}

// HeaderRequestID carries the request ID: read from the client's request when it has one, and
// set on every response (X-Request-Id itself is the upstream's, forwarded as it is).
const HeaderRequestID = "X-Aiproxy-Request-Id"

// requestID returns the client's X-Request-Id, or a new one: 24 hex digits, a random prefix
// drawn once per process and a counter, unique without a random read per request.
func requestID(r *http.Request) string {
	if v := r.Header.Get("X-Request-Id"); v != "" && len(v) <= 128 {
		return v
	}
	var b [24]byte
	binary.BigEndian.PutUint32(b[12:], idPrefix)
	binary.BigEndian.PutUint64(b[16:], idCounter.Add(1))
	hex.Encode(b[:], b[12:])
	return string(b[:])
}

var (
	idPrefix  = rand.Uint32()
	idCounter atomic.Uint64
)

// start runs the Start hooks.
func (p *Proxy) start(c *call) {
	for i := range p.hooks {
		if h := p.hooks[i].Start; h != nil {
			c.ctx = h(c.ctx, c.req)
		}
	}
}

// beforeRoute runs the BeforeRoute hooks; the first refusal wins.
func (p *Proxy) beforeRoute(c *call) *RequestError {
	for i := range p.hooks {
		h := p.hooks[i].BeforeRoute
		if h == nil {
			continue
		}
		in := Inbound{RequestID: c.stats.RequestID, Route: c.route, Model: c.model, Stream: c.stream, Body: c.body}
		if err := h(c.ctx, c.req, in); err != nil {
			var re *RequestError
			if !errors.As(err, &re) {
				re = &RequestError{Status: http.StatusForbidden, Type: "permission_error", Code: "refused", Message: err.Error(), Err: err}
			}
			return re
		}
	}
	return nil
}

// attemptHooks runs the Attempt hooks for one attempt, and returns what reports its outcome.
func (p *Proxy) attemptHooks(c *call, t *target, upstream *http.Request) func(Attempt) {
	var first func(Attempt)
	var more []func(Attempt) // with several hooks only
	for i := range p.hooks {
		h := p.hooks[i].Attempt
		if h == nil {
			continue
		}
		f := h(c.ctx, TargetInfo{Name: t.name, Provider: t.cfg.Model.Provider, Model: t.cfg.Model.Name}, upstream)
		switch {
		case f == nil:
		case first == nil:
			first = f
		default:
			more = append(more, f)
		}
	}
	if more == nil {
		return first
	}
	return func(a Attempt) {
		first(a)
		for _, f := range more {
			f(a)
		}
	}
}

// afterResponse runs the AfterResponse hooks.
func (p *Proxy) afterResponse(c *call) {
	for i := range p.hooks {
		if h := p.hooks[i].AfterResponse; h != nil {
			h(c.ctx, c.req, &c.stats)
		}
	}
}

// attemptOutcome is the Attempt a hook's done function gets for an attempt that took d.
func attemptOutcome(t *target, f *failed, d time.Duration) Attempt {
	a := Attempt{Target: t.name, Status: http.StatusOK, Latency: d}
	if f != nil {
		a.Status, a.Err, a.Class = statusOf(f), f.err, f.kind.String()
	}
	return a
}
