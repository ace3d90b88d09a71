package aiproxy

import (
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// The balancer algorithms (Kong's balancer.algorithm).
const (
	RoundRobin        = "round-robin"
	Priority          = "priority"
	LowestLatency     = "lowest-latency"
	LowestUsage       = "lowest-usage"
	LeastConnections  = "least-connections"
	ConsistentHashing = "consistent-hashing"
	Semantic          = "semantic"
)

// A picker chooses the next target of a pool for a request. It passes over the targets
// c.skip reports (already tried in this request, or circuit-broken); ok is false when every
// target is skipped.
type picker interface {
	pick(c *call) (t *target, ok bool)
}

// newPicker returns the picker of algorithm over ts.
func newPicker(algorithm string, ts []*target, b *BalancerConfig) picker {
	switch algorithm {
	case Priority:
		return newPriority(ts)
	case LowestLatency:
		r := newRoundRobin(ts)
		r.byLatency = true
		return r
	case LowestUsage:
		return &lowest{ts: ts, score: func(t *target, now time.Time) float64 { return t.usage.value(now) }}
	case LeastConnections:
		return &lowest{ts: ts, score: func(t *target, _ time.Time) float64 { return float64(t.inflight.Load() + 1) }}
	case ConsistentHashing:
		return newRing(ts, b.Slots, b.HashOnHeader)
	default:
		return newRoundRobin(ts)
	}
}

// roundRobin is nginx's smooth weighted round-robin: over any window of sum(weights) picks,
// each target is chosen exactly weight times, interleaved rather than in runs.
//
// With byLatency (lowest-latency), a target's weight is divided by its moving-average
// latency, so traffic goes in proportion to weight ÷ latency: equal latencies split it by
// weight, and a target twice as slow gets half its share. A target not measured yet counts
// at the mean latency of those measured.
type roundRobin struct {
	mu        sync.Mutex
	ts        []*target
	current   []float64
	byLatency bool
}

func newRoundRobin(ts []*target) *roundRobin {
	return &roundRobin{ts: ts, current: make([]float64, len(ts))}
}

// minLatency keeps a measured latency of zero from taking all the traffic.
const minLatency = 1e-6 // seconds

func (r *roundRobin) pick(c *call) (*target, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	unmeasured := 1.0
	if r.byLatency {
		unmeasured = r.meanLatency()
	}
	best, total := -1, 0.0
	for i, t := range r.ts {
		if c.skip(t) {
			continue
		}
		w := float64(t.weight)
		if r.byLatency {
			lat, ok := t.latency.get()
			if !ok {
				lat = unmeasured
			}
			w /= max(lat, minLatency)
		}
		r.current[i] += w
		total += w
		if best < 0 || r.current[i] > r.current[best] {
			best = i
		}
	}
	if best < 0 {
		return nil, false
	}
	r.current[best] -= total
	return r.ts[best], true
}

// meanLatency is the mean latency of the targets measured, or 1 if none is.
func (r *roundRobin) meanLatency() float64 {
	sum, n := 0.0, 0
	for _, t := range r.ts {
		if lat, ok := t.latency.get(); ok {
			sum += lat
			n++
		}
	}
	if n == 0 {
		return 1
	}
	return sum / float64(n)
}

// priority groups targets by weight: the highest-weight group serves (round-robin within
// it), and the next group is used only for what the whole group above could not serve.
type priority struct {
	groups []*roundRobin
}

func newPriority(ts []*target) *priority {
	byWeight := map[int][]*target{}
	var weights []int
	for _, t := range ts {
		if _, ok := byWeight[t.weight]; !ok {
			weights = append(weights, t.weight)
		}
		byWeight[t.weight] = append(byWeight[t.weight], t)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(weights)))
	p := &priority{}
	for _, w := range weights {
		p.groups = append(p.groups, newRoundRobin(byWeight[w]))
	}
	return p
}

func (p *priority) pick(c *call) (*target, bool) {
	for _, g := range p.groups {
		if t, ok := g.pick(c); ok {
			return t, true
		}
	}
	return nil, false
}

// lowest picks the target with the lowest score per unit of weight. Ties, such as targets
// without measurements yet, go round-robin, so every target is measured.
type lowest struct {
	ts    []*target
	score func(t *target, now time.Time) float64
	next  atomic.Uint32
}

func (l *lowest) pick(c *call) (*target, bool) {
	var now time.Time
	if c != nil {
		now = c.now
	}
	n := len(l.ts)
	start := int(l.next.Add(1)) % n
	var best *target
	bestScore := math.Inf(1)
	for k := range n {
		t := l.ts[(start+k)%n]
		if c.skip(t) {
			continue
		}
		if s := l.score(t, now) / float64(t.weight); s < bestScore {
			best, bestScore = t, s
		}
	}
	return best, best != nil
}

// ring is consistent hashing over a fixed wheel of slots (Kong's balancer.slots): each slot
// belongs to the target with the highest weighted rendezvous score for it, and a request goes
// to the owner of the slot its HashOnHeader value hashes to. Removing a target re-homes only
// the slots it owned; the wheel is the same in every process, so replicas agree.
type ring struct {
	wheel  []*target
	ts     []*target
	keys   []uint64 // per target: the hash of its name
	header string
	rr     *roundRobin
}

func newRing(ts []*target, slots int, header string) *ring {
	r := &ring{ts: ts, keys: make([]uint64, len(ts)), wheel: make([]*target, slots), header: header, rr: newRoundRobin(ts)}
	for i, t := range ts {
		r.keys[i] = fnv64(t.name)
	}
	for s := range r.wheel {
		r.wheel[s] = r.best(uint64(s), nil)
	}
	return r
}

// best returns the target with the highest score for slot among those not skipped: the
// weighted rendezvous score −weight/ln(u), u uniform in (0,1) from the target and the slot.
func (r *ring) best(slot uint64, c *call) *target {
	var best *target
	bestScore := math.Inf(-1)
	for i, t := range r.ts {
		if c.skip(t) {
			continue
		}
		u := (float64(mix64(r.keys[i]^mix64(slot))>>11) + 0.5) / (1 << 53)
		if score := -float64(t.weight) / math.Log(u); score > bestScore {
			best, bestScore = t, score
		}
	}
	return best
}

func (r *ring) pick(c *call) (*target, bool) {
	key := c.req.Header.Get(r.header)
	if key == "" {
		return r.rr.pick(c)
	}
	slot := fnv64(key) % uint64(len(r.wheel))
	if t := r.wheel[slot]; !c.skip(t) {
		return t, true
	}
	t := r.best(slot, c) // the slot's next choice, the same in every process
	return t, t != nil
}

// fnv64 is 64-bit FNV-1a: stable across processes.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// mix64 is SplitMix64's finaliser, spreading bits of x over the whole word.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

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

// failure records a counted failure and opens the breaker when the count reaches max.
func (b *breaker) failure(now time.Time, max int, window time.Duration) {
	if max <= 0 {
		return
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
	}
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
