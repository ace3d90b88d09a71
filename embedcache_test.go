package aiproxy

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestEmbedCacheLRU(t *testing.T) {
	c := newEmbedCache(2)
	var calls atomic.Int64
	embed := func(v float32) func(context.Context) ([]float32, error) {
		return func(context.Context) ([]float32, error) { calls.Add(1); return []float32{v}, nil }
	}
	ctx := context.Background()
	for _, step := range []struct {
		key   string
		calls int64
	}{{"a", 1}, {"b", 2}, {"a", 2}, {"c", 3}, {"a", 3}, {"b", 4}} { // c evicts b, the least recently used
		v, err := c.get(ctx, step.key, embed(float32(len(step.key))))
		if err != nil || len(v) != 1 {
			t.Fatalf("get(%s) = %v, %v", step.key, v, err)
		}
		if got := calls.Load(); got != step.calls {
			t.Fatalf("after get(%s): %d embeddings, want %d", step.key, got, step.calls)
		}
	}
}

// Identical concurrent prompts embed once, and a caller that leaves does not fail the others.
func TestEmbedCacheSingleflight(t *testing.T) {
	c := newEmbedCache(16)
	var calls atomic.Int64
	release := make(chan struct{})
	embed := func(ctx context.Context) ([]float32, error) {
		calls.Add(1)
		<-release
		return []float32{1}, ctx.Err()
	}
	first, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		ctx := context.Background()
		if i == 0 {
			ctx = first
		}
		wg.Go(func() { _, errs[i] = c.get(ctx, "same prompt", embed) })
	}
	time.Sleep(50 * time.Millisecond) // let the callers join the flight
	cancel()
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("%d embeddings for one prompt, want 1", n)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
	}
}
