package tokencache

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCache(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := &Cache{Now: func() time.Time { return now }, Early: 5 * time.Minute}
	fetches, ttl, fail := 0, time.Hour, false
	fetch := func(context.Context, time.Time) (string, time.Duration, error) {
		if fail {
			return "", 0, errors.New("endpoint down")
		}
		fetches++
		return "tok" + string(rune('0'+fetches)), ttl, nil
	}
	get := func() (string, error) { return c.Token(context.Background(), fetch) }

	tok, err := get()
	require.NoError(t, err)
	assert.Equal(t, "tok1", tok)
	now = now.Add(54 * time.Minute) // 6 min before expiry: cached
	tok, _ = get()
	assert.Equal(t, "tok1", tok)
	now = now.Add(2 * time.Minute) // 4 min before expiry: renewed
	tok, _ = get()
	assert.Equal(t, "tok2", tok)

	// A renewal that fails keeps the token while it is valid, then fails.
	now = now.Add(57 * time.Minute)
	fail = true
	tok, err = get()
	require.NoError(t, err)
	assert.Equal(t, "tok2", tok)
	now = now.Add(4 * time.Minute)
	_, err = get()
	assert.EqualError(t, err, "endpoint down")

	// A short-lived token is renewed at half its life, not 5 min before it expires.
	fail, ttl = false, 2*time.Minute
	tok, _ = get()
	assert.Equal(t, "tok3", tok)
	now = now.Add(59 * time.Second)
	tok, _ = get()
	assert.Equal(t, "tok3", tok)
	now = now.Add(2 * time.Second)
	tok, _ = get()
	assert.Equal(t, "tok4", tok)
}
