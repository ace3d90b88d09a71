// Package redisstore is a vectorstore.Store in Redis (go-redis v9), configured like Kong's
// vectordb.redis.
//
// On every Redis (7, Redis Stack, Valkey, ...) the vectors of a namespace live in one hash,
// field = ID and value = the vector as little-endian float32s, and Search reads the hash and
// measures client-side: exact, and cheap for the few vectors a semantic balancer keeps. On a
// server with Vector Sets (Redis 8), detected once by New, cosine stores keep their vectors
// in a Vector Set (VADD ... NOQUANT) and search with VSIM.
//
// VSIM scores are similarities s = (1 + cos)/2 in [0, 1]; Search reports the cosine distance
// 1 − cos = 2(1 − s), clamped to [0, 2], so Match.Distance means what it means in every other
// store. Redis computes in float32 over vectors it has normalised, so distances agree with
// vectorstore.Distance to about 1e-6. Vector Sets have no euclidean metric (a set normalises
// its vectors, losing their lengths), so euclidean stores keep using the hash.
//
// Store is a vectorstore.Getter: Get reads the hash (HMGET) or the Vector Set (VEMB). A
// Vector Set returns its normalised float32 values times the stored norm, within float32
// rounding of what was upserted. It is a vectorstore.Pruner too: Prune lists the IDs (HKEYS,
// or VRANDMEMBER) and deletes those picked (HDEL, or VREM).
package redisstore

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/aiproxy/aiproxy/vectorstore"
)

// Store is a vectorstore.Store in Redis. It is safe for concurrent use.
type Store struct {
	client     redis.UniversalClient
	owned      bool
	metric     vectorstore.Metric
	dims       int
	key        string
	vectorSets bool
	exact      bool
}

var (
	_ vectorstore.Store  = (*Store)(nil)
	_ vectorstore.Getter = (*Store)(nil)
	_ vectorstore.Pruner = (*Store)(nil)
	_ io.Closer          = (*Store)(nil)
)

// New connects (or uses opts.Client) and detects whether the server has Vector Sets. It
// fails when the server cannot be reached.
func New(ctx context.Context, opts Options) (*Store, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &Store{client: opts.Client, metric: opts.Metric, dims: opts.Dimensions, exact: !opts.Approximate}
	if s.client == nil {
		c, err := opts.NewClient()
		if err != nil {
			return nil, err
		}
		s.client, s.owned = c, true
	}
	useSets := false
	if opts.Mode != ModeHash && opts.Metric == vectorstore.Cosine {
		has, err := hasVectorSets(ctx, s.client)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("redisstore: %w", err)
		}
		if opts.Mode == ModeVectorSet && !has {
			s.Close()
			return nil, errors.New("redisstore: mode vectorset, but the server has no Vector Sets (VADD/VSIM need Redis 8)")
		}
		useSets = has
	} else if err := s.client.Ping(ctx).Err(); err != nil {
		s.Close()
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	s.vectorSets = useSets
	suffix := "hash"
	if useSets {
		suffix = "vset"
	}
	s.key = opts.Namespace + ":" + strconv.Itoa(opts.Dimensions) + ":" + suffix
	return s, nil
}

// hasVectorSets asks the server whether it knows VADD.
func hasVectorSets(ctx context.Context, c redis.UniversalClient) (bool, error) {
	info, err := c.Do(ctx, "COMMAND", "INFO", "VADD").Slice()
	if err == nil {
		return len(info) == 1 && info[0] != nil, nil
	}
	if !refused(err) {
		return false, err // not reachable, or not authenticated
	}
	// COMMAND may be renamed or disabled: try the command itself.
	err = c.Do(ctx, "VCARD", "aiproxy:probe").Err()
	switch {
	case err == nil || errors.Is(err, redis.Nil):
		return true, nil
	case refused(err):
		return false, nil
	}
	return false, err
}

