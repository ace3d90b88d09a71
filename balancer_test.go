package aiproxy

import (
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
)

func testTargets(weights ...int) []*target {
	ts := make([]*target, len(weights))
	for i, w := range weights {
		ts[i] = &target{name: fmt.Sprintf("t%d", i), weight: w}
	}
	return ts
}

func countPicks(t *testing.T, p picker, c *call, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		tg, ok := p.pick(c)
		require.True(t, ok)
		got[tg.name]++
	}
	return got
}

// TestWeightedDistribution: 10 000 picks of identical requests land within 2% of the
// weights, the measured algorithms fed through succeeded, as served requests feed them: each
// request 100 tokens and 200 ms, 1 ms apart.
func TestWeightedDistribution(t *testing.T) {
	c := &call{req: &http.Request{Header: http.Header{}}}
	weights := []int{70, 25, 5}
	for _, algo := range []string{RoundRobin, LeastConnections, LowestUsage, LowestLatency, ConsistentHashing} {
		t.Run(algo, func(t *testing.T) {
			ts := testTargets(weights...)
			p := newPicker(algo, ts, &BalancerConfig{Slots: 10000, HashOnHeader: "X-Key"})
			now := testNow
			px := &Proxy{now: func() time.Time { return now }}
			n := 10000
			got := map[string]int{}
			for i := range n {
				if algo == ConsistentHashing {
					c.req.Header.Set("X-Key", fmt.Sprintf("user-%d", i))
				}
				now = now.Add(time.Millisecond)
				c.now = now
				tg, ok := p.pick(c)
				require.True(t, ok)
				got[tg.name]++
				if algo == LeastConnections { // every request stays open
					tg.inflight.Add(1)
				}
				px.succeeded(tg, &Stats{}, provider.Usage{PromptTokens: 90, CompletionTokens: 10, TotalTokens: 100}, "", 200*time.Millisecond)
			}
			for i, w := range weights {
				share := float64(got[fmt.Sprintf("t%d", i)]) / float64(n)
				assert.InDelta(t, float64(w)/100, share, 0.02, "target %d of weight %d got %v", i, w, share)
			}
		})
	}
}

func TestRoundRobinIsSmooth(t *testing.T) {
	// nginx's smooth weighted round-robin with weights 5, 1, 1 gives a a b a c a a, not a a a a a b c.
	ts := testTargets(5, 1, 1)
	p := newRoundRobin(ts)
	var seq string
	for range 7 {
		tg, _ := p.pick(nil)
		seq += tg.name[1:]
	}
	assert.Equal(t, "0010200", seq)
}

func TestPriority(t *testing.T) {
	ts := testTargets(10, 10, 5, 1)
	p := newPriority(ts)
	got := countPicks(t, p, nil, 100)
	assert.Equal(t, map[string]int{"t0": 50, "t1": 50}, got, "only the highest group serves")

	tg, _ := p.pick(&call{tried: ts[:1]})
	assert.Equal(t, "t1", tg.name, "the group's other member before the next group")
	tg, _ = p.pick(&call{tried: ts[:2]})
	assert.Equal(t, "t2", tg.name, "the next group when the whole group failed")
	_, ok := p.pick(&call{tried: ts})
	assert.False(t, ok)
}

func TestLowestLatency(t *testing.T) {
	// Traffic goes in proportion to weight ÷ latency: the fastest first, and a target three
	// times as slow gets a third of its share.
	ts := testTargets(100, 100, 100)
	ts[0].latency.observe(0.5)
	ts[1].latency.observe(0.1)
	ts[2].latency.observe(0.3)
	p := newPicker(LowestLatency, ts, &BalancerConfig{})
	tg, _ := p.pick(nil)
	assert.Equal(t, "t1", tg.name)
	got := countPicks(t, p, nil, 2300-1)
	got["t1"]++
	assert.Equal(t, map[string]int{"t0": 300, "t1": 1500, "t2": 500}, got)

	// A target not measured yet counts at the mean of the others: here 0.2 s, as fast as
	// the measured one, so they split the traffic by weight.
	fresh := testTargets(100, 300)
	fresh[0].latency.observe(0.2)
	got = countPicks(t, newPicker(LowestLatency, fresh, &BalancerConfig{}), nil, 400)
	assert.Equal(t, map[string]int{"t0": 100, "t1": 300}, got)
}

