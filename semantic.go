package aiproxy

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aiproxy/aiproxy/internal/semroute"
	"github.com/aiproxy/aiproxy/secret"
	"github.com/aiproxy/aiproxy/vectorstore"
)

// Embedder turns texts into vectors for the semantic balancer. Implementations are safe for
// concurrent use and return one vector per text, in order, all of the same length.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// EmbedderFunc adapts a function to Embedder.
type EmbedderFunc func(ctx context.Context, texts []string) ([][]float32, error)

// Embed calls f.
func (f EmbedderFunc) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return f(ctx, texts)
}

// VectorStore keeps the embeddings of target descriptions; see package vectorstore.
type VectorStore = vectorstore.Store

// Scoring is how the semantic balancer scores a target against a prompt
// (VectorDBConfig.Scoring).
type Scoring string

const (
	// ScoreNearest, the zero value, is Kong's rule: a target's distance is that of its
	// nearest text (description or example) in the vector store's metric, and Threshold
	// applies to it.
	ScoreNearest Scoring = ""
	// ScoreCombined scores each target by three signals: the mean cosine similarity of the
	// prompt to the target's 5 nearest texts (its description and examples), so that one
	// stray example does not capture prompts, and the BM25 word overlap of the prompt with
	// all of the target's texts, normalised to [0, 1), half and half, weighing 0.75 in all;
	// and, weighing 0.25, the probability that a logistic-regression classifier over texts'
	// vectors, words and character n-grams, fitted at start to every target's texts, gives
	// the target. A target
	// without examples whose description lists topics separated by commas has each of
	// them as a text as well, and its vector signal is its nearest text's similarity. A
	// target's distance is 1 − (that combined score − half the best other target's), so
	// that a prompt two targets claim alike is less sure than one that only one claims.
	// With Threshold and MinSimilarity nil, the threshold is calibrated at start from the
	// examples (at least 10 in all): the distance that 75 % of them reach when each is
	// scored so, standing for itself in its own target. With fewer examples, and no
	// threshold, every prompt goes to its best target. It needs the cosine metric; the
	// store keeps the vectors for restarts and replicas, and the decision is made in memory.
	ScoreCombined Scoring = "combined"
)

// Decision is the semantic balancer's choice for one prompt.
type Decision struct {
	// Description is the description (or CATCHALL) of the targets chosen.
	Description string
	// Distance is the best match's distance in the vector store's metric (with
	// ScoreCombined, see Score); +Inf when nothing could be compared.
	Distance float64
	// Matched reports a match within the threshold; false means the CATCHALL target.
	Matched bool
	// Threshold is the largest Distance that matches: vectordb's threshold, or with
	// ScoreCombined and no threshold set, the one calibrated from the examples (+Inf for
	// none). Explain fills it.
	Threshold float64
	// Scores lists every description's distance, nearest first (Explain fills it).
	Scores []Score
}

// Score is one description's distance from a prompt.
type Score struct {
	Description string
	Targets     []string
	Distance    float64
	// Vector, Lexical and Classifier are the signals of ScoreCombined: the mean cosine
	// similarity of the prompt to the target's 5 nearest texts (without examples, its
	// description's or a listed topic's, the nearest), the BM25 word overlap with its texts
	// in [0, 1), and the probability the classifier fitted at start gives the target.
	// Combined is 0.75 × the mean of the first two + 0.25 × Classifier, and Distance = 1 −
	// (Combined − half the highest Combined of the other targets). Zero with ScoreNearest.
	Vector, Lexical, Classifier, Combined float64
}

// semanticRouter is the semantic balancer: it embeds each distinct description (and its
// examples) once, or reuses the vectors a restart or a replica stored (see load), finds
// the nearest to the last user message, and sends the request to the targets with that
// description, or to the CATCHALL targets when nothing is within the threshold. Targets
// sharing a description are balanced round-robin by weight.
type semanticRouter struct {
	embedder  Embedder
	idPrefix  string // identifies the embedder and metric, so vectors of another space never match
	metric    vectorstore.Metric
	threshold float64
	dims      int // vectordb.dimensions, checked against the embeddings model; 0: not checked
	db        *VectorDBConfig
	vaults    *secret.Vaults // for the store's credentials
	now       func() time.Time
	logger    *slog.Logger

	groups   []*semanticGroup
	byID     map[string]*semanticGroup
	catchall *pool
	cache    *embedCache

	// With ScoreCombined: combined is set, router is fitted by load, and decisions holds
	// *semroute.Decision scratch for it; calibrate is set when no threshold was configured.
	combined, calibrate bool
	router              *semroute.Router
	decisions           sync.Pool

	mu       sync.Mutex // serialises initialisation and Close
	store    VectorStore
	opened   bool // the router opened store, so it closes it
	failedAt time.Time
	failure  error // the last initialisation's, returned until initRetry has passed
	ready    atomic.Bool

	// embedding and searching hold the last failure of the embedder and of the vector store
	// once running.
	embedding, searching holdOff
}