// refused reports a command the server does not know or does not let this user run (an
// ACL's NOPERM), as opposed to a failed connection or authentication.
func refused(err error) bool {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return false
	}
	msg := rerr.Error()
	return strings.HasPrefix(msg, "ERR unknown command") || strings.HasPrefix(msg, "NOPERM")
}

// VectorSets reports whether the store keeps its vectors in a Vector Set (else in a hash).
func (s *Store) VectorSets() bool { return s.vectorSets }

// Key is the Redis key that holds the store's vectors.
func (s *Store) Key() string { return s.key }

// Close closes the connections New opened; a Client passed in Options stays open.
func (s *Store) Close() error {
	if s.owned {
		return s.client.Close()
	}
	return nil
}

// Upsert writes vectors in one transaction: all of them, or none when one has the wrong
// length.
func (s *Store) Upsert(ctx context.Context, vectors ...vectorstore.Vector) error {
	if err := vectorstore.CheckVectors(s.dims, vectors); err != nil {
		return err
	}
	if len(vectors) == 0 {
		return nil
	}
	if !s.vectorSets {
		fields := make([]any, 0, 2*len(vectors))
		for _, v := range vectors {
			fields = append(fields, v.ID, encode(v.Values))
		}
		if err := s.client.HSet(ctx, s.key, fields...).Err(); err != nil {
			return fmt.Errorf("redisstore: upsert: %w", err)
		}
		return nil
	}
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, v := range vectors {
			p.VAddWithArgs(ctx, s.key, v.ID, &redis.VectorFP32{Val: encode(v.Values)}, &redis.VAddArgs{NoQuant: true})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: upsert: %w", err)
	}
	return nil
}

// Get returns the stored vectors of ids, in order, leaving out the missing ones: one HMGET
// on the hash, or one pipeline of VEMB on a Vector Set. A Vector Set keeps a vector
// normalised, with its norm, so VEMB returns the normalised float32 values times the norm:
// within float32 rounding (about 1e-7 relative) of what was stored, not bit for bit. That
// suits the semantic balancer, which only reuses a vector under the ID it stored it with
// (a hash of the embedder and the text) and measures cosine distances, which ignore length.
func (s *Store) Get(ctx context.Context, ids ...string) ([]vectorstore.Vector, error) {
	out := make([]vectorstore.Vector, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	if !s.vectorSets {
		raws, err := s.client.HMGet(ctx, s.key, ids...).Result()
		if err != nil {
			return nil, fmt.Errorf("redisstore: get: %w", err)
		}
		for i, raw := range raws {
			str, ok := raw.(string)
			values := make([]float32, s.dims)
			if ok && decode(values, str) {
				out = append(out, vectorstore.Vector{ID: ids[i], Values: values})
			}
		}
		return out, nil
	}
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.VEmb(ctx, s.key, id, false)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: get: %w", err)
	}
	for i, cmd := range cmds {
		reply, err := cmd.Result()
		if errors.Is(err, redis.Nil) {
			continue // no such element, or no such key
		}
		if err != nil {
			return nil, fmt.Errorf("redisstore: get: %w", err)
		}
		if values, ok := floats(reply, s.dims); ok {
			out = append(out, vectorstore.Vector{ID: ids[i], Values: values})
		}
	}
	return out, nil
}

// Prune deletes the vectors stale picks: it lists the IDs (HKEYS, or VRANDMEMBER with the
// set's cardinality, which returns every element once) and deletes the stale ones (HDEL, or
// a pipeline of VREM).
func (s *Store) Prune(ctx context.Context, stale func(id string) bool) (int, error) {
	var ids []string
	var err error
	if !s.vectorSets {
		ids, err = s.client.HKeys(ctx, s.key).Result()
	} else {
		var n int64
		if n, err = s.client.VCard(ctx, s.key).Result(); err == nil && n > 0 {
			ids, err = s.client.VRandMemberCount(ctx, s.key, int(n)).Result()
		}
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("redisstore: prune: %w", err)
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return !stale(id) })
	if len(ids) == 0 {
		return 0, nil
	}
	if !s.vectorSets {
		n, err := s.client.HDel(ctx, s.key, ids...).Result()
		if err != nil {
			return 0, fmt.Errorf("redisstore: prune: %w", err)
		}
		return int(n), nil
	}
	cmds := make([]*redis.BoolCmd, len(ids))
	if _, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.VRem(ctx, s.key, id)
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("redisstore: prune: %w", err)
	}
	n := 0
	for _, c := range cmds {
		if c.Val() {
			n++
		}
	}
	return n, nil
}

