package aiproxy

import (
	"cmp"
	"errors"
	"net/http"
	"strconv"

	"github.com/aiproxy/aiproxy/format"
	"github.com/aiproxy/aiproxy/format/anthropic"
	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/sse"
)

// clientRequest is what the proxy keeps of a request in a client API other than OpenAI's
// chat, completions and embeddings: the body as the client sent it, for targets that speak
// its API (passed through), and its translation, for the others (through chat).
type clientRequest struct {
	api clientAPI
	// native is the client's body; call.body is then the chat translation, or nil when
	// unsupported is set.
	native []byte
	// unsupported names a field that only the client's own API can express: such a request
	// goes to targets that speak that API, and to no other.
	unsupported *format.UnsupportedError
	// translated is the parsed request, which translates the chat answers back.
	translated translation
	// topK is the request's top_k, which chat has not, for the targets whose API takes one.
	topK []byte
	// bare is the client's request without its query (withoutQuery).
	bare *http.Request
}

// withoutQuery returns the client's request r without its query parameters, which belong to
// its API (Gemini's alt=sse, Anthropic's beta=true): an attempt translated to chat does not
// forward them, as a passthrough does.
func (x *clientRequest) withoutQuery(r *http.Request) *http.Request {
	if r.URL == nil || r.URL.RawQuery == "" {
		return r
	}
	if x.bare == nil {
		b, u := *r, *r.URL
		u.RawQuery = ""
		b.URL = &u
		x.bare = &b
	}
	return x.bare
}

// parseRequest reads the request body (parse), in the client's API: the members routing
// needs from the body as sent, then the translation to chat, whose own members (the
// messages the semantic balancer reads, the sampling fields model.options must not
// override) the attempts use.
func (c *call) parseRequest() *RequestError {
	if c.x.api == openaiAPI {
		return c.parse()
	}
	route := c.route
	c.route = "" // no chat checks on the body as sent: its API's parser checks it
	rerr := c.parse()
	c.route = route
	if rerr != nil {
		return rerr
	}
	c.x.native = c.body
	if c.x.api.native() {
		c.parseNative()
	}
	if route == routeCountTokens { // Anthropic's own: only its targets count their tokens
		c.x.unsupported = &format.UnsupportedError{API: "anthropic", Field: "POST /v1/messages/count_tokens",
			Reason: "only Anthropic counts the tokens of its models"}
		c.body = nil
		return nil
	}
	tr, chat, topK, err := c.translate()
	c.x.translated = tr
	if topK != nil {
		c.x.topK = strconv.AppendInt(nil, int64(*topK), 10)
	}
	var ue *format.UnsupportedError
	var ie *format.InvalidRequestError
	switch {
	case errors.As(err, &ue):
		c.x.unsupported, c.body = ue, nil
		return nil
	case errors.As(err, &ie):
		return badRequest("invalid_request", "%s", ie.Error())
	case err != nil:
		return badRequest("invalid_request", "%v", err)
	}
	c.body, c.set, c.lastUser = chat, 0, nil
	c.route = provider.Chat
	rerr = c.parse()
	c.route = route
	return rerr
}

// natives names the providers that speak c's API natively.
func (x *clientRequest) natives() string {
	if x.api == anthropicAPI {
		return "provider anthropic"
	}
	if x.api.native() {
		return "provider " + nativeAPIs[x.api].provider
	}
	return "provider openai or azure"
}

// passthrough reports whether t gets the request as the client sent it: a target of the
// client's own API (Anthropic for Anthropic clients; for Responses clients, OpenAI and Azure
// targets of route type llm/v1/responses, or any OpenAI and Azure target when the request
// needs their API).
func (x *clientRequest) passthrough(t *target) bool {
	if t.cfg.Provider != nil { // a custom provider: its API is not known
		return false
	}
	switch x.api {
	case anthropicAPI:
		return t.cfg.Model.Provider == "anthropic"
	case geminiAPI, bedrockAPI, cohereAPI, huggingfaceAPI:
		return x.nativeTarget(t)
	case responsesAPI:
		return (t.cfg.Model.Provider == "openai" || t.cfg.Model.Provider == "azure") &&
			(t.cfg.RouteType == provider.Responses || x.unsupported != nil)
	}
	return false
}

// exchange is how one attempt speaks to its target: the route type its request has (the
// client's, a passthrough one, or chat), the body sent, and whether the answer passes through.
type exchange struct {
	route provider.RouteType
	body  []byte
	pass  bool
}

// exchange returns how c is sent to t.
func (c *call) exchange(t *target) exchange {
	switch {
	case c.x.api == openaiAPI:
		return exchange{route: c.route, body: c.bodyFor(t)}
	case c.x.passthrough(t):
		return exchange{route: c.passRoute(), body: c.nativeBodyFor(t), pass: true}
	}
	body := c.bodyFor(t)
	if c.x.topK != nil && takesTopK[t.cfg.Model.Provider] {
		body = jsonx.Apply(make([]byte, 0, len(body)+16), body, []jsonx.Edit{{Key: "top_k", Value: c.x.topK, OnlyIfAbsent: true}})
	}
	return exchange{route: provider.Chat, body: body}
}

// takesTopK are the providers whose chat translation sends top_k on (OpenAI's API refuses
// it, and the other providers drop it).
var takesTopK = map[string]bool{
	"gemini": true, "bedrock": true, "ollama": true, "vllm": true, "databricks": true, "dashscope": true, "llama2": true,
}

