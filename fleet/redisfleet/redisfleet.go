// Package redisfleet keeps the target state that the Proxies of a fleet share in Redis: a
// single server, Sentinel or Cluster, connected with the same options as the Redis vector
// store (Kong's shared redis block). Set it as aiproxy.Config.Fleet.Store:
//
//	store, err := redisfleet.New(redisfleet.Options{Redis: redisstore.Options{Host: "redis"}, Prefix: "chat"})
//	cfg.Fleet = &aiproxy.FleetConfig{Store: store}
//
// Each sync is one EVALSHA of a Lua script, which applies the Proxy's report and reads the
// fleet's state atomically, on Redis's clock. A fleet's keys share one hash tag, so they live
// in one Cluster slot: "{<prefix>}:targets" (breaker, holds, latency and usage per target)
// and "{<prefix>}:inflight" (each Proxy's leased in-flight counts).
package redisfleet

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/secret"
	redisstore "github.com/aiproxy/aiproxy/vectorstore/redis"
)

// Options configure a Store.
type Options struct {
	// Redis is the connection, as for the vector store: Kong's redis block (host, port,
	// sentinel_*, cluster_*, ssl, timeouts in milliseconds), or Redis.Client for a client
	// of your own, which Close then leaves open. Its vector fields (Dimensions, Metric,
	// Namespace, Mode, Approximate) are ignored. The credentials are used as given: a
	// {vault://...} reference is an error at New (resolve it first). The zero value is
	// 127.0.0.1:6379.
	Redis redisstore.Options `json:"redis" yaml:"redis"`
	// Prefix names the fleet: Proxies with the same Prefix (and target names) share state,
	// so several fleets can share one Redis. Empty means "aiproxy:fleet".
	Prefix string `json:"prefix,omitempty" yaml:"prefix,omitempty"`
}

// Store is an aiproxy.FleetStore in Redis. It is safe for concurrent use, by several Proxies.
type Store struct {
	client redis.UniversalClient
	owned  bool
	keys   []string
}

var _ aiproxy.FleetStore = (*Store)(nil)

// keyTTL is how long a fleet's keys outlive its last sync.
const keyTTL = 24 * time.Hour

//go:embed sync.lua
var syncLua string

var syncScript = redis.NewScript(syncLua)

// New returns a Store. It does no I/O: the first sync connects.
func New(o Options) (*Store, error) {
	r := &o.Redis
	for _, c := range []secret.Secret{r.Username, r.Password, r.SentinelUsername, r.SentinelPassword} {
		if !c.IsLiteral() {
			return nil, errors.New("redisfleet: the Redis credentials are secret references: resolve them first")
		}
	}
	s := &Store{client: o.Redis.Client}
	if s.client == nil {
		c, err := o.Redis.NewClient()
		if err != nil {
			return nil, fmt.Errorf("redisfleet: %w", err)
		}
		s.client, s.owned = c, true
	}
	prefix := o.Prefix
	if prefix == "" {
		prefix = "aiproxy:fleet"
	}
	tag := "{" + prefix + "}"
	s.keys = []string{tag + ":targets", tag + ":inflight"}
	return s, nil
}

// Keys are the Redis keys that hold the fleet's state.
func (s *Store) Keys() []string { return s.keys }

// Close closes the connections New opened; a client passed in Options stays open.
func (s *Store) Close() error {
	if s.owned {
		return s.client.Close()
	}
	return nil
}

// report is one target's part of the script's input.
type report struct {
	Name       string  `json:"n"`
	Reset      bool    `json:"r"`
	Failures   int     `json:"f"`
	HoldMS     int64   `json:"h"`
	InFlight   int64   `json:"c"`
	LatencySum float64 `json:"ls"`
	Samples    int     `json:"ln"`
	Usage      float64 `json:"u"`
}

// Sync runs the script: one command.
func (s *Store) Sync(ctx context.Context, r *aiproxy.FleetReport) ([]aiproxy.FleetView, error) {
	in := make([]report, len(r.Targets))
	for i, t := range r.Targets {
		in[i] = report{Name: t.Name, Reset: t.Reset, Failures: t.Failures, HoldMS: ceilMS(t.Hold), InFlight: t.InFlight,
			LatencySum: t.LatencySum, Samples: t.LatencySamples, Usage: t.Usage}
	}
	arg, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("redisfleet: %w", err)
	}
	out, err := syncScript.Run(ctx, s.client, s.keys, r.Instance, ceilMS(r.Lease), r.MaxFails, ceilMS(r.FailTimeout),
		keyTTL.Milliseconds(), arg).Text()
	if err != nil {
		return nil, fmt.Errorf("redisfleet: %w", err)
	}
	// Each view: hold (ms), others' in-flight, latency (-1: none), usage.
	var rows [][4]float64
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		return nil, fmt.Errorf("redisfleet: the script answered %q: %w", out, err)
	}
	if len(rows) != len(in) {
		return nil, errors.New("redisfleet: the script answered for other targets")
	}
	views := make([]aiproxy.FleetView, len(rows))
	for i, row := range rows {
		views[i] = aiproxy.FleetView{Hold: time.Duration(row[0]) * time.Millisecond, InFlight: int64(row[1]),
			Latency: row[2], HasLatency: row[2] >= 0, Usage: row[3]}
	}
	return views, nil
}

// ceilMS is d in whole milliseconds, rounded up so that a hold never ends early.
func ceilMS(d time.Duration) int64 {
	return int64(math.Ceil(float64(d) / float64(time.Millisecond)))
}
