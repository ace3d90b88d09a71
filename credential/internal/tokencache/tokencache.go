// Package tokencache keeps one OAuth access token for the token clients of the providers
// (GCP service accounts, Azure Entra ID).
package tokencache

import (
	"context"
	"sync"
	"time"
)

// Fetch asks the token endpoint for a token, returning it and how long it lives.
type Fetch func(ctx context.Context, now time.Time) (token string, ttl time.Duration, err error)

// Cache holds a token until Early before it expires (half its life for a shorter-lived
// one). It is safe for concurrent use: concurrent callers share one fetch. When a renewal
// fails while the cached token is still valid, that token is returned.
type Cache struct {
	Now   func() time.Time // the clock; must be set
	Early time.Duration    // how long before its expiry a token is renewed

	mu      sync.Mutex
	token   string
	renew   time.Time // when the cached token is renewed
	expires time.Time
}

// Token returns the cached token, or a new one from fetch.
func (c *Cache) Token(ctx context.Context, fetch Fetch) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.Now()
	if c.token != "" && now.Before(c.renew) {
		return c.token, nil
	}
	tok, ttl, err := fetch(ctx, now)
	if err != nil {
		if c.token != "" && now.Before(c.expires) {
			return c.token, nil
		}
		return "", err
	}
	c.token, c.expires = tok, now.Add(ttl)
	c.renew = c.expires.Add(-min(c.Early, ttl/2))
	return tok, nil
}
