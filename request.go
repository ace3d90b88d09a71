package aiproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
)

// call is one inbound request on its way through the proxy.
type call struct {
	ctx   context.Context
	req   *http.Request
	start time.Time

	body  []byte // the client's JSON body, read once and replayed on every attempt
	route provider.RouteType
	model string // the model the client asked for; empty if none
	// modelJSON is the request's model member as sent, to skip rewriting it to itself.
	modelJSON []byte
	stream    bool // the client asked for (or response_streaming forced) an event stream
	// streamOptions: the client sent stream_options, which the proxy then leaves as they are.
	streamOptions bool
	// addedUsage: the current attempt asked an OpenAI upstream for the stream's usage, which
	// the client did not ask for: the usage-only last chunk is not passed on.
	addedUsage bool
	// set: sampling fields the client set, which model.options must not override.
	set sampling
	// lastUser is the raw JSON of the last user message, and prompt the completions prompt,
	// for the semantic balancer.
	lastUser, prompt []byte
	// forceStream: response_streaming "always" turned a non-streaming request into a stream.
	forceStream bool
	// x is the request in a client API other than OpenAI's chat, completions, embeddings.
	x clientRequest
	// media is a request of a media route type (audio, images, files, …); nil otherwise.
	media *mediaCall

	// The attempt loop's state.
	now      time.Time  // when the current pick happens, for the circuit breaker
	tried    []*target  // targets tried, never picked again
	triedBuf [4]*target // backs tried for up to four attempts
	broken   bool       // a target was skipped because its breaker is open
	served   *target    // the target whose response is sent
	stats    Stats
	// attemptStart is when the current attempt began, and attemptDone reports its outcome to
	// the Attempt hooks (nil without any).
	attemptStart time.Time
	attemptDone  func(Attempt)
	// creds are the credentials the current attempt sent, scrubbed from upstream errors.
	creds [3]string
	// ended is the request context's error when it ended before the response started: the
	// client's doing, never counted against a target.
	ended error
	// admit is what the ACLs and template variables decided (Proxy.admit); nil without them.
	admit *admission
	// response is the body sent to the client (a stream's events as framed), kept only for
	// a target with logging.log_payloads, up to maxLoggedResponse bytes.
	response []byte
}

// maxLoggedResponse bounds the response body that log_payloads keeps per request.
const maxLoggedResponse = 1 << 20

// keepResponse adds b to the response kept for log_payloads when the serving target logs
// payloads.
func (c *call) keepResponse(t *target, b []byte) {
	if t.cfg.Logging.LogPayloads && len(c.response) < maxLoggedResponse {
		c.response = append(c.response, b[:min(len(b), maxLoggedResponse-len(c.response))]...)
	}
}

// skip reports whether a picker must pass over t: tried already, or circuit-broken.
func (c *call) skip(t *target) bool {
	if c == nil {
		return false
	}
	for _, u := range c.tried {
		if u == t {
			return true
		}
	}
	if !c.serves(t) || c.refused(t) {
		return true
	}
	if t.health.open(c.now) {
		c.broken = true
		return true
	}
	return false
}

// sampling flags the request fields that model.options supply defaults for.
type sampling uint8

const (
	setMaxTokens sampling = 1 << iota
	setTemperature
	setTopP
	setTopK
)

// readBody reads the request body once, under limit (negative: no limit).
func readBody(r *http.Request, limit int64) ([]byte, *RequestError) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, badRequest("missing_body", "the request has no body; send an OpenAI-format JSON request")
	}
	body, err := readAll(r.Body, r.ContentLength, limit)
	switch {
	case errors.Is(err, errTooLarge):
		return nil, tooLarge(limit)
	case err != nil:
		return nil, &RequestError{Status: http.StatusBadRequest, Type: "invalid_request_error", Code: "body_read_failed",
			Message: "reading the request body failed: " + err.Error(), Err: ErrBadRequest}
	}
	return body, nil
}

// maxResponse bounds an upstream response body the proxy reads whole (not a stream); a
// variable so that the fault suite can lower it.
var maxResponse int64 = 64 << 20

// errTooLarge is readAll's error for a body over its limit.
var errTooLarge = errors.New("the body is over the size limit")

// readAll reads r to the end, failing with errTooLarge past limit bytes (negative: no
// limit). size, when not negative, is the declared length: a declared length within the
// limit (and within 1 MiB without one) is read exactly, in one allocation.
func readAll(r io.Reader, size, limit int64) ([]byte, error) {
	if limit >= 0 && size > limit {
		return nil, errTooLarge
	}
	if size >= 0 && (limit >= 0 || size <= 1<<20) {
		buf := make([]byte, size)
		_, err := io.ReadFull(r, buf)
		return buf, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, 512))
	if limit >= 0 {
		r = io.LimitReader(r, limit+1)
	}
	_, err := buf.ReadFrom(r)
	if err == nil && limit >= 0 && int64(buf.Len()) > limit {
		err = errTooLarge
	}
	return buf.Bytes(), err
}

func tooLarge(limit int64) *RequestError {
	return &RequestError{Status: http.StatusRequestEntityTooLarge, Type: "invalid_request_error", Code: "request_too_large",
		Message: "the request body is larger than max_request_body_size (" + strconv.FormatInt(limit, 10) + " bytes)", Err: ErrBodyTooLarge}
}

