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

// geminiResponse is a GenerateContentResponse as clients read it, or an error element.
type geminiResponse struct {
	Candidates []struct {
		Content struct {
			Role  string `json:"role"`
			Parts []struct {
				Text         string `json:"text"`
				FunctionCall *struct {
					ID   string         `json:"id"`
					Name string         `json:"name"`
					Args map[string]any `json:"args"`
				} `json:"functionCall"`
			} `json:"parts"`
		} `json:"content"`
		FinishReason string `json:"finishReason"`
	} `json:"candidates"`
	UsageMetadata *struct {
		PromptTokenCount     int `json:"promptTokenCount"`
		CandidatesTokenCount int `json:"candidatesTokenCount"`
		TotalTokenCount      int `json:"totalTokenCount"`
	} `json:"usageMetadata"`
	ModelVersion string       `json:"modelVersion"`
	Error        *geminiError `json:"error"`
}

type geminiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
}

// text is the text of the first candidate's parts.
func (g geminiResponse) text() string {
	var b strings.Builder
	for _, c := range g.Candidates[:min(1, len(g.Candidates))] {
		for _, p := range c.Content.Parts {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

const geminiTranslated = `{"systemInstruction":{"parts":[{"text":"Be brief."}]},` +
	`"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generationConfig":{"maxOutputTokens":64,"temperature":0.5}}`

const geminiWeather = `{"contents":[{"role":"user","parts":[{"text":"Weather in Paris?"}]}],` +
	`"tools":[{"functionDeclarations":[{"name":"get_weather","parameters":{"type":"OBJECT","properties":{"city":{"type":"STRING"}}}}]}]}`

// geminiStream reads a translated Gemini stream in its framing: server-sent events with
// alt=sse, else one JSON array served as application/json.
func geminiStream(t *testing.T, resp *http.Response, sse bool) []geminiResponse {
	t.Helper()
	body := readAllString(t, resp.Body)
	require.Equal(t, 200, resp.StatusCode, body)
	if !sse {
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		return decodeJSON[[]geminiResponse](t, body)
	}
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	var out []geminiResponse
	for _, ev := range sseEvents(t, body) {
		out = append(out, decodeJSON[geminiResponse](t, ev.data))
	}
	return out
}

func TestNativeGeminiTranslated(t *testing.T) {
	oa := chatFake(t)
	p, log := translatedProxy(t, "gemini", openaiAt(oa, 0))
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			resp := do("POST", "/v1beta/models/assistant:generateContent?key=client-key", geminiTranslated)
			body := readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			g := decodeJSON[geminiResponse](t, body)
			require.Len(t, g.Candidates, 1, body)
			assert.Equal(t, "model", g.Candidates[0].Content.Role)
			assert.Equal(t, "Hello from gpt-4o", g.Candidates[0].Content.Parts[0].Text)
			assert.Equal(t, "STOP", g.Candidates[0].FinishReason)
			assert.Equal(t, "gpt-4o", g.ModelVersion)
			assert.JSONEq(t, `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],`+
				`"max_completion_tokens":64,"temperature":0.5}`, lastChat(t, oa))
			s := log.last(t)
			assert.Equal(t, "openai", s.Provider)
			assert.Equal(t, "gpt-4o", s.Model)
			assert.Equal(t, provider.Usage{PromptTokens: 12, CompletionTokens: 5, TotalTokens: 17}, s.Usage, "the fake's chat usage: 4+3 and 4+1 for the messages")
			require.NotNil(t, g.UsageMetadata)
			assert.Equal(t, s.Usage.PromptTokens, g.UsageMetadata.PromptTokenCount)
			assert.Equal(t, s.Usage.CompletionTokens, g.UsageMetadata.CandidatesTokenCount)
			assert.Equal(t, s.Usage.TotalTokens, g.UsageMetadata.TotalTokenCount)

			for _, sse := range []bool{true, false} {
				path := "/v1beta/models/assistant:streamGenerateContent"
				if sse {
					path += "?alt=sse"
				}
				events := geminiStream(t, do("POST", path, geminiRequest), sse)
				require.NotEmpty(t, events)
				var text strings.Builder
				for i, ev := range events {
					text.WriteString(ev.text())
					if i < len(events)-1 {
						assert.Empty(t, ev.Candidates[0].FinishReason, "only the last response finishes")
						assert.Nil(t, ev.UsageMetadata, "only the last response has the usage")
					}
				}
				assert.Equal(t, "Hello from gpt-4o", text.String())
				last := events[len(events)-1]
				assert.Equal(t, "STOP", last.Candidates[0].FinishReason)
				require.NotNil(t, last.UsageMetadata)
				assert.Equal(t, helloUsage.TotalTokens, last.UsageMetadata.TotalTokenCount)
				assert.Contains(t, lastChat(t, oa), `"stream":true`)
				reqs := oa.Requests()
				assert.Empty(t, reqs[len(reqs)-1].RawQuery, "Gemini's alt=sse is not sent to the OpenAI target")
				s := log.last(t)
				assert.True(t, s.Stream)
				assert.Equal(t, helloUsage, s.Usage)
			}

			// A function call, answered and streamed as Gemini's functionCall part.
			resp = do("POST", "/v1beta/models/assistant:generateContent", geminiWeather)
			body = readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.JSONEq(t, `{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Paris?"}],"tools":[{"type":"function",`+
				`"function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`, lastChat(t, oa))
			for _, g := range []geminiResponse{
				decodeJSON[geminiResponse](t, body),
				lastOf(geminiStream(t, do("POST", "/v1beta/models/assistant:streamGenerateContent?alt=sse", geminiWeather), true)),
			} {
				require.Len(t, g.Candidates, 1)
				require.Len(t, g.Candidates[0].Content.Parts, 1)
				fc := g.Candidates[0].Content.Parts[0].FunctionCall
				require.NotNil(t, fc, "a functionCall part")
				assert.Equal(t, "get_weather", fc.Name)
				assert.Equal(t, map[string]any{"city": "Paris"}, fc.Args)
				assert.NotEmpty(t, fc.ID)
				assert.Equal(t, "STOP", g.Candidates[0].FinishReason, "Gemini finishes a function call with STOP")
			}

			// The call's result sent back: the chat history has the call and its result, by its id.
			id := decodeJSON[geminiResponse](t, body).Candidates[0].Content.Parts[0].FunctionCall.ID
			resp = do("POST", "/v1beta/models/assistant:generateContent", `{"contents":[{"role":"user","parts":[{"text":"Weather in Paris?"}]},`+
				`{"role":"model","parts":[{"functionCall":{"id":"`+id+`","name":"get_weather","args":{"city":"Paris"}}}]},`+
				`{"role":"user","parts":[{"functionResponse":{"id":"`+id+`","name":"get_weather","response":{"temp":21}}}]}]}`)
			body = readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.Equal(t, "Hello from gpt-4o", decodeJSON[geminiResponse](t, body).text())
			assert.JSONEq(t, weatherAnswered(id, "null"), lastChat(t, oa))
		})
	}
}

