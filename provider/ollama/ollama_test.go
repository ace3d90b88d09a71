package ollama

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate/xlatetest"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

func chatReq(body []byte, stream bool) *provider.Request {
	return &provider.Request{RouteType: provider.Chat, Body: body, Stream: stream,
		Model: provider.Model{Provider: "ollama", Name: "llama3.2:3b"}}
}

func TestNewRequestGolden(t *testing.T) {
	for _, tt := range []struct {
		name   string
		stream bool
	}{{"chat_basic", false}, {"chat_tools", true}} {
		t.Run(tt.name, func(t *testing.T) {
			r := chatReq(xlatetest.Read(t, tt.name+".openai.json"), tt.stream)
			req, err := Provider{}.NewRequest(context.Background(), r)
			require.NoError(t, err)
			assert.Equal(t, "http://localhost:11434/api/chat", req.URL.String())
			got, _ := io.ReadAll(req.Body)
			assert.JSONEq(t, string(xlatetest.Read(t, tt.name+".ollama.json")), string(got))
		})
	}
	r := chatReq([]byte(`{"messages":[{"role":"user","content":"hi"}]}`), false)
	r.Model.Options.UpstreamURL = "http://gpu-box:11434/api/chat"
	req, err := Provider{}.NewRequest(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, "http://gpu-box:11434/api/chat", req.URL.String())

	r = chatReq([]byte(`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}`), false)
	_, err = Provider{}.NewRequest(context.Background(), r)
	var pe *provider.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 400, pe.Status)
}

// Ollama has no tool_choice: a named function is offered alone, "none" offers no tool and
// "required" cannot be expressed (400).
func TestToolChoice(t *testing.T) {
	const tools = `"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}]`
	body := func(choice string) []byte {
		return []byte(`{"messages":[{"role":"user","content":"hi"}],` + tools + `,"tool_choice":` + choice + `}`)
	}
	sent := func(choice string) string {
		t.Helper()
		req, err := Provider{}.NewRequest(context.Background(), chatReq(body(choice), false))
		require.NoError(t, err)
		got, _ := io.ReadAll(req.Body)
		return string(got)
	}
	assert.JSONEq(t, `{"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"b"}}],"stream":false}`,
		sent(`{"type":"function","function":{"name":"b"}}`))
	assert.JSONEq(t, `{"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}],"stream":false}`, sent(`"none"`))
	assert.Contains(t, sent(`"auto"`), `"name":"a"`)
	for _, choice := range []string{`"required"`, `{"type":"function","function":{"name":"c"}}`, `"maybe"`} {
		_, err := Provider{}.NewRequest(context.Background(), chatReq(body(choice), false))
		var pe *provider.Error
		require.ErrorAs(t, err, &pe, choice)
		assert.Equal(t, 400, pe.Status, choice)
		assert.Equal(t, "tool_choice", pe.Param, choice)
	}
}

// Ollama gives tool calls no ids: each turn's are derived from the request and the answer's
// created_at, so they do not repeat across turns (Anthropic and Bedrock refuse a history with
// repeated ids, and a result must map to its own call), and stream and non-stream agree on
// the model, the one Ollama names.
func TestToolCallIDsPerTurn(t *testing.T) {
	answer := func(createdAt string) []byte {
		return []byte(`{"model":"llama3.2","created_at":"` + createdAt + `","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{}}},{"function":{"name":"g","arguments":{}}}]},"done":true,"done_reason":"stop"}`)
	}
	r := chatReq([]byte(`{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"g"}}]}`), false)
	ids := map[string]bool{}
	for _, at := range []string{"2024-07-22T20:33:28.123Z", "2024-07-22T20:34:01.5Z"} {
		resp, err := Provider{}.ParseResponse(r, nil, answer(at))
		require.NoError(t, err)
		var c provider.ChatCompletion
		require.NoError(t, json.Unmarshal(resp.Body, &c))
		assert.Equal(t, "llama3.2", c.Model)
		for _, tc := range c.Choices[0].Message.ToolCalls {
			assert.False(t, ids[tc.ID], "tool call id %s repeats", tc.ID)
			ids[tc.ID] = true
		}
		chunks, err := xlatetest.Drain(Provider{}.NewStream(r, nil, bytes.NewReader(append(answer(at), '\n'))))
		require.NoError(t, err)
		var ch provider.ChatChunk
		require.NoError(t, json.Unmarshal(chunks[0], &ch))
		assert.Equal(t, "llama3.2", ch.Model, "the stream names the model ParseResponse does")
	}
	assert.Len(t, ids, 4)
}

func TestParseResponseGolden(t *testing.T) {
	for _, name := range []string{"response_text", "response_tool"} {
		t.Run(name, func(t *testing.T) {
			r := chatReq([]byte(`{"model":"llama3.2","messages":[]}`), false)
			resp, err := Provider{}.ParseResponse(r, http.Header{}, xlatetest.Read(t, name+".ollama.json"))
			require.NoError(t, err)
			assert.JSONEq(t, string(xlatetest.Read(t, name+".openai.json")), string(xlatetest.MaskID(t, resp.Body)))
			again, _ := Provider{}.ParseResponse(r, http.Header{}, xlatetest.Read(t, name+".ollama.json"))
			assert.Equal(t, resp.Body, again.Body)
		})
	}
	_, err := Provider{}.ParseResponse(chatReq(nil, false), nil, []byte(`nope`))
	assert.Error(t, err)
}

