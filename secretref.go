package aiproxy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aiproxy/aiproxy/secret"
)

// Secret is a configuration value that is secret or holds {vault://...} references; see
// package secret, which also holds the resolver contract (secret.Resolver) and the built-in
// environment resolver.
type Secret = secret.Secret

// SecretRef is a parsed {vault://...} reference; see package secret.
type SecretRef = secret.Ref

// strictTimeout bounds the resolution New does with Config.StrictSecrets.
const strictTimeout = 30 * time.Second

// configSecrets lists the Secret fields of cfg that hold references, by their paths: every
// target's and the embeddings' auth, and the vector database's credentials.
func configSecrets(cfg *Config) []secret.Field {
	var out []secret.Field
	add := func(path string, s *Secret) {
		if !s.IsLiteral() {
			out = append(out, secret.Field{Path: path, Value: s})
		}
	}
	for i := range cfg.Targets {
		for _, f := range cfg.Targets[i].Auth.fields() {
			add("targets["+strconv.Itoa(i)+"].auth."+f.Path, f.Value)
		}
	}
	if cfg.Embeddings != nil {
		for _, f := range cfg.Embeddings.Auth.fields() {
			add("embeddings.auth."+f.Path, f.Value)
		}
	}
	if db := cfg.VectorDB; db != nil && db.Store != nil && cfg.VectorStore == nil {
		for _, f := range db.Store.Secrets() {
			add(f.Path, f.Value)
		}
	}
	return out
}

// checkRefs returns an error for each reference among fields that is malformed or names a
// vault that is not configured, with the field it is in. It does no I/O.
func checkRefs(fields []secret.Field, vaults *secret.Vaults) []error {
	var errs []error
	for _, f := range fields {
		refs, err := f.Value.Refs()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.Path, err))
			continue
		}
		for _, ref := range refs {
			if !vaults.Has(ref.Vault) {
				errs = append(errs, fmt.Errorf("%s: %s names vault %q, which is not configured", f.Path, ref, ref.Vault))
			}
		}
	}
	return errs
}

// ValidateSecrets resolves every {vault://...} reference of the configuration once, through
// Config.Vaults, and returns an error for each field whose references do not resolve, joined.
// Each error names the field and the reference, never a value; a missing secret or key wraps
// secret.ErrNotFound. Resolving also fills the resolvers' caches. New calls it when
// Config.StrictSecrets is set; call it yourself for strict checking under a context of your
// own, or as a readiness probe.
func (p *Proxy) ValidateSecrets(ctx context.Context) error {
	seen := map[Secret]error{} // one resolution per distinct value
	var errs []error
	for _, f := range p.secretFields {
		err, ok := seen[*f.Value]
		if !ok {
			_, err = p.secrets.Expand(ctx, *f.Value)
			seen[*f.Value] = err
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.Path, err))
		}
	}
	return errors.Join(errs...)
}

// validateStrict is New's strict step (Config.StrictSecrets).
func (p *Proxy) validateStrict() error {
	ctx, cancel := context.WithTimeout(context.Background(), strictTimeout)
	defer cancel()
	if err := p.ValidateSecrets(ctx); err != nil {
		return fmt.Errorf("StrictSecrets: %w", err)
	}
	return nil
}
