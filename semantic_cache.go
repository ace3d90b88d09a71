package aiproxy

import (
	"container/list"
	"context"
	"crypto/sha256"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sync/singleflight"
)

// embedCache keeps the embeddings of recent prompts (least recently used out first), keyed
// by the SHA-256 of the prompt so that a long prompt is not held as a key, and makes
// identical concurrent prompts embed once.
type embedCache struct {
	size int
	// timeout bounds an embedding, which runs detached from its callers' cancellation.
	timeout time.Duration
	embed   func(ctx context.Context, prompt string) ([]float32, error)
	group   singleflight.Group

	mu    sync.Mutex
	order *list.List // front: most recently used; values are *cacheEntry
	items map[cacheKey]*list.Element
}

type cacheKey [sha256.Size]byte

type cacheEntry struct {
	key cacheKey
	vec []float32
}

func newEmbedCache(size int, timeout time.Duration, embed func(ctx context.Context, prompt string) ([]float32, error)) *embedCache {
	return &embedCache{size: size, timeout: timeout, embed: embed, order: list.New(), items: map[cacheKey]*list.Element{}}
}

// get returns the cached vector of prompt, or computes it with c.embed, once for all
// concurrent callers. The embedding is detached from the callers' cancellation, so one
// client leaving does not fail the others waiting for the same prompt, and is bounded by
// c.timeout instead; a caller whose ctx ends gets ctx.Err() at once. Callers must not
// modify the vector.
func (c *embedCache) get(ctx context.Context, prompt string) ([]float32, error) {
	// The prompt's bytes are read in place: a copy would allocate for every prompt over 32 bytes.
	key := cacheKey(sha256.Sum256(unsafe.Slice(unsafe.StringData(prompt), len(prompt))))
	if vec, ok := c.lookup(key); ok {
		return vec, nil
	}
	return c.fill(ctx, key, prompt) // apart, so that a hit allocates nothing
}

func (c *embedCache) fill(ctx context.Context, key cacheKey, prompt string) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch := c.group.DoChan(string(key[:]), func() (any, error) {
		if vec, ok := c.lookup(key); ok { // a flight that ended since get's lookup
			return vec, nil
		}
		ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
		defer cancel()
		vec, err := c.embed(ectx, prompt)
		if err != nil {
			return nil, err
		}
		c.add(key, vec)
		return vec, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.([]float32), nil
	}
}

func (c *embedCache) lookup(key cacheKey) ([]float32, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheEntry).vec, true
}

func (c *embedCache) add(key cacheKey, vec []float32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&cacheEntry{key: key, vec: vec})
	if c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
}