// parse reads the fields of c.body that routing needs and checks the request's shape.
func (c *call) parse() *RequestError {
	if !utf8.Valid(c.body) {
		return badRequest("invalid_encoding", "%s holds bytes that are not UTF-8; JSON text must be UTF-8", invalidUTF8Path(c.body))
	}
	var perr *RequestError
	var sawMessages, sawPrompt, sawInput bool
	err := jsonx.Object(c.body, func(m jsonx.Member) bool {
		switch string(m.Key) {
		case "model":
			s, err := jsonx.String(m.Value)
			if err != nil && string(m.Value) != "null" {
				perr = badRequest("invalid_type", "model must be a string")
				return false
			}
			c.model, c.modelJSON = s, m.Value
		case "stream":
			switch string(m.Value) {
			case "true":
				c.stream = true
			case "false", "null":
			default:
				perr = badRequest("invalid_type", "stream must be a boolean (true or false)")
			}
		case "stream_options":
			c.streamOptions = string(m.Value) != "null"
		case "messages":
			sawMessages = true
			perr = c.parseMessages(m.Value)
		case "prompt":
			sawPrompt = string(m.Value) != "null"
			c.prompt = m.Value
		case "input":
			sawInput = string(m.Value) != "null"
		case "max_tokens", "max_completion_tokens":
			c.set |= setMaxTokens
		case "temperature":
			c.set |= setTemperature
		case "top_p":
			c.set |= setTopP
		case "top_k":
			c.set |= setTopK
		}
		return perr == nil
	})
	if err != nil {
		return badRequest("invalid_json", "the request body is not a JSON object: %v", err)
	}
	if perr != nil {
		return perr
	}
	switch c.route {
	case provider.Chat:
		if !sawMessages {
			return badRequest("missing_messages", "messages is required: an array of chat messages")
		}
	case provider.Completions:
		if !sawPrompt {
			return badRequest("missing_prompt", "prompt is required")
		}
	case provider.Embeddings:
		if !sawInput {
			return badRequest("missing_input", "input is required")
		}
		if c.stream {
			return badRequest("invalid_stream", "embeddings cannot be streamed")
		}
	}
	return nil
}

// parseMessages checks that messages is a non-empty array of objects with a known role,
// and remembers the last user message.
func (c *call) parseMessages(v []byte) *RequestError {
	var perr *RequestError
	n := 0
	err := jsonx.Array(v, func(elem []byte) bool {
		role := ""
		err := jsonx.Object(elem, func(m jsonx.Member) bool {
			if string(m.Key) == "role" {
				role, _ = jsonx.String(m.Value)
			}
			return true
		})
		switch {
		case err != nil:
			perr = badRequest("invalid_messages", "messages[%d] must be an object", n)
		case role == "user":
			c.lastUser = elem
		case role == "system", role == "developer", role == "assistant", role == "tool", role == "function":
		case role == "":
			perr = badRequest("invalid_messages", "messages[%d].role is required", n)
		default:
			perr = badRequest("invalid_messages", "messages[%d].role %q is not one of system, developer, user, assistant, tool", n, role)
		}
		n++
		return perr == nil
	})
	if err != nil {
		return badRequest("invalid_messages", "messages must be an array")
	}
	if perr == nil && n == 0 {
		return badRequest("invalid_messages", "messages must not be empty")
	}
	return perr
}

// promptText returns the text the semantic balancer embeds: for completions the prompt
// (the strings of an array prompt joined by newlines), otherwise the text of the last user
// message (text parts of array content joined by newlines); "" when there is none.
func (c *call) promptText() (string, error) {
	if c.route == provider.Completions {
		var parts []string
		if s, err := jsonx.String(c.prompt); err == nil {
			parts = append(parts, s)
		} else {
			_ = jsonx.Array(c.prompt, func(elem []byte) bool {
				if s, err := jsonx.String(elem); err == nil { // token arrays carry no text
					parts = append(parts, s)
				}
				return true
			})
		}
		return strings.TrimSpace(strings.Join(parts, "\n")), nil
	}
	if c.lastUser == nil {
		return "", nil
	}
	var m provider.Message
	if err := json.Unmarshal(c.lastUser, &m); err != nil {
		return "", err
	}
	return strings.TrimSpace(m.Content.String()), nil
}

// invalidUTF8Path names where in the JSON object body the first bytes that are not UTF-8 are:
// a top-level member, or an element of messages ("messages[2]").
func invalidUTF8Path(body []byte) string {
	path := "the request body"
	_ = jsonx.Object(body, func(m jsonx.Member) bool {
		if utf8.Valid(m.Value) && utf8.Valid(m.Key) {
			return true
		}
		path = strconv.Quote(string(m.Key))
		if string(m.Key) == "messages" {
			i := 0
			_ = jsonx.Array(m.Value, func(elem []byte) bool {
				if !utf8.Valid(elem) {
					path = "messages[" + strconv.Itoa(i) + "]"
					return false
				}
				i++
				return true
			})
		}
		return false
	})
	return path
}
