package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiproxy/aiproxy/secret"
	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKVv2(t *testing.T) {
	path := uniquePath(t)
	key, other := secretValue(), secretValue()
	putV2(t, path, map[string]any{"key": key, "other": other})
	r := newResolver(t, nil)
	ctx := context.Background()

	got, err := r.Resolve(ctx, ref(t, "{vault://hashicorp-vault/"+path+"/key}"))
	require.NoError(t, err)
	assert.Equal(t, key, got)

	// Without a key, the last segment of the reference is the secret's path and the whole
	// secret is returned as JSON (Kong's rule: the last segment is the key when there is more
	// than one, so a whole secret must sit at the top of the mount).
	top := nonAlnum.ReplaceAllString(path, "-")
	putV2(t, top, map[string]any{"key": key, "other": other})
	whole, err := r.Resolve(ctx, ref(t, "{vault://hashicorp-vault/"+top+"}"))
	require.NoError(t, err)
	assert.JSONEq(t, fmt.Sprintf(`{"key":%q,"other":%q}`, key, other), whole)

	for _, bad := range []string{
		"{vault://hashicorp-vault/" + path + "/nokey}",
		"{vault://hashicorp-vault/" + path + "-missing/key}",
		"{vault://hashicorp-vault/" + path + "/key#7}",
	} {
		_, err := r.Resolve(ctx, ref(t, bad))
		require.Error(t, err, bad)
		assert.ErrorIs(t, err, secret.ErrNotFound, bad)
		var se *secret.Error
		require.ErrorAs(t, err, &se)
		assert.Contains(t, err.Error(), bad, "the error names the reference")
		assert.NotContains(t, err.Error(), key)
	}
}

