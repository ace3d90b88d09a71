package aiproxy

import (
	"net/http"
	"slices"
	"strings"

	"github.com/aiproxy/aiproxy/provider"
)

// routeModels is the route type of GET /v1/models, which the proxy answers itself (it is not
// one of Kong's route types and no target is configured with it).
const routeModels provider.RouteType = "llm/v1/models"

// clientAPI is the API a client speaks.
type clientAPI uint8

const (
	// openaiAPI: OpenAI's chat completions, completions and embeddings, which every
	// provider translates from.
	openaiAPI clientAPI = iota
	// responsesAPI: OpenAI's Responses API (package format/responses).
	responsesAPI
	// anthropicAPI: Anthropic's Messages API, Kong's llm_format "anthropic" (package
	// format/anthropic).
	anthropicAPI
	// geminiAPI, bedrockAPI, cohereAPI, huggingfaceAPI: the providers' own APIs, Kong's
	// llm_formats of those names, passed through to targets of that provider (native.go).
	geminiAPI
	bedrockAPI
	cohereAPI
	huggingfaceAPI
)

// apiPath is an API path ending and what a request to it is.
type apiPath struct {
	suffix string
	route  provider.RouteType
	api    clientAPI
}

// apiPaths are the path endings the proxy knows, the longest first among those that share an
// ending ("/chat/completions" before "/completions").
var apiPaths = []apiPath{
	{"/chat/completions", provider.Chat, openaiAPI},
	{"/completions", provider.Completions, openaiAPI},
	{"/embeddings", provider.Embeddings, openaiAPI},
	{"/responses", provider.Responses, responsesAPI},
	{"/messages", provider.Chat, anthropicAPI},
	{"/messages/count_tokens", routeCountTokens, anthropicAPI},
	{"/models", routeModels, openaiAPI},
	{":generateContent", provider.Chat, geminiAPI},
	{":streamGenerateContent", provider.Chat, geminiAPI},
	{"/converse", provider.Chat, bedrockAPI},
	{"/converse-stream", provider.Chat, bedrockAPI},
	{"/v2/chat", provider.Chat, cohereAPI},
	{"/generate", provider.Chat, huggingfaceAPI},
	{"/generate_stream", provider.Chat, huggingfaceAPI},
}

// apiSegments are path segments that mark a path as a request to an API endpoint (its
// version, or a resource of OpenAI's or Anthropic's API that no route type here serves), as
// opposed to a route of the host program's own choosing, like Kong's "/anything".
var apiSegments = map[string]bool{
	"v1": true, "v1beta": true, "v2": true, "audio": true, "images": true, "files": true,
	"batches": true, "assistants": true, "threads": true, "realtime": true, "videos": true,
	"moderations": true, "models": true, "fine_tuning": true, "vector_stores": true,
	"uploads": true, "conversations": true, "containers": true, "evals": true,
}

// surface is what a Proxy serves: the client APIs, route types and models.
type surface struct {
	// format is the API of clients on the chat route (llm_format).
	format clientAPI
	// routes are the route types the targets are configured with.
	routes map[provider.RouteType]bool
	// created is when New ran, the "created" time of the models listed.
	created int64
	// media: some target serves a media route type (media.go).
	media bool
}

// newSurface records what targets serve, for clients of llm_format f.
func newSurface(f clientAPI, targets []*target, created int64) surface {
	s := surface{format: f, routes: map[provider.RouteType]bool{}, created: created}
	for _, t := range targets {
		s.routes[t.cfg.RouteType] = true
	}
	s.media = s.servesMedia()
	return s
}

// serves reports whether some target serves requests of route in api.
func (s *surface) serves(route provider.RouteType, api clientAPI) bool {
	switch {
	case route == routeModels:
		return true
	case api == anthropicAPI || api.native():
		return s.format == api && s.routes[provider.Chat]
	case route == provider.Responses:
		return s.routes[provider.Responses] || s.routes[provider.Chat]
	}
	return s.routes[route]
}

// describe lists what the proxy serves, method and path, for a 404.
func (s *surface) describe() string {
	var out []string
	for _, p := range apiPaths {
		if p.route != routeModels && s.serves(p.route, p.api) {
			out = append(out, p.shown()+" ("+string(p.route)+")")
		}
	}
	out = append(out, s.describeMedia()...)
	if s.routes[routeRealtime] {
		out = append(out, "GET /v1/realtime with a WebSocket upgrade ("+string(routeRealtime)+")")
	}
	return strings.Join(append(out, "GET /v1/models"), ", ")
}

