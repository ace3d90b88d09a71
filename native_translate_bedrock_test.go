package aiproxy_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/provider"
)

// converseResponse is a Converse response as clients read it.
type converseResponse struct {
	Output struct {
		Message struct {
			Role    string `json:"role"`
			Content []struct {
				Text    string `json:"text"`
				ToolUse *struct {
					ToolUseID string         `json:"toolUseId"`
					Name      string         `json:"name"`
					Input     map[string]any `json:"input"`
				} `json:"toolUse"`
			} `json:"content"`
		} `json:"message"`
	} `json:"output"`
	StopReason string `json:"stopReason"`
	Usage      struct {
		InputTokens  int `json:"inputTokens"`
		OutputTokens int `json:"outputTokens"`
		TotalTokens  int `json:"totalTokens"`
	} `json:"usage"`
	Message string `json:"message"` // an error's
}

const bedrockTranslated = `{"system":[{"text":"Be brief."}],"messages":[{"role":"user","content":[{"text":"Hi"}]}],` +
	`"inferenceConfig":{"maxTokens":64,"temperature":0.5}}`

const bedrockWeather = `{"messages":[{"role":"user","content":[{"text":"Weather in Paris?"}]}],"toolConfig":{"tools":[{"toolSpec":` +
	`{"name":"get_weather","inputSchema":{"json":{"type":"object","properties":{"city":{"type":"string"}}}}}}]}}`

// converseStream reads a translated ConverseStream: its frames' event types, and the
// payloads by type (the last of each).
func converseStream(t *testing.T, resp *http.Response) ([]string, map[string]string, []eventstream.Message) {
	t.Helper()
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "application/vnd.amazon.eventstream", resp.Header.Get("Content-Type"))
	frames := eventFrames(t, resp.Body)
	var types []string
	payloads := map[string]string{}
	for _, m := range frames {
		typ := m.Headers.Get(":event-type")
		if typ == nil {
			continue
		}
		assert.Equal(t, "event", m.Headers.Get(":message-type").String())
		types = append(types, typ.String())
		payloads[typ.String()] = string(m.Payload)
	}
	return types, payloads, frames
}