func TestKVv1(t *testing.T) {
	path := uniquePath(t)
	key := secretValue()
	putV1(t, path, map[string]any{"key": key})
	r := newResolver(t, func(c *Config) { c.Mount = "/kv1/"; c.KV = "v1" })
	ctx := context.Background()

	got, err := r.Resolve(ctx, ref(t, "{vault://hashicorp-vault/"+path+"/key}"))
	require.NoError(t, err)
	assert.Equal(t, key, got)

	_, err = r.Resolve(ctx, ref(t, "{vault://hashicorp-vault/"+path+"-missing/key}"))
	assert.ErrorIs(t, err, secret.ErrNotFound)

	_, err = r.Resolve(ctx, ref(t, "{vault://hashicorp-vault/"+path+"/key#1}"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "KV v2")

	// A reference can override the mount and KV version of its vault.
	v2path := uniquePath(t)
	v2key := secretValue()
	putV2(t, v2path, map[string]any{"key": v2key})
	got, err = r.Resolve(ctx, ref(t, "{vault://hashicorp-vault/"+v2path+"/key?mount=secret&kv=v2}"))
	require.NoError(t, err)
	assert.Equal(t, v2key, got)
}

func TestVersion(t *testing.T) {
	path := uniquePath(t)
	first, second := secretValue(), secretValue()
	putV2(t, path, map[string]any{"key": first})
	putV2(t, path, map[string]any{"key": second})
	r := newResolver(t, nil)
	ctx := context.Background()

	got, err := r.Resolve(ctx, ref(t, "{vault://hashicorp-vault/"+path+"/key#1}"))
	require.NoError(t, err)
	assert.Equal(t, first, got)
	got, err = r.Resolve(ctx, ref(t, "{vault://hashicorp-vault/"+path+"/key#2}"))
	require.NoError(t, err)
	assert.Equal(t, second, got)
	got, err = r.Resolve(ctx, ref(t, "{vault://hashicorp-vault/"+path+"/key}"))
	require.NoError(t, err)
	assert.Equal(t, second, got)

	// A deleted version is not found.
	require.NoError(t, rootClient(t).KVv2("secret").DeleteVersions(ctx, path, []int{1}))
	_, err = r.Resolve(ctx, ref(t, "{vault://hashicorp-vault/"+path+"/key?ttl=1#1}"))
	assert.ErrorIs(t, err, secret.ErrNotFound)
}

// A key rotated in Vault reaches the resolver within the rotation interval, without a restart.
func TestRotation(t *testing.T) {
	path := uniquePath(t)
	old, rotated := secretValue(), secretValue()
	putV2(t, path, map[string]any{"key": old})
	const interval = 200 * time.Millisecond
	r := newResolver(t, func(c *Config) { c.RotationInterval = interval })
	ctx := context.Background()
	sref := ref(t, "{vault://hashicorp-vault/"+path+"/key}")

	got, err := r.Resolve(ctx, sref)
	require.NoError(t, err)
	require.Equal(t, old, got)

	putV2(t, path, map[string]any{"key": rotated})
	start := time.Now()
	require.Eventually(t, func() bool {
		v, err := r.Resolve(ctx, sref)
		return err == nil && v == rotated
	}, 10*interval, 10*time.Millisecond)
	// within one interval, plus scheduling slack
	assert.Less(t, time.Since(start), 3*interval)
}

// The rotation goroutine re-reads values before their TTL ends; driven by the fake clock.
func TestRotationFakeClock(t *testing.T) {
	path := uniquePath(t)
	old, rotated := secretValue(), secretValue()
	putV2(t, path, map[string]any{"key": old})
	clock := newFakeClock()
	r := newResolver(t, func(c *Config) { c.Clock = clock; c.TTL = 300 })
	ctx := context.Background()
	sref := ref(t, "{vault://hashicorp-vault/"+path+"/key}")

	got, err := r.Resolve(ctx, sref)
	require.NoError(t, err)
	require.Equal(t, old, got)
	putV2(t, path, map[string]any{"key": rotated})

	// 60 s later the TTL (300 s) is far away: the value is not re-read.
	clock.Advance(60 * time.Second)
	time.Sleep(50 * time.Millisecond)
	got, err = r.Resolve(ctx, sref)
	require.NoError(t, err)
	assert.Equal(t, old, got)

	// At 240 s the TTL ends before the next round (300 s): the round re-reads it.
	require.Eventually(t, func() bool {
		clock.Advance(60 * time.Second)
		v, err := r.Resolve(ctx, sref)
		return err == nil && v == rotated
	}, 5*time.Second, 20*time.Millisecond)
}

// While Vault is unreachable, the last good value is served for resurrect_ttl after its TTL,
// however long the TTL.
func TestResurrect(t *testing.T) {
	addr, _ := devVault(t)
	path := uniquePath(t)
	key := secretValue()
	putV2(t, path, map[string]any{"key": key})
	proxy := newTCPProxy(t, addr)
	clock := newFakeClock()
	var logs logBuffer
	resurrect := Seconds(120)
	r := newResolver(t, func(c *Config) {
		c.Address = proxy.URL()
		c.Clock = clock
		c.TTL = 60
		c.ResurrectTTL = &resurrect
		c.RotationInterval = -1
		c.Timeout = 2 * time.Second
		c.Logger = debugLogger(&logs)
	})
	ctx := context.Background()
	sref := ref(t, "{vault://hashicorp-vault/"+path+"/key}")
	// 9e9 s is just under the largest Duration (~9.2e9 s); 1e9 s more passes it: the sum is
	// capped, not overflowed into a negative lifetime that would forget the value.
	huge := ref(t, "{vault://hashicorp-vault/"+path+"/key?ttl=9e9&resurrect_ttl=1e9}")
	for _, sr := range []secret.Ref{sref, huge} {
		got, err := r.Resolve(ctx, sr)
		require.NoError(t, err)
		require.Equal(t, key, got)
	}

	proxy.Close() // Vault is down

	clock.Advance(61 * time.Second) // past ttl: the re-read fails, the old value is resurrected
	for range 3 {
		got, err := r.Resolve(ctx, sref)
		require.NoError(t, err)
		assert.Equal(t, key, got)
	}
	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), "serving the last good value")
	}, 5*time.Second, 10*time.Millisecond)

	clock.Advance(120 * time.Second) // 181 s > ttl + resurrect_ttl
	_, err := r.Resolve(ctx, sref)
	require.Error(t, err)
	assert.Contains(t, err.Error(), sref.String())
	assert.NotContains(t, err.Error(), key)
	assert.NotContains(t, logs.String(), key)

	// A value never read cannot be resurrected.
	_, err = r.Resolve(ctx, ref(t, "{vault://hashicorp-vault/"+path+"/other}"))
	require.Error(t, err)

	clock.Advance(9e9 * time.Second) // past the huge ttl, within its resurrect_ttl
	got, err := r.Resolve(ctx, huge)
	require.NoError(t, err)
	assert.Equal(t, key, got)
}

