// Package vault resolves aiproxy secret references, such as
// "{vault://hashicorp-vault/openai/key}", from HashiCorp Vault's KV secrets engine (v1 or v2)
// through github.com/hashicorp/vault/api.
//
// A Resolver is configured like Kong's HashiCorp Vault entity (see Config), authenticates with a
// token, AppRole or Kubernetes, renews its token with the API's lifetime watcher and logs in
// again when the token expires or Vault answers 403. It caches like Kong: values live for ttl,
// failures for neg_ttl, and the last good value is served for resurrect_ttl more while Vault
// cannot be read; a background goroutine re-reads values before they expire, so a key rotated
// in Vault is used within the rotation interval, and concurrent requests for one reference
// reach Vault once.
//
// In a reference {vault://<prefix>/<resource>/<key>#<version>}, the resource is the secret's
// path under the mount, the key selects one field of the secret (without a key the whole
// secret is returned as a JSON object) and the version selects a KV v2 version.
package vault

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aiproxy/aiproxy/secret"
	"github.com/hashicorp/vault/api"
	"golang.org/x/sync/singleflight"
)

// ErrPermissionDenied is wrapped by errors for which Vault answered 403.
var ErrPermissionDenied = errors.New("vault: permission denied")

// ErrClosed is returned by a Resolver after Close.
var ErrClosed = errors.New("vault: resolver is closed")

// Resolver is an secret.Resolver backed by HashiCorp Vault. It is safe for concurrent
// use. Close stops its background goroutines.
type Resolver struct {
	cfg    Config
	set    settings
	client *api.Client
	clock  Clock
	log    *slog.Logger

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	sf     singleflight.Group
	mu     sync.Mutex
	cache  map[string]*entry
	closed bool // set under mu by Close; no goroutine starts after it

	auth authState
}

var (
	_ secret.Resolver            = (*Resolver)(nil)
	_ interface{ Close() error } = (*Resolver)(nil)
)

// entry is the cache state of one reference.
type entry struct {
	ref     secret.Ref
	opts    refOptions
	value   string
	has     bool      // value holds a good value
	fetched time.Time // when value was read
	err     error     // the last failure; nil after a success
	failed  time.Time
	// refreshing is set while a background re-read of a stale value runs.
	refreshing bool
}

// New validates cfg and returns a Resolver. It does no I/O: the first Resolve (or Validate)
// logs in. The rotation goroutine starts here; call Close to stop it.
func New(cfg Config) (*Resolver, error) {
	set, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	apiCfg := api.DefaultConfig() // reads VAULT_* variables; address, token and namespace are overridden below
	if apiCfg.Error != nil {
		return nil, fmt.Errorf("vault: %w", apiCfg.Error)
	}
	apiCfg.Address = set.address
	if cfg.HTTPClient != nil {
		apiCfg.HttpClient = cfg.HTTPClient
	}
	if cfg.Timeout > 0 {
		apiCfg.Timeout = cfg.Timeout
	}
	switch {
	case cfg.MaxRetries > 0:
		apiCfg.MaxRetries = cfg.MaxRetries
	case cfg.MaxRetries < 0:
		apiCfg.MaxRetries = 0
	}
	if !cfg.TLS.isZero() {
		t := cfg.TLS
		if err := apiCfg.ConfigureTLS(&api.TLSConfig{CACert: t.CACert, CACertBytes: t.CACertPEM,
			ClientCert: t.ClientCert, ClientKey: t.ClientKey, TLSServerName: t.ServerName,
			Insecure: t.InsecureSkipVerify}); err != nil {
			return nil, fmt.Errorf("vault: TLS: %w", err)
		}
	}
	client, err := api.NewClient(apiCfg)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	client.ClearToken()
	// The namespace goes on the client itself, so that every request (logins, reads, lookup-self
	// and the lifetime watcher's renew-self) carries it.
	setNamespace(client, set.namespace)

	r := &Resolver{cfg: cfg, set: set, client: client, clock: cfg.Clock, log: cfg.Logger,
		cache: make(map[string]*entry)}
	if r.clock == nil {
		r.clock = systemClock{}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	if set.rotationInterval > 0 {
		r.spawn(r.rotateLoop)
	}
	return r, nil
}

// spawn runs f on a goroutine that Close waits for, unless Close has begun; it reports whether
// f started. Close sets closed under mu before it waits, so every wg.Add here happens before
// Close's wg.Wait, whichever goroutine calls spawn.
func (r *Resolver) spawn(f func()) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f()
	}()
	return true
}

// Close stops the rotation and token renewal goroutines and forgets the cached values; it
// waits for a token renewal in flight (bounded by Timeout and MaxRetries). Resolve fails
// with ErrClosed afterwards. It is safe to call more than once.
func (r *Resolver) Close() error {
	r.once.Do(func() {
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		r.cancel()
		r.auth.mu.Lock()
		if r.auth.stopWatch != nil {
			r.auth.stopWatch()
			r.auth.stopWatch = nil
		}
		r.auth.mu.Unlock()
		r.wg.Wait()
		r.mu.Lock()
		clear(r.cache)
		r.mu.Unlock()
	})
	return nil
}