func lastOf[T any](s []T) T { return s[len(s)-1] }

// A Gemini target that answers 503 in Gemini's format fails over to the OpenAI target,
// which serves the request translated: streamed too.
func TestNativeGeminiTranslatedFailover(t *testing.T) {
	gem := newNativeFake(t, func(w http.ResponseWriter) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(503)
		io.WriteString(w, `{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}`)
		return true
	}, nil)
	oa := chatFake(t)
	p, log := translatedProxy(t, "gemini", aiproxy.Target{Weight: 30, Model: provider.Model{Provider: "gemini", Name: "gemini-2.0-flash", Alias: "assistant",
		Options: provider.Options{Gemini: &provider.GeminiOptions{APIEndpoint: gem.srv.URL}}},
		Auth: aiproxy.Auth{HeaderName: "x-goog-api-key", HeaderValue: "g-key"}}, openaiAt(oa, 20))
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			hits := gem.hits.Load()
			resp := do("POST", "/v1beta/models/assistant:generateContent", geminiRequest)
			body := readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.Equal(t, "Hello from gpt-4o", decodeJSON[geminiResponse](t, body).text())
			_, got := gem.last()
			assert.JSONEq(t, geminiRequest, string(got), "the Gemini target got the request as sent")
			events := geminiStream(t, do("POST", "/v1beta/models/assistant:streamGenerateContent?alt=sse", geminiRequest), true)
			assert.Equal(t, "STOP", lastOf(events).Candidates[0].FinishReason)
			assert.Equal(t, hits+2, gem.hits.Load(), "each request tried the Gemini target first")
			s := log.last(t)
			require.Len(t, s.Attempts, 1)
			assert.Equal(t, "gemini/gemini-2.0-flash", s.Attempts[0].Target)
			assert.Equal(t, 503, s.Attempts[0].Status)
			assert.Equal(t, "openai/gpt-4o", s.Target)
			assert.Equal(t, helloUsage, s.Usage)
		})
	}
}

