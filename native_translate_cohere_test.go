package aiproxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/provider"
)

// cohereUsage is Cohere v2's usage object.
type cohereUsage struct {
	BilledUnits struct {
		InputTokens  int `json:"input_tokens"`
		OutputTokens int `json:"output_tokens"`
	} `json:"billed_units"`
	Tokens struct {
		InputTokens  int `json:"input_tokens"`
		OutputTokens int `json:"output_tokens"`
	} `json:"tokens"`
}

// cohereResponse is a Cohere v2 chat response as clients read it, or an error.
type cohereResponse struct {
	ID           string `json:"id"`
	FinishReason string `json:"finish_reason"`
	Message      struct {
		Role    string `json:"role"`
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
		ToolCalls []struct {
			ID       string `json:"id"`
			Type     string `json:"type"`
			Function struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
	} `json:"message"`
	Usage cohereUsage `json:"usage"`
}

// cohereEvent is the data of a Cohere v2 stream event, with the members these tests read.
type cohereEvent struct {
	Type  string `json:"type"`
	Delta struct {
		FinishReason string          `json:"finish_reason"`
		Error        string          `json:"error"`
		Usage        *cohereUsage    `json:"usage"`
		Message      json.RawMessage `json:"message"`
	} `json:"delta"`
}

const cohereTranslated = `{"model":"assistant","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],` +
	`"max_tokens":64,"temperature":0.5}`

const cohereWeather = `{"model":"assistant","messages":[{"role":"user","content":"Weather in Paris?"}],` +
	`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`

// cohereStream reads a Cohere v2 stream: each event's name (which is its data's type) and data.
func cohereStream(t *testing.T, resp *http.Response) ([]string, []cohereEvent, []string) {
	t.Helper()
	body := readAllString(t, resp.Body)
	require.Equal(t, 200, resp.StatusCode, body)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	var names, data []string
	var events []cohereEvent
	for _, ev := range sseEvents(t, body) {
		e := decodeJSON[cohereEvent](t, ev.data)
		assert.Equal(t, ev.event, e.Type)
		names, events, data = append(names, ev.event), append(events, e), append(data, ev.data)
	}
	return names, events, data
}

// withStream is a Cohere request body with stream: true.
func withStream(body string) string { return strings.Replace(body, "{", `{"stream":true,`, 1) }

func TestNativeCohereTranslated(t *testing.T) {
	oa := chatFake(t)
	p, log := translatedProxy(t, "cohere", openaiAt(oa, 0))
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			resp := do("POST", "/v2/chat", cohereTranslated)
			body := readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			c := decodeJSON[cohereResponse](t, body)
			assert.Equal(t, "assistant", c.Message.Role)
			require.Len(t, c.Message.Content, 1, body)
			assert.Equal(t, "text", c.Message.Content[0].Type)
			assert.Equal(t, "Hello from gpt-4o", c.Message.Content[0].Text)
			assert.Equal(t, "COMPLETE", c.FinishReason)
			assert.NotEmpty(t, c.ID)
			assert.JSONEq(t, `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],`+
				`"max_completion_tokens":64,"temperature":0.5}`, lastChat(t, oa))
			s := log.last(t)
			assert.Equal(t, "openai/gpt-4o", s.Target)
			assert.Equal(t, provider.Usage{PromptTokens: 12, CompletionTokens: 5, TotalTokens: 17}, s.Usage)
			assert.Equal(t, s.Usage.PromptTokens, c.Usage.Tokens.InputTokens)
			assert.Equal(t, s.Usage.CompletionTokens, c.Usage.Tokens.OutputTokens)
			assert.Equal(t, c.Usage.Tokens, c.Usage.BilledUnits)

			names, events, _ := cohereStream(t, do("POST", "/v2/chat", `{"model":"assistant","stream":true,"messages":[{"role":"user","content":"Hi"}]}`))
			assert.Equal(t, []string{"message-start", "content-start", "content-delta", "content-delta", "content-delta", "content-end", "message-end"}, names)
			var text strings.Builder
			for _, e := range events {
				if e.Type == "content-delta" {
					text.WriteString(decodeJSON[struct {
						Content struct{ Text string } `json:"content"`
					}](t, string(e.Delta.Message)).Content.Text)
				}
			}
			assert.Equal(t, "Hello from gpt-4o", text.String())
			end := lastOf(events)
			assert.Equal(t, "COMPLETE", end.Delta.FinishReason)
			require.NotNil(t, end.Delta.Usage)
			assert.Equal(t, helloUsage.PromptTokens, end.Delta.Usage.Tokens.InputTokens)
			assert.Equal(t, helloUsage.CompletionTokens, end.Delta.Usage.Tokens.OutputTokens)
			assert.Contains(t, lastChat(t, oa), `"stream":true`)
			s = log.last(t)
			assert.True(t, s.Stream)
			assert.Equal(t, helloUsage, s.Usage)

			// A tool call, answered and streamed as Cohere's tool_calls.
			resp = do("POST", "/v2/chat", cohereWeather)
			body = readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.JSONEq(t, `{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Paris?"}],"tools":[{"type":"function",`+
				`"function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`, lastChat(t, oa))
			c = decodeJSON[cohereResponse](t, body)
			assert.Equal(t, "TOOL_CALL", c.FinishReason)
			require.Len(t, c.Message.ToolCalls, 1, body)
			call := c.Message.ToolCalls[0]
			assert.Equal(t, "function", call.Type)
			assert.Equal(t, "get_weather", call.Function.Name)
			assert.JSONEq(t, `{"city":"Paris"}`, call.Function.Arguments)
			assert.NotEmpty(t, call.ID)

			names, events, data := cohereStream(t, do("POST", "/v2/chat", withStream(cohereWeather)))
			assert.Equal(t, []string{"message-start", "tool-call-start", "tool-call-delta", "tool-call-end", "message-end"}, names)
			assert.Contains(t, data[1], `"name":"get_weather"`)
			assert.Contains(t, data[2], `"arguments":"{\"city\":\"Paris\"}"`)
			assert.Equal(t, "TOOL_CALL", lastOf(events).Delta.FinishReason)

			// The tool's result sent back: the chat history has the call (its tool_plan the
			// content) and its result, by its id.
			resp = do("POST", "/v2/chat", `{"model":"assistant","messages":[{"role":"user","content":"Weather in Paris?"},`+
				`{"role":"assistant","tool_plan":"I will look it up.","tool_calls":[{"id":"`+call.ID+`","type":"function",`+
				`"function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},`+
				`{"role":"tool","tool_call_id":"`+call.ID+`","content":[{"type":"document","document":{"data":{"temp":21}}}]}]}`)
			body = readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.Equal(t, "COMPLETE", decodeJSON[cohereResponse](t, body).FinishReason)
			assert.JSONEq(t, weatherAnswered(call.ID, `"I will look it up."`), lastChat(t, oa))
		})
	}
}