// While Vault cannot be read and neg_ttl is 0, requests for a stale value are answered from
// the cache with at most one background re-read in flight, and after a failed re-read the next
// waits for the rotation interval (60 s when rotation is off): Vault and the log are not
// hammered once per request.
func TestStaleRereadBackoff(t *testing.T) {
	path := uniquePath(t)
	key := secretValue()
	putV2(t, path, map[string]any{"key": key})
	var down atomic.Bool
	var failed atomic.Int32
	client := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if down.Load() && strings.Contains(req.URL.Path, "/secret/data/") {
			failed.Add(1)
			return nil, errors.New("dial tcp: connection refused")
		}
		return http.DefaultTransport.RoundTrip(req)
	})}
	clock := newFakeClock()
	var logs logBuffer
	r := newResolver(t, func(c *Config) {
		c.HTTPClient = client
		c.Clock = clock
		c.TTL = 10
		c.RotationInterval = -1
		c.Logger = debugLogger(&logs)
	})
	ctx := context.Background()
	sref := ref(t, "{vault://hashicorp-vault/"+path+"/key}")
	idle := func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return !r.cache[sref.String()].refreshing
	}
	resolve := func(n int) {
		t.Helper()
		for range n {
			got, err := r.Resolve(ctx, sref)
			require.NoError(t, err)
			require.Equal(t, key, got)
			require.Eventually(t, idle, 5*time.Second, time.Millisecond)
		}
	}
	resolve(1)

	down.Store(true)
	clock.Advance(11 * time.Second) // stale
	resolve(20)
	assert.EqualValues(t, 1, failed.Load(), "one re-read for twenty requests")
	clock.Advance(59 * time.Second)
	resolve(5)
	assert.EqualValues(t, 1, failed.Load(), "no re-read within 60 s of the failed one")
	clock.Advance(2 * time.Second)
	resolve(1)
	assert.EqualValues(t, 2, failed.Load(), "re-read after 60 s")
	assert.Equal(t, 2, strings.Count(logs.String(), "serving the last good value"))

	// Vault is back: the next re-read succeeds and clears the failure.
	down.Store(false)
	rotated := secretValue()
	putV2(t, path, map[string]any{"key": rotated})
	clock.Advance(61 * time.Second)
	_, err := r.Resolve(ctx, sref)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		v, err := r.Resolve(ctx, sref)
		return err == nil && v == rotated
	}, 5*time.Second, 10*time.Millisecond)
}