// Errors reach a Gemini client in Gemini's format: the OpenAI target's, the proxy's for an
// invalid body, and a stream broken off after it started.
func TestNativeGeminiTranslatedErrors(t *testing.T) {
	oa := chatFake(t)
	p := erroringProxy(t, "gemini", openaiAt(oa, 0))
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			for _, tc := range []struct {
				status int
				want   string
			}{{400, "INVALID_ARGUMENT"}, {429, "RESOURCE_EXHAUSTED"}} {
				oa.Fail(tc.status, 1, "")
				resp := do("POST", "/v1beta/models/assistant:generateContent", geminiRequest)
				body := readAllString(t, resp.Body)
				assert.Equal(t, tc.status, resp.StatusCode, body)
				e := decodeJSON[geminiResponse](t, body).Error
				require.NotNil(t, e, body)
				assert.Equal(t, tc.status, e.Code)
				assert.Equal(t, tc.want, e.Status)
				assert.Equal(t, map[int]string{400: "Invalid request.", 429: "Rate limit reached for requests. Please try again in 1s."}[tc.status], e.Message)
			}

			n := len(oa.Requests())
			resp := do("POST", "/v1beta/models/assistant:generateContent", `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generationConfig":{"maxOutputTokens":"many"}}`)
			body := readAllString(t, resp.Body)
			assert.Equal(t, 400, resp.StatusCode, body)
			e := decodeJSON[geminiResponse](t, body).Error
			require.NotNil(t, e, body)
			assert.Equal(t, "INVALID_ARGUMENT", e.Status)
			assert.Contains(t, e.Message, "maxOutputTokens")
			assert.Len(t, oa.Requests(), n, "an invalid request goes to no target")
		})
	}
	for _, mode := range []string{"close", "error"} {
		bp, blog := translatedProxy(t, "gemini", brokenChat(t, mode))
		for name, do := range nativeClients(t, bp) {
			t.Run("broken-"+mode+"/"+name, func(t *testing.T) {
				for _, sse := range []bool{true, false} {
					path := "/v1beta/models/assistant:streamGenerateContent"
					if sse {
						path += "?alt=sse"
					}
					events := geminiStream(t, do("POST", path, geminiRequest), sse)
					require.Len(t, events, 2)
					assert.Equal(t, "Hel", events[0].text())
					e := events[1].Error
					require.NotNil(t, e, "the stream ends with Gemini's error object")
					assert.GreaterOrEqual(t, e.Code, 500)
					assert.NotEmpty(t, e.Status)
					assert.NotEmpty(t, e.Message)
					if mode == "error" {
						assert.Contains(t, e.Message, "The server is overloaded.", "the upstream's error event")
					}
					assert.Error(t, blog.last(t).Err, "the Stats say the stream failed")
				}
			})
		}
	}
}
