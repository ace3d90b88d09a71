package aiproxy_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/provider"
)

// tgiResponse is a TGI answer, stream event or error as clients read them.
type tgiResponse struct {
	Index *int `json:"index"`
	Token *struct {
		Text    string `json:"text"`
		Special bool   `json:"special"`
	} `json:"token"`
	GeneratedText *string `json:"generated_text"`
	Details       *struct {
		FinishReason    string `json:"finish_reason"`
		GeneratedTokens int    `json:"generated_tokens"`
	} `json:"details"`
	Error     string `json:"error"`
	ErrorType string `json:"error_type"`
}

const tgiTranslated = `{"inputs":"Hi","parameters":{"max_new_tokens":20,"temperature":0.5,"details":true}}`

// tgiStream reads a TGI stream's events.
func tgiStream(t *testing.T, resp *http.Response) []tgiResponse {
	t.Helper()
	body := readAllString(t, resp.Body)
	require.Equal(t, 200, resp.StatusCode, body)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	var out []tgiResponse
	for _, ev := range sseEvents(t, body) {
		assert.Empty(t, ev.event, "TGI's events are unnamed")
		out = append(out, decodeJSON[tgiResponse](t, ev.data))
	}
	return out
}

func TestNativeHuggingfaceTranslated(t *testing.T) {
	oa := chatFake(t)
	p, log := translatedProxy(t, "huggingface", openaiAt(oa, 0))
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			resp := do("POST", "/generate", tgiTranslated)
			body := readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			g := decodeJSON[tgiResponse](t, body)
			require.NotNil(t, g.GeneratedText, body)
			assert.Equal(t, "Hello from gpt-4o", *g.GeneratedText)
			require.NotNil(t, g.Details, body)
			assert.Equal(t, "eos_token", g.Details.FinishReason)
			assert.JSONEq(t, `{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}],"max_completion_tokens":20,"temperature":0.5}`, lastChat(t, oa))
			s := log.last(t)
			assert.Equal(t, "openai/gpt-4o", s.Target)
			assert.Equal(t, helloUsage, s.Usage, "metered from the chat usage")
			assert.Equal(t, s.Usage.CompletionTokens, g.Details.GeneratedTokens)

			// The serverless Inference API's shape, on a route path of the host's choosing: a
			// one-element array.
			resp = do("POST", "/hf/llama", `{"inputs":"Hi"}`)
			body = readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			arr := decodeJSON[[]tgiResponse](t, body)
			require.Len(t, arr, 1, body)
			require.NotNil(t, arr[0].GeneratedText)
			assert.Equal(t, "Hello from gpt-4o", *arr[0].GeneratedText)

			// The serverless API's own model URL: the model in the path selects the pool (the
			// target's alias), the answer is the array.
			resp = do("POST", "/models/assistant", `{"inputs":"Hi"}`)
			body = readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			arr = decodeJSON[[]tgiResponse](t, body)
			require.Len(t, arr, 1, body)
			assert.Equal(t, "Hello from gpt-4o", *arr[0].GeneratedText)
			resp = do("POST", "/models/no-such-model", `{"inputs":"Hi"}`)
			body = readAllString(t, resp.Body)
			assert.Equal(t, 400, resp.StatusCode, body)
			assert.Contains(t, decodeJSON[tgiResponse](t, body).Error, "no-such-model")

			events := tgiStream(t, do("POST", "/generate_stream", tgiTranslated))
			require.Len(t, events, 4)
			var text strings.Builder
			for i, ev := range events {
				require.NotNil(t, ev.Index)
				assert.Equal(t, i+1, *ev.Index)
				require.NotNil(t, ev.Token)
				if i < len(events)-1 {
					assert.False(t, ev.Token.Special)
					assert.Nil(t, ev.GeneratedText, "only the final event has the generated text")
					text.WriteString(ev.Token.Text)
				}
			}
			assert.Equal(t, "Hello from gpt-4o", text.String())
			final := lastOf(events)
			assert.True(t, final.Token.Special)
			require.NotNil(t, final.GeneratedText)
			assert.Equal(t, "Hello from gpt-4o", *final.GeneratedText)
			require.NotNil(t, final.Details, "details: true asked for them")
			assert.Equal(t, "eos_token", final.Details.FinishReason)
			assert.Equal(t, helloUsage.CompletionTokens, final.Details.GeneratedTokens)
			assert.Contains(t, lastChat(t, oa), `"stream":true`)
			s = log.last(t)
			assert.True(t, s.Stream)
			assert.Equal(t, helloUsage, s.Usage)
		})
	}
}

