package aiproxy

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// This file is a target's health and measurements, which the pickers read and the attempt
// loop feeds: the circuit breaker, the latency average and the recent usage.

// ewma is an exponentially weighted moving average: each sample moves the value a quarter
// of the way towards it. Its zero value has no samples.
type ewma struct {
	mu  sync.Mutex
	v   float64
	set bool
}

const ewmaWeight = 0.25

func (e *ewma) observe(x float64) {
	e.mu.Lock()
	if e.set {
		e.v += ewmaWeight * (x - e.v)
	} else {
		e.v, e.set = x, true
	}
	e.mu.Unlock()
}

// get returns the average, and false if there is no sample yet.
func (e *ewma) get() (float64, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.v, e.set
}

// recent is a target's recent usage for lowest-usage: the sum of what its requests counted,
// each decaying exponentially with the time since, with Kong's 10 s decay time. Its zero
// value is no usage.
type recent struct {
	mu sync.Mutex
	v  float64
	at time.Time // when v was last updated
}

const usageDecay = 10 * time.Second

func (r *recent) add(x float64, now time.Time) {
	r.mu.Lock()
	r.v = r.decayed(now) + x
	if now.After(r.at) {
		r.at = now
	}
	r.mu.Unlock()
}

func (r *recent) value(now time.Time) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.decayed(now)
}

func (r *recent) decayed(now time.Time) float64 {
	if d := now.Sub(r.at); d > 0 && r.v != 0 {
		return r.v * math.Exp(-float64(d)/float64(usageDecay))
	}
	return r.v
}

// breaker is Kong's passive health check: MaxFails failures within FailTimeout take a
// target out for FailTimeout; a 429's Retry-After takes it out until then. Success resets
// the count.
type breaker struct {
	openUntil atomic.Int64 // unix nanoseconds; the target is skipped before this time

	mu          sync.Mutex
	fails       int
	windowStart time.Time
}

func (b *breaker) open(now time.Time) bool {
	until := b.openUntil.Load()
	return until != 0 && now.UnixNano() < until
}

// heldFor is how long from now the target stays out; 0 or less when it is in.
func (b *breaker) heldFor(now time.Time) time.Duration {
	return time.Duration(b.openUntil.Load() - now.UnixNano())
}

// failure records a counted failure and opens the breaker when the count reaches max,
// reporting whether it did.
func (b *breaker) failure(now time.Time, max int, window time.Duration) (opened bool) {
	if max <= 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fails == 0 || now.Sub(b.windowStart) > window {
		b.fails, b.windowStart = 0, now
	}
	b.fails++
	if b.fails >= max {
		b.fails = 0
		b.hold(now.Add(window))
		return true
	}
	return false
}

// hold keeps the target out until t (or longer, if already held longer).
func (b *breaker) hold(t time.Time) {
	for {
		cur := b.openUntil.Load()
		if t.UnixNano() <= cur || b.openUntil.CompareAndSwap(cur, t.UnixNano()) {
			return
		}
	}
}

func (b *breaker) success() {
	b.mu.Lock()
	b.fails = 0
	b.mu.Unlock()
}

// TargetState is a target's health as the balancer sees it: for metrics, dashboards and
// readiness probes.
type TargetState struct {
	Name, Provider, Model string
	// HeldUntil is when the target comes back into the balancer, after an open circuit
	// breaker or a 429's Retry-After; zero when it is in.
	HeldUntil time.Time
	// InFlight counts the requests the target is answering now.
	InFlight int64
}

// Targets returns the state of every target, in configuration order.
func (p *Proxy) Targets() []TargetState {
	now := p.now()
	out := make([]TargetState, len(p.targets))
	for i, t := range p.targets {
		out[i] = TargetState{Name: t.name, Provider: t.cfg.Model.Provider, Model: t.cfg.Model.Name, InFlight: t.inflight.Load()}
		if d := t.health.heldFor(now); d > 0 {
			out[i].HeldUntil = now.Add(d)
		}
	}
	return out
}

// copyFrom takes o's state (a reload's unchanged target).
func (b *breaker) copyFrom(o *breaker) {
	b.openUntil.Store(o.openUntil.Load())
	o.mu.Lock()
	fails, start := o.fails, o.windowStart
	o.mu.Unlock()
	b.mu.Lock()
	b.fails, b.windowStart = fails, start
	b.mu.Unlock()
}

// copyFrom takes o's average.
func (e *ewma) copyFrom(o *ewma) {
	v, set := o.get()
	e.mu.Lock()
	e.v, e.set = v, set
	e.mu.Unlock()
}

// copyFrom takes o's usage.
func (r *recent) copyFrom(o *recent) {
	o.mu.Lock()
	v, at := o.v, o.at
	o.mu.Unlock()
	r.mu.Lock()
	r.v, r.at = v, at
	r.mu.Unlock()
}
