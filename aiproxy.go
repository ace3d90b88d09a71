// Package aiproxy is an AI gateway inside a Go program: Kong's AI Proxy Advanced plugin as a
// library. A Proxy takes OpenAI-format chat, completions and embeddings requests (and
// Responses API requests, and Anthropic Messages ones with llm_format anthropic, translated
// through chat or passed through) and routes each to one of many upstream models, chosen by
// meaning (semantic), by model alias, or by a load-balancing algorithm, with retries and
// failover across targets and providers.
//
// A Proxy is both an http.Handler, to mount under net/http or any router:
//
//	p, err := aiproxy.New(cfg)
//	mux.Handle("/v1/chat/completions", p)
//
// and an http.RoundTripper, to put under the http.Client of an OpenAI SDK:
//
//	client := &http.Client{Transport: p}
//
// Configuration mirrors Kong's (package kong loads Kong's files); the interfaces Provider,
// Embedder, VectorStore and SecretResolver are where other implementations plug in.
package aiproxy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
)

// Provider translates between OpenAI's wire format and one upstream API; see package provider.
type Provider = provider.Provider

// Proxy routes OpenAI-format requests to upstream models. It is safe for concurrent use.
type Proxy struct {
	targets []*target
	// all is every target; byAlias and byName narrow by the request's model.
	all         *pool
	byAlias     map[string]*pool
	byName      map[string]*pool
	passthrough *pool // targets without model.name, which accept any model
	semantic    *semanticRouter

	route       provider.RouteType // the one route type all targets share, or ""
	surface     surface            // the APIs, route types and models served
	retries     int
	criteria    criteria
	limit       int64
	streaming   string
	modelHeader bool
	maxFails    int
	failTimeout time.Duration
	// maxRetryAfter caps how long a 429's Retry-After holds a target out.
	maxRetryAfter time.Duration
	// logsStatistics: some target has logging.log_statistics, so a request that no target
	// answered is logged too.
	logsStatistics bool
	// latencyStrategy and tokensStrategy say what lowest-latency and lowest-usage measure.
	latencyStrategy string
	tokensStrategy  string

	transport http.RoundTripper
	secrets   *secret.Vaults
	logger    *slog.Logger
	hooks     []Hook
	now       func() time.Time
	closers   []io.Closer
	fleet     *fleet // nil without Config.Fleet
	// acl is Config.ACLs compiled; nil without rules. admits: a request needs admit (ACLs,
	// or a target with template variables).
	acl    *acl
	admits bool

	// secretFields are the configuration's fields that hold references (ValidateSecrets).
	secretFields []secret.Field
}

// pool is a set of targets with the picker that balances among them.
type pool struct {
	targets []*target
	picker  picker
}

