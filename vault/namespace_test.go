package vault

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aiproxy/aiproxy/secret"
	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// namespaceRecorder is an http.Client for the resolver that forwards to the real Vault and
// notes the X-Vault-Namespace header of every request, by path. (Vault OSS, the dev server,
// accepts the header and ignores it.)
type namespaceRecorder struct {
	mu     sync.Mutex
	byPath map[string][]string
}

func newNamespaceRecorder() (*namespaceRecorder, *http.Client) {
	rec := &namespaceRecorder{byPath: map[string][]string{}}
	return rec, &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		rec.mu.Lock()
		rec.byPath[req.URL.Path] = append(rec.byPath[req.URL.Path], req.Header.Get(api.NamespaceHeaderName))
		rec.mu.Unlock()
		return http.DefaultTransport.RoundTrip(req)
	})}
}

// namespaces returns the namespace headers seen for path.
func (rec *namespaceRecorder) namespaces(path string) []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.byPath[path]...)
}

// paths returns every path requested, with the namespace headers seen for it.
func (rec *namespaceRecorder) paths() map[string][]string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := make(map[string][]string, len(rec.byPath))
	for p, ns := range rec.byPath {
		out[p] = append([]string(nil), ns...)
	}
	return out
}

// Every request made for a namespaced vault carries its namespace: the AppRole login, the
// reads, the lifetime watcher's renew-self and the lookup-self that tells an expired token
// from a policy's 403. A reference's ?namespace= applies to its read.
func TestNamespaceOnEveryRequest(t *testing.T) {
	path := uniquePath(t)
	key := secretValue()
	putV2(t, path, map[string]any{"key": key})
	// The watcher renews at once, then not for ~40 min: no renewal meets the revocation below.
	_, roleID, secretID := approle(t, path, "1h", "2h")
	rec, client := newNamespaceRecorder()
	r := newResolver(t, func(c *Config) {
		c.Token = ""
		c.AuthMethod = "approle"
		c.ApproleRoleID = roleID
		c.ApproleSecretID = secret.Secret(secretID)
		c.Namespace = "/team-a/"
		c.HTTPClient = client
	})
	ctx := context.Background()
	base := "{vault://hashicorp-vault/" + path + "/key"

	got, err := r.Resolve(ctx, ref(t, base+"}"))
	require.NoError(t, err)
	require.Equal(t, key, got)

	// The lifetime watcher renews the token.
	require.Eventually(t, func() bool { return len(rec.namespaces("/v1/auth/token/renew-self")) > 0 },
		5*time.Second, 20*time.Millisecond)

	// A revoked token: the read gets a 403, lookup-self finds the token dead, the resolver logs in again.
	require.NoError(t, rootClient(t).Auth().Token().RevokeOrphanWithContext(ctx, r.client.Token()))
	got, err = r.Resolve(ctx, ref(t, base+"?ttl=5}"))
	require.NoError(t, err)
	require.Equal(t, key, got)
	require.Equal(t, 2, r.Logins())

	// A reference's namespace overrides the vault's for its read.
	got, err = r.Resolve(ctx, ref(t, base+"?namespace=team-b}"))
	require.NoError(t, err)
	require.Equal(t, key, got)

	seen := rec.paths()
	for _, p := range []string{"/v1/auth/approle/login", "/v1/secret/data/" + path,
		"/v1/auth/token/renew-self", "/v1/auth/token/lookup-self"} {
		assert.NotEmpty(t, seen[p], "no request to %s", p)
	}
	var reads []string
	for p, nss := range seen {
		if p == "/v1/secret/data/"+path {
			reads = nss
			continue
		}
		for _, ns := range nss {
			assert.Equal(t, "team-a", ns, "namespace of %s", p)
		}
	}
	assert.Equal(t, []string{"team-a", "team-a", "team-a", "team-b"}, reads,
		"the read, the 403, the read after the login, the read with ?namespace=team-b")

	// The token method checks its token (lookup-self) in the namespace too.
	rec, client = newNamespaceRecorder()
	rt := newResolver(t, func(c *Config) { c.Namespace = "team-a"; c.HTTPClient = client })
	_, err = rt.Resolve(ctx, ref(t, base+"}"))
	require.NoError(t, err)
	for p, nss := range rec.paths() {
		for _, ns := range nss {
			assert.Equal(t, "team-a", ns, "namespace of %s", p)
		}
	}
	assert.NotEmpty(t, rec.namespaces("/v1/auth/token/lookup-self"))
}
