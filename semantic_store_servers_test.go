package aiproxy_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/embed/offline"
	"github.com/aiproxy/aiproxy/secret"
	"github.com/aiproxy/aiproxy/vectorstore"
	pgvectorstore "github.com/aiproxy/aiproxy/vectorstore/pgvector"
	redisstore "github.com/aiproxy/aiproxy/vectorstore/redis"
)

// storeCase points a config's vectordb at one kind of store, under a namespace of its own.
type storeCase struct {
	name string
	// use points cfg (which has a VectorDB) at the store under namespace ns; call it again
	// with the same ns for a second Proxy (a replica, or a restart) that shares the vectors.
	use func(t *testing.T, cfg *aiproxy.Config, ns string)
	// count returns how many vectors namespace ns holds.
	count func(t *testing.T, ns string) int
}

// stores are the stores every semantic routing test runs on: the real servers that
// scripts/services.sh starts. A missing server variable fails the test.
var stores = []storeCase{
	{name: "memory", use: useMemory, count: countMemory},
	{name: "redis7", use: useRedis("AIPROXY_REDIS7_ADDR"), count: countRedis("AIPROXY_REDIS7_ADDR")},
	{name: "redis8", use: useRedis("AIPROXY_REDIS8_ADDR"), count: countRedis("AIPROXY_REDIS8_ADDR")},
	{name: "pgvector", use: usePGVector, count: countPGVector},
}

var nsSeq atomic.Int64

// newNamespace is unique to this run: the servers are shared.
func newNamespace() string {
	return fmt.Sprintf("semt%d_%d", time.Now().UnixNano()%1e12, nsSeq.Add(1))
}

func env(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run the tests after `. scripts/services.sh`, which starts the servers and sets it", name)
	}
	return v
}

// memories are the memory stores by namespace: "sharing a namespace" is sharing the value.
var memories = map[string]*vectorstore.Memory{}

func useMemory(t *testing.T, cfg *aiproxy.Config, ns string) {
	db := cfg.VectorDB
	db.Strategy, db.Store = "memory", nil
	if memories[ns] == nil {
		memories[ns] = vectorstore.NewMemory(db.DistanceMetric, 0)
	}
	cfg.VectorStore = memories[ns]
}

