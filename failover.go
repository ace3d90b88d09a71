package aiproxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
)

// criteria is the set of Kong failover_criteria, as bits.
type criteria uint16

const (
	onError criteria = 1 << iota
	onTimeout
	onInvalidHeader
	onHTTP403
	onHTTP404
	onHTTP429
	onHTTP500
	onHTTP502
	onHTTP503
	onHTTP504
	onNonIdempotent
)

var criterionNames = map[string]criteria{
	"error": onError, "timeout": onTimeout, "invalid_header": onInvalidHeader,
	"http_403": onHTTP403, "http_404": onHTTP404, "http_429": onHTTP429, "http_500": onHTTP500,
	"http_502": onHTTP502, "http_503": onHTTP503, "http_504": onHTTP504, "non_idempotent": onNonIdempotent,
}

// String is the criterion's Kong name, for one bit; "" for none.
func (c criteria) String() string {
	for name, bit := range criterionNames {
		if c == bit {
			return name
		}
	}
	return ""
}

func parseCriteria(names []string) (criteria, error) {
	if names == nil {
		return onError | onTimeout, nil
	}
	var c criteria
	for _, n := range names {
		bit, ok := criterionNames[n]
		if !ok {
			return 0, fmt.Errorf("balancer.failover_criteria: %q is not one of error, timeout, invalid_header, http_403, http_404, http_429, http_500, http_502, http_503, http_504, non_idempotent", n)
		}
		c |= bit
	}
	return c, nil
}

// statusCriterion returns the criterion an upstream HTTP status falls under, or 0.
func statusCriterion(status int) criteria {
	switch status {
	case 403:
		return onHTTP403
	case 404:
		return onHTTP404
	case 429:
		return onHTTP429
	case 500:
		return onHTTP500
	case 502:
		return onHTTP502
	case 503:
		return onHTTP503
	case 504:
		return onHTTP504
	}
	return 0
}

// failed is how one attempt failed.
type failed struct {
	kind criteria // onError, onTimeout, onInvalidHeader or a status criterion; 0: not retryable
	sent bool     // the request reached the upstream
	err  *provider.Error
}

// attempts runs the attempt loop: ask the balancer for a target, try it, and on a failure
// that failover_criteria allow, try another, up to retries more times, never the same
// target twice.
func (p *Proxy) attempts(c *call) *http.Response {
	stats := &c.stats
	pl, rerr := p.candidates(c, stats)
	if rerr == nil && p.admits {
		rerr = p.admit(c, pl)
	}
	if rerr != nil {
		stats.Err = rerr
		return rerr.response(c.req)
	}
	c.tried = c.triedBuf[:0]
	for n := 0; n <= p.retries; n++ {
		c.now = p.now()
		t, ok := pl.picker.pick(c)
		if !ok {
			break
		}
		c.tried = append(c.tried, t)
		resp, f := p.try(c, t)
		if c.attemptDone != nil {
			c.attemptDone(attemptOutcome(t, f, p.now().Sub(c.attemptStart)))
			c.attemptDone = nil
		}
		if f == nil {
			return resp
		}
		if err := c.ctx.Err(); err != nil { // the client left or its deadline passed: not t's failure
			return c.endedEarly(err, "while waiting for "+t.name)
		}
		// An upstream may echo the credentials it refuses, in any error it sends.
		f.err.Message = secret.Scrub(f.err.Message, c.creds[:])
		stats.Attempts = append(stats.Attempts, Attempt{Target: t.name, Status: statusOf(f), Err: f.err})
		p.recordFailure(t, f)
		if !p.retryable(f) {
			e := f.err
			c.servedBy(t)
			rerr := &RequestError{Status: e.Status, Type: e.Type, Code: e.Code, Message: e.Message, Err: ErrUpstream, Attempts: stats.Attempts}
			if f.kind&(onError|onTimeout|onInvalidHeader) != 0 || e.Status < 400 {
				rerr = failure(stats.Attempts, false)
			}
			stats.Err = rerr
			resp := rerr.response(c.req)
			if p.modelHeader {
				resp.Header["X-Kong-Llm-Model"] = modelHeaderOf(t, stats)
			}
			return resp
		}
	}
	if err := c.ctx.Err(); err != nil {
		return c.endedEarly(err, "before a target could be tried")
	}
	rerr = failure(stats.Attempts, c.broken)
	stats.Err = rerr
	resp := rerr.response(c.req)
	if wait := retryAfter(pl.targets, p.now()); wait > 0 {
		resp.Header["Retry-After"] = []string{strconv.Itoa(int(math.Ceil(wait.Seconds())))}
	}
	return resp
}

