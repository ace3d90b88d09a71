package aiproxy

import (
	"math"
	"math/rand/v2"
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
		return &lowest{ts: ts, score: func(t *target, now time.Time) float64 { return t.recentUsage(now) }}
	case LeastConnections:
		return &lowest{ts: ts, score: func(t *target, _ time.Time) float64 { return float64(t.load() + 1) }}
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

// newRoundRobin starts at the beginning of the schedule, or, in a fleet, at a random point
// of it: each replica's first picks then follow the weights across the fleet, where they
// would all go to the heaviest target first.
func newRoundRobin(ts []*target) *roundRobin {
	r := &roundRobin{ts: ts, current: make([]float64, len(ts))}
	if len(ts) > 0 && ts[0].fleet != nil {
		period, g := 0, 0
		for _, t := range ts {
			period, g = period+t.weight, gcd(g, t.weight)
		}
		for range rand.IntN(period / g) {
			r.pick(nil)
		}
	}
	return r
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
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
			lat, ok := t.avgLatency()
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
		if lat, ok := t.avgLatency(); ok {
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
