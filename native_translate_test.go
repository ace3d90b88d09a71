package aiproxy_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
)

// Native client formats translated (beyond Kong): a Gemini, Bedrock Converse, Cohere v2 or
// TGI request that goes to a target of another provider, here an OpenAI one, through chat
// both ways. One file a format (native_translate_{gemini,bedrock,cohere,huggingface}_test.go),
// the official SDKs in native_translate_sdk_test.go; the helpers they share are here.

// translatedProxy is a proxy of llm_format format over targets, by priority (the highest
// weight first), failing over as nativeProxy's do; it logs each request's Stats.
func translatedProxy(t *testing.T, format string, targets ...aiproxy.Target) (*aiproxy.Proxy, *statsLog) {
	t.Helper()
	return surfaceProxy(t, aiproxy.Config{
		LLMFormat: format,
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Priority,
			FailoverCriteria: []string{"error", "timeout", "http_429", "http_500", "http_503", "non_idempotent"}},
		Targets: targets,
	})
}

// erroringProxy is a proxy of llm_format format over targets that does not fail over:
// the upstream's error reaches the client with its status.
func erroringProxy(t *testing.T, format string, targets ...aiproxy.Target) *aiproxy.Proxy {
	t.Helper()
	p, _ := surfaceProxy(t, aiproxy.Config{LLMFormat: format, Targets: targets})
	return p
}

// chatFake is an OpenAI fake that requires its own key (so the target's credentials are
// the ones sent) and answers with a call of the first tool offered, {"city":"Paris"}, when
// the request has tools, else "Hello from <model>". Its chat usage for a single "Hi" (plus
// any system prompt) is the fake's: 4 tokens a message plus a token per 4 bytes.
func chatFake(t *testing.T) *aiproxytest.OpenAI {
	oa := aiproxytest.NewOpenAI()
	t.Cleanup(oa.Close)
	oa.APIKey = "sk-oa"
	oa.Call = func(req *provider.ChatRequest) *provider.FunctionCall {
		if len(req.Tools) == 0 {
			return nil
		}
		return &provider.FunctionCall{Name: req.Tools[0].Function.Name, Arguments: `{"city":"Paris"}`}
	}
	return oa
}

// openaiAt is an OpenAI target of alias "assistant" at weight (its priority).
func openaiAt(oa *aiproxytest.OpenAI, weight int) aiproxy.Target {
	t := oaTarget(oa, "gpt-4o")
	t.Weight = weight
	return t
}

// lastChat is the body of the last chat request the fake got.
func lastChat(t *testing.T, oa *aiproxytest.OpenAI) string {
	t.Helper()
	reqs := oa.Requests()
	require.NotEmpty(t, reqs)
	last := reqs[len(reqs)-1]
	assert.Equal(t, "/v1/chat/completions", last.Path)
	assert.NotContains(t, last.RawQuery, "key=", "the client's key for the proxy is not forwarded")
	return string(last.Body)
}

// weatherAnswered is the chat request of a history in which the assistant called
// get_weather (call id, with content, raw JSON) and the tool answered {"temp":21}.
func weatherAnswered(id, content string) string {
	return `{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":` + content +
		`,"tool_calls":[{"id":"` + id + `","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},` +
		`{"role":"tool","content":"{\"temp\":21}","tool_call_id":"` + id + `"}]}`
}

// helloUsage is the fake's chat usage for "Hi" answered "Hello from gpt-4o".
var helloUsage = provider.Usage{PromptTokens: 5, CompletionTokens: 5, TotalTokens: 10}

// brokenChat is an OpenAI target whose streams break off after their first chunk ("Hel"):
// with mode "close" the connection closes, with mode "error" an error event follows.
func brokenChat(t *testing.T, mode string) aiproxy.Target {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o",`+
			`"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}`+"\n\n")
		w.(http.Flusher).Flush()
		if mode == "error" {
			io.WriteString(w, `data: {"error":{"message":"The server is overloaded.","type":"server_error","code":null}}`+"\n\n")
			return
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	return aiproxy.Target{Model: provider.Model{Provider: "openai", Name: "gpt-4o", Alias: "assistant",
		Options: provider.Options{UpstreamURL: srv.URL + "/v1/chat/completions"}},
		Auth: aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer sk-oa"}}
}

// sseEvent is one server-sent event.
type sseEvent struct{ event, data string }

// sseEvents splits a server-sent event stream (LF or CRLF line ends) into its events.
func sseEvents(t *testing.T, body string) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	for _, line := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		switch {
		case line == "":
			if cur != (sseEvent{}) {
				out = append(out, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "event:"):
			cur.event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			cur.data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
		default:
			t.Errorf("not a server-sent event line: %q", line)
		}
	}
	assert.Equal(t, sseEvent{}, cur, "the stream ends with a whole event")
	return out
}

// decodeJSON decodes s into a new T, failing the test if it is not JSON.
func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(s), &v), s)
	return v
}

// eventFrames decodes a whole AWS event stream, checking each frame's CRCs.
func eventFrames(t *testing.T, r io.Reader) []eventstream.Message {
	t.Helper()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	rd := bytes.NewReader(b)
	dec := eventstream.NewDecoder()
	var out []eventstream.Message
	for rd.Len() > 0 {
		m, err := dec.Decode(rd, nil)
		require.NoError(t, err, "frame %d", len(out))
		out = append(out, m)
	}
	return out
}