// A failed lookup is cached for neg_ttl: Vault is not asked again until it passes.
func TestNegativeCache(t *testing.T) {
	path := uniquePath(t)
	clock := newFakeClock()
	var gets atomic.Int32
	client := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/secret/data/") {
			gets.Add(1)
		}
		return http.DefaultTransport.RoundTrip(req)
	})}
	r := newResolver(t, func(c *Config) {
		c.Clock = clock
		c.NegTTL = 30
		c.RotationInterval = -1
		c.HTTPClient = client
	})
	ctx := context.Background()
	sref := ref(t, "{vault://hashicorp-vault/"+path+"/key}")

	_, err := r.Resolve(ctx, sref)
	require.ErrorIs(t, err, secret.ErrNotFound)
	require.EqualValues(t, 1, gets.Load())

	key := secretValue()
	putV2(t, path, map[string]any{"key": key})
	clock.Advance(29 * time.Second)
	_, err = r.Resolve(ctx, sref)
	require.ErrorIs(t, err, secret.ErrNotFound, "still negatively cached")
	require.EqualValues(t, 1, gets.Load(), "Vault was not asked again")

	clock.Advance(2 * time.Second)
	got, err := r.Resolve(ctx, sref)
	require.NoError(t, err)
	assert.Equal(t, key, got)
	assert.EqualValues(t, 2, gets.Load())

	// Per-reference override: ?neg_ttl=0 disables negative caching for that reference.
	missing := ref(t, "{vault://hashicorp-vault/"+path+"-missing/key?neg_ttl=0}")
	for range 2 {
		_, err = r.Resolve(ctx, missing)
		require.ErrorIs(t, err, secret.ErrNotFound)
	}
	assert.EqualValues(t, 4, gets.Load())
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A burst of requests for one reference reaches Vault once.
func TestSingleflight(t *testing.T) {
	path := uniquePath(t)
	key := secretValue()
	putV2(t, path, map[string]any{"key": key})
	var gets atomic.Int32
	client := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if strings.Contains(req.URL.Path, "/secret/data/") {
			gets.Add(1)
			time.Sleep(100 * time.Millisecond) // keep the read in flight while the burst arrives
		}
		return http.DefaultTransport.RoundTrip(req)
	})}
	r := newResolver(t, func(c *Config) { c.HTTPClient = client })
	sref := ref(t, "{vault://hashicorp-vault/"+path+"/key}")

	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			v, err := r.Resolve(context.Background(), sref)
			if err == nil && v != key {
				err = errors.New("wrong value")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, gets.Load())
}

func TestValidate(t *testing.T) {
	path := uniquePath(t)
	putV2(t, path, map[string]any{"key": secretValue()})
	r := newResolver(t, nil)
	good := ref(t, "{vault://hashicorp-vault/"+path+"/key}")
	badKey := ref(t, "{vault://hashicorp-vault/"+path+"/nope}")
	badPath := ref(t, "{vault://hashicorp-vault/"+path+"-gone/key}")

	require.NoError(t, r.Validate(context.Background(), good))
	err := r.Validate(context.Background(), good, badKey, badPath)
	require.Error(t, err)
	assert.ErrorIs(t, err, secret.ErrNotFound)
	assert.Contains(t, err.Error(), badKey.String())
	assert.Contains(t, err.Error(), badPath.String())
	assert.NotContains(t, err.Error(), good.String())
	assert.Len(t, err.(interface{ Unwrap() []error }).Unwrap(), 2)
}

// approle sets up an AppRole that may read secret/<path>, and returns its role_id and a
// secret_id.
func approle(t *testing.T, path string, tokenTTL, tokenMaxTTL string) (name, roleID, secretID string) {
	t.Helper()
	ctx := context.Background()
	c := rootClient(t)
	name = nonAlnum.ReplaceAllString(t.Name(), "-") + "-" + randHex(3)
	policy := fmt.Sprintf(`path "secret/data/%s*" { capabilities = ["read"] }`, path)
	require.NoError(t, c.Sys().PutPolicyWithContext(ctx, name, policy))
	_, err := c.Logical().WriteWithContext(ctx, "auth/approle/role/"+name, map[string]any{
		"token_policies": []string{name},
		"token_ttl":      tokenTTL,
		"token_max_ttl":  tokenMaxTTL,
	})
	require.NoError(t, err)
	s, err := c.Logical().ReadWithContext(ctx, "auth/approle/role/"+name+"/role-id")
	require.NoError(t, err)
	roleID = s.Data["role_id"].(string)
	s, err = c.Logical().WriteWithContext(ctx, "auth/approle/role/"+name+"/secret-id", nil)
	require.NoError(t, err)
	secretID = s.Data["secret_id"].(string)
	t.Cleanup(func() {
		_, _ = c.Logical().Delete("auth/approle/role/" + name)
		_ = c.Sys().DeletePolicy(name)
	})
	return name, roleID, secretID
}

