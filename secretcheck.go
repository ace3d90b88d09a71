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
	addAuth := func(path string, a *Auth) {
		for _, f := range []struct {
			name string
			s    Secret
		}{
			{"header_name", a.HeaderName}, {"header_value", a.HeaderValue},
			{"param_name", a.ParamName}, {"param_value", a.ParamValue},
			{"azure_client_id", a.AzureClientID}, {"azure_client_secret", a.AzureClientSecret},
			{"azure_tenant_id", a.AzureTenantID}, {"gcp_service_account_json", a.GCPServiceAccountJSON},
			{"aws_access_key_id", a.AWSAccessKeyID}, {"aws_secret_access_key", a.AWSSecretAccessKey},
		} {
			add(path+".auth."+f.name, f.s)
		}
	}
	for i := range cfg.Targets {
		addAuth("targets["+strconv.Itoa(i)+"]", &cfg.Targets[i].Auth)
	}
	if cfg.Embeddings != nil {
		addAuth("embeddings", &cfg.Embeddings.Auth)
	}
	if db := cfg.VectorDB; db != nil && db.Redis != nil {
		r := db.Redis
		add("vectordb.redis.username", Secret(r.Username))
		add("vectordb.redis.password", Secret(r.Password))
		add("vectordb.redis.sentinel_username", Secret(r.SentinelUsername))
		add("vectordb.redis.sentinel_password", Secret(r.SentinelPassword))
	}
	if db := cfg.VectorDB; db != nil && db.PGVector != nil {
		add("vectordb.pgvector.user", Secret(db.PGVector.User))
		add("vectordb.pgvector.password", Secret(db.PGVector.Password))
	}
	return out
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
