package aiproxy_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
)

// statsLog collects the Stats of every request.
type statsLog struct {
	mu  sync.Mutex
	all []aiproxy.Stats
}

func (l *statsLog) add(s aiproxy.Stats) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, s)
}

func (l *statsLog) last(t *testing.T) aiproxy.Stats {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	require.NotEmpty(t, l.all)
	return l.all[len(l.all)-1]
}

func oaTarget(f *aiproxytest.OpenAI, model string) aiproxy.Target {
	return aiproxy.Target{
		Model: provider.Model{Provider: "openai", Name: model, Alias: "assistant", Options: provider.Options{UpstreamURL: f.ChatURL()}},
		Auth:  aiproxy.Auth{HeaderName: "Authorization", HeaderValue: aiproxy.Secret("Bearer " + f.APIKey)},
	}
}

func anTarget(f *anthropicFake, model string) aiproxy.Target {
	return aiproxy.Target{
		Model: provider.Model{Provider: "anthropic", Name: model, Alias: "assistant", Options: provider.Options{UpstreamURL: f.URL + "/v1/messages"}},
		Auth:  aiproxy.Auth{HeaderName: "x-api-key", HeaderValue: aiproxy.Secret(f.apiKey)},
	}
}

// surfaceProxy returns a Proxy of cfg that logs its stats, and the fakes' cleanup.
func surfaceProxy(t *testing.T, cfg aiproxy.Config) (*aiproxy.Proxy, *statsLog) {
	t.Helper()
	log := &statsLog{}
	cfg.OnStats = log.add
	p, err := aiproxy.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p, log
}

func openaiClient(p *aiproxy.Proxy) openai.Client {
	return openai.NewClient(option.WithHTTPClient(&http.Client{Transport: p}), option.WithAPIKey("sk-client"), option.WithMaxRetries(0))
}

func anthropicClient(p *aiproxy.Proxy) anthropic.Client {
	return anthropic.NewClient(aoption.WithHTTPClient(&http.Client{Transport: p}), aoption.WithAPIKey("sk-client"), aoption.WithMaxRetries(0))
}

var weatherTool = responses.ToolUnionParam{OfFunction: &responses.FunctionToolParam{
	Name: "get_weather", Parameters: map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
}}

// TestResponsesSDK runs openai-go's Responses.New (text and a function call) and
// NewStreaming through the RoundTripper, to an OpenAI target and to an Anthropic target, both
// through the chat translation, and checks the usage metered.
func TestResponsesSDK(t *testing.T) {
	oa := aiproxytest.NewOpenAI()
	defer oa.Close()
	oa.APIKey = "sk-oa"
	oa.Call = func(req *provider.ChatRequest) *provider.FunctionCall {
		if len(req.Tools) == 0 {
			return nil
		}
		return &provider.FunctionCall{Name: req.Tools[0].Function.Name, Arguments: `{"city":"Paris"}`}
	}
	an := newAnthropicFake()
	defer an.Close()
	for _, tc := range []struct {
		name   string
		target aiproxy.Target
	}{
		{"openai", oaTarget(oa, "gpt-4o")},
		{"anthropic", anTarget(an, "claude-sonnet-4-5")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, log := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{tc.target}})
			client := openaiClient(p)
			ctx := context.Background()
			want := "Hello from " + tc.target.Model.Name

			resp, err := client.Responses.New(ctx, responses.ResponseNewParams{
				Model: "assistant", Instructions: openai.String("Be brief."),
				Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Say hello")},
			})
			require.NoError(t, err)
			assert.Equal(t, want, resp.OutputText())
			assert.Equal(t, responses.ResponseStatusCompleted, resp.Status)
			assert.Positive(t, resp.Usage.TotalTokens)
			s := log.last(t)
			assert.Equal(t, provider.Responses, s.Route)
			assert.Equal(t, http.StatusOK, s.Status)
			assert.Equal(t, resp.Usage.TotalTokens, int64(s.Usage.TotalTokens), "the usage metered is the usage returned")

			resp, err = client.Responses.New(ctx, responses.ResponseNewParams{
				Model: "assistant", Tools: []responses.ToolUnionParam{weatherTool},
				Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Weather in Paris?")},
			})
			require.NoError(t, err)
			require.Len(t, resp.Output, 1)
			fc := resp.Output[0].AsFunctionCall()
			assert.Equal(t, "get_weather", fc.Name)
			assert.JSONEq(t, `{"city":"Paris"}`, fc.Arguments)
			assert.NotEmpty(t, fc.CallID)

			stream := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{
				Model: "assistant", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Say hello")},
			})
			var text strings.Builder
			var final responses.Response
			for stream.Next() {
				switch ev := stream.Current(); ev.Type {
				case "response.output_text.delta":
					text.WriteString(ev.AsResponseOutputTextDelta().Delta)
				case "response.completed":
					final = ev.AsResponseCompleted().Response
				}
			}
			require.NoError(t, stream.Err())
			require.NoError(t, stream.Close())
			assert.Equal(t, want, text.String())
			assert.Equal(t, want, final.OutputText())
			assert.Positive(t, final.Usage.OutputTokens)
			s = log.last(t)
			assert.True(t, s.Stream)
			assert.Equal(t, final.Usage.TotalTokens, int64(s.Usage.TotalTokens))

			stream = client.Responses.NewStreaming(ctx, responses.ResponseNewParams{
				Model: "assistant", Tools: []responses.ToolUnionParam{weatherTool},
				Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Weather in Paris?")},
			})
			var args string
			for stream.Next() {
				if ev := stream.Current(); ev.Type == "response.function_call_arguments.done" {
					args = ev.AsResponseFunctionCallArgumentsDone().Arguments
				}
			}
			require.NoError(t, stream.Err())
			assert.JSONEq(t, `{"city":"Paris"}`, args)
		})
	}
}