func TestAppRole(t *testing.T) {
	path := uniquePath(t)
	key := secretValue()
	putV2(t, path, map[string]any{"key": key})
	roleName, roleID, secretID := approle(t, path, "1h", "2h")
	file := filepath.Join(t.TempDir(), "secret-id")
	require.NoError(t, os.WriteFile(file, []byte(secretID+"\n"), 0o600))
	ctx := context.Background()
	sref := ref(t, "{vault://hashicorp-vault/"+path+"/key}")

	t.Run("secret_id_file", func(t *testing.T) {
		r := newResolver(t, func(c *Config) {
			c.Token = ""
			c.AuthMethod = "approle"
			c.ApproleRoleID = roleID
			c.ApproleSecretIDFile = file
		})
		got, err := r.Resolve(ctx, sref)
		require.NoError(t, err)
		assert.Equal(t, key, got)
		assert.Equal(t, 1, r.Logins())

		// Revoke the resolver's token (only it: other runs share the server): the next read
		// gets a 403 and logs in again.
		require.NoError(t, rootClient(t).Auth().Token().RevokeOrphanWithContext(ctx, r.client.Token()))
		got, err = r.Resolve(ctx, ref(t, "{vault://hashicorp-vault/"+path+"/key?ttl=5}"))
		require.NoError(t, err)
		assert.Equal(t, key, got)
		assert.Equal(t, 2, r.Logins())

		// The role may not read other paths.
		other := uniquePath(t)
		putV2(t, other, map[string]any{"key": secretValue()})
		_, err = r.Resolve(ctx, ref(t, "{vault://hashicorp-vault/"+other+"/key}"))
		assert.ErrorIs(t, err, ErrPermissionDenied)
		assert.Equal(t, 2, r.Logins(), "a policy's 403 does not cause a login")
	})

	t.Run("secret_id_from_env", func(t *testing.T) {
		t.Setenv("AIPROXY_TEST_APPROLE_SECRET_ID", secretID)
		r := newResolver(t, func(c *Config) {
			c.Token = ""
			c.AuthMethod = "approle"
			c.ApproleRoleID = roleID
			c.ApproleSecretID = "{vault://env/aiproxy-test-approle-secret-id}"
		})
		got, err := r.Resolve(ctx, sref)
		require.NoError(t, err)
		assert.Equal(t, key, got)
	})

	t.Run("response_wrapping", func(t *testing.T) {
		c := rootClient(t)
		c.SetWrappingLookupFunc(func(string, string) string { return "60s" })
		s, err := c.Logical().WriteWithContext(ctx, "auth/approle/role/"+roleName+"/secret-id", nil)
		require.NoError(t, err)
		require.NotNil(t, s.WrapInfo)
		r := newResolver(t, func(c *Config) {
			c.Token = ""
			c.AuthMethod = "approle"
			c.ApproleRoleID = roleID
			c.ApproleSecretID = secret.Secret(s.WrapInfo.Token)
			c.ApproleResponseWrapping = true
		})
		got, err := r.Resolve(ctx, sref)
		require.NoError(t, err)
		assert.Equal(t, key, got)
	})

	t.Run("bad_secret_id", func(t *testing.T) {
		r := newResolver(t, func(c *Config) {
			c.Token = ""
			c.AuthMethod = "approle"
			c.ApproleRoleID = roleID
			c.ApproleSecretID = "not-the-secret-id"
		})
		_, err := r.Resolve(ctx, sref)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "AppRole login")
		assert.NotContains(t, err.Error(), "not-the-secret-id")
	})
}

