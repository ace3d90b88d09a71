package aiproxy

import (
	"container/list"
	"context"
	"sync"

	"golang.org/x/sync/singleflight"
)

// embedCache keeps the embeddings of recent prompts (least recently used out first), and
// makes identical concurrent prompts embed once.
type embedCache struct {
	size  int
	group singleflight.Group

	mu    sync.Mutex
	order *list.List // front: most recently used; values are *cacheEntry
	items map[string]*list.Element
}

type cacheEntry struct {
	key string
	vec []float32
}

func newEmbedCache(size int) *embedCache {
	return &embedCache{size: size, order: list.New(), items: map[string]*list.Element{}}
}

// get returns the cached vector of key, or computes it with embed, once for all concurrent
// callers. Callers must not modify the vector.
func (c *embedCache) get(ctx context.Context, key string, embed func(context.Context) ([]float32, error)) ([]float32, error) {
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		vec := el.Value.(*cacheEntry).vec
		c.mu.Unlock()
		return vec, nil
	}
	c.mu.Unlock()
	v, err, _ := c.group.Do(key, func() (any, error) {
		// Detached from the first caller's cancellation, so one client leaving does not fail
		// the others waiting for the same prompt.
		vec, err := embed(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		c.add(key, vec)
		return vec, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]float32), nil
}

func (c *embedCache) add(key string, vec []float32) {
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
