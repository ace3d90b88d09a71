package aiproxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEmbedCacheLRU(t *testing.T) {
	var calls atomic.Int64
	c := newEmbedCache(2, time.Minute, func(_ context.Context, prompt string) ([]float32, error) {
		calls.Add(1)
		return []float32{float32(len(prompt))}, nil
	})
	ctx := context.Background()
	for _, step := range []struct {
		key   string
		calls int64
	}{{"a", 1}, {"b", 2}, {"a", 2}, {"c", 3}, {"a", 3}, {"b", 4}} { // c evicts b, the least recently used
		v, err := c.get(ctx, step.key)
		if err != nil || len(v) != 1 {
			t.Fatalf("get(%s) = %v, %v", step.key, v, err)
		}
		if got := calls.Load(); got != step.calls {
			t.Fatalf("after get(%s): %d embeddings, want %d", step.key, got, step.calls)
		}
	}
}

// Identical concurrent prompts embed once; a waiter whose context ends returns at once,
// while the shared embedding goes on for the others, detached from that context.
func TestEmbedCacheSingleflight(t *testing.T) {
	var calls atomic.Int64
	started, release := make(chan struct{}), make(chan struct{})
	c := newEmbedCache(16, time.Minute, func(ctx context.Context, _ string) ([]float32, error) {
		calls.Add(1)
		close(started)
		<-release
		return []float32{1}, ctx.Err()
	})
	leaving, cancel := context.WithCancel(context.Background())
	leftErr := make(chan error, 1)
	go func() { _, err := c.get(leaving, "same prompt"); leftErr <- err }()
	<-started
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() { _, errs[i] = c.get(context.Background(), "same prompt") })
	}
	cancel()
	select {
	case err := <-leftErr:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("a waiter whose context ended still waits for the embedding")
	}
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
	v, err := c.get(leaving, "same prompt") // cached: a cancelled context does not matter
	require.NoError(t, err)
	assert.Equal(t, []float32{1}, v)
}

// The detached embedding is bounded by the cache's timeout, so a hung embedder cannot keep
// it (and its goroutine) forever.
func TestEmbedCacheTimeout(t *testing.T) {
	c := newEmbedCache(16, 50*time.Millisecond, func(ctx context.Context, _ string) ([]float32, error) {
		<-ctx.Done() // hung until the timeout
		return nil, ctx.Err()
	})
	_, err := c.get(context.Background(), "prompt")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// Entries are keyed by the prompt's SHA-256: a 1 MB prompt is not held by the cache.
func TestEmbedCacheKeysAreDigests(t *testing.T) {
	c := newEmbedCache(16, time.Minute, func(context.Context, string) ([]float32, error) { return []float32{1}, nil })
	defer runtime.KeepAlive(c) // the cache stays reachable while the prompt is collected
	buf := bytes.Repeat([]byte("x"), 1<<20)
	want := cacheKey(sha256.Sum256(buf))
	collected := make(chan struct{})
	runtime.AddCleanup(&buf[0], func(struct{}) { close(collected) }, struct{}{})
	prompt := unsafe.String(&buf[0], len(buf)) // the cache sees the buffer itself, not a copy
	_, err := c.get(context.Background(), prompt)
	require.NoError(t, err)
	require.Len(t, c.items, 1)
	for k := range c.items {
		assert.Equal(t, want, k)
	}
	buf, prompt = nil, ""
	for range 100 {
		runtime.GC()
		select {
		case <-collected:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("the cache keeps the prompt's text")
}
