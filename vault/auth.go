package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"
)

// authState is the resolver's Vault token: which login it came from and the goroutine that
// renews it.
type authState struct {
	mu        sync.Mutex // held during a login, so that concurrent requests log in once
	valid     bool
	gen       uint64 // counts logins; a 403 invalidates only the token it was seen with
	stopWatch func()
	// unwrapped is the secret_id unwrapped from a response-wrapping token: such a token can
	// be unwrapped only once, so the result is kept for later logins.
	unwrapped string
	logins    int
}

// ensureToken logs in unless the resolver holds a valid token, and returns the token's login
// generation.
func (r *Resolver) ensureToken(ctx context.Context) (uint64, error) {
	a := &r.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.valid {
		return a.gen, nil
	}
	if r.ctx.Err() != nil {
		return 0, ErrClosed
	}
	auth, err := r.login(ctx)
	if err != nil {
		return 0, err
	}
	a.gen++
	a.logins++
	a.valid = true
	r.client.SetToken(auth.ClientToken)
	if a.stopWatch != nil {
		a.stopWatch()
		a.stopWatch = nil
	}
	ttl := time.Duration(auth.LeaseDuration) * time.Second
	r.log.Info("vault: authenticated", "method", r.set.authMethod, "ttl", ttl, "renewable", auth.Renewable)
	if auth.LeaseDuration > 0 {
		a.stopWatch = r.watch(a.gen, auth)
	}
	return a.gen, nil
}

// invalidateToken drops the token of login gen (if it is still the current one), so that the
// next request logs in again.
func (r *Resolver) invalidateToken(gen uint64) {
	a := &r.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.gen != gen || !a.valid {
		return
	}
	a.valid = false
	if a.stopWatch != nil {
		a.stopWatch()
		a.stopWatch = nil
	}
}

// watch renews the token with the Vault API's lifetime watcher. When the watcher gives up
// (the token reached its max TTL, is not renewable, or renewing failed), the token is dropped
// and, for AppRole and Kubernetes, a new login starts at once in the background. It returns
// nil, and starts nothing, once Close has begun.
func (r *Resolver) watch(gen uint64, auth *api.SecretAuth) (stop func()) {
	w, err := r.client.NewLifetimeWatcher(&api.LifetimeWatcherInput{
		Secret: &api.Secret{Auth: auth},
	})
	if err != nil {
		r.log.Warn("vault: cannot renew the token", "err", err)
		return nil
	}
	done := make(chan struct{})
	started := r.spawn(func() {
		defer w.Stop()
		for {
			select {
			case <-done:
				return
			case <-r.ctx.Done():
				return
			case out := <-w.RenewCh():
				ttl := time.Duration(0)
				if out != nil && out.Secret != nil && out.Secret.Auth != nil {
					ttl = time.Duration(out.Secret.Auth.LeaseDuration) * time.Second
				}
				r.log.Debug("vault: token renewed", "ttl", ttl)
			case err := <-w.DoneCh():
				if err != nil {
					r.log.Warn("vault: token renewal stopped", "err", err)
				} else {
					r.log.Info("vault: token is at the end of its lifetime")
				}
				if r.set.authMethod == "token" {
					return // nothing to log in with: the token is used until Vault refuses it
				}
				r.invalidateToken(gen)
				r.spawn(func() {
					if _, err := r.ensureToken(r.ctx); err != nil && r.ctx.Err() == nil {
						r.log.Warn("vault: login failed; the next request retries", "err", err)
					}
				})
				return
			}
		}
	})
	if !started { // Close has begun
		return nil
	}
	// Start runs until Stop, finishing a renewal in flight: Close waits for it too, so that
	// no renew-self leaves after Close has returned.
	r.spawn(w.Start)
	var once sync.Once
	return func() { once.Do(func() { close(done) }) }
}

// login authenticates with the configured method and returns the token's auth data.
func (r *Resolver) login(ctx context.Context) (*api.SecretAuth, error) {
	switch r.set.authMethod {
	case "token":
		return r.loginToken(ctx)
	case "approle":
		return r.loginAppRole(ctx)
	case "kubernetes":
		return r.loginKubernetes(ctx)
	}
	return nil, fmt.Errorf("auth_method %q is not supported", r.set.authMethod)
}

// loginClient is a copy of the client without a token, for login requests.
func (r *Resolver) loginClient() (*api.Client, error) { return r.copyClient(r.set.namespace, "") }

// clientIn returns the client for requests in namespace ns: the resolver's own for its
// configured namespace, else a copy with the current token.
func (r *Resolver) clientIn(ns string) (*api.Client, error) {
	if ns == r.set.namespace {
		return r.client, nil
	}
	return r.copyClient(ns, r.client.Token())
}

// copyClient is a copy of the resolver's client that sends namespace ns and token (none when
// empty). Clone, not WithNamespace: WithNamespace copies the client's token field without its
// lock, which races with a login setting it.
func (r *Resolver) copyClient(ns, token string) (*api.Client, error) {
	c, err := r.client.Clone() // a new client: it picks up VAULT_TOKEN and VAULT_NAMESPACE, both replaced here
	if err != nil {
		return nil, err
	}
	c.SetToken(token)
	setNamespace(c, ns)
	return c, nil
}

