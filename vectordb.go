package aiproxy

import (
	"context"
	"errors"
	"fmt"

	"github.com/aiproxy/aiproxy/vectorstore"
	pgvectorstore "github.com/aiproxy/aiproxy/vectorstore/pgvector"
	redisstore "github.com/aiproxy/aiproxy/vectorstore/redis"
)

// checkVectorDB validates, without I/O, the store that vectordb names.
func checkVectorDB(db *VectorDBConfig) error {
	switch db.Strategy {
	case "", "memory":
	case "redis":
		if o := db.Redis; o != nil && (o.Dimensions != 0 || o.Metric != "") {
			return errors.New("vectordb.redis: leave dimensions and distance_metric unset; vectordb's own apply")
		}
	case "pgvector":
		if o := db.PGVector; o != nil && (o.Dimensions != 0 || o.Metric != "") {
			return errors.New("vectordb.pgvector: leave dimensions and distance_metric unset; vectordb's own apply")
		}
	default:
		return fmt.Errorf("vectordb.strategy %q must be redis, pgvector or memory", db.Strategy)
	}
	return nil
}

// openStore opens the store that db names (nil: memory) for vectors of dims values,
// resolving the secret references among its credentials first.
func (p *Proxy) openStore(ctx context.Context, db *VectorDBConfig, metric vectorstore.Metric, dims int) (VectorStore, error) {
	strategy := ""
	if db != nil {
		strategy = db.Strategy
	}
	var resolved []string // values that came from references, kept out of errors
	switch strategy {
	case "redis":
		var opts redisstore.Options
		if db.Redis != nil {
			opts = *db.Redis
		}
		opts.Dimensions, opts.Metric = dims, metric
		for _, f := range storeCredentials(&opts, nil) {
			if err := p.resolveCredential(ctx, f.value, &resolved); err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
		}
		s, err := redisstore.New(ctx, opts)
		if err != nil {
			return nil, scrubError(err, resolved)
		}
		return s, nil
	case "pgvector":
		var opts pgvectorstore.Options
		if db.PGVector != nil {
			opts = *db.PGVector
		}
		opts.Dimensions, opts.Metric = dims, metric
		for _, f := range storeCredentials(nil, &opts) {
			if err := p.resolveCredential(ctx, f.value, &resolved); err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
		}
		s, err := pgvectorstore.New(ctx, opts)
		if err != nil {
			return nil, scrubError(err, resolved)
		}
		return s, nil
	}
	return vectorstore.NewMemory(metric, dims), nil
}

// storeCredentials lists the credential fields of the store options given (either may be
// nil), by their Kong paths.
func storeCredentials(r *redisstore.Options, pg *pgvectorstore.Options) []secretField {
	var out []secretField
	if r != nil {
		out = append(out,
			secretField{"vectordb.redis.username", &r.Username}, secretField{"vectordb.redis.password", &r.Password},
			secretField{"vectordb.redis.sentinel_username", &r.SentinelUsername},
			secretField{"vectordb.redis.sentinel_password", &r.SentinelPassword})
	}
	if pg != nil {
		out = append(out, secretField{"vectordb.pgvector.user", &pg.User}, secretField{"vectordb.pgvector.password", &pg.Password})
	}
	return out
}

// resolveCredential replaces the references in *s with their values, noting the values.
func (p *Proxy) resolveCredential(ctx context.Context, s *Secret, resolved *[]string) error {
	if s.IsLiteral() {
		return nil
	}
	v, err := p.secrets.resolve(ctx, *s)
	if err != nil {
		return err
	}
	*s = Secret(v)
	*resolved = append(*resolved, v)
	return nil
}

// scrubbedError is an error whose text had secret values taken out. It matches what the
// original matched with errors.Is, but does not unwrap to it, so the values cannot leak.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string        { return e.msg }
func (e *scrubbedError) Is(target error) bool { return errors.Is(e.err, target) }

// scrubError returns err with the values scrub removes taken out of its text. A database's
// errors may quote the user it connected as (PostgreSQL's do).
func scrubError(err error, values []string) error {
	if len(values) == 0 {
		return err
	}
	return &scrubbedError{msg: scrub(err.Error(), values), err: err}
}