// Resolve returns the value ref names, from the cache when it is fresh. Errors are
// *secret.Error values that name the reference, never a value; a missing secret, key or
// version wraps secret.ErrNotFound.
func (r *Resolver) Resolve(ctx context.Context, ref secret.Ref) (string, error) {
	if r.ctx.Err() != nil {
		return "", &secret.Error{Ref: ref, Err: ErrClosed}
	}
	opts, err := r.set.forRef(ref.Query)
	if err != nil {
		return "", &secret.Error{Ref: ref, Err: err}
	}
	key := ref.String()
	now := r.clock.Now()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return "", &secret.Error{Ref: ref, Err: ErrClosed}
	}
	if e := r.cache[key]; e != nil {
		recentFailure := e.err != nil && opts.negTTL > 0 && now.Before(e.failed.Add(opts.negTTL))
		switch {
		case e.has && (opts.ttl == 0 || now.Before(e.fetched.Add(opts.ttl))):
			v := e.value
			r.mu.Unlock()
			return v, nil
		case e.has && now.Before(e.fetched.Add(opts.usable())):
			// Stale but still usable: answer at once and re-read in the background, so no
			// request waits for a slow or unreachable Vault while it has a value. One re-read
			// at a time, and none for opts.retry after a failed one.
			v := e.value
			start := !e.refreshing && (e.err == nil || !now.Before(e.failed.Add(opts.retry)))
			if start {
				e.refreshing = true
			}
			r.mu.Unlock()
			if start {
				r.spawn(func() {
					<-r.sf.DoChan(key, r.load(key, ref, opts))
					r.mu.Lock()
					e.refreshing = false
					r.mu.Unlock()
				})
			}
			return v, nil
		case recentFailure && !e.has:
			err := e.err
			r.mu.Unlock()
			return "", err
		}
	}
	r.mu.Unlock()
	return r.refresh(ctx, key, ref, opts)
}

// refresh reads ref from Vault once for all concurrent callers and updates the cache.
func (r *Resolver) refresh(ctx context.Context, key string, ref secret.Ref, opts refOptions) (string, error) {
	ch := r.sf.DoChan(key, r.load(key, ref, opts))
	select {
	case res := <-ch:
		if res.Err != nil {
			return "", res.Err
		}
		return res.Val.(string), nil
	case <-ctx.Done():
		return "", &secret.Error{Ref: ref, Err: ctx.Err()}
	}
}

// load returns the singleflight function that reads ref and stores the outcome. The read uses
// the resolver's context, not a caller's: it serves every caller waiting for it.
func (r *Resolver) load(key string, ref secret.Ref, opts refOptions) func() (any, error) {
	return func() (any, error) {
		v, err := r.fetch(r.ctx, ref, opts)
		return r.store(key, ref, opts, v, err)
	}
}

// store records the outcome of a read and returns what the caller gets: the new value, the
// previous value while it may be resurrected, or the error.
func (r *Resolver) store(key string, ref secret.Ref, opts refOptions, v string, err error) (string, error) {
	now := r.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx.Err() != nil {
		if err != nil {
			return "", err
		}
		return v, nil
	}
	e := r.cache[key]
	if e == nil {
		e = &entry{ref: ref}
		r.cache[key] = e
	}
	e.opts = opts
	if err == nil {
		if e.has && e.value != v {
			r.log.Info("vault: secret rotated", "ref", ref.String())
		}
		e.value, e.has, e.fetched, e.err = v, true, now, nil
		return v, nil
	}
	e.err, e.failed = err, now
	if e.has {
		if opts.ttl == 0 || now.Before(e.fetched.Add(opts.usable())) {
			r.log.Warn("vault: serving the last good value while the secret cannot be read",
				"ref", ref.String(), "read_at", e.fetched, "err", err)
			return e.value, nil
		}
		e.value, e.has = "", false // past resurrect_ttl: forget it
	}
	return "", err
}

// rotateLoop re-reads, every rotation interval, the cached values that would expire before the
// next round.
func (r *Resolver) rotateLoop() {
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.clock.After(r.set.rotationInterval):
		}
		r.rotate()
	}
}