// New validates cfg and returns a Proxy. The error, which wraps ErrInvalidConfig, lists every
// problem found. New does no I/O: the semantic balancer embeds its descriptions and opens
// the vector database that vectordb.strategy names on the first request that needs them
// (or Explain). A Proxy takes ownership of cfg's Embedder, VectorStore and Vaults: Close closes
// those that are io.Closers, and the database the semantic balancer opened. When New fails,
// they stay the caller's and nothing is closed, so the same resolvers can serve a retry.
func New(cfg Config) (*Proxy, error) {
	p := &Proxy{
		logger:  cmp.Or(cfg.Logger, slog.Default()),
		hooks:   cfg.Hooks,
		now:     cfg.Now,
		secrets: secret.NewVaults(cfg.Vaults),
	}
	if p.now == nil {
		p.now = time.Now
	}
	errs := p.configure(&cfg)
	p.transport = cfg.Transport
	if p.transport == nil {
		p.transport = newTransport(cfg.Balancer.timeouts())
	}
	env := &targetEnv{providers: cfg.Providers, secrets: p.secrets, client: &http.Client{Transport: p.transport},
		now: p.now, assumeRole: cfg.AssumeRole}
	errs = append(errs, p.newTargets(cfg.Targets, env)...)
	if err := p.newFleet(cfg.Fleet); err != nil {
		errs = append(errs, err)
	}
	p.surface = newSurface(llmFormats[cfg.LLMFormat], p.targets, p.now().Unix())
	algorithm := cmp.Or(cfg.Balancer.Algorithm, RoundRobin)
	p.newPools(algorithm, cfg.Balancer)
	if algorithm == Semantic && len(p.targets) > 0 {
		var err error
		if p.semantic, err = newSemanticRouter(&cfg, p.targets, env, p.logger); err != nil {
			errs = append(errs, err)
		}
	}
	p.secretFields = configSecrets(&cfg)
	errs = append(errs, checkRefs(p.secretFields, p.secrets)...)
	if cfg.StrictSecrets && len(errs) == 0 {
		if err := p.validateStrict(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	for _, v := range cfg.Vaults {
		p.own(v)
	}
	if f := p.fleet; f != nil {
		go f.run()
		p.own(f) // before its store: the last sync comes first
		p.own(f.store)
	}
	if r := p.semantic; r != nil {
		p.own(r.embedder)
		p.own(r.store)
		p.own(r)
	}
	return p, nil
}

// configure checks and applies the settings of cfg that are not targets.
func (p *Proxy) configure(cfg *Config) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	b := cfg.Balancer
	switch {
	case b.Retries == 0:
		p.retries = 5
	case b.Retries < 0:
		p.retries = 0
	case b.Retries > 32767:
		fail("balancer.retries %d is out of range 0..32767", b.Retries)
	default:
		p.retries = b.Retries
	}
	var err error
	if p.criteria, err = parseCriteria(b.FailoverCriteria); err != nil {
		errs = append(errs, err)
	}
	p.maxFails, p.failTimeout = b.MaxFails, orDefault(b.FailTimeout, 10*time.Second)
	p.maxRetryAfter = orDefault(cfg.MaxRetryAfter, 5*time.Minute)
	if cfg.MaxRetryAfter < 0 {
		fail("MaxRetryAfter %v must not be negative", cfg.MaxRetryAfter)
	}
	if b.MaxFails < 0 || b.MaxFails > 32767 {
		fail("balancer.max_fails %d is out of range 0..32767", b.MaxFails)
	}
	if b.Slots != 0 && (b.Slots < 10 || b.Slots > 65536) {
		fail("balancer.slots %d is out of range 10..65536", b.Slots)
	}
	p.latencyStrategy, p.tokensStrategy = b.LatencyStrategy, b.TokensCountStrategy
	switch b.LatencyStrategy {
	case "", "tpot", "e2e":
	default:
		fail("balancer.latency_strategy %q must be tpot or e2e", b.LatencyStrategy)
	}
	switch b.TokensCountStrategy {
	case "", "total-tokens", "prompt-tokens", "completion-tokens", "cost":
	default:
		fail("balancer.tokens_count_strategy %q must be total-tokens, prompt-tokens, completion-tokens or cost", b.TokensCountStrategy)
	}
	switch b.Algorithm {
	case "", RoundRobin, Priority, LowestLatency, LowestUsage, LeastConnections, ConsistentHashing, Semantic:
	default:
		fail("balancer.algorithm %q is not one of round-robin, priority, lowest-latency, lowest-usage, least-connections, consistent-hashing, semantic", b.Algorithm)
	}
	switch p.streaming = cmp.Or(cfg.ResponseStreaming, "allow"); p.streaming {
	case "allow", "deny", "always":
	default:
		fail("response_streaming %q must be allow, deny or always", cfg.ResponseStreaming)
	}
	p.limit = cfg.MaxRequestBodySize
	if p.limit == 0 {
		p.limit = 1 << 20
	}
	p.modelHeader = cfg.ModelNameHeader == nil || *cfg.ModelNameHeader
	if _, ok := llmFormats[cfg.LLMFormat]; !ok {
		fail("llm_format %q is not supported (openai, anthropic, gemini, bedrock, cohere, huggingface)", cfg.LLMFormat)
	}
	errs = append(errs, checkCategory(cfg.GenAICategory, cfg.Targets)...)
	var aclErrs []error
	p.acl, aclErrs = newACL(cfg.ACLs)
	errs = append(errs, aclErrs...)
	p.admits = p.acl != nil
	if len(cfg.Targets) == 0 {
		fail("targets: at least one target is required")
	}
	return errs
}

// newTransport returns the transport upstream requests go through when Config.Transport is
// nil: http.DefaultTransport's settings, with Kong's connect, write and read timeouts.
func newTransport(connect, write, read time.Duration) http.RoundTripper {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &timeoutConn{Conn: conn, read: read, write: write}, nil
	}
	tr.MaxIdleConnsPerHost = 64
	tr.ForceAttemptHTTP2 = true
	return tr
}