func TestNativeBedrockTranslated(t *testing.T) {
	oa := chatFake(t)
	p, log := translatedProxy(t, "bedrock", openaiAt(oa, 0))
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			resp := do("POST", "/model/assistant/converse", bedrockTranslated)
			body := readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			c := decodeJSON[converseResponse](t, body)
			assert.Equal(t, "assistant", c.Output.Message.Role)
			require.Len(t, c.Output.Message.Content, 1, body)
			assert.Equal(t, "Hello from gpt-4o", c.Output.Message.Content[0].Text)
			assert.Equal(t, "end_turn", c.StopReason)
			assert.JSONEq(t, `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],`+
				`"max_completion_tokens":64,"temperature":0.5}`, lastChat(t, oa))
			s := log.last(t)
			assert.Equal(t, "openai/gpt-4o", s.Target)
			assert.Equal(t, provider.Usage{PromptTokens: 12, CompletionTokens: 5, TotalTokens: 17}, s.Usage)
			assert.Equal(t, s.Usage.PromptTokens, c.Usage.InputTokens)
			assert.Equal(t, s.Usage.CompletionTokens, c.Usage.OutputTokens)
			assert.Equal(t, s.Usage.TotalTokens, c.Usage.TotalTokens)

			types, payloads, frames := converseStream(t, do("POST", "/model/assistant/converse-stream", bedrockRequest))
			assert.Equal(t, []string{"messageStart", "contentBlockDelta", "contentBlockDelta", "contentBlockDelta",
				"contentBlockStop", "messageStop", "metadata"}, types)
			var text strings.Builder
			for _, m := range frames {
				if m.Headers.Get(":event-type").String() == "contentBlockDelta" {
					d := decodeJSON[struct {
						ContentBlockIndex int `json:"contentBlockIndex"`
						Delta             struct {
							Text string `json:"text"`
						} `json:"delta"`
					}](t, string(m.Payload))
					assert.Zero(t, d.ContentBlockIndex)
					text.WriteString(d.Delta.Text)
				}
			}
			assert.Equal(t, "Hello from gpt-4o", text.String())
			assert.JSONEq(t, `{"role":"assistant"}`, payloads["messageStart"])
			assert.JSONEq(t, `{"stopReason":"end_turn"}`, payloads["messageStop"])
			meta := decodeJSON[converseResponse](t, payloads["metadata"])
			assert.Equal(t, helloUsage.TotalTokens, meta.Usage.TotalTokens)
			assert.Contains(t, lastChat(t, oa), `"stream":true`)
			s = log.last(t)
			assert.True(t, s.Stream)
			assert.Equal(t, helloUsage, s.Usage)

			// A tool call, answered and streamed as Bedrock's toolUse.
			resp = do("POST", "/model/assistant/converse", bedrockWeather)
			body = readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.JSONEq(t, `{"model":"gpt-4o","messages":[{"role":"user","content":"Weather in Paris?"}],"tools":[{"type":"function",`+
				`"function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`, lastChat(t, oa))
			c = decodeJSON[converseResponse](t, body)
			assert.Equal(t, "tool_use", c.StopReason)
			require.Len(t, c.Output.Message.Content, 1, body)
			tu := c.Output.Message.Content[0].ToolUse
			require.NotNil(t, tu, body)
			assert.Equal(t, "get_weather", tu.Name)
			assert.Equal(t, map[string]any{"city": "Paris"}, tu.Input)
			assert.NotEmpty(t, tu.ToolUseID)

			types, payloads, _ = converseStream(t, do("POST", "/model/assistant/converse-stream", bedrockWeather))
			assert.Equal(t, []string{"messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"}, types)
			start := decodeJSON[struct {
				ContentBlockIndex *int `json:"contentBlockIndex"`
				Start             struct {
					ToolUse struct{ ToolUseID, Name string } `json:"toolUse"`
				} `json:"start"`
			}](t, payloads["contentBlockStart"])
			require.NotNil(t, start.ContentBlockIndex)
			assert.Zero(t, *start.ContentBlockIndex)
			assert.Equal(t, "get_weather", start.Start.ToolUse.Name)
			assert.True(t, strings.HasPrefix(start.Start.ToolUse.ToolUseID, "call_"), "the chat call's id: %s", payloads["contentBlockStart"])
			assert.JSONEq(t, `{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{\"city\":\"Paris\"}"}}}`, payloads["contentBlockDelta"])
			assert.JSONEq(t, `{"stopReason":"tool_use"}`, payloads["messageStop"])

			// The tool's result sent back: the chat history has the call and its result, by its id.
			resp = do("POST", "/model/assistant/converse", `{"messages":[{"role":"user","content":[{"text":"Weather in Paris?"}]},`+
				`{"role":"assistant","content":[{"toolUse":{"toolUseId":"`+tu.ToolUseID+`","name":"get_weather","input":{"city":"Paris"}}}]},`+
				`{"role":"user","content":[{"toolResult":{"toolUseId":"`+tu.ToolUseID+`","content":[{"json":{"temp":21}}]}}]}]}`)
			body = readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.Equal(t, "end_turn", decodeJSON[converseResponse](t, body).StopReason)
			assert.JSONEq(t, weatherAnswered(tu.ToolUseID, "null"), lastChat(t, oa))
		})
	}
}

