package aiproxy

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// routeRealtime is Kong's realtime/v1/realtime: OpenAI's Realtime API, a WebSocket session
// (GET /v1/realtime?model=… with Upgrade: websocket) proxied to an OpenAI or Azure target.
const routeRealtime provider.RouteType = "realtime/v1/realtime"

// realtimeProviders are the providers whose targets may be of route type realtime/v1/realtime.
var realtimeProviders = map[string]bool{"openai": true, "azure": true}

// isUpgrade reports whether r asks to switch to the WebSocket protocol.
func isUpgrade(r *http.Request) bool {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return false
	}
	for _, v := range r.Header["Connection"] {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return false
}

// realtimeRequest reports whether r is a realtime request: any WebSocket upgrade, and, when
// targets serve realtime, a request to a path ending in /realtime (or to the host's own path
// when every target is a realtime one), which must then be an upgrade.
func (p *Proxy) realtimeRequest(r *http.Request) bool {
	if isUpgrade(r) {
		return true
	}
	if !p.surface.routes[routeRealtime] {
		return false
	}
	return strings.HasSuffix(r.URL.Path, "/realtime") || p.route == routeRealtime && !apiLike(r.URL.Path)
}

// handleRealtime checks a realtime request and runs the attempt loop, whose attempts
// (tryRealtime) open the upstream session: failover happens only before the upgrade completes.
// The answer is the upstream's 101 Switching Protocols response, whose body is the upstream
// connection (an io.ReadWriteCloser, as net/http's transport gives): ServeHTTP splices it to the
// hijacked client connection; RoundTrip returns it as it is, so a WebSocket client that dials
// through an http.Client (github.com/coder/websocket) works through the RoundTripper too.
func (p *Proxy) handleRealtime(c *call) *http.Response {
	r := c.req
	c.route = routeRealtime
	c.stats.Route = routeRealtime
	fail := func(e *RequestError) *http.Response {
		c.stats.Err = e
		return e.response(r)
	}
	switch {
	case !p.surface.routes[routeRealtime]:
		return fail(p.notServed(r))
	case r.Method != http.MethodGet:
		return fail(&RequestError{Status: http.StatusMethodNotAllowed, Type: "invalid_request_error", Code: "method_not_allowed",
			Message: "use GET with a WebSocket upgrade for " + r.URL.Path + " (realtime/v1/realtime)", Err: ErrBadRequest})
	case !isUpgrade(r):
		return fail(&RequestError{Status: http.StatusUpgradeRequired, Type: "invalid_request_error", Code: "upgrade_required",
			Message: r.URL.Path + " (realtime/v1/realtime) is a WebSocket endpoint: send GET with Connection: Upgrade and Upgrade: websocket", Err: ErrBadRequest})
	}
	if rerr := checkHeaders(r.Header); rerr != nil {
		return fail(rerr)
	}
	q := r.URL.Query()
	c.model = q.Get("model")
	if c.model == "" {
		c.model = q.Get("deployment") // Azure's preview URL
	}
	c.stats.RequestedModel = c.model
	if rerr := p.beforeRoute(c); rerr != nil {
		return fail(rerr)
	}
	return p.attempts(c)
}

// tryRealtime makes one attempt on t: the upgrade request with t's URL, model and
// credentials, and the client's WebSocket handshake headers (its key, version, subprotocols
// and extensions, so the upstream's handshake answer is the client's) and OpenAI-Beta (the
// client chooses the beta or the GA interface). An answer other than 101 is a failure of t,
// which failover_criteria may fail over.
func (p *Proxy) tryRealtime(c *call, t *target) (*http.Response, *failed) {
	stats := &c.stats
	t.inflight.Add(1)
	sent := p.now()
	c.attemptStart = sent
	u, f := c.request(t, exchange{route: routeRealtime})
	if f != nil {
		t.inflight.Add(-1)
		return nil, f
	}
	u.req.Header["Connection"] = []string{"Upgrade"}
	u.req.Header["Upgrade"] = []string{"websocket"}
	resp, f := p.send(c, t, t.prov, u, false)
	if f != nil {
		return nil, f
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		resp.Body.Close()
		t.inflight.Add(-1)
		return nil, invalidResponse(&provider.Error{Status: http.StatusBadGateway, Type: "server_error",
			Message: "the upstream answered the WebSocket upgrade with " + resp.Status + ", not 101 Switching Protocols"})
	}
	conn, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		resp.Body.Close()
		t.inflight.Add(-1)
		return nil, invalidResponse(&provider.Error{Status: http.StatusBadGateway, Type: "server_error",
			Message: "the transport's 101 response body is not writable (Config.Transport must carry upgrades, as net/http's does)"})
	}
	handshake := make(http.Header, 4)
	for _, k := range []string{"Sec-Websocket-Accept", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions"} {
		if v := resp.Header[k]; v != nil {
			handshake[k] = v
		}
	}
	h := p.clientHeader(resp.Header, t, stats)
	for k, v := range handshake {
		h[k] = v
	}
	h["Upgrade"] = []string{"websocket"}
	h["Connection"] = []string{"Upgrade"}
	c.servedBy(t)
	upgraded := p.now().Sub(sent)
	body := &realtimeConn{rwc: conn, scrub: frameScrubber{r: conn, creds: u.creds[:]}}
	body.end = func() { // the session's usage, summed from its response.done events
		t.inflight.Add(-1)
		body.mu.Lock()
		usage := body.meter.usage
		body.mu.Unlock()
		p.succeeded(t, stats, usage, "", upgraded)
		p.finish(c, http.StatusSwitchingProtocols)
	}
	return &http.Response{
		Status: "101 Switching Protocols", StatusCode: http.StatusSwitchingProtocols, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: body, ContentLength: -1, Request: c.req,
	}, nil
}

