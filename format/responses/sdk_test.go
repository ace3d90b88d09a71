package responses

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
)

// sdkServer answers POST /responses the way a proxy would: the request translated to chat,
// the given chat completion or chunks translated back.
func sdkServer(t *testing.T, completion string, chunks []string) *openai.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := ParseRequest(body)
		if err != nil {
			t.Errorf("ParseRequest(%s): %v", body, err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if !req.Stream {
			out, err := req.Response([]byte(completion))
			if err != nil {
				t.Error(err)
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(out)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		s := req.NewStream()
		var buf []byte
		for _, c := range chunks {
			if buf, err = s.Chunk(buf, []byte(c)); err != nil {
				t.Error(err)
			}
		}
		_, _ = w.Write(s.End(buf))
	}))
	t.Cleanup(srv.Close)
	c := openai.NewClient(option.WithBaseURL(srv.URL), option.WithAPIKey("test"), option.WithMaxRetries(0))
	return &c
}

// TestOpenAISDK decodes the translated output with openai-go: Responses.New (text, function
// call) and Responses.NewStreaming.
func TestOpenAISDK(t *testing.T) {
	ctx := context.Background()
	t.Run("text", func(t *testing.T) {
		c := sdkServer(t, `{"id":"chatcmpl-1","created":1700000000,"model":"claude-sonnet-4-5","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`, nil)
		resp, err := c.Responses.New(ctx, responses.ResponseNewParams{
			Model:        "claude-sonnet-4-5",
			Instructions: openai.String("Be brief."),
			Input:        responses.ResponseNewParamsInputUnion{OfString: openai.String("Say hello")},
		})
		if err != nil {
			t.Fatal(err)
		}
		if resp.OutputText() != "Hello!" || resp.Status != responses.ResponseStatusCompleted || resp.Usage.TotalTokens != 7 || resp.Instructions.OfString != "Be brief." {
			t.Fatalf("got %q, status %q, usage %+v, instructions %q", resp.OutputText(), resp.Status, resp.Usage, resp.Instructions.OfString)
		}
	})
	t.Run("function call", func(t *testing.T) {
		c := sdkServer(t, `{"id":"chatcmpl-2","created":1700000000,"model":"gemini-2.5-flash","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":20,"completion_tokens":8,"total_tokens":28}}`, nil)
		resp, err := c.Responses.New(ctx, responses.ResponseNewParams{
			Model: "gemini-2.5-flash",
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Weather in Paris?")},
			Tools: []responses.ToolUnionParam{{OfFunction: &responses.FunctionToolParam{
				Name: "get_weather", Parameters: map[string]any{"type": "object", "properties": map[string]any{"location": map[string]any{"type": "string"}}},
			}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Output) != 1 {
			t.Fatalf("output %+v", resp.Output)
		}
		fc := resp.Output[0].AsFunctionCall()
		if fc.CallID != "call_1" || fc.Name != "get_weather" || fc.Arguments != `{"location":"Paris"}` {
			t.Fatalf("function call %+v", fc)
		}
	})
	t.Run("stream", func(t *testing.T) {
		head := `{"id":"chatcmpl-3","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[`
		c := sdkServer(t, "", []string{
			head + `{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
			head + `{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}`,
			head + `{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}`,
			head + `{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]},"finish_reason":null}]}`,
			head + `{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]},"finish_reason":"tool_calls"}]}`,
			head + `],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}`,
		})
		stream := c.Responses.NewStreaming(ctx, responses.ResponseNewParams{
			Model: "gpt-4o-mini",
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Hi")},
		})
		var text, args string
		var final responses.Response
		var types []string
		for stream.Next() {
			ev := stream.Current()
			types = append(types, ev.Type)
			switch ev.Type {
			case "response.output_text.delta":
				text += ev.AsResponseOutputTextDelta().Delta
			case "response.function_call_arguments.done":
				args = ev.AsResponseFunctionCallArgumentsDone().Arguments
			case "response.completed":
				final = ev.AsResponseCompleted().Response
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if text != "Hello" || args != `{"a":1}` || final.OutputText() != "Hello" || final.Usage.OutputTokens != 4 || len(final.Output) != 2 {
			t.Fatalf("text %q, args %q, final %q with %d items, usage %+v; events %v", text, args, final.OutputText(), len(final.Output), final.Usage, types)
		}
	})
}
