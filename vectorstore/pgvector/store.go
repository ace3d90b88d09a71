// Package pgvectorstore is a vectorstore.Store in PostgreSQL with the pgvector extension
// (pgx v5), configured like Kong's vectordb.pgvector.
//
// New creates, when they are missing, the extension (when the role may), a table
//
//	CREATE TABLE <name> (id text PRIMARY KEY, embedding vector(<dims>) NOT NULL,
//	                     updated_at timestamptz NOT NULL DEFAULT now())
//
// and an HNSW index for the metric (vector_cosine_ops or vector_l2_ops; pgvector indexes up to
// 2000 dimensions, so larger vectors are searched without one). Search orders by the
// metric's operator, <=> (cosine distance, 1 − cosine similarity) or <-> (L2), which are the
// distances Match reports. On the few rows a semantic balancer keeps, PostgreSQL scans the
// table, which is exact; on large tables it uses the index, with hnsw.ef_search raised to k
// when k is over its default of 40.
package pgvectorstore

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiproxy/aiproxy/vectorstore"
)

// Store is a vectorstore.Store in a pgvector table. It is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	owned   bool
	metric  vectorstore.Metric
	dims    int
	table   string // the bare name
	timeout time.Duration

	upsertSQL, searchSQL, searchAllSQL, getSQL, idsSQL, deleteSQL string
}

var (
	_ vectorstore.Store  = (*Store)(nil)
	_ vectorstore.Getter = (*Store)(nil)
	_ vectorstore.Pruner = (*Store)(nil)
	_ io.Closer          = (*Store)(nil)
)

// hnswMaxDims is the most dimensions pgvector's HNSW index takes for the vector type.
const hnswMaxDims = 2000

// New connects (or uses opts.Pool) and creates the extension, the table and the index when
// they are missing. Replicas may call it concurrently: the creation is serialised with an
// advisory lock.
func New(ctx context.Context, opts Options) (*Store, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &Store{pool: opts.Pool, metric: opts.Metric, dims: opts.Dimensions, table: opts.tableName(), timeout: opts.timeout()}
	if s.pool == nil {
		cfg, err := opts.poolConfig()
		if err != nil {
			return nil, err
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("pgvectorstore: %w", err)
		}
		s.pool, s.owned = pool, true
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	t := pgx.Identifier{s.table}.Sanitize()
	op := "<=>"
	if s.metric == vectorstore.Euclidean {
		op = "<->"
	}
	s.upsertSQL = `INSERT INTO ` + t + ` (id, embedding)
		SELECT u.id, u.v::vector FROM unnest($1::text[], $2::text[]) AS u(id, v)
		ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding, updated_at = now()`
	s.idsSQL = `SELECT id FROM ` + t
	s.deleteSQL = `DELETE FROM ` + t + ` WHERE id = ANY($1::text[])`
	s.getSQL = `SELECT id, embedding::text FROM ` + t + ` WHERE id = ANY($1::text[])`
	s.searchAllSQL = `SELECT id, embedding ` + op + ` $1::text::vector AS distance FROM ` + t + ` ORDER BY distance, id`
	s.searchSQL = `SELECT id, embedding ` + op + ` $1::text::vector AS distance FROM ` + t + ` ORDER BY distance LIMIT $2`
	return s, nil
}

// advisoryKey serialises New's DDL across replicas ("aiproxy-vectorstore").
const advisoryKey = 0x61697078_76656374

func (s *Store) migrate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	t := pgx.Identifier{s.table}.Sanitize()
	ops := "vector_cosine_ops"
	if s.metric == vectorstore.Euclidean {
		ops = "vector_l2_ops"
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(advisoryKey)); err != nil {
			return fmt.Errorf("pgvectorstore: %w", err)
		}
		var installed bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')`).Scan(&installed); err != nil {
			return fmt.Errorf("pgvectorstore: %w", err)
		}
		if !installed {
			if _, err := tx.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS vector`); err != nil {
				return fmt.Errorf("pgvectorstore: the pgvector extension is not installed in this database and creating it failed "+
					"(a superuser, or the database owner on PostgreSQL 13+, can run CREATE EXTENSION vector): %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+t+` (
			id text PRIMARY KEY,
			embedding vector(`+strconv.Itoa(s.dims)+`) NOT NULL,
			updated_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("pgvectorstore: create table %s: %w", t, err)
		}
		// A table made elsewhere under this name must hold vectors of our length.
		var typ string
		if err := tx.QueryRow(ctx, `SELECT format_type(atttypid, atttypmod) FROM pg_attribute
			WHERE attrelid = $1::regclass AND attname = 'embedding' AND NOT attisdropped`, t).Scan(&typ); err != nil {
			return fmt.Errorf("pgvectorstore: table %s has no embedding column: %w", t, err)
		}
		if want := "vector(" + strconv.Itoa(s.dims) + ")"; typ != want {
			return fmt.Errorf("%w: table %s holds %s, want %s", vectorstore.ErrDimensions, t, typ, want)
		}
		if s.dims <= hnswMaxDims {
			index := pgx.Identifier{s.table + "_" + string(s.metric)[:3] + "_hnsw"}.Sanitize()
			if _, err := tx.Exec(ctx, `CREATE INDEX IF NOT EXISTS `+index+` ON `+t+` USING hnsw (embedding `+ops+`)`); err != nil {
				return fmt.Errorf("pgvectorstore: create index on %s: %w", t, err)
			}
		}
		return nil
	})
}

// Table is the name of the table that holds the store's vectors.
func (s *Store) Table() string { return s.table }

