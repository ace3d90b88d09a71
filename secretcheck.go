package aiproxy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// strictTimeout bounds the resolution New does with Config.StrictSecrets.
const strictTimeout = 30 * time.Second

// configSecret is a Secret of the configuration that holds references, with where it is.
type configSecret struct {
	path  string // e.g. "targets[2].auth.header_value"
	value Secret
}

// configSecrets lists the Secret fields of cfg that hold references: every target's and the
// embeddings' auth, and the vector database's credentials.
func configSecrets(cfg *Config) []configSecret {
	var out []configSecret
	add := func(path string, s Secret) {
		if !s.IsLiteral() {
			out = append(out, configSecret{path, s})
		}
	}
	for i := range cfg.Targets {
		for _, f := range cfg.Targets[i].Auth.fields() {
			add("targets["+strconv.Itoa(i)+"].auth."+f.name, *f.value)
		}
	}
	if cfg.Embeddings != nil {
		for _, f := range cfg.Embeddings.Auth.fields() {
			add("embeddings.auth."+f.name, *f.value)
		}
	}
	if db := cfg.VectorDB; db != nil {
		for _, f := range storeCredentials(db.Redis, db.PGVector) {
			add(f.name, *f.value)
		}
	}
	return out
}

// checkRefs returns an error for each configured reference that is malformed or names a vault
// that is not configured, with the field it is in. It does no I/O.
func (p *Proxy) checkRefs() []error {
	var errs []error
	for _, cs := range p.secretFields {
		refs, err := cs.value.Refs()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", cs.path, err))
			continue
		}
		for _, ref := range refs {
			if _, ok := p.secrets.vaults[ref.Vault]; !ok {
				errs = append(errs, fmt.Errorf("%s: %s names vault %q, which is not configured", cs.path, ref, ref.Vault))
			}
		}
	}
	return errs
}

// ValidateSecrets resolves every {vault://...} reference of the configuration once, through
// Config.Vaults, and returns an error for each field whose references do not resolve, joined.
// Each error names the field and the reference, never a value; a missing secret or key wraps
// ErrSecretNotFound. Resolving also fills the resolvers' caches. New calls it when
// Config.StrictSecrets is set; call it yourself for strict checking under a context of your
// own, or as a readiness probe.
func (p *Proxy) ValidateSecrets(ctx context.Context) error {
	seen := map[Secret]error{} // one resolution per distinct value
	var errs []error
	for _, cs := range p.secretFields {
		err, ok := seen[cs.value]
		if !ok {
			_, err = p.secrets.resolve(ctx, cs.value)
			seen[cs.value] = err
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", cs.path, err))
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
