package aiproxy

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// This file shares the targets' health and measurements among the Proxies of a fleet (the
// replicas of a service): a background loop sends what this Proxy observed to a FleetStore
// and folds the fleet's state back into the targets, which the pickers then read. No request
// waits for the store.

// FleetStore keeps the target state that the Proxies of a fleet share; redisfleet.New
// (package fleet/redisfleet) is one backed by Redis. A Proxy calls Sync from one goroutine,
// every FleetConfig.Interval; a store may serve several Proxies.
type FleetStore interface {
	// Sync applies one Proxy's report to the shared state and returns the fleet's view of
	// the report's targets, one per target and in the same order. ctx bounds the call
	// (FleetConfig.Timeout).
	Sync(ctx context.Context, r *FleetReport) ([]FleetView, error)
}

// FleetConfig shares target state through a FleetStore. See the README's "Fleets" for the
// consistency model.
type FleetConfig struct {
	// Store keeps the shared state. Required: nil is an error at New.
	Store FleetStore
	// Interval is how often the Proxy syncs: the staleness of what it knows of the others.
	// A breaker opening or a Retry-After hold is sent at once. Zero means 100 ms.
	Interval time.Duration
	// Timeout bounds each sync. When a sync fails or takes longer, the Proxy balances on its
	// own state (logging once) until a sync succeeds again; what it observed meanwhile is sent
	// then. No request waits for a sync, whatever Timeout is. Zero means 5 × Interval.
	Timeout time.Duration
	// Lease is how long this Proxy's in-flight counts are counted by the others after its
	// last successful sync: the most a Proxy that died holding requests skews
	// least-connections. Zero means 20 × Interval.
	Lease time.Duration
}

// FleetReport is what one Proxy sends to the store at each sync.
type FleetReport struct {
	// Instance identifies the Proxy: random, one per Proxy.
	Instance string
	// Lease is how long the store keeps counting this report's InFlight without a newer one.
	Lease time.Duration
	// MaxFails and FailTimeout are the breaker's settings (balancer.max_fails and
	// fail_timeout): MaxFails counted failures of a target across the fleet within
	// FailTimeout take it out for FailTimeout. MaxFails 0 disables the breaker.
	MaxFails    int
	FailTimeout time.Duration
	// Targets are the Proxy's targets, by name.
	Targets []FleetTarget
}

// FleetTarget is what one Proxy observed of one target since its last sync.
type FleetTarget struct {
	// Name identifies the target across the fleet: replicas name their targets alike.
	Name string
	// Reset: a success reset the breaker's count before the Failures below.
	Reset bool
	// Failures counts the failures for the breaker since the last sync (after Reset).
	Failures int
	// Hold keeps the target out for this long from now (a Retry-After, or a breaker that
	// this Proxy opened); 0 is no hold.
	Hold time.Duration
	// InFlight is the Proxy's requests on the target now (a count, not a change).
	InFlight int64
	// LatencySum and LatencySamples are the latency samples since the last sync, in seconds.
	LatencySum     float64
	LatencySamples int
	// Usage is the usage counted since the last sync (tokens or cost), decayed to now.
	Usage float64
}

// FleetView is the fleet's state of one target.
type FleetView struct {
	// Hold is how long the fleet keeps the target out from now; 0 or less when it is in.
	Hold time.Duration
	// InFlight is the other Proxies' requests on the target (their latest, leased counts).
	InFlight int64
	// Latency is the fleet's moving-average latency in seconds; HasLatency is false before
	// the first sample.
	Latency    float64
	HasLatency bool
	// Usage is the fleet's recent usage, decayed to now as lowest-usage decays it.
	Usage float64
}

// fleet syncs one Proxy's targets with a FleetStore.
type fleet struct {
	store                    FleetStore
	interval, timeout, lease time.Duration
	instance                 string
	maxFails                 int
	failTimeout              time.Duration
	targets                  []*target
	now                      func() time.Time
	logger                   *slog.Logger
	live                     atomic.Bool // the last sync succeeded: the pickers read the fleet's state
	kick                     chan struct{}
	stop, done               chan struct{}
	down                     bool // a failure was logged and no success since (the loop's own)
}