// TestResponsesFailoverOpenAIToAnthropic: a Responses request whose OpenAI target fails
// is served by the Anthropic one, translated, in the same request; streamed too.
func TestResponsesFailoverOpenAIToAnthropic(t *testing.T) {
	oa := aiproxytest.NewOpenAI()
	defer oa.Close()
	oa.Fail(http.StatusInternalServerError, 2, "")
	an := newAnthropicFake()
	defer an.Close()
	first, second := oaTarget(oa, "gpt-4o"), anTarget(an, "claude-sonnet-4-5")
	first.Weight, second.Weight = 100, 1
	p, log := surfaceProxy(t, aiproxy.Config{
		Targets:  []aiproxy.Target{first, second},
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Priority, FailoverCriteria: []string{"error", "timeout", "http_500", "non_idempotent"}},
	})
	client := openaiClient(p)
	resp, err := client.Responses.New(context.Background(), responses.ResponseNewParams{
		Model: "assistant", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Say hello")},
	})
	require.NoError(t, err)
	assert.Equal(t, "Hello from claude-sonnet-4-5", resp.OutputText())
	s := log.last(t)
	require.Len(t, s.Attempts, 1)
	assert.Equal(t, 500, s.Attempts[0].Status)
	assert.Equal(t, "anthropic", s.Provider)
	assert.Equal(t, 15+5, s.Usage.TotalTokens, "Anthropic's usage: 12 input + 3 cache reads + 5 output")

	stream := client.Responses.NewStreaming(context.Background(), responses.ResponseNewParams{
		Model: "assistant", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Say hello")},
	})
	var text strings.Builder
	for stream.Next() {
		if ev := stream.Current(); ev.Type == "response.output_text.delta" {
			text.WriteString(ev.AsResponseOutputTextDelta().Delta)
		}
	}
	require.NoError(t, stream.Err())
	assert.Equal(t, "Hello from claude-sonnet-4-5", text.String())
	require.Len(t, an.Requests(), 2)
}