// newTargets builds the targets and the route type they share.
func (p *Proxy) newTargets(cfgs []Target, env *targetEnv) []error {
	var errs []error
	names := map[string]int{}
	var indexes []int // of each target, in cfgs
	for i := range cfgs {
		t, err := newTarget(cfgs[i], env)
		if err == nil {
			err = t.compileTemplates()
			p.admits = p.admits || t.tmpl != nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("targets[%d]: %w", i, err))
			continue
		}
		names[t.name]++
		p.targets = append(p.targets, t)
		indexes = append(indexes, i)
	}
	for k, t := range p.targets { // make generated names unique: "openai/gpt-4o#2"
		if i := indexes[k]; cfgs[i].Name == "" && names[t.name] > 1 {
			t.name += "#" + strconv.Itoa(i)
		}
	}
	for _, t := range p.targets {
		p.logsStatistics = p.logsStatistics || t.cfg.Logging.LogStatistics
		if p.route == "" {
			p.route = t.cfg.RouteType
		} else if p.route != t.cfg.RouteType {
			p.route = "" // mixed: the request path decides
			break
		}
	}
	return errs
}

// newPools groups the targets into the pools that a request's model selects.
func (p *Proxy) newPools(algorithm string, b BalancerConfig) {
	b.HashOnHeader = cmp.Or(b.HashOnHeader, "X-Kong-LLM-Request-ID")
	b.Slots = cmp.Or(b.Slots, 10000)
	p.all = &pool{targets: p.targets, picker: newPicker(algorithm, p.targets, &b)}
	grouped := algorithm
	if grouped == Semantic {
		grouped = RoundRobin // an alias or model name picks the group; semantics do not apply
	}
	p.byAlias = groupPools(p.targets, grouped, &b, func(t *target) string { return t.cfg.Model.Alias })
	p.byName = groupPools(p.targets, grouped, &b, (*target).staticName)
	var pass []*target
	for _, t := range p.targets {
		if t.staticName() == "" {
			pass = append(pass, t)
		}
	}
	if len(pass) > 0 {
		p.passthrough = &pool{targets: pass, picker: newPicker(algorithm, pass, &b)}
	}
}

// groupPools returns a pool per non-empty key, for the targets that share it.
func groupPools(targets []*target, algorithm string, b *BalancerConfig, key func(*target) string) map[string]*pool {
	groups := map[string][]*target{}
	for _, t := range targets {
		if k := key(t); k != "" {
			groups[k] = append(groups[k], t)
		}
	}
	pools := make(map[string]*pool, len(groups))
	for k, ts := range groups {
		pools[k] = &pool{targets: ts, picker: newPicker(algorithm, ts, b)}
	}
	return pools
}

// own records a value to close in Close.
func (p *Proxy) own(v any) {
	if c, ok := v.(io.Closer); ok && !slices.Contains(p.closers, c) {
		p.closers = append(p.closers, c)
	}
}

// Close releases what New took ownership of (see New). The Proxy must not be used after.
func (p *Proxy) Close() error {
	var errs []error
	for _, c := range p.closers {
		errs = append(errs, c.Close())
	}
	p.closers = nil
	return errors.Join(errs...)
}