// realtimeConn is the upstream connection of a realtime session: closing it ends the
// session and records the request.
type realtimeConn struct {
	rwc   io.ReadWriteCloser
	end   func()
	once  sync.Once
	mu    sync.Mutex // guards meter: Close may come while a Read is under way
	meter frameMeter // reads the server's frames for their usage
	scrub frameScrubber
}

// Read reads the server's frames, the attempt's credentials redacted, metered.
func (c *realtimeConn) Read(p []byte) (int, error) {
	n, err := c.scrub.Read(p)
	c.mu.Lock()
	c.meter.write(p[:n])
	c.mu.Unlock()
	return n, err
}
func (c *realtimeConn) Write(p []byte) (int, error) { return c.rwc.Write(p) }

func (c *realtimeConn) Close() error {
	err := c.rwc.Close()
	c.once.Do(c.end)
	return err
}

// splice completes the client's upgrade with the upstream's 101 answer and copies bytes
// (the WebSocket frames, as sent) both ways until either side closes.
func splice(w http.ResponseWriter, resp *http.Response) {
	up := resp.Body
	defer up.Close()
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, `{"error":{"message":"the server cannot hijack this connection for a WebSocket upgrade","type":"server_error","code":"upgrade_failed"}}`, http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Time{}) // the server's timeouts were for the HTTP request
	_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	_ = resp.Header.Write(brw)
	_, _ = brw.WriteString("\r\n")
	if brw.Flush() != nil {
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up.(io.Writer), brw.Reader); done <- struct{}{} }()
	go func() { _, _ = io.Copy(conn, up); done <- struct{}{} }()
	<-done // either side closed: close both, which ends the other copy
	_ = conn.Close()
	_ = up.Close()
	<-done
}

// realtimeRequest builds the upgrade request (as GET over https) of a realtime attempt:
// OpenAI's wss://api.openai.com/v1/realtime?model=…; Azure's GA
// wss://<instance>/openai/v1/realtime?model=<deployment>; a target's upstream_url (ws, wss,
// http or https; a host-only one gets /v1/realtime) as it is, with model= added unless it has
// one (or, for Azure's preview URL, a deployment=).
func (p passthrough) realtimeRequest(ctx context.Context, r *provider.Request) (*http.Request, error) {
	o := r.Model.Options
	var u string
	model := r.Model.Name
	switch {
	case o.UpstreamURL != "":
		u = openai.URL("", "/v1/realtime", r)
	case p.t.cfg.Model.Provider == "azure":
		host := o.AzureInstance
		if host == "" {
			return nil, &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error",
				Message: "azure: model.options.azure_instance (or upstream_url) is required"}
		}
		if !strings.Contains(host, ".") {
			host += ".openai.azure.com"
		}
		u = "https://" + host + "/openai/v1/realtime"
	default:
		base := openai.DefaultBaseURL
		if op, ok := p.t.prov.(openai.Provider); ok && op.BaseURL != "" {
			base = op.BaseURL
		}
		u = strings.TrimSuffix(base, "/") + "/realtime"
	}
	if p.t.cfg.Model.Provider == "azure" && o.AzureDeploymentID != "" {
		model = o.AzureDeploymentID
	}
	switch {
	case strings.HasPrefix(u, "wss://"):
		u = "https://" + u[len("wss://"):]
	case strings.HasPrefix(u, "ws://"):
		u = "http://" + u[len("ws://"):]
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	q := req.URL.Query()
	if model != "" && q.Get("model") == "" && q.Get("deployment") == "" {
		q.Set("model", model)
		req.URL.RawQuery = q.Encode()
	}
	return req, nil
}