// fakeResponsesAPI answers POST /v1/responses like OpenAI's Responses API, a response object
// or its stream, and records the requests.
func fakeResponsesAPI(t *testing.T, reqs *[]aiproxytest.Request) *httptest.Server {
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		*reqs = append(*reqs, aiproxytest.Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		mu.Unlock()
		if r.URL.Path != "/v1/responses" {
			w.WriteHeader(404)
			return
		}
		var in struct {
			Model  string `json:"model"`
			Stream bool   `json:"stream"`
		}
		_ = json.Unmarshal(body, &in)
		obj := `{"id":"resp_2","object":"response","created_at":1700000000,"status":"completed","model":"` + in.Model + `",` +
			`"output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Again, hello","annotations":[]}]}],` +
			`"previous_response_id":"resp_1","store":true,"usage":{"input_tokens":30,"input_tokens_details":{"cached_tokens":20},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":33}}`
		if !in.Stream {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, obj)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_2\",\"object\":\"response\",\"status\":\"in_progress\",\"output\":[]}}\n\n")
		io.WriteString(w, "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Again, hello\"}\n\n")
		io.WriteString(w, "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":2,\"response\":"+obj+"}\n\n")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestResponsesStatefulPassthrough: a request with previous_response_id (state only OpenAI
// keeps) goes to an OpenAI target's /v1/responses as it is, with the target's model and key;
// an Anthropic target in the same pool is not tried; usage is metered from the Responses
// API's usage, streamed or not. Without such a target, it is a 400 naming the field.
func TestResponsesStatefulPassthrough(t *testing.T) {
	var reqs []aiproxytest.Request
	srv := fakeResponsesAPI(t, &reqs)
	an := newAnthropicFake()
	defer an.Close()
	oa := aiproxy.Target{Model: provider.Model{Provider: "openai", Name: "gpt-4.1", Alias: "assistant", Options: provider.Options{UpstreamURL: srv.URL + "/v1/chat/completions"}},
		Auth: aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer sk-oa"}}
	p, log := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{anTarget(an, "claude-sonnet-4-5"), oa}})
	client := openaiClient(p)
	ctx := context.Background()
	for range 2 { // round-robin would reach the Anthropic target on one of them
		resp, err := client.Responses.New(ctx, responses.ResponseNewParams{
			Model: "assistant", PreviousResponseID: openai.String("resp_1"), Store: openai.Bool(true),
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Again")},
		})
		require.NoError(t, err)
		assert.Equal(t, "Again, hello", resp.OutputText())
		s := log.last(t)
		assert.Equal(t, provider.Usage{PromptTokens: 30, CompletionTokens: 3, TotalTokens: 33, CachedTokens: 20}, s.Usage)
	}
	assert.Empty(t, an.Requests())
	require.Len(t, reqs, 2)
	assert.Equal(t, "Bearer sk-oa", reqs[0].Header.Get("Authorization"))
	var sent map[string]any
	require.NoError(t, json.Unmarshal(reqs[0].Body, &sent))
	assert.Equal(t, "gpt-4.1", sent["model"])
	assert.Equal(t, "resp_1", sent["previous_response_id"])

	stream := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{
		Model: "assistant", PreviousResponseID: openai.String("resp_1"),
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Again")},
	})
	var types []string
	for stream.Next() {
		types = append(types, stream.Current().Type)
	}
	require.NoError(t, stream.Err())
	assert.Equal(t, []string{"response.created", "response.output_text.delta", "response.completed"}, types)
	assert.Equal(t, 33, log.last(t).Usage.TotalTokens)

	// Only an Anthropic target: refused, naming the field.
	p2, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{anTarget(an, "claude-sonnet-4-5")}})
	client = openaiClient(p2)
	_, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model: "assistant", PreviousResponseID: openai.String("resp_1"),
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Again")},
	})
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	assert.Equal(t, "unsupported_field", apiErr.Code)
	assert.Contains(t, apiErr.Message, "previous_response_id")
	assert.Empty(t, an.Requests())
}

// TestResponsesRouteType: a target of route_type llm/v1/responses on OpenAI gets every
// Responses request as it is, and serves no chat request.
func TestResponsesRouteType(t *testing.T) {
	var reqs []aiproxytest.Request
	srv := fakeResponsesAPI(t, &reqs)
	p, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{{RouteType: provider.Responses,
		Model: provider.Model{Provider: "openai", Name: "gpt-4.1", Options: provider.Options{UpstreamURL: srv.URL + "/v1/responses", MaxTokens: ptr(99)}}}}})
	client := openaiClient(p)
	resp, err := client.Responses.New(context.Background(), responses.ResponseNewParams{
		Model: "gpt-4.1", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Hi")},
	})
	require.NoError(t, err)
	assert.Equal(t, "Again, hello", resp.OutputText())
	require.Len(t, reqs, 1)
	assert.JSONEq(t, `{"model":"gpt-4.1","input":"Hi","max_output_tokens":99}`, string(reqs[0].Body), "model.options.max_tokens is max_output_tokens")

	_, err = client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-4.1", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	assert.Contains(t, apiErr.Message, "/v1/chat/completions")
	assert.Contains(t, apiErr.Message, "llm/v1/responses")
}