// nativeBodyFor returns the client's body as t, which speaks its API, receives it: with t's
// model name (Azure: its deployment) and model.options defaults under the API's names
// (max_tokens is max_output_tokens in the Responses API), and stream: true when
// response_streaming forced it.
func (c *call) nativeBodyFor(t *target) []byte {
	if c.x.api.native() {
		return c.nativeBody(t)
	}
	if c.route == routeCountTokens { // it takes the model, no sampling options
		if name := c.modelName(t); name != "" {
			return jsonx.Apply(make([]byte, 0, len(c.x.native)+len(name)+16), c.x.native, []jsonx.Edit{{Key: "model", Value: jsonx.AppendString(nil, name)}})
		}
		return c.x.native
	}
	edits := make([]jsonx.Edit, 0, len(t.edits)+2)
	for _, e := range t.edits {
		switch {
		case e.Key == "model" && t.cfg.Model.Options.AzureDeploymentID != "" && t.cfg.Model.Provider == "azure":
			e.Value = jsonx.AppendString(nil, t.cfg.Model.Options.AzureDeploymentID)
		case e.Key == "max_tokens" && c.x.api == responsesAPI:
			e.Key = "max_output_tokens"
		}
		edits = append(edits, e)
	}
	if k := t.cfg.Model.Options.TopK; k != nil && c.x.api == anthropicAPI {
		edits = append(edits, jsonx.Edit{Key: "top_k", Value: strconv.AppendInt(nil, int64(*k), 10), OnlyIfAbsent: true})
	}
	if c.forceStream {
		edits = append(edits, jsonx.Edit{Key: "stream", Value: []byte("true")})
	}
	if len(edits) == 0 {
		return c.x.native
	}
	return jsonx.Apply(make([]byte, 0, len(c.x.native)+64), c.x.native, edits)
}

// response turns a target's complete answer into the client's: a chat completion translated
// into the client's API, or, passed through (pass), as it came.
func (x *clientRequest) response(body []byte, pass bool) ([]byte, error) {
	switch {
	case pass || x.translated == nil:
		return body, nil
	}
	return x.translated.Response(body)
}

// framer turns a stream's events into the bytes the client reads, in its API.
type framer interface {
	// Chunk appends the framed events of one event's data to dst.
	Chunk(dst, data []byte) ([]byte, error)
	// End appends what ends the stream after its last event.
	End(dst []byte) []byte
	// Fail appends the event that ends a stream the upstream broke off, from the
	// OpenAI-format error body and its status.
	Fail(dst []byte, status int, body []byte) []byte
}

// framer returns the framer of one attempt's stream: the client API's translation of chat
// chunks, or, passed through, the upstream's events as they came.
func (x *clientRequest) framer(pass bool) framer {
	switch {
	case pass:
		return relayFramer{api: x.api}
	case x.translated != nil:
		return x.translated.stream()
	}
	return openaiFramer{}
}

// openaiFramer frames OpenAI's events: "data: <chunk>" each, then "data: [DONE]"; an error
// ends the stream as its last event.
type openaiFramer struct{}

func (openaiFramer) Chunk(dst, data []byte) ([]byte, error) { return sse.AppendData(dst, data), nil }

func (openaiFramer) End(dst []byte) []byte { return sse.AppendData(dst, sse.Done) }

func (openaiFramer) Fail(dst []byte, _ int, body []byte) []byte { return sse.AppendData(dst, body) }

// relayFramer frames the events of a passthrough stream (relay), which come framed already.
type relayFramer struct{ api clientAPI }

func (relayFramer) Chunk(dst, data []byte) ([]byte, error) { return append(dst, data...), nil }

func (relayFramer) End(dst []byte) []byte { return dst }

// Fail appends the API's error event: Anthropic's "error", or the Responses API's "error".
func (f relayFramer) Fail(dst []byte, status int, body []byte) []byte {
	if f.api.native() {
		return nativeFail(f.api, dst, status, body)
	}
	if f.api == anthropicAPI {
		dst = append(dst, "event: error\ndata: "...)
		dst = append(dst, anthropic.Error(status, body)...)
		return append(dst, "\n\n"...)
	}
	code, msg := openaiErrorOf(body)
	dst = append(dst, `event: error`+"\n"+`data: {"type":"error","code":`...)
	dst = jsonx.AppendString(dst, code)
	dst = append(dst, `,"message":`...)
	dst = jsonx.AppendString(dst, msg)
	return append(dst, ",\"param\":null}\n\n"...)
}

// openaiErrorOf reads the code (else the type) and message of an OpenAI-format error body.
func openaiErrorOf(body []byte) (code, msg string) {
	var e provider.Error
	_ = jsonx.Object(body, func(m jsonx.Member) bool {
		if string(m.Key) == "error" {
			_ = jsonx.Object(m.Value, func(f jsonx.Member) bool {
				switch string(f.Key) {
				case "message":
					e.Message, _ = jsonx.String(f.Value)
				case "code":
					e.Code, _ = jsonx.String(f.Value)
				case "type":
					e.Type, _ = jsonx.String(f.Value)
				}
				return true
			})
		}
		return true
	})
	return cmp.Or(e.Code, e.Type, "server_error"), e.Message
}

// clientError renders an error response in the client's API: Anthropic clients get
// Anthropic's error body; the others OpenAI's, as built.
func (c *call) clientError(resp *http.Response) *http.Response {
	if (c.x.api != anthropicAPI && !c.x.api.native()) || resp.StatusCode < 400 {
		return resp
	}
	body, ok := resp.Body.(*bytesBody)
	if !ok {
		return resp
	}
	raw := make([]byte, body.Len())
	_, _ = body.Read(raw)
	if c.x.api.native() {
		return jsonResponse(c.req, resp.StatusCode, resp.Header, nativeError(c.x.api, resp.StatusCode, resp.Header, raw))
	}
	return jsonResponse(c.req, resp.StatusCode, resp.Header, anthropic.Error(resp.StatusCode, raw))
}
