package aiproxy

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	anthropicp "github.com/aiproxy/aiproxy/provider/anthropic"
	"github.com/aiproxy/aiproxy/provider/openai"
	"github.com/aiproxy/aiproxy/provider/sse"
)

// routeMessages is the route type of an Anthropic Messages request passed through to an
// Anthropic target (Kong's llm/v1/chat with llm_format anthropic). No target is configured
// with it; it tells target.provider to pass the request through.
const routeMessages provider.RouteType = "llm/v1/messages"

// routeCountTokens is the route type of Anthropic's POST /v1/messages/count_tokens, which
// only Anthropic targets serve (passed through; the answer is not metered).
const routeCountTokens provider.RouteType = "llm/v1/messages/count_tokens"

// provider returns what translates an attempt of route type route for t: its provider, or,
// for a request passed through in the client's own API, a passthrough.
func (t *target) provider(route provider.RouteType) provider.Provider {
	if route == provider.Responses || route == routeMessages || route == routeCountTokens || route == routeRealtime || nativeRoutes[route] {
		return passthrough{t: t, route: route}
	}
	return t.prov
}

// passthrough sends a request in the target's own API as the client wrote it (with the
// target's model, options and credentials, applied by the proxy) and returns the answer as
// it came, read only for its model and usage. Errors are read by the target's provider.
type passthrough struct {
	t     *target
	route provider.RouteType
}

var _ provider.Provider = passthrough{}

// NewRequest posts r.Body to the target's endpoint of the API.
func (p passthrough) NewRequest(ctx context.Context, r *provider.Request) (*http.Request, error) {
	if nativeRoutes[p.route] {
		return p.nativeRequest(ctx, r)
	}
	if p.route == routeRealtime {
		return p.realtimeRequest(ctx, r)
	}
	u, err := p.url(r)
	if err != nil {
		return nil, err
	}
	req, err := openai.NewJSONRequest(ctx, u, r.Body, r.Stream)
	if err != nil {
		return nil, err
	}
	if p.route == routeMessages || p.route == routeCountTokens {
		req.Header["Anthropic-Version"] = []string{cmp.Or(r.Model.Options.AnthropicVersion, anthropicp.DefaultVersion)}
	}
	return req, nil
}

// url is the endpoint: Anthropic's Messages URL; OpenAI's and Azure's /responses (Azure's v1
// API, https://<instance>/openai/v1/responses). A chat target's upstream_url ending in
// /chat/completions has /responses put in its place; a responses target's is the whole URL.
func (p passthrough) url(r *provider.Request) (string, error) {
	if ap, ok := p.t.prov.(anthropicp.Provider); ok {
		if p.route == routeCountTokens {
			return appendPath(ap.URL(r), "/count_tokens"), nil
		}
		return ap.URL(r), nil
	}
	o := r.Model.Options
	switch {
	case o.UpstreamURL != "" && p.t.cfg.RouteType == provider.Responses:
		return o.UpstreamURL, nil
	case o.UpstreamURL != "":
		u, err := url.Parse(o.UpstreamURL)
		if err != nil || !strings.HasSuffix(u.Path, "/chat/completions") {
			return "", &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Code: "unsupported_target",
				Message: "target " + p.t.name + ": its upstream_url does not end in /chat/completions, so its Responses API endpoint is unknown (give it a target of route_type llm/v1/responses)"}
		}
		u.Path = strings.TrimSuffix(u.Path, "/chat/completions") + "/responses"
		u.RawPath = ""
		return u.String(), nil
	case p.t.cfg.Model.Provider == "azure":
		host := o.AzureInstance
		if host == "" {
			return "", &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error",
				Message: "azure: model.options.azure_instance (or upstream_url) is required"}
		}
		if !strings.Contains(host, ".") {
			host += ".openai.azure.com"
		}
		return "https://" + host + "/openai/v1/responses", nil
	}
	base := openai.DefaultBaseURL
	if op, ok := p.t.prov.(openai.Provider); ok && op.BaseURL != "" {
		base = op.BaseURL
	}
	return openai.URL(base, "/responses", r), nil
}

// ParseResponse returns body as it came, with its model and usage.
func (p passthrough) ParseResponse(_ *provider.Request, _ http.Header, body []byte) (*provider.Response, error) {
	if nativeRoutes[p.route] {
		return p.nativeResponse(body)
	}
	resp := &provider.Response{Body: body}
	err := jsonx.Object(body, func(m jsonx.Member) bool {
		switch string(m.Key) {
		case "model":
			resp.Model, _ = jsonx.String(m.Value)
		case "usage":
			resp.Usage = nativeUsage(m.Value)
		}
		return true
	})
	if err != nil {
		return nil, &provider.Error{Status: http.StatusBadGateway, Type: "server_error",
			Message: "the upstream returned a body that is not a JSON object: " + err.Error()}
	}
	return resp, nil
}