func ptr[T any](v T) *T { return &v }

// anthropicFormat is a Config for Anthropic-format clients (llm_format: anthropic).
func anthropicFormat(targets ...aiproxy.Target) aiproxy.Config {
	return aiproxy.Config{LLMFormat: "anthropic", Targets: targets}
}

var anthropicWeather = anthropic.ToolUnionParamOfTool(anthropic.ToolInputSchemaParam{
	Properties: map[string]any{"city": map[string]any{"type": "string"}}}, "get_weather")

// TestAnthropicSDK runs the Anthropic Go SDK's Messages.New (text and a tool call) and
// NewStreaming through the RoundTripper: to an Anthropic target, passed through (the
// target's key and model, Anthropic's usage metered), and to an OpenAI target, translated.
func TestAnthropicSDK(t *testing.T) {
	oa := aiproxytest.NewOpenAI()
	defer oa.Close()
	oa.APIKey = "sk-oa"
	oa.Call = func(req *provider.ChatRequest) *provider.FunctionCall {
		if len(req.Tools) == 0 {
			return nil
		}
		return &provider.FunctionCall{Name: req.Tools[0].Function.Name, Arguments: `{"city":"Paris"}`}
	}
	an := newAnthropicFake()
	defer an.Close()
	for _, tc := range []struct {
		name   string
		target aiproxy.Target
		usage  int
	}{
		{"anthropic passthrough", anTarget(an, "claude-sonnet-4-5"), 12 + 3 + 5},
		{"openai translated", oaTarget(oa, "gpt-4o"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, log := surfaceProxy(t, anthropicFormat(tc.target))
			client := anthropicClient(p)
			ctx := context.Background()
			want := "Hello from " + tc.target.Model.Name
			params := anthropic.MessageNewParams{Model: "assistant", MaxTokens: 256,
				System:   []anthropic.TextBlockParam{{Text: "Be brief."}},
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Say hello"))}}

			msg, err := client.Messages.New(ctx, params)
			require.NoError(t, err)
			require.Len(t, msg.Content, 1)
			assert.Equal(t, want, msg.Content[0].Text)
			assert.Equal(t, anthropic.StopReasonEndTurn, msg.StopReason)
			s := log.last(t)
			assert.Equal(t, provider.Chat, s.Route)
			assert.Positive(t, s.Usage.TotalTokens)
			if tc.usage > 0 {
				assert.Equal(t, tc.usage, s.Usage.TotalTokens)
			}

			tools := params
			tools.Tools = []anthropic.ToolUnionParam{anthropicWeather}
			tools.Messages = []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Weather in Paris?"))}
			msg, err = client.Messages.New(ctx, tools)
			require.NoError(t, err)
			require.Len(t, msg.Content, 1)
			assert.Equal(t, "get_weather", msg.Content[0].Name)
			assert.JSONEq(t, `{"city":"Paris"}`, string(msg.Content[0].Input))
			assert.Equal(t, anthropic.StopReasonToolUse, msg.StopReason)

			for _, ps := range []anthropic.MessageNewParams{params, tools} {
				stream := client.Messages.NewStreaming(ctx, ps)
				var acc anthropic.Message
				for stream.Next() {
					require.NoError(t, acc.Accumulate(stream.Current()))
				}
				require.NoError(t, stream.Err())
				require.NoError(t, stream.Close())
				require.Len(t, acc.Content, 1)
				if len(ps.Tools) == 0 {
					assert.Equal(t, want, acc.Content[0].Text)
					assert.Equal(t, anthropic.StopReasonEndTurn, acc.StopReason)
				} else {
					assert.Equal(t, "get_weather", acc.Content[0].Name)
					assert.JSONEq(t, `{"city":"Paris"}`, string(acc.Content[0].Input))
				}
				s := log.last(t)
				assert.True(t, s.Stream)
				assert.Positive(t, s.Usage.CompletionTokens)
			}
		})
	}
	for _, r := range an.Requests() {
		assert.Equal(t, "sk-ant-fake", r.Header.Get("X-Api-Key"), "the target's key, not the client's")
		var sent map[string]any
		require.NoError(t, json.Unmarshal(r.Body, &sent))
		assert.Equal(t, "claude-sonnet-4-5", sent["model"])
		assert.Equal(t, "Be brief.", sent["system"].([]any)[0].(map[string]any)["text"], "passed through as the client wrote it")
	}
	for _, r := range oa.Requests() {
		assert.Equal(t, "/v1/chat/completions", r.Path)
	}
}

// TestAnthropicFailover: an Anthropic-format request whose Anthropic target is overloaded
// (529) fails over to an OpenAI target within the request, translated; and the other way
// round, from a failing OpenAI target to the Anthropic one, passed through. Streamed too.
func TestAnthropicFailover(t *testing.T) {
	oa := aiproxytest.NewOpenAI()
	defer oa.Close()
	an := newAnthropicFake()
	defer an.Close()
	criteria := []string{"error", "timeout", "http_500", "http_503", "non_idempotent"}
	ctx := context.Background()
	params := anthropic.MessageNewParams{Model: "assistant", MaxTokens: 256,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Say hello"))}}

	first, second := anTarget(an, "claude-sonnet-4-5"), oaTarget(oa, "gpt-4o")
	first.Weight, second.Weight = 100, 1
	p, log := surfaceProxy(t, aiproxy.Config{LLMFormat: "anthropic", Targets: []aiproxy.Target{first, second},
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Priority, FailoverCriteria: criteria}})
	client := anthropicClient(p)
	an.Fail(529, 2)
	msg, err := client.Messages.New(ctx, params)
	require.NoError(t, err)
	assert.Equal(t, "Hello from gpt-4o", msg.Content[0].Text)
	s := log.last(t)
	require.Len(t, s.Attempts, 1)
	assert.Equal(t, "openai", s.Provider)
	stream := client.Messages.NewStreaming(ctx, params)
	var acc anthropic.Message
	for stream.Next() {
		require.NoError(t, acc.Accumulate(stream.Current()))
	}
	require.NoError(t, stream.Err())
	assert.Equal(t, "Hello from gpt-4o", acc.Content[0].Text)

	first, second = oaTarget(oa, "gpt-4o"), anTarget(an, "claude-sonnet-4-5")
	first.Weight, second.Weight = 100, 1
	p, log = surfaceProxy(t, aiproxy.Config{LLMFormat: "anthropic", Targets: []aiproxy.Target{first, second},
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Priority, FailoverCriteria: criteria}})
	client = anthropicClient(p)
	oa.Fail(http.StatusInternalServerError, 1, "")
	msg, err = client.Messages.New(ctx, params)
	require.NoError(t, err)
	assert.Equal(t, "Hello from claude-sonnet-4-5", msg.Content[0].Text)
	assert.Equal(t, "anthropic", log.last(t).Provider)
	assert.Equal(t, 20, log.last(t).Usage.TotalTokens)
}