func countMemory(t *testing.T, ns string) int {
	ms, err := memories[ns].Search(context.Background(), make([]float32, offline.New().Dimensions()), -1)
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

func useRedis(variable string) func(*testing.T, *aiproxy.Config, string) {
	return func(t *testing.T, cfg *aiproxy.Config, ns string) {
		db := cfg.VectorDB
		host, port, err := net.SplitHostPort(env(t, variable))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := strconv.Atoi(port)
		db.Strategy = "redis"
		db.Store = &redisstore.Options{Host: host, Port: p, Namespace: "aiproxy-test:" + ns}
		t.Cleanup(func() {
			c := redis.NewClient(&redis.Options{Addr: os.Getenv(variable)})
			defer c.Close()
			keys, _ := c.Keys(context.Background(), "aiproxy-test:"+ns+":*").Result()
			if len(keys) > 0 {
				c.Del(context.Background(), keys...)
			}
		})
	}
}

func countRedis(variable string) func(*testing.T, string) int {
	return func(t *testing.T, ns string) int {
		c := redis.NewClient(&redis.Options{Addr: env(t, variable)})
		defer c.Close()
		ctx := context.Background()
		keys, err := c.Keys(ctx, "aiproxy-test:"+ns+":*").Result()
		if err != nil || len(keys) != 1 {
			t.Fatalf("keys of namespace %s: %v %v", ns, keys, err)
		}
		if strings.HasSuffix(keys[0], ":vset") {
			return int(c.VCard(ctx, keys[0]).Val())
		}
		return int(c.HLen(ctx, keys[0]).Val())
	}
}

func usePGVector(t *testing.T, cfg *aiproxy.Config, ns string) {
	db := cfg.VectorDB
	u, err := url.Parse(env(t, "AIPROXY_PGVECTOR_URL"))
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	password, _ := u.User.Password()
	db.Strategy = "pgvector"
	db.Store = &pgvectorstore.Options{Host: u.Hostname(), Port: port, Database: strings.TrimPrefix(u.Path, "/"),
		User: secret.Secret(u.User.Username()), Password: secret.Secret(password), Namespace: ns}
	t.Cleanup(func() {
		for _, table := range pgTables(t, ns) {
			pgExec(t, "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize())
		}
	})
}

func countPGVector(t *testing.T, ns string) int {
	tables := pgTables(t, ns)
	if len(tables) != 1 {
		t.Fatalf("tables of namespace %s: %v", ns, tables)
	}
	c := pgConnect(t)
	defer c.Close(context.Background())
	var n int
	if err := c.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{tables[0]}.Sanitize()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func pgConnect(t *testing.T) *pgx.Conn {
	c, err := pgx.Connect(context.Background(), env(t, "AIPROXY_PGVECTOR_URL"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pgTables(t *testing.T, ns string) []string {
	c := pgConnect(t)
	defer c.Close(context.Background())
	rows, err := c.Query(context.Background(), "SELECT tablename FROM pg_tables WHERE tablename LIKE $1", ns+"\\_%")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return tables
}

func pgExec(t *testing.T, sql string) {
	c := pgConnect(t)
	defer c.Close(context.Background())
	if _, err := c.Exec(context.Background(), sql); err != nil {
		t.Errorf("%s: %v", sql, err)
	}
}

// TestRedisACLUser: vectordb.redis username and password authenticate as a Redis ACL user
// (created here, unique to the run, deleted after) on a real Redis 7; a wrong password
// sends requests to CATCHALL with an error that does not show it.
func TestRedisACLUser(t *testing.T) {
	addr := env(t, "AIPROXY_REDIS7_ADDR")
	admin := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { admin.Close() }) // after the user is deleted: cleanups run last first
	ctx := context.Background()
	ns := newNamespace()
	user, password := "aiproxy-acl-"+ns, "pw-"+ns
	require.NoError(t, admin.Do(ctx, "ACL", "SETUSER", user, "reset", "on", ">"+password, "~aiproxy-test:"+ns+":*", "+@all").Err())
	t.Cleanup(func() { assert.NoError(t, admin.Do(ctx, "ACL", "DELUSER", user).Err()) })

	ups := fakes(t, "gpt-3.5-turbo", "gpt-4o", "mistral-tiny")
	cfg := seedConfig(t, "seed000-deck.yaml", stores[1], ns, ups) // redis7
	redisOptions := cfg.VectorDB.Store.(*redisstore.Options)
	redisOptions.Username, redisOptions.Password = secret.Secret(user), secret.Secret(password)
	p := newSeedProxy(t, cfg)
	for _, sp := range seed000Prompts {
		_, model := chat(t, p, sp.prompt)
		assert.Equal(t, sp.model, model, sp.prompt)
	}
	assert.Equal(t, 2, countRedis("AIPROXY_REDIS7_ADDR")(t, ns), "the descriptions stored as the ACL user")

	cfg = seedConfig(t, "seed000-deck.yaml", stores[1], newNamespace(), ups)
	redisOptions = cfg.VectorDB.Store.(*redisstore.Options)
	redisOptions.Username, redisOptions.Password = secret.Secret(user), "wrong-"+secret.Secret(password)
	logs := &lockedBuffer{}
	cfg.Logger = logs.logger()
	p = newSeedProxy(t, cfg)
	_, err := p.Explain(ctx, "What is the derivative of sin(x)?")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WRONGPASS")
	_, model := chat(t, p, "What is the derivative of sin(x)?")
	assert.Equal(t, "mistral-tiny", model, "a store that refuses the credentials routes to CATCHALL")
	assert.NotContains(t, err.Error()+logs.String(), password)
}
