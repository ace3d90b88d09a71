package aiproxy

import (
	"cmp"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/bedrock"
	"github.com/aiproxy/aiproxy/provider/cohere"
	"github.com/aiproxy/aiproxy/provider/gemini"
	"github.com/aiproxy/aiproxy/provider/huggingface"
	"github.com/aiproxy/aiproxy/provider/openai"
	"github.com/aiproxy/aiproxy/provider/sse"
)

// The native client APIs (Kong's llm_format gemini, bedrock, cohere, huggingface): the
// client sends the provider's own request and gets the provider's own answer. As in Kong,
// a target of that provider gets it passed through (passthrough) with the target's model,
// credentials and endpoint; beyond Kong, a target of any other provider gets it translated
// through chat (translate.go, the packages of format/), unless it has a field that only the
// provider's own API can express.

// nativeAPI describes one native client API.
type nativeAPI struct {
	provider string             // the targets' model.provider
	name     string             // for messages: "Gemini"
	route    provider.RouteType // the passthrough's route type, which target.provider knows
}

// Route types of native requests passed through; no target is configured with them.
const (
	routeGemini      provider.RouteType = "llm/v1/gemini"
	routeBedrock     provider.RouteType = "llm/v1/bedrock"
	routeCohere      provider.RouteType = "llm/v1/cohere"
	routeHuggingface provider.RouteType = "llm/v1/huggingface"
)

var nativeAPIs = map[clientAPI]nativeAPI{
	geminiAPI:      {"gemini", "Gemini", routeGemini},
	bedrockAPI:     {"bedrock", "Bedrock Converse", routeBedrock},
	cohereAPI:      {"cohere", "Cohere v2 chat", routeCohere},
	huggingfaceAPI: {"huggingface", "Hugging Face text generation", routeHuggingface},
}

// nativeRoutes are the route types of nativeAPIs.
var nativeRoutes = map[provider.RouteType]bool{routeGemini: true, routeBedrock: true, routeCohere: true, routeHuggingface: true}

// native reports whether a is a native client API.
func (a clientAPI) native() bool { _, ok := nativeAPIs[a]; return ok }

// shown is how a 404 names a path of the table.
func (p apiPath) shown() string {
	switch p.suffix {
	case ":generateContent", ":streamGenerateContent":
		return "POST /v1beta/models/{model}" + p.suffix
	case "/converse", "/converse-stream":
		return "POST /model/{model}" + p.suffix
	case "/v2/chat", "/generate", "/generate_stream":
		return "POST " + p.suffix
	}
	return "POST /v1" + p.suffix
}

// parseNative reads what a native request's path says: its model (Gemini's
// /models/{model}:…, Bedrock's /model/{model}/…, the Hugging Face serverless API's
// /models/{model}; Cohere's is in the body) and its stream (Gemini, Bedrock, Hugging Face's
// /generate_stream; Cohere's and the serverless API's are in the body).
func (c *call) parseNative() {
	path := c.req.URL.EscapedPath()
	switch c.x.api {
	case geminiAPI:
		c.stream = strings.HasSuffix(path, ":streamGenerateContent")
		if q := c.req.URL.Query(); q.Has("key") { // the client's API key for the proxy: never forwarded
			q.Del("key")
			r, u := *c.req, *c.req.URL
			u.RawQuery = q.Encode()
			r.URL = &u
			c.req = &r
		}
		if i := strings.LastIndex(path, "/models/"); i >= 0 {
			m := path[i+len("/models/"):]
			m = m[:strings.LastIndexByte(m, ':')]
			c.model, _ = url.PathUnescape(m)
		}
	case bedrockAPI:
		c.stream = strings.HasSuffix(path, "/converse-stream")
		if i := strings.LastIndex(path, "/model/"); i >= 0 {
			m := path[i+len("/model/"):]
			m = m[:strings.LastIndexByte(m, '/')]
			c.model, _ = url.PathUnescape(m)
		}
	case huggingfaceAPI:
		c.stream = c.stream || strings.HasSuffix(path, "/generate_stream")
		if i := strings.Index(path, "/models/"); i >= 0 { // the serverless API's model URL
			c.model, _ = url.PathUnescape(path[i+len("/models/"):])
		}
	}
}

// nativeTarget reports whether t is of the provider whose API the native request speaks (a
// gemini model on a Vertex AI endpoint speaks OpenAI's: Gemini requests are translated for it).
func (x *clientRequest) nativeTarget(t *target) bool {
	return t.cfg.Model.Provider == nativeAPIs[x.api].provider && !vertexEndpoint(t.cfg.Model)
}