// TestAnthropicErrors: refusals reach Anthropic clients as Anthropic error bodies (the SDK
// reads their type); a field only Anthropic has is a 400 naming it where no Anthropic target
// serves, and a bad body never reaches a target.
func TestAnthropicErrors(t *testing.T) {
	oa := aiproxytest.NewOpenAI()
	defer oa.Close()
	p, _ := surfaceProxy(t, anthropicFormat(oaTarget(oa, "gpt-4o")))
	client := anthropicClient(p)
	ctx := context.Background()
	_, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "nope", MaxTokens: 10,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))}})
	var apiErr *anthropic.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	assert.Equal(t, "invalid_request_error", string(apiErr.Type()))
	assert.Contains(t, apiErr.RawJSON(), `\"nope\"`)

	for _, tc := range []struct{ body, want string }{
		{`{"model":"assistant","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"mcp_servers":[{"type":"url","url":"https://x","name":"x"}]}`, "mcp_servers"},
		{`{"model":"assistant","messages":[{"role":"user","content":"hi"}]}`, "max_tokens"},
		{`{"model":"assistant","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]}`, "tools[0].type"},
		{`not json`, "JSON"},
	} {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/messages", strings.NewReader(tc.body)))
		assert.Equal(t, http.StatusBadRequest, rec.Code, tc.body)
		var e struct {
			Type  string `json:"type"`
			Error struct{ Type, Message string }
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e), rec.Body.String())
		assert.Equal(t, "error", e.Type)
		assert.Equal(t, "invalid_request_error", e.Error.Type)
		assert.Contains(t, e.Error.Message, tc.want)
	}
	assert.Empty(t, oa.Requests())

	// Without llm_format anthropic, /v1/messages is not served.
	p2, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{oaTarget(oa, "gpt-4o")}})
	rec := httptest.NewRecorder()
	p2.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/messages", strings.NewReader(`{}`)))
	assert.Equal(t, http.StatusNotFound, rec.Code)
}

