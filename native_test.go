package aiproxy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/provider"
)

// The native client formats (llm_format gemini, bedrock, cohere, huggingface): requests in
// the provider's own API, passed through to targets of that provider, with failover between
// them. Each fake speaks the provider's wire format; the first of each pair is overloaded.
// The pool also has an OpenAI target of the lowest priority, which these requests do not
// reach (translated requests: native_translate_test.go).

// nativeFake is an upstream that fails with status and body while fail is set, and
// otherwise answers with ok; it records what it got.
type nativeFake struct {
	srv  *httptest.Server
	hits atomic.Int32
	mu   sync.Mutex
	got  []*http.Request
	body [][]byte
}

func newNativeFake(t *testing.T, fail func(w http.ResponseWriter) bool, ok func(w http.ResponseWriter, r *http.Request, body []byte)) *nativeFake {
	f := &nativeFake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got, f.body = append(f.got, r), append(f.body, b)
		f.mu.Unlock()
		if fail != nil && fail(w) {
			return
		}
		ok(w, r, b)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *nativeFake) last() (*http.Request, []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.got[len(f.got)-1], f.body[len(f.body)-1]
}

// neverOpenAI is an OpenAI target, last by priority, that the native requests here do not
// reach: their own provider's targets serve them first.
func neverOpenAI(t *testing.T) aiproxy.Target {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a native request reached the OpenAI target: %s", r.URL)
		w.WriteHeader(500)
	}))
	t.Cleanup(srv.Close)
	return aiproxy.Target{Weight: 1, Model: provider.Model{Provider: "openai", Name: "gpt-4o", Alias: "chat",
		Options: provider.Options{UpstreamURL: srv.URL + "/v1/chat/completions"}}}
}

func nativeProxy(t *testing.T, format string, stats *[]aiproxy.Stats, targets ...aiproxy.Target) *aiproxy.Proxy {
	var mu sync.Mutex
	p, err := aiproxy.New(aiproxy.Config{
		LLMFormat: format,
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Priority,
			FailoverCriteria: []string{"error", "timeout", "http_429", "http_500", "http_503", "non_idempotent"}},
		Targets: append([]aiproxy.Target{neverOpenAI(t)}, targets...),
		Hooks: onStats(func(s aiproxy.Stats) {
			mu.Lock()
			*stats = append(*stats, s)
			mu.Unlock()
		}),
	})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// nativeClients are the two ways a client reaches the proxy: over HTTP to the Handler, and