// setNamespace makes c send namespace ns, or no namespace header when ns is empty.
func setNamespace(c *api.Client, ns string) {
	if ns == "" {
		c.ClearNamespace()
	} else {
		c.SetNamespace(ns)
	}
}

// loginToken checks the configured token with lookup-self and learns whether it expires.
func (r *Resolver) loginToken(ctx context.Context) (*api.SecretAuth, error) {
	token, err := r.cfg.credential(ctx, "token", r.cfg.Token)
	if err != nil {
		return nil, err
	}
	c, err := r.copyClient(r.set.namespace, token)
	if err != nil {
		return nil, err
	}
	s, err := c.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return nil, loginError("checking the token (lookup-self)", err)
	}
	auth := &api.SecretAuth{ClientToken: token}
	if s != nil && s.Data != nil {
		if ttl, ok := s.Data["ttl"].(json.Number); ok {
			if n, err := ttl.Int64(); err == nil {
				auth.LeaseDuration = int(n)
			}
		}
		auth.Renewable, _ = s.Data["renewable"].(bool)
	}
	return auth, nil
}

func (r *Resolver) loginAppRole(ctx context.Context) (*api.SecretAuth, error) {
	secretID, err := r.appRoleSecretID(ctx)
	if err != nil {
		return nil, err
	}
	c, err := r.loginClient()
	if err != nil {
		return nil, err
	}
	s, err := c.Logical().WriteWithContext(ctx, "auth/"+r.set.authPath+"/login", map[string]any{
		"role_id":   r.cfg.ApproleRoleID,
		"secret_id": secretID,
	})
	return loginResult("AppRole login", s, err)
}

// appRoleSecretID returns the secret_id: the configured value (or reference), else the file's
// content; unwrapped when it is a response-wrapping token.
func (r *Resolver) appRoleSecretID(ctx context.Context) (string, error) {
	if r.cfg.ApproleResponseWrapping && r.auth.unwrapped != "" {
		return r.auth.unwrapped, nil
	}
	var id string
	if r.cfg.ApproleSecretID != "" {
		v, err := r.cfg.credential(ctx, "approle_secret_id", r.cfg.ApproleSecretID)
		if err != nil {
			return "", err
		}
		id = v
	} else {
		b, err := os.ReadFile(r.cfg.ApproleSecretIDFile)
		if err != nil {
			return "", fmt.Errorf("reading approle_secret_id_file: %w", err)
		}
		id = strings.TrimSpace(string(b))
	}
	if id == "" {
		return "", errors.New("the AppRole secret_id is empty")
	}
	if !r.cfg.ApproleResponseWrapping {
		return id, nil
	}
	c, err := r.loginClient()
	if err != nil {
		return "", err
	}
	s, err := c.Logical().UnwrapWithContext(ctx, id)
	if err != nil {
		return "", loginError("unwrapping the AppRole secret_id", err)
	}
	if s == nil || s.Data == nil {
		return "", errors.New("unwrapping the AppRole secret_id returned no data")
	}
	v, _ := s.Data["secret_id"].(string)
	if v == "" {
		return "", errors.New("the unwrapped response holds no secret_id")
	}
	r.auth.unwrapped = v // r.auth.mu is held by ensureToken
	return v, nil
}

func (r *Resolver) loginKubernetes(ctx context.Context) (*api.SecretAuth, error) {
	file := r.cfg.KubeAPITokenFile
	if file == "" {
		file = defaultKubeTokenFile
	}
	jwt, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading kube_api_token_file: %w", err)
	}
	c, err := r.loginClient()
	if err != nil {
		return nil, err
	}
	s, err := c.Logical().WriteWithContext(ctx, "auth/"+r.set.authPath+"/login", map[string]any{
		"role": r.cfg.KubeRole,
		"jwt":  strings.TrimSpace(string(jwt)),
	})
	return loginResult("Kubernetes login", s, err)
}

func loginResult(what string, s *api.Secret, err error) (*api.SecretAuth, error) {
	if err != nil {
		return nil, loginError(what, err)
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return nil, errors.New(what + " returned no token")
	}
	return s.Auth, nil
}

// loginError describes a failed login without a response body.
func loginError(what string, err error) error {
	if status, msg, ok := vaultAnswer(err); ok {
		if status == 403 {
			return fmt.Errorf("%s: %w (HTTP 403: %s)", what, ErrPermissionDenied, msg)
		}
		return fmt.Errorf("%s: vault answered HTTP %d: %s", what, status, msg)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// vaultAnswer returns the status and Vault's own messages of an API error, never its raw
// body (which may hold anything); ok is false for errors that are not Vault's answers.
func vaultAnswer(err error) (status int, msg string, ok bool) {
	var re *api.ResponseError
	if !errors.As(err, &re) {
		return 0, "", false
	}
	msg = "(no message)"
	if !re.RawError && len(re.Errors) > 0 {
		msg = strings.Join(re.Errors, "; ")
	}
	return re.StatusCode, msg, true
}

// Logins reports how many times the resolver has authenticated to Vault (for tests and metrics).
func (r *Resolver) Logins() int {
	r.auth.mu.Lock()
	defer r.auth.mu.Unlock()
	return r.auth.logins
}