// endedEarly answers a request whose context ended (err) before its response started.
func (c *call) endedEarly(err error, during string) *http.Response {
	c.ended = err
	rerr := contextEnded(err, during)
	c.stats.Err = rerr
	return rerr.response(c.req)
}

// retryAfter is how long a client whose request failed on every target of targets should
// wait: until the first of them comes back from a Retry-After hold or an open breaker; 0 when
// one is not held.
func retryAfter(targets []*target, now time.Time) time.Duration {
	var wait time.Duration
	for _, t := range targets {
		d := t.health.heldFor(now)
		if d <= 0 {
			return 0
		}
		if wait == 0 || d < wait {
			wait = d
		}
	}
	return wait
}

// servedBy records t as the target whose answer the client gets.
func (c *call) servedBy(t *target) {
	c.served = t
	c.stats.Target, c.stats.Provider, c.stats.Model = t.name, t.cfg.Model.Provider, t.cfg.Model.Name
	if c.stats.resolvedModel != "" {
		c.stats.Model = c.stats.resolvedModel
	}
}

// retryable reports whether failover_criteria allow trying another target after f.
func (p *Proxy) retryable(f *failed) bool {
	if f.kind == 0 || p.criteria&f.kind == 0 {
		return false
	}
	return !f.sent || p.criteria&onNonIdempotent != 0
}

// recordFailure feeds the circuit breaker, by Kong's rules.
func (p *Proxy) recordFailure(t *target, f *failed) {
	now := p.now()
	if f.err != nil && f.err.Status == http.StatusTooManyRequests && f.err.RetryAfter > 0 {
		until := now.Add(min(f.err.RetryAfter, p.maxRetryAfter))
		t.health.hold(until)
		t.fleet.hold(until)
	}
	switch {
	case f.kind&(onError|onTimeout|onInvalidHeader) != 0:
	case f.kind&(onHTTP403|onHTTP404) != 0 || f.kind == 0:
		return
	case p.criteria&f.kind == 0:
		return
	}
	opened := t.health.failure(now, p.maxFails, p.failTimeout)
	t.fleet.failure(now, opened)
}

func statusOf(f *failed) int {
	if f.kind&(onError|onTimeout) != 0 {
		return 0
	}
	return f.err.Status
}

// send sends an attempt's request u to t, whose in-flight count the caller took: the
// attempt hooks, then the round trip. A transport failure, or an answer of status 400 or
// more (its body read and parsed by prov, its Retry-After kept), is returned as failed, with
// t's in-flight count released; otherwise the response, whose body the caller reads and
// closes. again reports that the request may be sent twice (an idempotent method), so that a
// failure after it reached the upstream may still fail over.
func (p *Proxy) send(c *call, t *target, prov provider.Provider, u upstream, again bool) (*http.Response, *failed) {
	c.attemptDone = p.attemptHooks(c, t, u.req)
	c.creds = u.creds
	resp, err := p.transport.RoundTrip(u.req)
	if err != nil {
		t.inflight.Add(-1)
		f := transportFailure(err)
		f.sent = f.sent && !again
		return nil, f
	}
	if resp.StatusCode < 400 {
		return resp, nil
	}
	raw, _ := readAll(resp.Body, resp.ContentLength, 1<<20)
	resp.Body.Close()
	t.inflight.Add(-1)
	e := prov.ParseError(u.preq, resp.StatusCode, resp.Header, raw)
	if resp.Header.Get("Retry-After") != "" { // an HTTP date, read by the proxy's clock
		e.RetryAfter = provider.RetryAfter(resp.Header, p.now())
	}
	return nil, &failed{kind: statusCriterion(e.Status), sent: !again, err: e}
}