// through the RoundTripper.
func nativeClients(t *testing.T, p *aiproxy.Proxy) map[string]func(method, path, body string) *http.Response {
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	do := func(c *http.Client, base string) func(method, path, body string) *http.Response {
		return func(method, path, body string) *http.Response {
			req, err := http.NewRequest(method, base+path, strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			require.NoError(t, err)
			t.Cleanup(func() { resp.Body.Close() })
			return resp
		}
	}
	return map[string]func(string, string, string) *http.Response{
		"Handler":      do(srv.Client(), srv.URL),
		"RoundTripper": do(&http.Client{Transport: p}, "http://aiproxy.invalid"),
	}
}

func readAllString(t *testing.T, r io.Reader) string {
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(b)
}

const geminiRequest = `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generationConfig":{"maxOutputTokens":64}}`

func TestNativeGemini(t *testing.T) {
	overloaded := func(w http.ResponseWriter) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(503)
		io.WriteString(w, `{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}`)
		return true
	}
	answer := func(w http.ResponseWriter, r *http.Request, b []byte) {
		if strings.HasSuffix(r.URL.Path, ":streamGenerateContent") {
			w.Header().Set("Content-Type", "text/event-stream")
			for i, text := range []string{"Hello", " from", " Gemini"} {
				extra := ""
				if i == 2 {
					extra = `,"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"totalTokenCount":8}`
				}
				fmt.Fprintf(w, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":%q}],\"role\":\"model\"},\"index\":0}]%s,\"modelVersion\":\"gemini-2.0-flash\"}\r\n\r\n", text, extra)
				w.(http.Flusher).Flush()
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"candidates":[{"content":{"parts":[{"text":"Hello from Gemini"}],"role":"model"},"finishReason":"STOP","index":0}],`+
			`"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"totalTokenCount":8},"modelVersion":"gemini-2.0-flash"}`)
	}
	bad := newNativeFake(t, overloaded, answer)
	good := newNativeFake(t, nil, answer)
	target := func(f *nativeFake, weight int) aiproxy.Target {
		return aiproxy.Target{Weight: weight, Model: provider.Model{Provider: "gemini", Name: "gemini-2.0-flash", Alias: "chat",
			Options: provider.Options{Gemini: &provider.GeminiOptions{APIEndpoint: f.srv.URL}}},
			Auth: aiproxy.Auth{HeaderName: "x-goog-api-key", HeaderValue: "g-key"}}
	}
	var stats []aiproxy.Stats
	p := nativeProxy(t, "gemini", &stats, target(bad, 30), target(good, 20))
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			stats = nil
			resp := do("POST", "/v1beta/models/chat:generateContent", geminiRequest)
			body := readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.JSONEq(t, `{"candidates":[{"content":{"parts":[{"text":"Hello from Gemini"}],"role":"model"},"finishReason":"STOP","index":0}],`+
				`"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3,"totalTokenCount":8},"modelVersion":"gemini-2.0-flash"}`, body)
			r, got := good.last()
			assert.Equal(t, "/v1beta/models/gemini-2.0-flash:generateContent", r.URL.Path)
			assert.Equal(t, "g-key", r.Header.Get("X-Goog-Api-Key"))
			assert.JSONEq(t, geminiRequest, string(got), "the body passes through as sent")
			require.Len(t, stats, 1)
			assert.Equal(t, provider.Usage{PromptTokens: 5, CompletionTokens: 3, TotalTokens: 8}, stats[0].Usage)
			assert.Equal(t, "gemini", stats[0].Provider)
			require.Len(t, stats[0].Attempts, 1, "the overloaded target failed over")

			stats = nil
			resp = do("POST", "/v1beta/models/chat:streamGenerateContent?alt=sse&key=client-key", geminiRequest)
			assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
			body = readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.Equal(t, 3, strings.Count(body, "data: {\"candidates\""), body)
			assert.Contains(t, body, `"text":" Gemini"`)
			assert.NotContains(t, body, "[DONE]")
			r, _ = good.last()
			assert.Equal(t, "/v1beta/models/gemini-2.0-flash:streamGenerateContent", r.URL.Path)
			assert.Equal(t, "alt=sse", r.URL.RawQuery)
			require.Len(t, stats, 1)
			assert.Equal(t, 8, stats[0].Usage.TotalTokens)
		})
	}
}

func TestNativeGeminiErrorsInGeminiFormat(t *testing.T) {
	overloaded := func(w http.ResponseWriter) bool {
		w.WriteHeader(503)
		io.WriteString(w, `{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}`)
		return true
	}
	f := newNativeFake(t, overloaded, nil)
	var stats []aiproxy.Stats
	p := nativeProxy(t, "gemini", &stats, aiproxy.Target{Model: provider.Model{Provider: "gemini", Name: "gemini-2.0-flash",
		Options: provider.Options{Gemini: &provider.GeminiOptions{APIEndpoint: f.srv.URL}}}, Auth: aiproxy.Auth{HeaderName: "x-goog-api-key", HeaderValue: "k"}})
	resp := nativeClients(t, p)["RoundTripper"]("POST", "/v1beta/models/gemini-2.0-flash:generateContent", geminiRequest)
	body := readAllString(t, resp.Body)
	assert.Equal(t, 503, resp.StatusCode)
	var doc struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &doc), body)
	assert.Equal(t, 503, doc.Error.Code)
	assert.Equal(t, "UNAVAILABLE", doc.Error.Status)
	assert.Contains(t, doc.Error.Message, "overloaded")
}

// TestNativeOnlyToItsProvider: a native request with a field that only its provider's API
// can express goes to targets of that provider only; with none, it is a 400 naming the field
// and the provider. Another llm_format's path is not served.
func TestNativeOnlyToItsProvider(t *testing.T) {
	var stats []aiproxy.Stats
	p := nativeProxy(t, "gemini", &stats) // only the OpenAI target
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			resp := do("POST", "/v1beta/models/chat:generateContent", `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"tools":[{"googleSearch":{}}]}`)
			body := readAllString(t, resp.Body)
			assert.Equal(t, 400, resp.StatusCode, body)
			assert.Contains(t, body, "googleSearch")
			assert.Contains(t, body, "provider gemini")
		})
	}
	p = nativeProxy(t, "cohere", &stats)
	resp := nativeClients(t, p)["Handler"]("POST", "/v1beta/models/chat:generateContent", geminiRequest)
	body := readAllString(t, resp.Body)
	assert.Equal(t, 404, resp.StatusCode, body)
	assert.Contains(t, body, "POST /v2/chat")
	_, err := aiproxy.New(aiproxy.Config{LLMFormat: "mistral", Targets: []aiproxy.Target{neverOpenAI(t)}})
	assert.ErrorContains(t, err, "gemini, bedrock, cohere, huggingface")
}