// initRetry is how long after a failure of the embedder or the store (at the start, or
// while running) requests go to CATCHALL without trying it again, so that they do not queue
// behind one another's timeouts.
const initRetry = 5 * time.Second

// holdOff remembers a dependency's last failure for initRetry: until then, held returns it at
// once, and the first request after that tries the dependency again. Reading it costs one
// atomic load while the dependency is well.
type holdOff struct{ last atomic.Pointer[heldFailure] }

type heldFailure struct {
	until time.Time
	err   error
}

// held returns the failure that holds the dependency off at now, or nil.
func (h *holdOff) held(now func() time.Time) error {
	if f := h.last.Load(); f != nil && now().Before(f.until) {
		return f.err
	}
	return nil
}

// record notes the outcome of a call of the dependency: a failure holds it off from now
// (its error, not the client's: the caller checks); a success ends a hold.
func (h *holdOff) record(now func() time.Time, err error) {
	switch {
	case err != nil:
		h.last.Store(&heldFailure{until: now().Add(initRetry), err: err})
	case h.last.Load() != nil:
		h.last.Store(nil)
	}
}

type semanticGroup struct {
	description string
	// texts are the description, the examples of its targets, and with ScoreCombined and
	// no examples, the description's phrases; examples is how many of texts, after the
	// first, are examples.
	texts    []string
	examples int
	pool     *pool
}

// newSemanticRouter returns the semantic balancer over targets, which env built, with the
// embedder and vector database cfg names. The router, its embedder and its store are
// returned for Close to close as well.
func newSemanticRouter(cfg *Config, targets []*target, env *targetEnv, logger *slog.Logger) (*semanticRouter, error) {
	r := &semanticRouter{byID: map[string]*semanticGroup{}, vaults: env.secrets, now: env.now, logger: logger,
		threshold: math.Inf(1), metric: vectorstore.Cosine, db: cfg.VectorDB}
	if db := cfg.VectorDB; db != nil {
		if db.DistanceMetric != "" {
			r.metric = db.DistanceMetric
		}
		switch {
		case db.Threshold != nil && db.MinSimilarity != nil:
			return nil, errors.New("vectordb: set threshold or MinSimilarity, not both")
		case db.Threshold != nil:
			r.threshold = *db.Threshold
		case db.MinSimilarity != nil:
			if r.metric != vectorstore.Cosine {
				return nil, errors.New("vectordb: MinSimilarity needs the cosine distance metric")
			}
			r.threshold = 1 - *db.MinSimilarity
		}
		if db.Dimensions < 0 {
			return nil, fmt.Errorf("vectordb.dimensions %d must not be negative", db.Dimensions)
		}
		if usesEmbeddingsModel(cfg) {
			r.dims = db.Dimensions // Kong configs size vectordb for their remote model; see VectorDBConfig.Dimensions
		}
		if cfg.VectorStore == nil {
			if err := checkVectorDB(db); err != nil {
				return nil, err
			}
		}
		switch db.Scoring {
		case ScoreNearest:
		case ScoreCombined:
			r.combined, r.calibrate = true, db.Threshold == nil && db.MinSimilarity == nil
		default:
			return nil, fmt.Errorf("vectordb: unknown Scoring %q (want ScoreNearest or ScoreCombined)", db.Scoring)
		}
	}
	if r.metric != vectorstore.Cosine && r.metric != vectorstore.Euclidean {
		return nil, fmt.Errorf("vectordb.distance_metric %q must be cosine or euclidean", r.metric)
	}
	if r.combined && r.metric != vectorstore.Cosine {
		return nil, errors.New("vectordb: ScoreCombined compares cosine similarities; set distance_metric cosine")
	}
	var err error
	var embedderID string
	if r.embedder, embedderID, err = newEmbedder(cfg, env, logger); err != nil {
		return nil, err
	}
	r.store = cfg.VectorStore
	r.idPrefix = "aiproxy:" + string(r.metric) + ":" + embedderID + ":"
	r.cache = newEmbedCache(4096, embedTimeout(cfg.Balancer), r.embedPrompt)

	byDesc := map[string]*semanticGroup{}
	var catchall []*target
	for _, t := range targets {
		switch {
		case t.cfg.isCatchall():
			catchall = append(catchall, t)
			continue
		case strings.TrimSpace(t.cfg.Description) == "":
			return nil, fmt.Errorf("target %s: the semantic balancer needs a description (or CATCHALL)", t.name)
		}
		g := byDesc[t.cfg.Description]
		if g == nil {
			g = &semanticGroup{description: t.cfg.Description, texts: []string{t.cfg.Description}}
			byDesc[t.cfg.Description] = g
			r.groups = append(r.groups, g)
		}
		g.pool = appendPool(g.pool, t)
		for _, ex := range t.cfg.Examples {
			if !slices.Contains(g.texts, ex) {
				g.texts = append(g.texts, ex)
				g.examples++
			}
		}
	}
	if r.combined {
		for _, g := range r.groups {
			if g.examples == 0 {
				g.texts = append(g.texts, phrases(g.description)...)
			}
		}
	}
	for _, t := range catchall {
		r.catchall = appendPool(r.catchall, t)
	}
	return r, nil
}