// floats converts VEMB's reply (doubles in RESP3, strings in RESP2) to n float32s, and
// reports whether it held exactly n numbers.
func floats(reply []any, n int) ([]float32, bool) {
	if len(reply) != n {
		return nil, false
	}
	values := make([]float32, n)
	for i, r := range reply {
		switch r := r.(type) {
		case float64:
			values[i] = float32(r)
		case string:
			f, err := strconv.ParseFloat(r, 32)
			if err != nil {
				return nil, false
			}
			values[i] = float32(f)
		default:
			return nil, false
		}
	}
	return values, true
}

// Search returns up to k stored vectors nearest to query (k < 0: all of them).
func (s *Store) Search(ctx context.Context, query []float32, k int) ([]vectorstore.Match, error) {
	if err := vectorstore.CheckDimensions(query, s.dims); err != nil {
		return nil, err
	}
	if k == 0 {
		return []vectorstore.Match{}, nil
	}
	if s.vectorSets {
		return s.searchSet(ctx, query, k)
	}
	all, err := s.client.HGetAll(ctx, s.key).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: search: %w", err)
	}
	matches := make([]vectorstore.Match, 0, len(all))
	buf := make([]float32, s.dims)
	for id, raw := range all {
		if !decode(buf, raw) {
			continue // not one of ours
		}
		matches = append(matches, vectorstore.Match{ID: id, Distance: vectorstore.Distance(s.metric, query, buf)})
	}
	sortMatches(matches)
	if k > 0 && len(matches) > k {
		matches = matches[:k]
	}
	return matches, nil
}

func (s *Store) searchSet(ctx context.Context, query []float32, k int) ([]vectorstore.Match, error) {
	if k < 0 {
		n, err := s.client.VCard(ctx, s.key).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("redisstore: search: %w", err)
		}
		if n == 0 {
			return []vectorstore.Match{}, nil
		}
		k = int(n)
	}
	// The exact scan of a few vectors takes microseconds: running it on Redis's main thread
	// (NOTHREAD) saves the hand-off to a worker thread, which costs more (about 4x here).
	args := &redis.VSimArgs{Count: int64(k), Truth: s.exact, NoThread: s.exact}
	if !s.exact && k > 100 {
		args.EF = int64(k) // let the graph search find k candidates
	}
	scores, err := s.client.VSimWithArgsWithScores(ctx, s.key, &redis.VectorFP32{Val: encode(query)}, args).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: search: %w", err)
	}
	matches := make([]vectorstore.Match, len(scores))
	for i, sc := range scores {
		// VSIM's score is (1 + cos)/2; cosine distance is 1 - cos.
		matches[i] = vectorstore.Match{ID: sc.Name, Distance: min(2, max(0, 2*(1-sc.Score)))}
	}
	sortMatches(matches)
	return matches, nil
}

func sortMatches(ms []vectorstore.Match) {
	slices.SortFunc(ms, func(a, b vectorstore.Match) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), strings.Compare(a.ID, b.ID))
	})
}

// encode returns v as little-endian float32s (the layout of VADD's FP32 and of the hash).
func encode(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

// decode fills dst from raw and reports whether raw held exactly len(dst) values.
func decode(dst []float32, raw string) bool {
	if len(raw) != 4*len(dst) {
		return false
	}
	for i := range dst {
		j := 4 * i
		dst[i] = math.Float32frombits(uint32(raw[j]) | uint32(raw[j+1])<<8 | uint32(raw[j+2])<<16 | uint32(raw[j+3])<<24)
	}
	return true
}