// ParseError reads the upstream's error as the target's provider does.
func (p passthrough) ParseError(r *provider.Request, status int, h http.Header, body []byte) *provider.Error {
	return p.t.prov.ParseError(r, status, h, body)
}

// NewStream relays the upstream's events.
func (p passthrough) NewStream(_ *provider.Request, _ http.Header, body io.Reader) provider.Stream {
	if nativeRoutes[p.route] {
		return p.nativeStream(body)
	}
	return &relay{r: sse.NewReader(body)}
}

// nativeUsage reads a usage object of the Responses API (input_tokens, output_tokens,
// total_tokens, input_tokens_details.cached_tokens) or of Anthropic's (input_tokens,
// cache_creation_input_tokens, cache_read_input_tokens, output_tokens), as OpenAI's counts:
// prompt tokens include the cached ones, as OpenAI's do. Fields it does not know are skipped,
// and counts that are not numbers read as zero.
func nativeUsage(v []byte) provider.Usage {
	var u provider.Usage
	total, creation := -1, 0
	_ = jsonx.Object(v, func(m jsonx.Member) bool {
		switch string(m.Key) {
		case "input_tokens":
			u.PromptTokens = tokenCount(m.Value)
		case "output_tokens":
			u.CompletionTokens = tokenCount(m.Value)
		case "total_tokens":
			total = tokenCount(m.Value)
		case "cache_creation_input_tokens":
			creation = tokenCount(m.Value)
		case "cache_read_input_tokens":
			u.CachedTokens = tokenCount(m.Value)
		case "input_tokens_details":
			_ = jsonx.Object(m.Value, func(d jsonx.Member) bool {
				if string(d.Key) == "cached_tokens" {
					u.CachedTokens = tokenCount(d.Value)
				}
				return true
			})
		}
		return true
	})
	if total < 0 { // Anthropic's: input_tokens excludes the cache's
		u.PromptTokens += creation + u.CachedTokens
		total = u.PromptTokens + u.CompletionTokens
	}
	u.TotalTokens = total
	return u
}

// tokenCount reads a non-negative JSON integer; anything else is zero.
func tokenCount(v []byte) int {
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' || n > 1<<40 {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// relay is a passthrough stream. Unlike a provider's, its events come framed (relayFramer
// passes them on): each event as the upstream sent it (its name and data;
// comments, ids and retry fields left out), framed. It meters the usage of the Responses
// API's final event (response.completed, .incomplete, .failed) and of Anthropic's
// message_start (input) and message_delta (output, cumulative).
type relay struct {
	r     *sse.Reader
	buf   []byte
	usage provider.Usage
	// native meters the events of a native API (nativeStream) in meter's place.
	native func(data []byte) (provider.Usage, bool)
}

func (s *relay) Next() ([]byte, error) {
	ev, err := s.r.Next()
	if err != nil {
		return nil, err
	}
	if s.native == nil {
		s.meter(ev.Data)
	} else if u, ok := s.native(ev.Data); ok {
		s.usage = u
	}
	s.buf = s.buf[:0]
	if ev.Name != "" {
		s.buf = append(append(append(s.buf, "event: "...), ev.Name...), '\n')
	}
	for line := range bytes.SplitSeq(ev.Data, []byte("\n")) {
		s.buf = append(append(append(s.buf, "data: "...), line...), '\n')
	}
	return append(s.buf, '\n'), nil
}

var usageKey = []byte(`"usage"`)

// meter reads the usage an event reports.
func (s *relay) meter(data []byte) {
	if !bytes.Contains(data, usageKey) {
		return
	}
	_ = jsonx.Object(data, func(m jsonx.Member) bool {
		switch string(m.Key) {
		case "response", "message": // Responses' final events; Anthropic's message_start
			_ = jsonx.Object(m.Value, func(f jsonx.Member) bool {
				if string(f.Key) == "usage" && string(f.Value) != "null" {
					s.usage = nativeUsage(f.Value)
				}
				return true
			})
		case "usage": // Anthropic's message_delta: output so far, and input when it says
			u := nativeUsage(m.Value)
			s.usage.CompletionTokens = u.CompletionTokens
			if u.PromptTokens > 0 {
				s.usage.PromptTokens, s.usage.CachedTokens = u.PromptTokens, u.CachedTokens
			}
			s.usage.TotalTokens = s.usage.PromptTokens + s.usage.CompletionTokens
		}
		return true
	})
}

func (s *relay) Usage() provider.Usage { return s.usage }