// A short-lived renewable token stays valid past its TTL because the lifetime watcher renews it.
func TestTokenRenewal(t *testing.T) {
	path := uniquePath(t)
	key := secretValue()
	putV2(t, path, map[string]any{"key": key})
	ctx := context.Background()
	root := rootClient(t)
	policy := "renew-" + randHex(3)
	require.NoError(t, root.Sys().PutPolicy(policy, fmt.Sprintf(`path "secret/data/%s*" { capabilities = ["read"] }`, path)))
	t.Cleanup(func() { _ = root.Sys().DeletePolicy(policy) })
	renewable := true
	tok, err := root.Auth().Token().Create(&api.TokenCreateRequest{
		Policies: []string{policy}, TTL: "3s", ExplicitMaxTTL: "1h", Renewable: &renewable,
	})
	require.NoError(t, err)
	var logs logBuffer
	r := newResolver(t, func(c *Config) {
		c.Token = secret.Secret(tok.Auth.ClientToken)
		c.Logger = debugLogger(&logs)
	})
	got, err := r.Resolve(ctx, ref(t, "{vault://hashicorp-vault/"+path+"/key}"))
	require.NoError(t, err)
	assert.Equal(t, key, got)

	time.Sleep(5 * time.Second) // past the 3 s TTL
	got, err = r.Resolve(ctx, ref(t, "{vault://hashicorp-vault/"+path+"/key?ttl=1}"))
	require.NoError(t, err, "the token was renewed")
	assert.Equal(t, key, got)
	assert.Contains(t, logs.String(), "token renewed")
	assert.NotContains(t, logs.String(), tok.Auth.ClientToken)
}

// An AppRole token that reaches its max TTL is replaced by a new login, without a failed request.
func TestReloginAtMaxTTL(t *testing.T) {
	path := uniquePath(t)
	key := secretValue()
	putV2(t, path, map[string]any{"key": key})
	_, roleID, secretID := approle(t, path, "2s", "3s")
	r := newResolver(t, func(c *Config) {
		c.Token = ""
		c.AuthMethod = "approle"
		c.ApproleRoleID = roleID
		c.ApproleSecretID = secret.Secret(secretID)
	})
	ctx := context.Background()
	_, err := r.Resolve(ctx, ref(t, "{vault://hashicorp-vault/"+path+"/key}"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return r.Logins() >= 2 }, 8*time.Second, 50*time.Millisecond)
	got, err := r.Resolve(ctx, ref(t, "{vault://hashicorp-vault/"+path+"/key?ttl=2}"))
	require.NoError(t, err)
	assert.Equal(t, key, got)
}

func TestClose(t *testing.T) {
	path := uniquePath(t)
	putV2(t, path, map[string]any{"key": secretValue()})
	r := newResolver(t, func(c *Config) { c.RotationInterval = 10 * time.Millisecond })
	sref := ref(t, "{vault://hashicorp-vault/"+path+"/key}")
	_, err := r.Resolve(context.Background(), sref)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	require.NoError(t, r.Close())
	_, err = r.Resolve(context.Background(), sref)
	assert.ErrorIs(t, err, ErrClosed)
}

// Close while many requests resolve, log in and start the token's watcher: with -race this
// checks that no goroutine is added to the resolver's WaitGroup while Close waits on it, and
// no request with a live context reaches Vault once Close has returned.
func TestCloseDuringResolve(t *testing.T) {
	path := uniquePath(t)
	putV2(t, path, map[string]any{"key": secretValue()})
	_, roleID, secretID := approle(t, path, "1h", "2h")
	addr, _ := devVault(t)
	var closed atomic.Bool
	var late atomic.Value // the path of a request sent after Close returned
	client := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if closed.Load() && req.Context().Err() == nil {
			late.Store(req.URL.Path)
		}
		return http.DefaultTransport.RoundTrip(req)
	})}
	for i := range 30 {
		closed.Store(false)
		r, err := New(Config{Address: addr, Mount: "secret", KV: "v2", MaxRetries: -1, HTTPClient: client,
			AuthMethod: "approle", ApproleRoleID: roleID, ApproleSecretID: secret.Secret(secretID),
			RotationInterval: time.Millisecond})
		require.NoError(t, err)
		var wg sync.WaitGroup
		for j := range 8 {
			sref := ref(t, fmt.Sprintf("{vault://hashicorp-vault/%s/key?ttl=%d}", path, j+1))
			wg.Go(func() {
				for {
					if _, err := r.Resolve(context.Background(), sref); errors.Is(err, ErrClosed) {
						return
					}
				}
			})
		}
		time.Sleep(time.Duration(i%10) * time.Millisecond) // before, during and after the login
		require.NoError(t, r.Close())
		closed.Store(true)
		wg.Wait()
	}
	time.Sleep(50 * time.Millisecond)
	assert.Nil(t, late.Load(), "a request reached Vault after Close returned")
}
