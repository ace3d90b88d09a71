package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/aiproxy/aiproxy/secret"
	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/require"
)

// devVault returns the address and root token of the dev Vault the tests run against.
// scripts/test.sh builds and starts it (scripts/services/vault.sh) and exports both.
func devVault(t testing.TB) (addr, token string) {
	t.Helper()
	addr, token = os.Getenv("VAULT_ADDR"), os.Getenv("VAULT_TOKEN")
	if addr == "" || token == "" {
		t.Fatal("VAULT_ADDR and VAULT_TOKEN are not set: these tests need a real Vault server. " +
			"Run ./scripts/test.sh (it builds, starts and configures a dev Vault), or " +
			"`. scripts/services.sh` in bash and then go test.")
	}
	return addr, token
}

// rootClient is a Vault client with the root token, for setting up secrets, policies and roles.
func rootClient(t testing.TB) *api.Client {
	t.Helper()
	addr, token := devVault(t)
	cfg := api.DefaultConfig()
	cfg.Address = addr
	c, err := api.NewClient(cfg)
	require.NoError(t, err)
	c.SetToken(token)
	return c
}

var nonAlnum = regexp.MustCompile(`[^A-Za-z0-9]+`)

// uniquePath is a fresh secret path per test and run, so runs against one server do not meet.
func uniquePath(t testing.TB) string {
	return "aiproxy-test/" + nonAlnum.ReplaceAllString(t.Name(), "-") + "-" + randHex(4)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// secretValue is a fresh value that looks like an API key.
func secretValue() string { return "sk-test-" + randHex(12) }

func putV2(t testing.TB, path string, data map[string]any) {
	t.Helper()
	_, err := rootClient(t).KVv2("secret").Put(context.Background(), path, data)
	require.NoError(t, err)
}

func putV1(t testing.TB, path string, data map[string]any) {
	t.Helper()
	require.NoError(t, rootClient(t).KVv1("kv1").Put(context.Background(), path, data))
}

func ref(t testing.TB, s string) secret.Ref {
	t.Helper()
	r, err := secret.ParseRef(s)
	require.NoError(t, err)
	return r
}

// newResolver builds a resolver with the root token and KV v2 at secret/, then applies edit.
func newResolver(t testing.TB, edit func(*Config)) *Resolver {
	t.Helper()
	addr, token := devVault(t)
	cfg := Config{Address: addr, Token: secret.Secret(token), Mount: "secret", KV: "v2", MaxRetries: -1}
	if edit != nil {
		edit(&cfg)
	}
	r, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Close()) })
	return r
}

// fakeClock is a Clock that moves only when the test advances it.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// tcpProxy forwards TCP connections to Vault until Close, after which its port refuses
// connections: Vault, as the resolver sees it, is down.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
	wg     sync.WaitGroup
}

func newTCPProxy(t testing.TB, vaultAddr string) *tcpProxy {
	t.Helper()
	u, err := url.Parse(vaultAddr)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &tcpProxy{ln: ln, target: u.Host}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.Close)
	return p
}

func (p *tcpProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *tcpProxy) serve() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			in.Close()
			out.Close()
			return
		}
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); _, _ = io.Copy(out, in); out.Close() }()
		go func() { defer p.wg.Done(); _, _ = io.Copy(in, out); in.Close() }()
	}
}

func (p *tcpProxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// logBuffer is a concurrency-safe buffer for a slog handler.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

var httpClientZero http.Client