const bedrockRequest = `{"messages":[{"role":"user","content":[{"text":"Hi"}]}],"inferenceConfig":{"maxTokens":64}}`

// bedrockEvents encodes ConverseStream's events as AWS event-stream frames.
func bedrockEvents(t *testing.T, events ...[2]string) []byte {
	var buf bytes.Buffer
	enc := eventstream.NewEncoder()
	for _, e := range events {
		var m eventstream.Message
		m.Headers.Set(":message-type", eventstream.StringValue("event"))
		m.Headers.Set(":event-type", eventstream.StringValue(e[0]))
		m.Headers.Set(":content-type", eventstream.StringValue("application/json"))
		m.Payload = []byte(e[1])
		require.NoError(t, enc.Encode(&buf, m))
	}
	return buf.Bytes()
}

func TestNativeBedrock(t *testing.T) {
	throttled := func(w http.ResponseWriter) bool {
		w.Header().Set("X-Amzn-Errortype", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(429)
		io.WriteString(w, `{"message":"Too many requests, please wait before trying again."}`)
		return true
	}
	frames := bedrockEvents(t,
		[2]string{"messageStart", `{"role":"assistant"}`},
		[2]string{"contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Hello from Bedrock"}}`},
		[2]string{"contentBlockStop", `{"contentBlockIndex":0}`},
		[2]string{"messageStop", `{"stopReason":"end_turn"}`},
		[2]string{"metadata", `{"usage":{"inputTokens":7,"outputTokens":4,"totalTokens":11},"metrics":{"latencyMs":100}}`},
	)
	answer := func(w http.ResponseWriter, r *http.Request, b []byte) {
		if strings.HasSuffix(r.URL.Path, "/converse-stream") {
			w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
			w.Write(frames)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"output":{"message":{"role":"assistant","content":[{"text":"Hello from Bedrock"}]}},"stopReason":"end_turn",`+
			`"usage":{"inputTokens":7,"outputTokens":4,"totalTokens":11},"metrics":{"latencyMs":100}}`)
	}
	bad := newNativeFake(t, throttled, answer)
	good := newNativeFake(t, nil, answer)
	target := func(f *nativeFake, weight int) aiproxy.Target {
		return aiproxy.Target{Weight: weight, Model: provider.Model{Provider: "bedrock", Name: "anthropic.claude-3-haiku-20240307-v1:0", Alias: "chat",
			Options: provider.Options{UpstreamURL: f.srv.URL, Bedrock: &provider.BedrockOptions{AWSRegion: "us-east-1"}}},
			Auth: aiproxy.Auth{AWSAccessKeyID: "AKIDEXAMPLE", AWSSecretAccessKey: "secretsecretsecret"}}
	}
	var stats []aiproxy.Stats
	p := nativeProxy(t, "bedrock", &stats, target(bad, 30), target(good, 20))
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			stats = nil
			resp := do("POST", "/model/chat/converse", bedrockRequest)
			body := readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.Contains(t, body, `"text":"Hello from Bedrock"`)
			r, got := good.last()
			assert.Equal(t, "/model/anthropic.claude-3-haiku-20240307-v1:0/converse", r.URL.Path)
			assert.True(t, strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), r.Header.Get("Authorization"))
			assert.Contains(t, r.Header.Get("Authorization"), "/us-east-1/bedrock/aws4_request")
			assert.JSONEq(t, bedrockRequest, string(got))
			require.Len(t, stats, 1)
			assert.Equal(t, provider.Usage{PromptTokens: 7, CompletionTokens: 4, TotalTokens: 11}, stats[0].Usage)
			require.Len(t, stats[0].Attempts, 1)
			assert.Equal(t, 429, stats[0].Attempts[0].Status)

			stats = nil
			resp = do("POST", "/model/chat/converse-stream", bedrockRequest)
			require.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "application/vnd.amazon.eventstream", resp.Header.Get("Content-Type"))
			dec := eventstream.NewDecoder()
			var types []string
			for {
				m, err := dec.Decode(resp.Body, nil)
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
				types = append(types, m.Headers.Get(":event-type").String())
			}
			assert.Equal(t, []string{"messageStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"}, types)
			r, _ = good.last()
			assert.Equal(t, "/model/anthropic.claude-3-haiku-20240307-v1:0/converse-stream", r.URL.Path)
			require.Len(t, stats, 1)
			assert.Equal(t, 11, stats[0].Usage.TotalTokens)
		})
	}
}