// passRoute is the route type of a passthrough attempt in c's API.
func (c *call) passRoute() provider.RouteType {
	x := &c.x
	switch {
	case c.route == routeCountTokens:
		return routeCountTokens
	case x.api == anthropicAPI:
		return routeMessages
	case x.api.native():
		return nativeAPIs[x.api].route
	}
	return provider.Responses
}

// nativeBody is the native request as t receives it: Cohere's and Hugging Face's with
// t's model.options defaults under their names (Cohere's model too; Gemini's and Bedrock's
// model is in the URL), stream: true when response_streaming forced it on an API whose stream
// the body asks for. Gemini's and Bedrock's bodies pass unchanged.
func (c *call) nativeBody(t *target) []byte {
	var edits []jsonx.Edit
	o := t.cfg.Model.Options
	num := func(f *float64) []byte { return strconv.AppendFloat(nil, *f, 'g', -1, 64) }
	switch c.x.api {
	case cohereAPI:
		if name := c.modelName(t); name != "" {
			edits = append(edits, jsonx.Edit{Key: "model", Value: jsonx.AppendString(nil, name)})
		}
		if o.MaxTokens != nil {
			edits = append(edits, jsonx.Edit{Key: "max_tokens", Value: strconv.AppendInt(nil, int64(*o.MaxTokens), 10), OnlyIfAbsent: true})
		}
		if o.Temperature != nil {
			edits = append(edits, jsonx.Edit{Key: "temperature", Value: num(o.Temperature), OnlyIfAbsent: true})
		}
		if o.TopP != nil {
			edits = append(edits, jsonx.Edit{Key: "p", Value: num(o.TopP), OnlyIfAbsent: true})
		}
		if o.TopK != nil {
			edits = append(edits, jsonx.Edit{Key: "k", Value: strconv.AppendInt(nil, int64(*o.TopK), 10), OnlyIfAbsent: true})
		}
		if c.forceStream {
			edits = append(edits, jsonx.Edit{Key: "stream", Value: []byte("true")})
		}
	case huggingfaceAPI:
		if c.stream {
			edits = append(edits, jsonx.Edit{Key: "stream", Value: []byte("true")})
		}
	}
	if len(edits) == 0 {
		return c.x.native
	}
	return jsonx.Apply(make([]byte, 0, len(c.x.native)+64), c.x.native, edits)
}

// nativeRequest builds the upstream request of a native passthrough: the provider's own
// endpoint for the target's model (else the client's), with the body as built.
func (p passthrough) nativeRequest(ctx context.Context, r *provider.Request) (*http.Request, error) {
	switch p.route {
	case routeGemini:
		gp, _ := p.t.prov.(gemini.Provider)
		method := "generateContent"
		if r.Stream {
			method = "streamGenerateContent"
		}
		model := strings.TrimPrefix(r.Model.Name, "models/")
		u := gp.URL(r, model, method)
		if r.Stream && r.Model.Options.UpstreamURL != "" && strings.HasSuffix(u, ":generateContent") {
			u = strings.TrimSuffix(u, ":generateContent") + ":streamGenerateContent?alt=sse"
		}
		return openai.NewJSONRequest(ctx, u, r.Body, r.Stream)
	case routeBedrock:
		bp, _ := p.t.prov.(bedrock.Provider)
		op := "converse"
		if r.Stream {
			op = "converse-stream"
		}
		return bp.NativeRequest(ctx, r, r.Model.Name, op)
	case routeCohere:
		cp, _ := p.t.prov.(cohere.Provider)
		return openai.NewJSONRequest(ctx, openai.URL(cmp.Or(cp.BaseURL, cohere.DefaultBaseURL), "/v2/chat", r), r.Body, r.Stream)
	}
	// Hugging Face: a text-generation endpoint (TGI, an Inference Endpoint) named by
	// upstream_url, /generate or /generate_stream after a host-only one; else the serverless
	// Inference API's model URL, which streams when the body says so.
	path := "/generate"
	if r.Stream {
		path = "/generate_stream"
	}
	if r.Model.Options.UpstreamURL == "" {
		if r.Model.Name == "" {
			return nil, &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error",
				Message: "huggingface: target " + p.t.name + " names no model and no upstream_url"}
		}
		hp, _ := p.t.prov.(huggingface.Provider)
		path = "/" + r.Model.Name
		return openai.NewJSONRequest(ctx, cmp.Or(hp.EmbeddingsBaseURL, huggingface.DefaultEmbeddingsBaseURL)+path, r.Body, r.Stream)
	}
	return openai.NewJSONRequest(ctx, openai.URL("", path, r), r.Body, r.Stream)
}

