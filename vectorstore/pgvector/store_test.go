package pgvectorstore_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiproxy/aiproxy/secret"
	"github.com/aiproxy/aiproxy/vectorstore"
	pgvectorstore "github.com/aiproxy/aiproxy/vectorstore/pgvector"
	"github.com/aiproxy/aiproxy/vectorstore/vectortest"
)

// server returns Options for the real server in AIPROXY_PGVECTOR_URL, which
// scripts/services.sh starts, failing (never skipping) when it is unset.
func server(tb testing.TB) pgvectorstore.Options {
	tb.Helper()
	raw := os.Getenv("AIPROXY_PGVECTOR_URL")
	if raw == "" {
		tb.Fatal("AIPROXY_PGVECTOR_URL is not set: run the tests with ./scripts/test.sh, which starts PostgreSQL with pgvector and sets it")
	}
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatalf("AIPROXY_PGVECTOR_URL: %v", err)
	}
	port, _ := strconv.Atoi(u.Port())
	password, _ := u.User.Password()
	return pgvectorstore.Options{
		Host: u.Hostname(), Port: port, Database: u.Path[1:], User: secret.Secret(u.User.Username()), Password: secret.Secret(password),
	}
}

var seq atomic.Int64

// namespace is unique to this run, so that runs and parallel packages never collide.
func namespace() string {
	return fmt.Sprintf("t%d_%d", time.Now().UnixNano()%1e12, seq.Add(1))
}

// open opens a store and drops its table when the test ends.
func open(tb testing.TB, opts pgvectorstore.Options) *pgvectorstore.Store {
	tb.Helper()
	s, err := pgvectorstore.New(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		dropTable(tb, s.Table())
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func dropTable(tb testing.TB, table string) {
	c, err := pgx.Connect(context.Background(), os.Getenv("AIPROXY_PGVECTOR_URL"))
	if err != nil {
		tb.Errorf("cleanup: %v", err)
		return
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(context.Background(), "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize()); err != nil {
		tb.Errorf("cleanup: %v", err)
	}
}

func TestConformance(t *testing.T) {
	vectortest.Run(t, func(t *testing.T, metric vectorstore.Metric, dims int) vectorstore.Store {
		opts := server(t)
		opts.Namespace, opts.Dimensions, opts.Metric = namespace(), dims, metric
		return open(t, opts)
	})
}

func TestReplicasShareVectors(t *testing.T) {
	vectortest.Replicas(t, func(t *testing.T, metric vectorstore.Metric, dims int) (a, b vectorstore.Store) {
		opts := server(t)
		opts.Namespace, opts.Dimensions, opts.Metric = namespace(), dims, metric
		return open(t, opts), open(t, opts)
	})
}

// Replicas starting together race to create the table and index: the advisory lock
// serialises them.
func TestConcurrentNew(t *testing.T) {
	opts := server(t)
	opts.Namespace, opts.Dimensions = namespace(), 3
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := pgvectorstore.New(context.Background(), opts)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	open(t, opts) // drops the table at the end
}

func TestIndexUsedOnLargeTables(t *testing.T) {
	// With enough rows and the planner's sequential scans off, the HNSW index answers, and
	// k above hnsw.ef_search's default (40) still gets k rows.
	ctx := context.Background()
	opts := server(t)
	opts.Namespace, opts.Dimensions = namespace(), 8
	cfg, err := pgxpool.ParseConfig(os.Getenv("AIPROXY_PGVECTOR_URL"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["enable_seqscan"] = "off" // as on a table too large to scan
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	opts.Pool = pool
	s := open(t, opts)
	var vs []vectorstore.Vector
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		v := make([]float32, 8)
		for j := range v {
			v[j] = rng.Float32()*2 - 1
		}
		vs = append(vs, vectorstore.Vector{ID: fmt.Sprint("n", i), Values: v})
	}
	if err := s.Upsert(ctx, vs...); err != nil {
		t.Fatal(err)
	}
	var plan string
	q := "[1,2,3,4,5,6,7,8]"
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "EXPLAIN (FORMAT TEXT) SELECT id FROM "+pgx.Identifier{s.Table()}.Sanitize()+
			" ORDER BY embedding <=> $1::text::vector LIMIT 5", q)
		if err != nil {
			return err
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		plan = strings.Join(lines, "\n")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if want := s.Table() + "_cos_hnsw"; !strings.Contains(plan, want) {
		t.Errorf("plan %q does not use %s", plan, want)
	}
	got, err := s.Search(ctx, []float32{1, 2, 3, 4, 5, 6, 7, 8}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 100 {
		t.Errorf("Search(k=100) over 300 rows with the index returned %d", len(got))
	}
	if !slices.IsSortedFunc(got, func(a, b vectorstore.Match) int { return cmp.Compare(a.Distance, b.Distance) }) {
		t.Errorf("Search(k=100) is not nearest first: %v", got)
	}
}

func TestDimensionsOfExistingTable(t *testing.T) {
	ctx := context.Background()
	opts := server(t)
	opts.Namespace, opts.Dimensions = namespace(), 4
	// Someone made the table with another vector length.
	pool := newPool(t)
	table := opts.Namespace + "_aiproxy_vectors_4"
	if _, err := pool.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS vector; CREATE TABLE "+table+" (id text PRIMARY KEY, embedding vector(5) NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dropTable(t, table) })
	_, err := pgvectorstore.New(ctx, opts)
	if !errors.Is(err, vectorstore.ErrDimensions) {
		t.Fatalf("New over a vector(5) table with dimensions 4: %v, want ErrDimensions", err)
	}
}

func TestExistingPool(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t)
	opts := pgvectorstore.Options{Pool: pool, Namespace: namespace(), Dimensions: 2}
	s := open(t, opts)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("the caller's pool was closed by Store.Close: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	_, err = pgvectorstore.New(context.Background(), pgvectorstore.Options{Port: port, Dimensions: 4, Timeout: 500})
	if err == nil {
		t.Fatal("New against a closed port succeeded")
	}
}

func TestOptionsErrors(t *testing.T) {
	for _, opts := range []pgvectorstore.Options{
		{},
		{Dimensions: 4, Metric: "dot"},
		{Dimensions: 20000},
		{Dimensions: 4, Table: "bad-name"},
		{Dimensions: 4, Namespace: "x; DROP TABLE y"},
		{Dimensions: 4, Table: "a_very_long_table_name_that_goes_on_and_on_and_on_and_on_and_on"},
		{Dimensions: 4, SSL: true, SSLVersion: "sslv3"},
		{Dimensions: 4, SSL: true, SSLCert: "-----BEGIN CERTIFICATE-----\nnope", SSLCertKey: "secret-key-text"},
	} {
		if s, err := pgvectorstore.New(context.Background(), opts); err == nil {
			s.Close()
			t.Errorf("New(%+v) succeeded, want an error", opts)
		} else if strings.Contains(err.Error(), "secret-key-text") {
			t.Errorf("error %q repeats key material", err)
		}
	}
}

func BenchmarkSearch(b *testing.B) {
	for _, metric := range vectortest.Metrics {
		b.Run("pgvector/"+string(metric), func(b *testing.B) {
			opts := server(b)
			opts.Namespace, opts.Dimensions, opts.Metric = namespace(), 1536, metric
			vectortest.Benchmark(b, open(b, opts), metric, 16, 1536)
		})
	}
}

func newPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	server(tb)
	pool, err := pgxpool.New(context.Background(), os.Getenv("AIPROXY_PGVECTOR_URL"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}