func TestLowestUsage(t *testing.T) {
	ts := testTargets(100, 100)
	ts[0].usage.add(500, testNow)
	p := newPicker(LowestUsage, ts, &BalancerConfig{})
	tg, _ := p.pick(&call{now: testNow})
	assert.Equal(t, "t1", tg.name, "an unmeasured target is tried")

	// Usage decays with a 10 s time constant: 500 tokens a minute ago weigh less than 100 now.
	later := testNow.Add(time.Minute)
	ts[1].usage.add(100, later)
	tg, _ = p.pick(&call{now: later})
	assert.Equal(t, "t0", tg.name)
	assert.InDelta(t, 500*math.Exp(-6), ts[0].usage.value(later), 1e-9)

	// Usage is per weight.
	ws := testTargets(100, 300)
	ws[0].usage.add(100, testNow)
	ws[1].usage.add(250, testNow)
	tg, _ = newPicker(LowestUsage, ws, &BalancerConfig{}).pick(&call{now: testNow})
	assert.Equal(t, "t1", tg.name)
}

func TestLeastConnections(t *testing.T) {
	ts := testTargets(100, 100, 100)
	ts[1].inflight.Add(3)
	tg, _ := newPicker(LeastConnections, ts, &BalancerConfig{}).pick(&call{tried: ts[:1]})
	assert.Equal(t, "t2", tg.name)
}

func TestConsistentHashingStability(t *testing.T) {
	const keys = 20000
	c := &call{req: &http.Request{Header: http.Header{}}}
	assign := func(ts []*target) map[string]string {
		p := newRing(ts, 10000, "X-Session")
		out := map[string]string{}
		for i := range keys {
			k := fmt.Sprintf("session-%d", i)
			c.req.Header.Set("X-Session", k)
			tg, ok := p.pick(c)
			require.True(t, ok)
			out[k] = tg.name
		}
		return out
	}
	all := testTargets(100, 100, 100, 100, 100)
	before := assign(all)
	again := assign(testTargets(100, 100, 100, 100, 100))
	assert.Equal(t, before, again, "the ring is the same in every process")

	after := assign(append(all[:2:2], all[3:]...)) // remove t2
	moved := 0
	for k, was := range before {
		if after[k] != was {
			moved++
			assert.Equal(t, "t2", was, "only keys of the removed target move")
		}
	}
	assert.InDelta(t, 1.0/5, float64(moved)/keys, 0.03, "about 1/N of the keys move")

	// Skipping the owner (a failed attempt) moves on along the ring, deterministically.
	c.req.Header.Set("X-Session", "session-1")
	p := newRing(all, 10000, "X-Session")
	first, _ := p.pick(c)
	c.tried = []*target{first}
	second, _ := p.pick(c)
	assert.NotEqual(t, first, second)
}

func TestBreaker(t *testing.T) {
	var b breaker
	now := testNow
	b.failure(now, 3, 10e9)
	b.failure(now.Add(1e9), 3, 10e9)
	assert.False(t, b.open(now.Add(2e9)))
	b.success()
	b.failure(now.Add(2e9), 3, 10e9)
	b.failure(now.Add(3e9), 3, 10e9)
	assert.False(t, b.open(now.Add(3e9)), "success reset the count")
	b.failure(now.Add(4e9), 3, 10e9)
	assert.True(t, b.open(now.Add(5e9)))
	assert.False(t, b.open(now.Add(15e9)))
	b.failure(now.Add(20e9), 0, 10e9)
	assert.False(t, b.open(now.Add(20e9)), "max_fails 0 disables the breaker")
}

var testNow = time.Unix(1_700_000_000, 0)