// Close closes the pool New opened; a Pool passed in Options stays open.
func (s *Store) Close() error {
	if s.owned {
		s.pool.Close()
	}
	return nil
}

// Upsert writes vectors in one statement: all of them, or none. When an ID appears twice,
// the last vector wins.
func (s *Store) Upsert(ctx context.Context, vectors ...vectorstore.Vector) error {
	if err := vectorstore.CheckVectors(s.dims, vectors); err != nil {
		return err
	}
	if len(vectors) == 0 {
		return nil
	}
	// ON CONFLICT may not touch a row twice in one statement: keep the last of each ID.
	last := make(map[string]int, len(vectors))
	for i, v := range vectors {
		last[v.ID] = i
	}
	ids := make([]string, 0, len(last))
	values := make([]string, 0, len(last))
	for i, v := range vectors {
		if last[v.ID] == i {
			ids = append(ids, v.ID)
			values = append(values, vectorText(v.Values))
		}
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	if _, err := s.pool.Exec(ctx, s.upsertSQL, ids, values); err != nil {
		return fmt.Errorf("pgvectorstore: upsert: %w", err)
	}
	return nil
}

// Get returns the stored vectors of ids, in order, leaving out the missing ones, in one
// query. pgvector stores float32s and prints them exactly, so the values are the ones
// upserted.
func (s *Store) Get(ctx context.Context, ids ...string) ([]vectorstore.Vector, error) {
	out := make([]vectorstore.Vector, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, s.getSQL, ids)
	if err != nil {
		return nil, fmt.Errorf("pgvectorstore: get: %w", err)
	}
	found := make(map[string][]float32, len(ids))
	for rows.Next() {
		var id, text string
		if err := rows.Scan(&id, &text); err != nil {
			rows.Close()
			return nil, fmt.Errorf("pgvectorstore: get: %w", err)
		}
		values, err := parseVector(text)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("pgvectorstore: get %q: %w", id, err)
		}
		found[id] = values
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgvectorstore: get: %w", err)
	}
	for _, id := range ids {
		if v, ok := found[id]; ok {
			out = append(out, vectorstore.Vector{ID: id, Values: slices.Clone(v)})
		}
	}
	return out, nil
}

// Prune deletes the rows stale picks: it reads the IDs, then deletes the stale ones in one
// statement.
func (s *Store) Prune(ctx context.Context, stale func(id string) bool) (int, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, s.idsSQL)
	if err != nil {
		return 0, fmt.Errorf("pgvectorstore: prune: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("pgvectorstore: prune: %w", err)
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return !stale(id) })
	if len(ids) == 0 {
		return 0, nil
	}
	tag, err := s.pool.Exec(ctx, s.deleteSQL, ids)
	if err != nil {
		return 0, fmt.Errorf("pgvectorstore: prune: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// parseVector reads pgvector's text form, "[1,2.5,-3]".
func parseVector(text string) ([]float32, error) {
	if len(text) < 2 || text[0] != '[' || text[len(text)-1] != ']' {
		return nil, fmt.Errorf("not a vector: %.40q", text)
	}
	inner := text[1 : len(text)-1]
	if inner == "" {
		return []float32{}, nil
	}
	parts := strings.Split(inner, ",")
	values := make([]float32, len(parts))
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil {
			return nil, fmt.Errorf("not a vector: %w", err)
		}
		values[i] = float32(f)
	}
	return values, nil
}

// Search returns up to k stored vectors nearest to query (k < 0: all of them).
func (s *Store) Search(ctx context.Context, query []float32, k int) ([]vectorstore.Match, error) {
	if err := vectorstore.CheckDimensions(query, s.dims); err != nil {
		return nil, err
	}
	matches := []vectorstore.Match{}
	if k == 0 {
		return matches, nil
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	q := vectorText(query)
	var rows pgx.Rows
	var err error
	switch {
	case k < 0:
		rows, err = s.pool.Query(ctx, s.searchAllSQL, q)
	case k <= 40:
		rows, err = s.pool.Query(ctx, s.searchSQL, q, k)
	default:
		// An HNSW scan returns at most hnsw.ef_search rows (default 40): raise it to k.
		var tx pgx.Tx
		if tx, err = s.pool.Begin(ctx); err != nil {
			break
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		if _, err = tx.Exec(ctx, `SELECT set_config('hnsw.ef_search', $1, true)`, strconv.Itoa(min(k, 1000))); err != nil {
			break
		}
		rows, err = tx.Query(ctx, s.searchSQL, q, k)
	}
	if err != nil {
		return nil, fmt.Errorf("pgvectorstore: search: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m vectorstore.Match
		if err := rows.Scan(&m.ID, &m.Distance); err != nil {
			return nil, fmt.Errorf("pgvectorstore: search: %w", err)
		}
		if math.IsNaN(m.Distance) {
			m.Distance = 1 // cosine with a zero vector: vectorstore.Distance's value
		}
		matches = append(matches, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgvectorstore: search: %w", err)
	}
	return matches, nil
}

func (s *Store) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) < s.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.timeout)
}

// vectorText is pgvector's text form, "[1,2.5,-3]", with every float32 written exactly.
func vectorText(v []float32) string {
	var b strings.Builder
	b.Grow(12 * len(v))
	b.WriteByte('[')
	var buf [24]byte
	for i, f := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(strconv.AppendFloat(buf[:0], float64(f), 'g', -1, 32))
	}
	b.WriteByte(']')
	return b.String()
}