func TestNativeCohere(t *testing.T) {
	failing := func(w http.ResponseWriter) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		io.WriteString(w, `{"message":"internal server error"}`)
		return true
	}
	answer := func(w http.ResponseWriter, r *http.Request, b []byte) {
		var req struct {
			Model  string `json:"model"`
			Stream bool   `json:"stream"`
		}
		_ = json.Unmarshal(b, &req)
		if !req.Stream {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":"c1","finish_reason":"COMPLETE","message":{"role":"assistant","content":[{"type":"text","text":"Hello from %s"}]},`+
				`"usage":{"billed_units":{"input_tokens":6,"output_tokens":3},"tokens":{"input_tokens":70,"output_tokens":3}}}`, req.Model)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		ev := func(name, data string) {
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data)
			w.(http.Flusher).Flush()
		}
		ev("message-start", `{"id":"c1","type":"message-start","delta":{"message":{"role":"assistant","content":[]}}}`)
		ev("content-start", `{"type":"content-start","index":0,"delta":{"message":{"content":{"type":"text","text":""}}}}`)
		ev("content-delta", `{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Hello"}}}}`)
		ev("content-end", `{"type":"content-end","index":0}`)
		ev("message-end", `{"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":6,"output_tokens":1},"tokens":{"input_tokens":70,"output_tokens":1}}}}`)
	}
	bad := newNativeFake(t, failing, answer)
	goodFake := newNativeFake(t, nil, answer)
	target := func(f *nativeFake, weight int) aiproxy.Target {
		return aiproxy.Target{Weight: weight, Model: provider.Model{Provider: "cohere", Name: "command-r-plus", Alias: "chat",
			Options: provider.Options{UpstreamURL: f.srv.URL}},
			Auth: aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer co-key"}}
	}
	var stats []aiproxy.Stats
	p := nativeProxy(t, "cohere", &stats, target(bad, 30), target(goodFake, 20))
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			stats = nil
			resp := do("POST", "/v2/chat", `{"model":"chat","messages":[{"role":"user","content":"Hi"}]}`)
			body := readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.Contains(t, body, `"text":"Hello from command-r-plus"`)
			r, got := goodFake.last()
			assert.Equal(t, "/v2/chat", r.URL.Path)
			assert.Equal(t, "Bearer co-key", r.Header.Get("Authorization"))
			assert.JSONEq(t, `{"model":"command-r-plus","messages":[{"role":"user","content":"Hi"}]}`, string(got))
			require.Len(t, stats, 1)
			assert.Equal(t, provider.Usage{PromptTokens: 70, CompletionTokens: 3, TotalTokens: 73}, stats[0].Usage)
			require.Len(t, stats[0].Attempts, 1)

			stats = nil
			resp = do("POST", "/v2/chat", `{"model":"chat","stream":true,"messages":[{"role":"user","content":"Hi"}]}`)
			body = readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			for _, ev := range []string{"message-start", "content-start", "content-delta", "content-end", "message-end"} {
				assert.Contains(t, body, "event: "+ev+"\ndata: {", ev)
			}
			require.Len(t, stats, 1)
			assert.Equal(t, 71, stats[0].Usage.TotalTokens)
		})
	}
}