// A Cohere target that answers 429 in Cohere's format fails over to the OpenAI target,
// which serves the request translated: streamed too.
func TestNativeCohereTranslatedFailover(t *testing.T) {
	co := newNativeFake(t, func(w http.ResponseWriter) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(429)
		io.WriteString(w, `{"message":"You are using a Trial key, which is limited to 10 API calls / minute."}`)
		return true
	}, nil)
	oa := chatFake(t)
	p, log := translatedProxy(t, "cohere", aiproxy.Target{Weight: 30, Model: provider.Model{Provider: "cohere", Name: "command-r-plus", Alias: "assistant",
		Options: provider.Options{UpstreamURL: co.srv.URL}}, Auth: aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer co-key"}}, openaiAt(oa, 20))
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			const req = `{"model":"assistant","messages":[{"role":"user","content":"Hi"}]}`
			resp := do("POST", "/v2/chat", req)
			body := readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.Equal(t, "Hello from gpt-4o", decodeJSON[cohereResponse](t, body).Message.Content[0].Text)
			_, got := co.last()
			assert.JSONEq(t, `{"model":"command-r-plus","messages":[{"role":"user","content":"Hi"}]}`, string(got), "the Cohere target got the request as sent, with its model")
			s := log.last(t)
			require.Len(t, s.Attempts, 1)
			assert.Equal(t, "cohere/command-r-plus", s.Attempts[0].Target)
			assert.Equal(t, 429, s.Attempts[0].Status)
			assert.Equal(t, "openai/gpt-4o", s.Target)

			names, _, _ := cohereStream(t, do("POST", "/v2/chat", withStream(req)))
			assert.Equal(t, "message-end", lastOf(names))
			s = log.last(t)
			require.Len(t, s.Attempts, 1)
			assert.Equal(t, "openai/gpt-4o", s.Target)
			assert.Equal(t, helloUsage, s.Usage)
		})
	}
}

// Errors reach a Cohere client in Cohere's format: the OpenAI target's, the proxy's for an
// invalid body, and a stream broken off after it started (message-end, finish_reason ERROR).
func TestNativeCohereTranslatedErrors(t *testing.T) {
	oa := chatFake(t)
	p := erroringProxy(t, "cohere", openaiAt(oa, 0))
	const req = `{"model":"assistant","messages":[{"role":"user","content":"Hi"}]}`
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			for status, msg := range map[int]string{400: "Invalid request.", 429: "Rate limit reached for requests. Please try again in 1s."} {
				oa.Fail(status, 1, "")
				resp := do("POST", "/v2/chat", req)
				body := readAllString(t, resp.Body)
				assert.Equal(t, status, resp.StatusCode, body)
				assert.JSONEq(t, `{"message":"`+msg+`"}`, body)
			}

			n := len(oa.Requests())
			resp := do("POST", "/v2/chat", `{"model":"assistant","messages":[{"role":"user","content":"Hi"}],"max_tokens":"many"}`)
			body := readAllString(t, resp.Body)
			assert.Equal(t, 400, resp.StatusCode, body)
			e := decodeJSON[struct{ Message string }](t, body)
			assert.Contains(t, e.Message, "max_tokens")
			assert.Len(t, oa.Requests(), n, "an invalid request goes to no target")
		})
	}
	for _, mode := range []string{"close", "error"} {
		bp, blog := translatedProxy(t, "cohere", brokenChat(t, mode))
		for name, do := range nativeClients(t, bp) {
			t.Run("broken-"+mode+"/"+name, func(t *testing.T) {
				names, events, _ := cohereStream(t, do("POST", "/v2/chat", withStream(req)))
				assert.Equal(t, []string{"message-start", "content-start", "content-delta", "content-end", "message-end"}, names)
				end := lastOf(events)
				assert.Equal(t, "ERROR", end.Delta.FinishReason)
				assert.NotEmpty(t, end.Delta.Error)
				if mode == "error" {
					assert.Contains(t, end.Delta.Error, "The server is overloaded.")
				}
				assert.Error(t, blog.last(t).Err, "the Stats say the stream failed")
			})
		}
	}
}