// nativeResponse reads a native answer's model and usage: Gemini's modelVersion and
// usageMetadata, Bedrock's usage, Cohere's usage.tokens (else billed_units), Hugging Face's
// details.generated_tokens.
func (p passthrough) nativeResponse(body []byte) (*provider.Response, error) {
	resp := &provider.Response{Body: body}
	if p.route == routeBedrock {
		resp.Usage = bedrock.NativeUsage(body)
		resp.Model = p.t.cfg.Model.Name
	}
	err := jsonx.Object(body, func(m jsonx.Member) bool {
		switch string(m.Key) {
		case "modelVersion", "model":
			resp.Model, _ = jsonx.String(m.Value)
		}
		if p.route != routeBedrock {
			if u, found := nativeEventUsage(p.route, m); found {
				resp.Usage = u
			}
		}
		return true
	})
	if err != nil {
		return nil, &provider.Error{Status: http.StatusBadGateway, Type: "server_error",
			Message: "the upstream returned a body that is not a JSON object: " + err.Error()}
	}
	return resp, nil
}

// nativeEventUsage reads the usage in member m of a native answer or streamed event.
func nativeEventUsage(route provider.RouteType, m jsonx.Member) (provider.Usage, bool) {
	var u provider.Usage
	switch {
	case route == routeGemini && string(m.Key) == "usageMetadata":
		cached := 0
		_ = jsonx.Object(m.Value, func(f jsonx.Member) bool {
			switch string(f.Key) {
			case "promptTokenCount":
				u.PromptTokens = tokenCount(f.Value)
			case "candidatesTokenCount", "thoughtsTokenCount":
				u.CompletionTokens += tokenCount(f.Value)
			case "cachedContentTokenCount":
				cached = tokenCount(f.Value)
			}
			return true
		})
		u.CachedTokens = cached
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
		return u, true
	case route == routeCohere && (string(m.Key) == "usage" || string(m.Key) == "delta"):
		if string(m.Key) == "delta" { // the stream's message-end: {"delta":{"usage":…}}
			found := false
			_ = jsonx.Object(m.Value, func(f jsonx.Member) bool {
				if string(f.Key) == "usage" {
					u, found = nativeEventUsage(route, f)
				}
				return true
			})
			return u, found
		}
		var billed, tokens provider.Usage
		_ = jsonx.Object(m.Value, func(f jsonx.Member) bool {
			switch string(f.Key) {
			case "billed_units":
				billed = nativeUsage(f.Value)
			case "tokens":
				tokens = nativeUsage(f.Value)
			}
			return true
		})
		if tokens == (provider.Usage{}) {
			tokens = billed
		}
		return tokens, tokens != provider.Usage{}
	case route == routeHuggingface && string(m.Key) == "details":
		found := false
		_ = jsonx.Object(m.Value, func(f jsonx.Member) bool {
			if string(f.Key) == "generated_tokens" {
				u.CompletionTokens, u.TotalTokens, found = tokenCount(f.Value), tokenCount(f.Value), true
			}
			return true
		})
		return u, found
	}
	return u, false
}

// nativeStream relays a native stream: Bedrock's binary event stream frame by frame, the
// others' server-sent events event by event, metering the usage they report.
func (p passthrough) nativeStream(body io.Reader) provider.Stream {
	if p.route == routeBedrock {
		return bedrock.NewRawStream(body)
	}
	route := p.route
	return &relay{r: sse.NewReader(body), native: func(data []byte) (u provider.Usage, found bool) {
		_ = jsonx.Object(data, func(m jsonx.Member) bool {
			if v, ok := nativeEventUsage(route, m); ok {
				u, found = v, true
			}
			return true
		})
		return u, found
	}}
}

// streamType is the Content-Type of a stream to the client: Bedrock's event stream for its
// clients; Gemini's JSON array for a Gemini client that did not ask for server-sent events
// (alt=sse), translated (passed through, Gemini is always asked for events); server-sent
// events otherwise.
func (x *clientRequest) streamType(pass bool) string {
	switch {
	case x.api == bedrockAPI:
		return "application/vnd.amazon.eventstream"
	case x.api == geminiAPI && !pass:
		if g, ok := x.translated.(geminiRequest); ok && !g.sse {
			return "application/json"
		}
	}
	return "text/event-stream"
}

// nativeModel is the model of a native passthrough to a target that names none (nor
// resolves one from template variables): the client's, from its path or body; nil otherwise.
func (c *call) nativeModel(t *target, x exchange) *provider.Model {
	if !nativeRoutes[x.route] || c.modelName(t) != "" || c.model == "" {
		return nil
	}
	m := t.cfg.Model
	m.Name = c.model
	return &m
}