func TestNativeHuggingface(t *testing.T) {
	failing := func(w http.ResponseWriter) bool {
		w.WriteHeader(503)
		io.WriteString(w, `{"error":"Model is overloaded","error_type":"overloaded"}`)
		return true
	}
	answer := func(w http.ResponseWriter, r *http.Request, b []byte) {
		if r.URL.Path == "/generate_stream" {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "data:{\"index\":1,\"token\":{\"id\":1,\"text\":\"Hello\",\"logprob\":0,\"special\":false},\"generated_text\":null,\"details\":null}\n\n")
			fmt.Fprint(w, "data:{\"index\":2,\"token\":{\"id\":2,\"text\":\"!\",\"logprob\":0,\"special\":false},\"generated_text\":\"Hello!\",\"details\":{\"finish_reason\":\"eos_token\",\"generated_tokens\":2}}\n\n")
			return
		}
		io.WriteString(w, `{"generated_text":"Hello!","details":{"finish_reason":"eos_token","generated_tokens":2}}`)
	}
	bad := newNativeFake(t, failing, answer)
	ok := newNativeFake(t, nil, answer)
	target := func(f *nativeFake, weight int) aiproxy.Target {
		return aiproxy.Target{Weight: weight, Model: provider.Model{Provider: "huggingface", Name: "meta-llama/Llama-3.1-8B-Instruct", Alias: "chat",
			Options: provider.Options{UpstreamURL: f.srv.URL}},
			Auth: aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer hf-key"}}
	}
	var stats []aiproxy.Stats
	p := nativeProxy(t, "huggingface", &stats, target(bad, 30), target(ok, 20))
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			stats = nil
			resp := do("POST", "/generate", `{"inputs":"Hi","parameters":{"max_new_tokens":20,"details":true}}`)
			body := readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.JSONEq(t, `{"generated_text":"Hello!","details":{"finish_reason":"eos_token","generated_tokens":2}}`, body)
			r, _ := ok.last()
			assert.Equal(t, "/generate", r.URL.Path)
			assert.Equal(t, "Bearer hf-key", r.Header.Get("Authorization"))
			require.Len(t, stats, 1)
			assert.Equal(t, 2, stats[0].Usage.CompletionTokens)

			stats = nil
			resp = do("POST", "/generate_stream", `{"inputs":"Hi","parameters":{"max_new_tokens":20}}`)
			body = readAllString(t, resp.Body)
			require.Equal(t, 200, resp.StatusCode, body)
			assert.Equal(t, 2, strings.Count(body, `data: {"index"`), body)
			r, got := ok.last()
			assert.Equal(t, "/generate_stream", r.URL.Path)
			assert.Contains(t, string(got), `"stream":true`)
			require.Len(t, stats, 1)
			assert.Equal(t, 2, stats[0].Usage.CompletionTokens)
		})
	}
}

// A Bedrock stream that the upstream breaks off after it started ends, for the client, with an
// exception frame of Bedrock's event stream (its CRCs right), as Bedrock's own would.
func TestNativeBedrockStreamBrokenOff(t *testing.T) {
	var buf bytes.Buffer
	buf.Write(bedrockEvents(t, [2]string{"messageStart", `{"role":"assistant"}`}))
	var m eventstream.Message
	m.Headers.Set(":message-type", eventstream.StringValue("exception"))
	m.Headers.Set(":exception-type", eventstream.StringValue("modelStreamErrorException"))
	m.Headers.Set(":content-type", eventstream.StringValue("application/json"))
	m.Payload = []byte(`{"message":"the model stream failed"}`)
	require.NoError(t, eventstream.NewEncoder().Encode(&buf, m))
	f := newNativeFake(t, nil, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		w.Write(buf.Bytes())
	})
	var stats []aiproxy.Stats
	p := nativeProxy(t, "bedrock", &stats, aiproxy.Target{Model: provider.Model{Provider: "bedrock", Name: "amazon.nova-lite-v1:0",
		Options: provider.Options{UpstreamURL: f.srv.URL, Bedrock: &provider.BedrockOptions{AWSRegion: "us-west-2"}}},
		Auth: aiproxy.Auth{AWSAccessKeyID: "AKIDEXAMPLE", AWSSecretAccessKey: "secretsecretsecret"}})
	for name, do := range nativeClients(t, p) {
		t.Run(name, func(t *testing.T) {
			resp := do("POST", "/model/amazon.nova-lite-v1:0/converse-stream", bedrockRequest)
			require.Equal(t, 200, resp.StatusCode)
			dec := eventstream.NewDecoder()
			first, err := dec.Decode(resp.Body, nil)
			require.NoError(t, err)
			assert.Equal(t, "messageStart", first.Headers.Get(":event-type").String())
			last, err := dec.Decode(resp.Body, nil)
			require.NoError(t, err, "the exception frame decodes, its CRCs right")
			assert.Equal(t, "exception", last.Headers.Get(":message-type").String())
			assert.NotEmpty(t, last.Headers.Get(":exception-type").String())
			assert.Contains(t, string(last.Payload), "the model stream failed")
			_, err = dec.Decode(resp.Body, nil)
			assert.ErrorIs(t, err, io.EOF)
		})
	}
}