// ServeHTTP answers a request in OpenAI's format, or in the client API the path names (the
// Responses API, Anthropic's Messages with llm_format anthropic). A streaming response is
// flushed event by event.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	resp, _ := p.serve(r)
	if resp.StatusCode == http.StatusSwitchingProtocols { // a realtime session
		splice(w, resp)
		return
	}
	defer resp.Body.Close()
	h := w.Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	if _, ok := resp.Body.(*streamBody); !ok {
		_, _ = io.Copy(w, resp.Body)
		return
	}
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return // the client went away; Close stops the upstream
			}
			_ = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// RoundTrip answers a request as an http.RoundTripper, so a Proxy can sit under any HTTP
// client. The request's URL host is ignored: requests go to the targets. The path's ending
// picks the route type (/chat/completions, /completions, /embeddings, /responses, /messages
// with llm_format anthropic, GET /models, and the audio, image, files, batches, assistants,
// videos paths of the targets' route types); a path of no route type served is answered 404,
// as in ServeHTTP (see the README for paths of the host's own choosing). Errors are
// responses in the client's format (OpenAI's, or Anthropic's for its clients), not Go
// errors, so SDKs report them as API errors, except that a request whose context ends before
// its response starts gets the context's error, as from net/http's own transport. A
// WebSocket upgrade to a realtime target is answered with the upstream's 101 response, whose
// Body is the connection (an io.ReadWriteCloser, as net/http's transport returns), so
// WebSocket clients that dial through an http.Client work.
func (p *Proxy) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, c := p.serve(r)
	if c.ended != nil {
		resp.Body.Close()
		return nil, c.ended
	}
	return resp, nil
}

// serve runs one request through the proxy and returns the response to send.
func (p *Proxy) serve(r *http.Request) (*http.Response, *call) {
	c := &call{ctx: r.Context(), req: r, start: p.now()}
	c.stats.RequestID = requestID(r)
	p.start(c)
	resp := c.clientError(p.handle(c))
	resp.Header[HeaderRequestID] = []string{c.stats.RequestID}
	if _, streaming := resp.Body.(*streamBody); !streaming && resp.StatusCode != http.StatusSwitchingProtocols {
		p.finish(c, resp.StatusCode) // a stream or a realtime session finishes when its body ends
	}
	return resp, c
}

// handle parses, routes and attempts the request.
func (p *Proxy) handle(c *call) *http.Response {
	r := c.req
	if r.Body != nil {
		defer r.Body.Close()
	}
	if p.realtimeRequest(r) {
		return p.handleRealtime(c)
	}
	fail := func(e *RequestError) *http.Response {
		c.stats.Err = e
		return e.response(r)
	}
	if rerr := p.routeRequest(c); rerr != nil {
		return fail(rerr)
	}
	if c.route == routeModels {
		return p.listModels(c)
	}
	if c.media != nil {
		return p.handleMedia(c)
	}
	rerr := checkHeaders(r.Header)
	if rerr == nil {
		c.body, rerr = readBody(r, p.limit)
	}
	if rerr == nil {
		rerr = c.parseRequest()
	}
	if rerr == nil {
		rerr = p.applyStreaming(c)
	}
	if rerr != nil {
		return fail(rerr)
	}
	c.stats.Stream = c.stream
	c.stats.RequestedModel = c.model
	if rerr := p.beforeRoute(c); rerr != nil {
		return fail(rerr)
	}
	return p.attempts(c)
}

// applyStreaming enforces response_streaming.
func (p *Proxy) applyStreaming(c *call) *RequestError {
	switch {
	case p.streaming == "deny" && c.stream:
		return badRequest("streaming_disabled", "streaming is disabled on this proxy (response_streaming: deny)")
	case p.streaming == "always" && !c.stream && c.route != provider.Embeddings && c.route != routeCountTokens:
		c.stream, c.forceStream = true, true
	}
	return nil
}

// timeouts are the balancer's connect, write and read timeouts, zero meaning Kong's 60 s.
func (b *BalancerConfig) timeouts() (connect, write, read time.Duration) {
	return orDefault(b.ConnectTimeout, 60*time.Second), orDefault(b.WriteTimeout, 60*time.Second), orDefault(b.ReadTimeout, 60*time.Second)
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