// try makes one attempt on t. On success it returns the response for the client; a
// streaming response's body finishes the request's stats when it ends.
func (p *Proxy) try(c *call, t *target) (*http.Response, *failed) {
	if c.route == routeRealtime {
		return p.tryRealtime(c, t)
	}
	if c.media != nil {
		return p.tryMedia(c, t)
	}
	stats := &c.stats
	t.inflight.Add(1)
	sent := p.now()
	c.attemptStart = sent
	x := c.exchange(t)
	prov := t.provider(x.route)
	u, f := c.request(t, x)
	if f != nil {
		t.inflight.Add(-1)
		return nil, f
	}
	preq := u.preq
	resp, f := p.send(c, t, prov, u, false)
	if f != nil {
		return nil, f
	}
	if !c.stream {
		raw, err := readAll(resp.Body, resp.ContentLength, maxResponse)
		resp.Body.Close()
		t.inflight.Add(-1)
		if errors.Is(err, errTooLarge) {
			return nil, invalidResponse(fmt.Errorf("the upstream response is larger than %d MiB", maxResponse>>20))
		}
		if err != nil {
			return nil, readFailure(err)
		}
		out, err := prov.ParseResponse(preq, resp.Header, raw)
		if err == nil {
			out.Body, err = c.x.response(out.Body, x.pass)
		}
		if err != nil {
			return nil, invalidResponse(err)
		}
		out.Body = secret.Redact(out.Body, c.creds[:]) // an upstream may echo a key in a success too
		c.servedBy(t)
		p.succeeded(t, stats, out.Usage, out.Model, p.now().Sub(sent))
		c.keepResponse(t, out.Body)
		return jsonResponse(c.req, http.StatusOK, p.clientHeader(resp.Header, t, stats), out.Body), nil
	}

	s := prov.NewStream(preq, resp.Header, resp.Body)
	h := p.clientHeader(resp.Header, t, stats)
	first, err := s.Next()
	if err != nil {
		resp.Body.Close()
		t.inflight.Add(-1)
		if errors.Is(err, io.EOF) {
			return nil, invalidResponse(errors.New("the upstream ended the stream before its first event"))
		}
		return nil, streamFailure(err)
	}
	c.servedBy(t)
	h["Content-Type"] = []string{c.x.streamType(x.pass)}
	h["Cache-Control"] = []string{"no-cache"}
	ready, _ := s.(provider.Ready)
	sb := &streamBody{c: c, t: t, s: s, ready: ready, fr: c.x.framer(x.pass), upstream: resp.Body, now: p.now, end: func(usage provider.Usage, err error) {
		t.inflight.Add(-1)
		switch {
		case err == nil:
			p.succeeded(t, stats, usage, "", p.now().Sub(sent))
		case errors.Is(err, errStreamAbandoned) || c.ctx.Err() != nil: // the client's doing
			stats.Usage, stats.Err = usage, err
		default: // the upstream broke off: a failure of t, though too late to fail over
			stats.Usage, stats.Err = usage, err
			p.recordFailure(t, readFailure(err))
		}
		p.finish(c, http.StatusOK)
	}}
	if err := sb.frame(first); err != nil { // the client's API cannot express it
		resp.Body.Close()
		t.inflight.Add(-1)
		return nil, invalidResponse(err)
	}
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: sb, ContentLength: -1, Request: c.req,
	}, nil
}

// includeUsage asks an OpenAI stream for its usage in a last chunk.
var includeUsage = []byte(`{"include_usage":true}`)

// bodyFor returns the client's body as t receives it: with t's model name and model.options
// defaults (those the client did not set), stream: true when response_streaming forced it,
// and, for a stream to an upstream that reports usage only when asked (OpenAI), the
// stream_options that ask for it.
func (c *call) bodyFor(t *target) []byte {
	var buf [6]jsonx.Edit
	edits := buf[:0]
	for _, e := range t.edits {
		switch {
		case e.Key == "max_tokens" && c.set&setMaxTokens != 0:
		case e.Key == "model" && bytes.Equal(e.Value, c.modelJSON): // the client named this model
		default:
			edits = append(edits, e)
		}
	}
	if c.forceStream {
		edits = append(edits, jsonx.Edit{Key: "stream", Value: []byte("true")})
	}
	c.addedUsage = c.stream && !c.streamOptions && t.asksUsage
	if c.addedUsage {
		edits = append(edits, jsonx.Edit{Key: "stream_options", Value: includeUsage})
	}
	if len(edits) == 0 {
		return c.body
	}
	return jsonx.Apply(make([]byte, 0, len(c.body)+64), c.body, edits)
}