// newFleet checks cfg and starts syncing p's targets; nil cfg is local state only.
func (p *Proxy) newFleet(cfg *FleetConfig) error {
	if cfg == nil {
		return nil
	}
	if cfg.Store == nil {
		return errors.New("fleet: Store is required")
	}
	if cfg.Interval < 0 || cfg.Timeout < 0 || cfg.Lease < 0 {
		return errors.New("fleet: Interval, Timeout and Lease must not be negative")
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	interval := orDefault(cfg.Interval, 100*time.Millisecond)
	f := &fleet{
		store: cfg.Store, interval: interval, timeout: cmp.Or(cfg.Timeout, 5*interval), lease: cmp.Or(cfg.Lease, 20*interval),
		instance: hex.EncodeToString(id), maxFails: p.maxFails, failTimeout: p.failTimeout, targets: p.targets,
		now: p.now, logger: p.logger, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	for _, t := range p.targets {
		t.fleet = &fleetTarget{f: f}
	}
	p.fleet = f
	return nil
}

// run syncs every interval, and at once when notified, until Close.
func (f *fleet) run() {
	defer close(f.done)
	tick := time.NewTicker(f.interval)
	defer tick.Stop()
	for {
		select {
		case <-f.stop:
			f.sync(true)
			return
		case <-tick.C:
		case <-f.kick:
		}
		f.sync(false)
	}
}

// Close stops the loop after a last sync that withdraws this Proxy's in-flight counts.
func (f *fleet) Close() error {
	close(f.stop)
	<-f.done
	return nil
}

// sync sends one report and applies the view that comes back. On failure the report goes
// back into the targets' pending state, to be sent with the next.
func (f *fleet) sync(final bool) {
	now := f.now()
	r := &FleetReport{Instance: f.instance, Lease: f.lease, MaxFails: f.maxFails, FailTimeout: f.failTimeout,
		Targets: make([]FleetTarget, len(f.targets))}
	firstFails := make([]time.Time, len(f.targets))
	for i, t := range f.targets {
		r.Targets[i], firstFails[i] = t.fleet.take(now)
		r.Targets[i].Name = t.name
		if !final {
			r.Targets[i].InFlight = t.inflight.Load()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	views, err := f.store.Sync(ctx, r)
	cancel()
	if err == nil && len(views) != len(r.Targets) {
		err = fmt.Errorf("the store returned %d views for %d targets", len(views), len(r.Targets))
	}
	if err != nil {
		f.live.Store(false)
		for i, t := range f.targets {
			t.fleet.putBack(&r.Targets[i], firstFails[i], now)
		}
		if !f.down {
			f.down = true
			f.logger.Warn("aiproxy: fleet state unavailable; balancing on this instance's state until it is back", "err", err)
		}
		return
	}
	now = f.now()
	for i, t := range f.targets {
		v := &views[i]
		if v.Hold > 0 {
			t.health.hold(now.Add(v.Hold))
		}
		t.fleet.apply(v, now)
	}
	f.live.Store(true)
	if f.down {
		f.down = false
		f.logger.Info("aiproxy: fleet state is back")
	}
}

// notify asks for a sync now, for news the others should not wait an interval for.
func (f *fleet) notify() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// fleetTarget is one target's part in the fleet: what this Proxy observed since the last
// sync, and the fleet's state from the last sync with this Proxy's observations since added.
// A nil *fleetTarget (no fleet) records nothing.
type fleetTarget struct {
	f *fleet

	mu        sync.Mutex
	reset     bool
	failures  int
	firstFail time.Time // of the failures pending
	holdUntil time.Time
	latSum    float64
	latN      int
	usage     recent // pending usage, decaying while it waits

	others  atomic.Int64 // the other Proxies' in-flight requests
	latency ewma
	shared  recent
}

// failure records a counted failure; opened: it opened this Proxy's breaker.
func (ft *fleetTarget) failure(now time.Time, opened bool) {
	if ft == nil || ft.f.maxFails <= 0 {
		return
	}
	ft.mu.Lock()
	if ft.failures == 0 {
		ft.firstFail = now
	}
	ft.failures++
	if opened {
		ft.holdUntil = later(ft.holdUntil, now.Add(ft.f.failTimeout))
	}
	ft.mu.Unlock()
	if opened {
		ft.f.notify()
	}
}

// hold records a Retry-After hold until t.
func (ft *fleetTarget) hold(t time.Time) {
	if ft == nil {
		return
	}
	ft.mu.Lock()
	ft.holdUntil = later(ft.holdUntil, t)
	ft.mu.Unlock()
	ft.f.notify()
}

// success records a success, which resets the breaker's count, with its latency and usage.
func (ft *fleetTarget) success(latency, usage float64, now time.Time) {
	if ft == nil {
		return
	}
	ft.mu.Lock()
	ft.reset, ft.failures = true, 0
	ft.latSum += latency
	ft.latN++
	ft.mu.Unlock()
	ft.usage.add(usage, now)
	ft.latency.observe(latency)
	ft.shared.add(usage, now)
}

// take returns and clears what is pending, with when the first of its failures happened.
func (ft *fleetTarget) take(now time.Time) (FleetTarget, time.Time) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	r := FleetTarget{Reset: ft.reset, Failures: ft.failures, LatencySum: ft.latSum, LatencySamples: ft.latN}
	if now.Sub(ft.firstFail) > ft.f.failTimeout { // out of the breaker's window by now
		r.Failures = 0
	}
	if d := ft.holdUntil.Sub(now); d > 0 {
		r.Hold = d
	}
	ft.reset, ft.failures, ft.latSum, ft.latN, ft.holdUntil = false, 0, 0, 0, time.Time{}
	ft.usage.mu.Lock()
	r.Usage = ft.usage.decayed(now)
	ft.usage.v = 0
	ft.usage.mu.Unlock()
	return r, ft.firstFail
}

// putBack returns a report that was not delivered (taken at sent; its first failure at
// firstFail) to what is pending, before what was observed since.
func (ft *fleetTarget) putBack(r *FleetTarget, firstFail, sent time.Time) {
	ft.mu.Lock()
	if !ft.reset { // a success since wipes the older count
		ft.reset = r.Reset
		if r.Failures > 0 {
			ft.failures += r.Failures
			ft.firstFail = firstFail
		}
	}
	if r.Hold > 0 {
		ft.holdUntil = later(ft.holdUntil, sent.Add(r.Hold))
	}
	ft.latSum += r.LatencySum
	ft.latN += r.LatencySamples
	ft.mu.Unlock()
	ft.usage.add(r.Usage, sent)
}

// apply replaces the fleet's state with v.
func (ft *fleetTarget) apply(v *FleetView, now time.Time) {
	ft.others.Store(v.InFlight)
	if v.HasLatency {
		ft.latency.mu.Lock()
		ft.latency.v, ft.latency.set = v.Latency, true
		ft.latency.mu.Unlock()
	}
	ft.shared.mu.Lock()
	ft.shared.v, ft.shared.at = v.Usage, now
	ft.shared.mu.Unlock()
}

// shared reports whether the pickers read the fleet's state of t (else t's own).
func (t *target) shared() bool { return t.fleet != nil && t.fleet.f.live.Load() }

// load is t's in-flight requests, across the fleet when it is shared.
func (t *target) load() int64 {
	n := t.inflight.Load()
	if t.shared() {
		n += t.fleet.others.Load()
	}
	return n
}

// avgLatency is t's moving-average latency, across the fleet when it is shared; false
// before the first sample.
func (t *target) avgLatency() (float64, bool) {
	if t.shared() {
		if v, ok := t.fleet.latency.get(); ok {
			return v, true
		}
	}
	return t.latency.get()
}

// recentUsage is t's recent usage, across the fleet when it is shared.
func (t *target) recentUsage(now time.Time) float64 {
	if t.shared() {
		return t.fleet.shared.value(now)
	}
	return t.usage.value(now)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