// Refresh re-reads, now, every cached value whose TTL ends before the next rotation round (all
// of them when the TTL is the rotation interval). The rotation goroutine calls it; call it
// yourself, e.g. on SIGHUP, to pick up a rotated key at once.
func (r *Resolver) Refresh(ctx context.Context) error {
	type job struct {
		key  string
		ref  secret.Ref
		opts refOptions
	}
	now := r.clock.Now()
	horizon := r.set.rotationInterval
	if horizon < 0 {
		horizon = 0
	}
	var jobs []job
	r.mu.Lock()
	for k, e := range r.cache {
		if !e.has {
			continue
		}
		if e.opts.ttl == 0 || !now.Add(horizon).Before(e.fetched.Add(e.opts.ttl)) || horizon == 0 {
			jobs = append(jobs, job{k, e.ref, e.opts})
		}
	}
	r.mu.Unlock()
	var errs []error
	for _, j := range jobs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, err, _ := r.sf.Do(j.key, r.load(j.key, j.ref, j.opts)); err != nil {
			r.log.Warn("vault: rotation could not re-read a secret", "ref", j.ref.String(), "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *Resolver) rotate() { _ = r.Refresh(r.ctx) }

// Validate resolves every reference and reports all that fail, joined (errors.Join) in the
// order given; nil means all resolved. Use it at start-up for strict validation; without it,
// a bad reference fails only the requests that use it.
func (r *Resolver) Validate(ctx context.Context, refs ...secret.Ref) error {
	errs := make([]error, len(refs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, ref := range refs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, errs[i] = r.Resolve(ctx, ref)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// fetch reads one reference from Vault, logging in first if needed and once more after a 403.
func (r *Resolver) fetch(ctx context.Context, ref secret.Ref, opts refOptions) (string, error) {
	fail := func(err error) (string, error) { return "", &secret.Error{Ref: ref, Err: err} }
	if ref.Version > 0 && opts.kv != 2 {
		return fail(errors.New("a #version needs a KV v2 mount (kv: v2)"))
	}
	if ref.Resource == "" {
		return fail(errors.New("the reference names no secret path"))
	}
	gen, err := r.ensureToken(ctx)
	if err != nil {
		return fail(err)
	}
	data, err := r.read(ctx, ref, opts)
	if errors.Is(err, ErrPermissionDenied) && r.set.authMethod != "token" && !r.tokenAlive(ctx) {
		r.log.Info("vault: the token is no longer valid; logging in again", "ref", ref.String())
		r.invalidateToken(gen)
		if _, lerr := r.ensureToken(ctx); lerr != nil {
			return fail(lerr)
		}
		data, err = r.read(ctx, ref, opts)
	}
	if err != nil {
		return fail(err)
	}
	v, err := pick(data, ref.Key)
	if err != nil {
		return fail(err)
	}
	if r.cfg.Base64Decode {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return fail(errors.New("base64_decode is on but the value is not standard base64"))
		}
		v = string(b)
	}
	return v, nil
}

// tokenAlive reports whether the current token still works (lookup-self), which tells a 403 for
// an expired or revoked token from a 403 of a policy that does not allow the read.
func (r *Resolver) tokenAlive(ctx context.Context) bool {
	_, err := r.client.Auth().Token().LookupSelfWithContext(ctx)
	return err == nil
}

// read returns the data of the secret ref names.
func (r *Resolver) read(ctx context.Context, ref secret.Ref, opts refOptions) (map[string]any, error) {
	c, err := r.clientIn(opts.namespace)
	if err != nil {
		return nil, err
	}
	where := opts.mount + "/" + ref.Resource
	var s *api.KVSecret
	switch {
	case opts.kv == 1:
		s, err = c.KVv1(opts.mount).Get(ctx, ref.Resource)
	case ref.Version > 0:
		s, err = c.KVv2(opts.mount).GetVersion(ctx, ref.Resource, ref.Version)
		where = fmt.Sprintf("%s version %d", where, ref.Version)
	default:
		s, err = c.KVv2(opts.mount).Get(ctx, ref.Resource)
	}
	if err != nil {
		return nil, sanitize(err, where)
	}
	if s == nil || s.Data == nil { // a deleted or destroyed KV v2 version has no data
		return nil, fmt.Errorf("no secret at %s: %w", where, secret.ErrNotFound)
	}
	return s.Data, nil
}

// sanitize turns a Vault API error into one that carries the status and Vault's messages but
// not a raw response body.
func sanitize(err error, where string) error {
	if errors.Is(err, api.ErrSecretNotFound) {
		return fmt.Errorf("no secret at %s: %w", where, secret.ErrNotFound)
	}
	if status, msg, ok := vaultAnswer(err); ok {
		switch status {
		case 403:
			return fmt.Errorf("reading %s: %w (HTTP 403: %s)", where, ErrPermissionDenied, msg)
		case 404:
			return fmt.Errorf("no secret at %s: %w", where, secret.ErrNotFound)
		}
		return fmt.Errorf("reading %s: vault answered HTTP %d: %s", where, status, msg)
	}
	return fmt.Errorf("reading %s: %w", where, err)
}

// pick returns one field of a secret, or the whole secret as JSON when key is empty.
func pick(data map[string]any, key string) (string, error) {
	if key == "" {
		b, err := json.Marshal(data)
		if err != nil {
			return "", errors.New("the secret cannot be encoded as JSON")
		}
		return string(b), nil
	}
	v, ok := data[key]
	if !ok {
		return "", fmt.Errorf("the secret has no key %q: %w", key, secret.ErrNotFound)
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case nil:
		return "", fmt.Errorf("the secret's key %q is null: %w", key, secret.ErrNotFound)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("the secret's key %q cannot be encoded as JSON", key)
	}
	return string(b), nil
}