// phrases are the comma-separated parts of a description that lists topics (Kong's
// "programming, coding, software development, …"), when it has more than one, less
// duplicates and the description itself.
func phrases(description string) []string {
	var out []string
	for p := range strings.SplitSeq(description, ",") {
		if p = strings.TrimSpace(p); p != "" && p != description && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// embedTimeout bounds the embedding of a prompt, which runs detached from the request that
// asked for it (see embedCache.get): as long as one upstream request may take, the
// balancer's connect, write and read timeouts together (3 minutes by default), whatever the
// embedder.
func embedTimeout(b BalancerConfig) time.Duration {
	connect, write, read := b.timeouts()
	return connect + write + read
}

// appendPool adds t to a round-robin pool.
func appendPool(pl *pool, t *target) *pool {
	var ts []*target
	if pl != nil {
		ts = pl.targets
	}
	ts = append(ts, t)
	return &pool{targets: ts, picker: newRoundRobin(ts)}
}

// vectorID names a text's vector: a hash of the embedding space and the text, so that a
// changed description gets a new vector and replicas share the ones they agree on.
func (r *semanticRouter) vectorID(text string) string {
	sum := sha256.Sum256([]byte(r.idPrefix + text))
	return r.idPrefix + hex.EncodeToString(sum[:16])
}

// init embeds and stores every description once. A failure is retried on a request
// initRetry later.
func (r *semanticRouter) init(ctx context.Context) error {
	if r.ready.Load() {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ready.Load() {
		return nil
	}
	now := r.now()
	if r.failure != nil && now.Sub(r.failedAt) < initRetry {
		return r.failure
	}
	if err := r.load(ctx); err != nil {
		if ctx.Err() == nil { // a client leaving is no reason to keep the others from trying
			r.failedAt, r.failure = now, err
		}
		return err
	}
	r.failure = nil
	r.ready.Store(true)
	return nil
}

// load stores the vectors of the descriptions and examples. When the store is known before
// embedding (Config.VectorStore, or the vector length is known: see storeDims) and it is a
// vectorstore.Getter, the vectors an earlier run or another replica stored are looked up by
// ID and only the missing texts are embedded and stored. Otherwise every text is embedded,
// and the store opened for the length of the vectors.
func (r *semanticRouter) load(ctx context.Context) error {
	var texts, ids []string
	for _, g := range r.groups {
		for _, t := range g.texts {
			id := r.vectorID(t)
			r.byID[id] = g
			texts, ids = append(texts, t), append(ids, id)
		}
	}
	if len(texts) == 0 {
		return nil
	}
	dims := r.storeDims()
	if r.store == nil && dims > 0 {
		if err := r.openStore(ctx, dims); err != nil {
			return err
		}
	}
	known := make(map[string][]float32, len(ids)) // the vectors by ID, for ScoreCombined
	if g, ok := r.store.(vectorstore.Getter); ok {
		stored, err := g.Get(ctx, ids...)
		if err != nil {
			return fmt.Errorf("reading the description vectors: %w", err)
		}
		for _, v := range stored {
			if dims == 0 || len(v.Values) == dims {
				known[v.ID] = v.Values
			}
		}
		var missing, missingIDs []string
		for i, id := range ids {
			if known[id] == nil {
				missing, missingIDs = append(missing, texts[i]), append(missingIDs, id)
			}
		}
		texts, ids = missing, missingIDs
	}
	if len(texts) > 0 {
		vecs, err := r.embed(ctx, texts)
		if err != nil {
			return fmt.Errorf("embedding the target descriptions: %w", err)
		}
		if r.store == nil {
			if err := r.openStore(ctx, len(vecs[0])); err != nil {
				return err
			}
		}
		vs := make([]vectorstore.Vector, len(texts))
		for i, id := range ids {
			vs[i] = vectorstore.Vector{ID: id, Values: vecs[i]}
			known[id] = vecs[i]
		}
		if err := r.store.Upsert(ctx, vs...); err != nil {
			return fmt.Errorf("storing the description vectors: %w", err)
		}
	}
	if r.combined {
		if err := r.fit(known); err != nil {
			return err
		}
	}
	r.prune(ctx)
	return nil
}

// fit builds the ScoreCombined router from the vectors of every group's texts, by ID, and
// with no threshold configured, takes the one it calibrates from the examples.
func (r *semanticRouter) fit(vecs map[string][]float32) error {
	targets := make([]semroute.Target, len(r.groups))
	for i, g := range r.groups {
		targets[i].Texts, targets[i].Examples = g.texts, g.examples
		for _, t := range g.texts {
			targets[i].Vectors = append(targets[i].Vectors, vecs[r.vectorID(t)])
		}
	}
	router, err := semroute.New(targets, semroute.Options{Fallback: math.Inf(-1)})
	if err != nil {
		return fmt.Errorf("fitting the combined scoring: %w", err)
	}
	r.router = router
	if r.calibrate {
		r.threshold = 1 - router.Threshold()
	}
	return nil
}

// prune deletes, with vectordb's PruneStale, the vectors of this embedding space that no
// current text owns: IDs of exactly vectorID's form under r.idPrefix, so that those of other
// spaces (another embedder, whose name may extend this one's, or metric) are left alone. A
// failure is logged, not returned: routing works without it.
func (r *semanticRouter) prune(ctx context.Context) {
	pr, ok := r.store.(vectorstore.Pruner)
	if r.db == nil || !r.db.PruneStale || !ok {
		return
	}
	n, err := pr.Prune(ctx, func(id string) bool {
		return len(id) == len(r.idPrefix)+32 && strings.HasPrefix(id, r.idPrefix) && r.byID[id] == nil
	})
	switch {
	case err != nil:
		r.logger.Warn("aiproxy: deleting the vectors of descriptions no longer configured failed", "error", err)
	case n > 0:
		r.logger.Info("aiproxy: deleted the vectors of descriptions no longer configured", "count", n)
	}
}

// storeDims is the length of the embedder's vectors when it is known before embedding:
// vectordb.dimensions for a remote model, or what the embedder reports with a
// Dimensions() int method (the offline embedder does); 0 when unknown.
func (r *semanticRouter) storeDims() int {
	if r.dims > 0 {
		return r.dims
	}
	if d, ok := r.embedder.(interface{ Dimensions() int }); ok {
		return max(d.Dimensions(), 0)
	}
	return 0
}

// openStore opens the store vectordb names for vectors of dims values.
func (r *semanticRouter) openStore(ctx context.Context, dims int) error {
	s, err := openStore(ctx, r.db, r.metric, dims, r.vaults)
	if err != nil {
		return fmt.Errorf("opening the vector store: %w", err)
	}
	r.store, r.opened = s, true
	return nil
}

// Close closes the vector store that the router opened.
func (r *semanticRouter) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.opened {
		return nil
	}
	r.opened = false
	if c, ok := r.store.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// embed embeds texts and checks the vectors' count and dimensions.
func (r *semanticRouter) embed(ctx context.Context, texts []string) ([][]float32, error) {
	vecs, err := r.embedder.Embed(ctx, texts)
	if err != nil {
		return nil, err
	}
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("the embedder returned %d vectors for %d texts", len(vecs), len(texts))
	}
	for _, v := range vecs {
		switch {
		case r.dims != 0 && len(v) != r.dims:
			return nil, fmt.Errorf("%w: vectordb.dimensions is %d but the embeddings model returned %d values; set vectordb.dimensions to %d (or ask the model for %d with model.options.embeddings_dimensions)",
				vectorstore.ErrDimensions, r.dims, len(v), len(v), r.dims)
		case len(v) == 0 || len(v) != len(vecs[0]):
			return nil, fmt.Errorf("%w: the embedder returned vectors of %d and %d values", vectorstore.ErrDimensions, len(vecs[0]), len(v))
		}
	}
	return vecs, nil
}

// embedPrompt embeds one prompt.
//
// It runs detached from the client's cancellation (see embedCache), so a failure is the
// embedder's, which holds it off for initRetry.
func (r *semanticRouter) embedPrompt(ctx context.Context, prompt string) ([]float32, error) {
	if err := r.embedding.held(r.now); err != nil {
		return nil, err
	}
	v, err := r.embed(ctx, []string{prompt})
	r.embedding.record(r.now, err)
	if err != nil {
		return nil, err
	}
	return v[0], nil
}

// decide scores prompt against the descriptions and applies the threshold: the group
// chosen, or nil for CATCHALL. With all, Scores lists every description.
func (r *semanticRouter) decide(ctx context.Context, prompt string, all bool) (*semanticGroup, *Decision, error) {
	best, d, err := r.search(ctx, prompt, all)
	if err == nil && all {
		d.Threshold = r.threshold
	}
	if err != nil || best == nil || d.Distance > r.threshold {
		return nil, d, err
	}
	d.Description, d.Matched = best.description, true
	return best, d, nil
}

// nearest returns the group nearest to prompt, whatever the threshold, and its distance.
func (r *semanticRouter) nearest(ctx context.Context, prompt string) (*semanticGroup, float64, error) {
	best, d, err := r.search(ctx, prompt, false)
	if err != nil {
		return nil, 0, err
	}
	return best, d.Distance, nil
}

// search finds the group nearest to prompt. The Decision it returns says CATCHALL.
func (r *semanticRouter) search(ctx context.Context, prompt string, all bool) (*semanticGroup, *Decision, error) {
	if err := r.init(ctx); err != nil {
		return nil, nil, err
	}
	d := &Decision{Description: Catchall, Distance: math.Inf(1)}
	if len(r.byID) == 0 {
		return nil, d, nil
	}
	vec, err := r.cache.get(ctx, prompt)
	if err != nil {
		return nil, nil, fmt.Errorf("embedding the prompt: %w", err)
	}
	if r.router != nil {
		if len(vec) != r.router.Dimensions() {
			return nil, nil, fmt.Errorf("%w: the embedder returned %d values for the prompt and %d for the descriptions",
				vectorstore.ErrDimensions, len(vec), r.router.Dimensions())
		}
		return r.score(vec, prompt, d, all), d, nil
	}
	if err := r.searching.held(r.now); err != nil {
		return nil, nil, err
	}
	matches, err := r.store.Search(ctx, vec, -1) // all: a shared store may hold other configurations' vectors
	if err != nil {
		err = fmt.Errorf("searching the vector store: %w", err)
		if ctx.Err() == nil { // the store's failure, not the client leaving
			r.searching.record(r.now, err)
		}
		return nil, nil, err
	}
	r.searching.record(r.now, nil)
	var best *semanticGroup
	var seen map[*semanticGroup]bool // with all: the groups scored so far
	if all {
		seen = make(map[*semanticGroup]bool, len(r.groups))
	}
	for _, m := range matches {
		g := r.byID[m.ID]
		if g == nil || seen[g] {
			continue // another configuration's vector, or a worse example of a group already scored
		}
		if best == nil {
			best, d.Distance = g, m.Distance
		}
		if !all {
			break
		}
		seen[g] = true
		d.Scores = append(d.Scores, Score{Description: g.description, Targets: names(g.pool.targets), Distance: m.Distance})
	}
	return best, d, nil
}

// score is search with ScoreCombined: it fills d for prompt, embedded as vec, and returns
// the best group.
func (r *semanticRouter) score(vec []float32, prompt string, d *Decision, all bool) *semanticGroup {
	sd, _ := r.decisions.Get().(*semroute.Decision)
	if sd == nil {
		sd = new(semroute.Decision)
	}
	defer r.decisions.Put(sd)
	r.router.Route(vec, prompt, sd)
	d.Distance = 1 - sd.Targets[sd.Best].Net
	if all {
		d.Scores = make([]Score, len(r.groups))
		for i, g := range r.groups {
			s := sd.Targets[i]
			d.Scores[i] = Score{Description: g.description, Targets: names(g.pool.targets), Distance: 1 - s.Net,
				Vector: s.Vector, Lexical: s.Lexical, Classifier: s.Classifier, Combined: s.Score}
		}
		slices.SortStableFunc(d.Scores, func(a, b Score) int { return cmp.Compare(a.Distance, b.Distance) })
	}
	return r.groups[sd.Best]
}

// route chooses the pool for c.
func (r *semanticRouter) route(c *call, stats *Stats) (*pool, *RequestError) {
	prompt, err := c.promptText()
	if err == nil && prompt == "" { // nothing to route by: not a failure, the CATCHALL's to serve
		if r.catchall == nil {
			return nil, badRequest("no_prompt_text", "the semantic balancer routes by the text of the last user message (or the completions prompt), and this request has none (only images, or empty content); there is no CATCHALL target to serve it")
		}
		stats.Semantic = &Decision{Description: Catchall, Distance: math.Inf(1)}
		return r.catchall, nil
	}
	var g *semanticGroup
	var d *Decision
	if err == nil {
		g, d, err = r.decide(c.ctx, prompt, false)
	}
	if err != nil {
		if cerr := c.ctx.Err(); cerr != nil { // the client's to know, not a routing failure
			return nil, contextEnded(cerr, "while routing it by meaning")
		}
		if r.catchall == nil {
			return nil, &RequestError{Status: http.StatusBadGateway, Type: "server_error", Code: "semantic_routing_failed",
				Message: "semantic routing failed and there is no CATCHALL target: " + err.Error(), Err: ErrNoTarget}
		}
		r.logger.Warn("aiproxy: semantic routing failed; using the CATCHALL target", "error", err)
		stats.Semantic = &Decision{Description: Catchall, Distance: math.Inf(1)}
		return r.catchall, nil
	}
	stats.Semantic = d
	if g != nil {
		return g.pool, nil
	}
	if r.catchall == nil {
		return nil, &RequestError{Status: http.StatusBadRequest, Type: "invalid_request_error", Code: "no_semantic_match",
			Message: fmt.Sprintf("the prompt matches no target description within the threshold (nearest distance %.4f, threshold %.4f) and there is no CATCHALL target", d.Distance, r.threshold),
			Err:     ErrNoTarget}
	}
	return r.catchall, nil
}

// Response headers of semantically routed requests, for tuning thresholds from real traffic.
const (
	// HeaderSemanticDistance is the distance from the prompt to the nearest description, in
	// the vector store's metric (with ScoreCombined, 1 − the best target's net score, see Score;
	// "+Inf" when the prompt could not be embedded).
	HeaderSemanticDistance = "X-Aiproxy-Semantic-Distance"
	// HeaderSemanticMatched is "true" when that distance was within the threshold, "false"
	// when the request went to the CATCHALL target.
	HeaderSemanticMatched = "X-Aiproxy-Semantic-Matched"
)

func semanticHeaders(h http.Header, d *Decision) {
	h[HeaderSemanticDistance] = []string{strconv.FormatFloat(d.Distance, 'f', 4, 64)}
	h[HeaderSemanticMatched] = []string{strconv.FormatBool(d.Matched)}
}

func names(ts []*target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.name
	}
	return out
}

// Explain returns the semantic balancer's decision for prompt, with every description's
// distance, without sending anything upstream: for tuning thresholds and descriptions.
func (p *Proxy) Explain(ctx context.Context, prompt string) (*Decision, error) {
	if p.semantic == nil {
		return nil, errors.New("aiproxy: Explain needs balancer.algorithm semantic")
	}
	_, d, err := p.semantic.decide(ctx, prompt, true)
	return d, err
}