// A TGI target that answers 503 in TGI's format fails over to the OpenAI target, which
// serves the request translated: streamed too.
func TestNativeHuggingfaceTranslatedFailover(t *testing.T) {
	hf := newNativeFake(t, func(w http.ResponseWriter) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(503)
		io.WriteString(w, `{"error":"Model is overloaded","error_type":"overloaded"}`)
		return true
	}, nil)
	oa := chatFake(t)
	p, log := translatedProxy(t, "huggingface", aiproxy.Target{Weight: 30, Model: provider.Model{Provider: "huggingface",
		Name: "meta-llama/Llama-3.1-8B-Instruct", Alias: "assistant", Options: provider.Options{UpstreamURL: hf.srv.URL}},
		Auth: aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer hf-key"}}, openaiAt(oa, 20))
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			resp := do("POST", "/generate", `{"inputs":"Hi"}`)
			body := readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.Equal(t, "Hello from gpt-4o", *decodeJSON[tgiResponse](t, body).GeneratedText)
			r, got := hf.last()
			assert.Equal(t, "/generate", r.URL.Path)
			assert.JSONEq(t, `{"inputs":"Hi"}`, string(got), "the TGI target got the request as sent")
			s := log.last(t)
			require.Len(t, s.Attempts, 1)
			assert.Equal(t, "huggingface/meta-llama/Llama-3.1-8B-Instruct", s.Attempts[0].Target)
			assert.Equal(t, 503, s.Attempts[0].Status)
			assert.Equal(t, "openai/gpt-4o", s.Target)

			events := tgiStream(t, do("POST", "/generate_stream", `{"inputs":"Hi"}`))
			assert.Equal(t, "Hello from gpt-4o", *lastOf(events).GeneratedText)
			r, _ = hf.last()
			assert.Equal(t, "/generate_stream", r.URL.Path)
			s = log.last(t)
			require.Len(t, s.Attempts, 1)
			assert.Equal(t, "openai/gpt-4o", s.Target)
			assert.Equal(t, helloUsage, s.Usage)
		})
	}
}

// Errors reach a TGI client in TGI's format: the OpenAI target's, the proxy's for an invalid
// body, and a stream broken off after it started (an error event).
func TestNativeHuggingfaceTranslatedErrors(t *testing.T) {
	oa := chatFake(t)
	p := erroringProxy(t, "huggingface", openaiAt(oa, 0))
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			for status, want := range map[int]string{
				400: `{"error":"Invalid request.","error_type":"validation"}`,
				429: `{"error":"Rate limit reached for requests. Please try again in 1s.","error_type":"overloaded"}`,
			} {
				oa.Fail(status, 1, "")
				resp := do("POST", "/generate", `{"inputs":"Hi"}`)
				body := readAllString(t, resp.Body)
				assert.Equal(t, status, resp.StatusCode, body)
				assert.JSONEq(t, want, body)
			}

			n := len(oa.Requests())
			resp := do("POST", "/generate", `{"inputs":"Hi","parameters":{"max_new_tokens":"many"}}`)
			body := readAllString(t, resp.Body)
			assert.Equal(t, 400, resp.StatusCode, body)
			e := decodeJSON[tgiResponse](t, body)
			assert.Equal(t, "validation", e.ErrorType)
			assert.Contains(t, e.Error, "max_new_tokens")
			assert.Len(t, oa.Requests(), n, "an invalid request goes to no target")
		})
	}
	for _, mode := range []string{"close", "error"} {
		bp, blog := translatedProxy(t, "huggingface", brokenChat(t, mode))
		for name, do := range nativeClients(t, bp) {
			t.Run("broken-"+mode+"/"+name, func(t *testing.T) {
				events := tgiStream(t, do("POST", "/generate_stream", `{"inputs":"Hi"}`))
				require.Len(t, events, 2)
				assert.Equal(t, "Hel", events[0].Token.Text)
				assert.Equal(t, "generation", events[1].ErrorType)
				assert.NotEmpty(t, events[1].Error)
				if mode == "error" {
					assert.Contains(t, events[1].Error, "The server is overloaded.")
				}
				assert.Error(t, blog.last(t).Err, "the Stats say the stream failed")
			})
		}
	}
}