func TestStreamGolden(t *testing.T) {
	tests := []struct {
		name    string
		usage   provider.Usage
		wantErr string
	}{
		{"stream_text", provider.Usage{PromptTokens: 26, CompletionTokens: 282, TotalTokens: 308}, ""},
		{"stream_tool", provider.Usage{PromptTokens: 122, CompletionTokens: 33, TotalTokens: 155}, ""},
		{"stream_error", provider.Usage{}, "an error was encountered while running the model: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"model":"llama3.2","stream":true,"messages":[]}`
			if tt.name == "stream_text" {
				body = `{"model":"llama3.2","stream":true,"stream_options":{"include_usage":true},"messages":[]}`
			}
			r := chatReq([]byte(body), true)
			chunks, usage, err := xlatetest.Replay(t, xlatetest.Read(t, tt.name+".ndjson"), func(rd io.Reader) provider.Stream {
				return Provider{}.NewStream(r, http.Header{}, rd)
			})
			xlatetest.JSONLinesEqual(t, xlatetest.Read(t, tt.name+".openai.jsonl"), xlatetest.MaskIDs(t, chunks))
			assert.Equal(t, tt.usage, usage)
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				var pe *provider.Error
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, tt.wantErr, pe.Message)
				assert.Equal(t, 502, pe.Status)
			}
		})
	}
	// A stream cut before its done record is an error, not a silent end.
	raw := xlatetest.Read(t, "stream_text.ndjson")
	cut := raw[:bytes.LastIndexByte(raw[:len(raw)-1], '\n')+1]
	_, err := xlatetest.Drain(Provider{}.NewStream(chatReq(nil, true), nil, bytes.NewReader(cut)))
	assert.ErrorContains(t, err, "before its done record")
}

func TestParseError(t *testing.T) {
	e := Provider{}.ParseError(nil, 404, http.Header{}, []byte(`{"error":"model \"llama9\" not found, try pulling it first"}`))
	assert.Equal(t, provider.Error{Status: 404, Type: "not_found_error", Message: `model "llama9" not found, try pulling it first`}, *e)
	e = Provider{}.ParseError(nil, 503, http.Header{}, []byte(`{"error":"server busy, please try again.  maximum pending requests exceeded"}`))
	assert.Equal(t, 503, e.Status)
	assert.Equal(t, "server_error", e.Type)
}

func TestEmbeddings(t *testing.T) {
	r := &provider.Request{RouteType: provider.Embeddings, Body: []byte(`{"model":"e","input":["Why is the sky blue?","Why is the grass green?"]}`),
		Model: provider.Model{Provider: "ollama", Name: "all-minilm"}}
	req, err := Provider{}.NewRequest(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:11434/api/embed", req.URL.String())
	body, _ := io.ReadAll(req.Body)
	assert.JSONEq(t, `{"model":"all-minilm","input":["Why is the sky blue?","Why is the grass green?"]}`, string(body))

	resp, err := Provider{}.ParseResponse(r, http.Header{}, []byte(`{"model":"all-minilm","embeddings":[[0.010071029,-0.0017594862],[-0.0098027075,0.06042469]],"total_duration":14143917,"load_duration":1019500,"prompt_eval_count":8}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"object":"list","model":"all-minilm","data":[{"object":"embedding","index":0,"embedding":[0.010071029,-0.0017594862]},{"object":"embedding","index":1,"embedding":[-0.0098027075,0.06042469]}],"usage":{"prompt_tokens":8,"completion_tokens":0,"total_tokens":8}}`, string(resp.Body))
}

var testCase = providertest.Case{Provider: Provider{}, Model: provider.Model{Provider: "ollama", Name: "llama3.2:3b"}}

// TestConformance runs the providertest suite on the *.txtar goldens.
func TestConformance(t *testing.T) { providertest.Run(t, testCase) }

func FuzzStream(f *testing.F) { providertest.FuzzStream(f, testCase) }

func FuzzResponse(f *testing.F) { providertest.FuzzResponse(f, testCase) }

func FuzzNewRequest(f *testing.F) {
	f.Add(xlatetest.Read(f, "chat_basic.openai.json"))
	f.Add(xlatetest.Read(f, "chat_tools.openai.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = Provider{}.NewRequest(context.Background(), chatReq(body, true))
	})
}

// Kong's own Ollama example gives upstream_url as a bare host: the provider's path is added.
func TestUpstreamURLBareHost(t *testing.T) {
	for rt, path := range map[provider.RouteType]string{provider.Chat: "/api/chat", provider.Embeddings: "/api/embed"} {
		r := &provider.Request{RouteType: rt, Model: provider.Model{Provider: "ollama", Name: "llama3",
			Options: provider.Options{UpstreamURL: "http://ollama-server.local:11434"}}, Body: []byte(`{"model":"llama3","messages":[{"role":"user","content":"hi"}],"input":"hi"}`)}
		req, err := Provider{}.NewRequest(context.Background(), r)
		require.NoError(t, err)
		assert.Equal(t, "http://ollama-server.local:11434"+path, req.URL.String())
	}
}