// TestModelsList: GET /v1/models lists the aliases and model names served, in OpenAI's list
// format, through openai-go (RoundTripper) and the Handler; other methods are 405.
func TestModelsList(t *testing.T) {
	oa := aiproxytest.NewOpenAI()
	defer oa.Close()
	an := newAnthropicFake()
	defer an.Close()
	mini := oaTarget(oa, "gpt-4o-mini")
	mini.Model.Alias = "fast"
	p, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{oaTarget(oa, "gpt-4o"), anTarget(an, "claude-sonnet-4-5"), mini}})
	client := openaiClient(p)
	page, err := client.Models.List(context.Background())
	require.NoError(t, err)
	owners := map[string]string{}
	for _, m := range page.Data {
		owners[m.ID] = m.OwnedBy
		assert.Equal(t, "model", string(m.Object))
		assert.Positive(t, m.Created)
	}
	assert.Equal(t, map[string]string{"assistant": "aiproxy", "fast": "openai", "gpt-4o": "openai", "gpt-4o-mini": "openai", "claude-sonnet-4-5": "anthropic"}, owners)

	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/models", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), `{"object":"list","data":[{"id":"assistant","object":"model","created":`)

	rec = httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/models", strings.NewReader("{}")))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Contains(t, rec.Body.String(), "use GET")
	assert.Empty(t, oa.Requests())
}

// TestUnknownPath: a path of no route type served is a 404 naming the path and what is
// served, never answered as chat; a route of the host's choosing (Kong's "/anything") serves
// the targets' route type; GET only for /v1/models.
func TestUnknownPath(t *testing.T) {
	oa := aiproxytest.NewOpenAI()
	defer oa.Close()
	p, log := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{oaTarget(oa, "gpt-4o")}})
	chat := `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	for _, tc := range []struct {
		method, path string
		status       int
		want         string
	}{
		{http.MethodPost, "/v1/audio/speech", 404, "POST /v1/audio/speech is not served here; this proxy serves POST /v1/chat/completions (llm/v1/chat), POST /v1/responses (llm/v1/responses), GET /v1/models"},
		{http.MethodPost, "/v1/images/generations", 404, "/v1/images/generations"},
		{http.MethodPost, "/v1/embeddings", 404, "/v1/embeddings is not served"},
		{http.MethodPost, "/v1/messages", 404, "/v1/messages is not served"},
		{http.MethodPost, "/v1/anything", 404, "/v1/anything"},
		{http.MethodGet, "/v1/files/file-1", 404, "/v1/files/file-1"},
		{http.MethodGet, "/v1/chat/completions", 405, "use POST"},
		{http.MethodPost, "/anything", 200, ""},
	} {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(chat)))
		assert.Equal(t, tc.status, rec.Code, tc.path)
		if tc.status != 200 {
			var e struct {
				Error struct{ Message, Type string }
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e), rec.Body.String())
			assert.Contains(t, e.Error.Message, tc.want)
			typ := "invalid_request_error"
			if strings.HasSuffix(tc.path, "/messages") { // an Anthropic client: Anthropic's error body
				typ = "not_found_error"
			}
			assert.Equal(t, typ, e.Error.Type)
			assert.ErrorIs(t, log.last(t).Err, aiproxy.ErrBadRequest)
		}
	}
	require.Len(t, oa.Requests(), 1, "only /anything reached the upstream")

	// The RoundTripper answers the same: openai-go's audio call is an API error, not a chat completion.
	client := openaiClient(p)
	_, err := client.Audio.Speech.New(context.Background(), openai.AudioSpeechNewParams{Model: "tts-1", Input: "hi", Voice: openai.AudioSpeechNewParamsVoiceUnion{OfString: openai.String("alloy")}})
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	assert.Equal(t, "unknown_url", apiErr.Code)
}