// routeRequest sets c's route type and client API from the request's path, and checks its
// method: POST, and GET for /v1/models. A path that names no route type is an API request
// for something else when it has an API segment ("/v1/audio/speech"), and 404; otherwise it is
// a route the host program chose (a Kong route path such as "/anything"), which serves the
// route type that all targets share, in the llm_format's API, or 404 when they share none.
func (p *Proxy) routeRequest(c *call) *RequestError {
	if p.surface.media {
		if ok, rerr := p.routeMedia(c); ok {
			return rerr
		}
	}
	r := c.req
	path := r.URL.Path
	found := false
	for _, ap := range apiPaths {
		if strings.HasSuffix(path, ap.suffix) {
			c.route, c.x.api, found = ap.route, ap.api, true
			break
		}
	}
	if !found {
		if ok, rerr := p.routeStoredResponse(c); ok {
			return rerr
		}
		if p.surface.format == huggingfaceAPI && r.Method == http.MethodPost && strings.Contains(path, "/models/") {
			// The serverless Inference API's model URL, POST /models/{model}.
			c.route, c.x.api, found = provider.Chat, huggingfaceAPI, true
		}
	}
	switch {
	case found:
	case p.route != "" && !apiLike(path):
		c.route = p.route
		switch {
		case p.route == provider.Responses:
			c.x.api = responsesAPI
		case p.route == provider.Chat:
			c.x.api = p.surface.format
		}
	default:
		return p.notServed(r)
	}
	if !p.surface.serves(c.route, c.x.api) {
		return p.notServed(r)
	}
	c.stats.Route = c.route
	want := http.MethodPost
	if c.route == routeModels {
		want = http.MethodGet
	}
	if r.Method != want {
		return &RequestError{Status: http.StatusMethodNotAllowed, Type: "invalid_request_error", Code: "method_not_allowed",
			Message: "use " + want + " for " + path, Err: ErrBadRequest}
	}
	return nil
}

// notServed is the 404 for a request that no route type served here matches.
func (p *Proxy) notServed(r *http.Request) *RequestError {
	return &RequestError{Status: http.StatusNotFound, Type: "invalid_request_error", Code: "unknown_url",
		Message: r.Method + " " + r.URL.Path + " is not served here; this proxy serves " + p.surface.describe(), Err: ErrBadRequest}
}

// apiLike reports whether path has a segment of apiSegments.
func apiLike(path string) bool {
	for seg := range strings.SplitSeq(path, "/") {
		if apiSegments[seg] {
			return true
		}
	}
	return false
}

// serves reports whether t can serve c: a target of c's route type, or, for the Responses
// API, a chat target too; a request that only its own API can express (c.x.unsupported) only
// on a target that speaks that API.
func (c *call) serves(t *target) bool {
	switch c.x.api {
	case responsesAPI:
		if t.cfg.RouteType != provider.Chat && t.cfg.RouteType != provider.Responses {
			return false
		}
	case anthropicAPI, geminiAPI, bedrockAPI, cohereAPI, huggingfaceAPI:
		if t.cfg.RouteType != provider.Chat {
			return false
		}
	default:
		return t.servesRoute(c.route) && (c.media == nil || mediaServed(t))
	}
	return c.x.unsupported == nil || c.x.passthrough(t)
}

// servesRoute reports whether t is configured for route: of that route type, or, for a
// stored response of the Responses API, a chat target too (whose Responses endpoint
// passthrough.url derives).
func (t *target) servesRoute(route provider.RouteType) bool {
	return t.cfg.RouteType == route || route == provider.Responses && t.cfg.RouteType == provider.Chat
}

// candidates returns the pool of targets that may serve c (poolFor), refusing a request that
// none of them can serve: 400 naming the field that only the client's own API has, or 404
// naming the route type.
func (p *Proxy) candidates(c *call, stats *Stats) (*pool, *RequestError) {
	pl, rerr := p.poolFor(c, stats)
	if rerr != nil || slices.ContainsFunc(pl.targets, c.serves) {
		return pl, rerr
	}
	if u := c.x.unsupported; u != nil {
		return nil, badRequest("unsupported_field", "%s is not supported: %s; no target for this request speaks that API natively (%s)",
			u.Field, u.Reason, c.x.natives())
	}
	return nil, &RequestError{Status: http.StatusNotFound, Type: "invalid_request_error", Code: "unknown_url",
		Message: "no target for this request serves " + string(c.route), Err: ErrBadRequest}
}

// llmFormats maps Kong's llm_format values to the API of chat clients.
var llmFormats = map[string]clientAPI{"": openaiAPI, "openai": openaiAPI, "anthropic": anthropicAPI,
	"gemini": geminiAPI, "bedrock": bedrockAPI, "cohere": cohereAPI, "huggingface": huggingfaceAPI}