// transportFailure classifies an error from sending a request.
func transportFailure(err error) *failed {
	var op *net.OpError
	sent := !(errors.As(err, &op) && op.Op == "dial") && !isDNSError(err)
	if isTimeout(err) {
		return &failed{kind: onTimeout, sent: sent, err: &provider.Error{Status: http.StatusGatewayTimeout, Type: "server_error", Code: "timeout", Message: "the upstream timed out"}}
	}
	return &failed{kind: onError, sent: sent, err: &provider.Error{Status: http.StatusBadGateway, Type: "server_error", Code: "upstream_error", Message: "the upstream could not be reached: " + errText(err)}}
}

// readFailure classifies an error reading a response body.
func readFailure(err error) *failed {
	f := transportFailure(err)
	f.sent = true
	return f
}

// streamFailure classifies an error before a stream's first event: an error event the
// upstream sent keeps its status; a stream the provider could not read (502: empty, cut off,
// not its framing, a first event that is not JSON) is an invalid response, which
// invalid_header fails over, as for a response that is not streamed.
func streamFailure(err error) *failed {
	var pe *provider.Error
	switch {
	case errors.As(err, &pe) && pe.Status == http.StatusBadGateway:
		return invalidResponse(pe)
	case errors.As(err, &pe):
		return &failed{kind: statusCriterion(pe.Status), sent: true, err: pe}
	}
	return readFailure(err)
}

func invalidResponse(err error) *failed {
	var pe *provider.Error
	if !errors.As(err, &pe) {
		pe = &provider.Error{Status: http.StatusBadGateway, Type: "server_error", Message: err.Error()}
	}
	pe.Code = "invalid_response"
	return &failed{kind: onInvalidHeader, sent: true, err: pe}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isDNSError(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de)
}

// errText is an error's text without the URL that *url.Error adds (it may carry a query
// parameter credential) and without the socket addresses of *net.OpError (they describe the
// proxy's network, not the client's request): "dial: connect: connection refused".
func errText(err error) string {
	var op *net.OpError
	var dns *net.DNSError
	var ue *url.Error
	switch {
	case errors.As(err, &op) && op.Err != nil:
		return op.Op + ": " + op.Err.Error()
	case errors.As(err, &dns):
		return "DNS lookup failed: " + dns.Err
	case errors.As(err, &ue):
		return ue.Err.Error()
	}
	return err.Error()
}

// succeeded records a served request in the stats and the balancer's measurements.
func (p *Proxy) succeeded(t *target, stats *Stats, usage provider.Usage, model string, elapsed time.Duration) {
	t.health.success()
	stats.Usage = usage
	stats.UsageReported = usage != provider.Usage{}
	if model != "" {
		stats.Model = model
	}
	o := t.cfg.Model.Options
	stats.Cost = (float64(usage.PromptTokens)*o.InputCost + float64(usage.CompletionTokens)*o.OutputCost) / 1e6
	lat := elapsed.Seconds()
	if p.latencyStrategy != "e2e" && usage.CompletionTokens > 0 {
		lat /= float64(usage.CompletionTokens) // time per output token
	}
	t.latency.observe(lat)
	count := float64(usage.TotalTokens)
	switch p.tokensStrategy {
	case "prompt-tokens":
		count = float64(usage.PromptTokens)
	case "completion-tokens":
		count = float64(usage.CompletionTokens)
	case "cost":
		count = stats.Cost
	}
	now := p.now()
	t.usage.add(count, now)
	t.fleet.success(lat, count, now)
}

// timeoutConn applies Kong's write_timeout to each write and read_timeout to each read of
// an upstream connection: the longest a write may block, and the longest wait for the next
// bytes of a response, from the request's last write to the response's last byte. Each write
// pushes the read deadline too: net/http keeps a read pending on an idle pooled connection,
// whose deadline would otherwise count from when the connection went idle.
type timeoutConn struct {
	net.Conn
	read, write time.Duration
}

func (c *timeoutConn) Read(b []byte) (int, error) {
	if err := c.SetReadDeadline(time.Now().Add(c.read)); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *timeoutConn) Write(b []byte) (int, error) {
	now := time.Now()
	if err := c.SetWriteDeadline(now.Add(c.write)); err != nil {
		return 0, err
	}
	if err := c.SetReadDeadline(now.Add(c.read)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}