// A Bedrock target that throttles (429 in Bedrock's format) fails over to the OpenAI
// target, which serves the request translated: streamed too.
func TestNativeBedrockTranslatedFailover(t *testing.T) {
	br := newNativeFake(t, func(w http.ResponseWriter) bool {
		w.Header().Set("X-Amzn-Errortype", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(429)
		io.WriteString(w, `{"message":"Too many requests, please wait before trying again."}`)
		return true
	}, nil)
	oa := chatFake(t)
	p, log := translatedProxy(t, "bedrock", aiproxy.Target{Weight: 30, Model: provider.Model{Provider: "bedrock", Name: "amazon.nova-lite-v1:0", Alias: "assistant",
		Options: provider.Options{UpstreamURL: br.srv.URL, Bedrock: &provider.BedrockOptions{AWSRegion: "us-east-1"}}},
		Auth: aiproxy.Auth{AWSAccessKeyID: "AKIDEXAMPLE", AWSSecretAccessKey: "secretsecretsecret"}}, openaiAt(oa, 20))
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			resp := do("POST", "/model/assistant/converse", bedrockRequest)
			body := readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.Equal(t, "Hello from gpt-4o", decodeJSON[converseResponse](t, body).Output.Message.Content[0].Text)
			r, got := br.last()
			assert.Equal(t, "/model/amazon.nova-lite-v1:0/converse", r.URL.Path)
			assert.JSONEq(t, bedrockRequest, string(got), "the Bedrock target got the request as sent")
			s := log.last(t)
			require.Len(t, s.Attempts, 1)
			assert.Equal(t, "bedrock/amazon.nova-lite-v1:0", s.Attempts[0].Target)
			assert.Equal(t, 429, s.Attempts[0].Status)
			assert.Equal(t, "openai/gpt-4o", s.Target)

			types, _, _ := converseStream(t, do("POST", "/model/assistant/converse-stream", bedrockRequest))
			assert.Equal(t, "metadata", lastOf(types))
			r, _ = br.last()
			assert.Equal(t, "/model/amazon.nova-lite-v1:0/converse-stream", r.URL.Path)
			s = log.last(t)
			require.Len(t, s.Attempts, 1)
			assert.Equal(t, 429, s.Attempts[0].Status)
			assert.Equal(t, "openai/gpt-4o", s.Target)
			assert.Equal(t, helloUsage, s.Usage)
		})
	}
}

// Errors reach a Bedrock client in Bedrock's format, with its X-Amzn-Errortype: the OpenAI
// target's, the proxy's for an invalid body, and a stream broken off after it started (an
// exception frame).
func TestNativeBedrockTranslatedErrors(t *testing.T) {
	oa := chatFake(t)
	p := erroringProxy(t, "bedrock", openaiAt(oa, 0))
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			for _, tc := range []struct {
				status    int
				exception string
			}{{400, "ValidationException"}, {429, "ThrottlingException"}} {
				oa.Fail(tc.status, 1, "")
				resp := do("POST", "/model/assistant/converse", bedrockRequest)
				body := readAllString(t, resp.Body)
				assert.Equal(t, tc.status, resp.StatusCode, body)
				assert.Equal(t, tc.exception, resp.Header.Get("X-Amzn-Errortype"))
				assert.JSONEq(t, `{"message":"`+map[int]string{400: "Invalid request.", 429: "Rate limit reached for requests. Please try again in 1s."}[tc.status]+`"}`, body)
			}

			n := len(oa.Requests())
			resp := do("POST", "/model/assistant/converse", `{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"maxTokens":"many"}}`)
			body := readAllString(t, resp.Body)
			assert.Equal(t, 400, resp.StatusCode, body)
			assert.Equal(t, "ValidationException", resp.Header.Get("X-Amzn-Errortype"))
			assert.Contains(t, decodeJSON[converseResponse](t, body).Message, "maxTokens")
			assert.Len(t, oa.Requests(), n, "an invalid request goes to no target")
		})
	}
	for _, mode := range []string{"close", "error"} {
		bp, blog := translatedProxy(t, "bedrock", brokenChat(t, mode))
		for name, do := range nativeClients(t, bp) {
			t.Run("broken-"+mode+"/"+name, func(t *testing.T) {
				types, _, frames := converseStream(t, do("POST", "/model/assistant/converse-stream", bedrockRequest))
				assert.Equal(t, []string{"messageStart", "contentBlockDelta"}, types)
				last := lastOf(frames)
				assert.Equal(t, "exception", last.Headers.Get(":message-type").String(), "the stream ends with an exception frame, its CRCs right")
				assert.Equal(t, "application/json", last.Headers.Get(":content-type").String())
				exc := last.Headers.Get(":exception-type").String()
				assert.Contains(t, []string{"modelStreamErrorException", "internalServerException", "serviceUnavailableException"}, exc)
				msg := decodeJSON[converseResponse](t, string(last.Payload)).Message
				assert.NotEmpty(t, msg)
				if mode == "error" {
					assert.Contains(t, msg, "The server is overloaded.")
				}
				assert.Error(t, blog.last(t).Err, "the Stats say the stream failed")
			})
		}
	}
}
