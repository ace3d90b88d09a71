package bedrock

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate/xlatetest"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

const testModel = "anthropic.claude-3-5-sonnet-20240620-v1:0"

var fixedNow = func() time.Time { return time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC) }

func chatReq(body []byte, stream bool) *provider.Request {
	return &provider.Request{
		RouteType: provider.Chat, Body: body, Stream: stream,
		Model: provider.Model{Provider: "bedrock", Name: testModel,
			Options: provider.Options{Bedrock: &provider.BedrockOptions{AWSRegion: "us-east-1"}}},
	}
}

var respHeader = http.Header{"X-Amzn-Requestid": {"req-1"}, "Date": {"Mon, 02 Jun 2025 10:00:00 GMT"}}

func TestNewRequestOptions(t *testing.T) {
	body := []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"f"}}}`)
	r := chatReq(body, false)
	r.Model.Options.Bedrock.PerformanceConfigLatency = "optimized"
	topK := 40
	r.Model.Options.TopK = &topK // a default: the request sets no top_k
	req, err := Provider{}.NewRequest(context.Background(), r)
	require.NoError(t, err)
	got, _ := io.ReadAll(req.Body)
	assert.JSONEq(t, `{"messages":[{"role":"user","content":[{"text":"hi"}]}],
		"toolConfig":{"tools":[{"toolSpec":{"name":"f","inputSchema":{"json":{"type":"object","properties":{}}}}}],"toolChoice":{"tool":{"name":"f"}}},
		"additionalModelRequestFields":{"top_k":40},"performanceConfig":{"latency":"optimized"}}`, string(got))

	// tool_choice none without tool history drops the tools.
	body = []byte(`{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none"}`)
	req, err = Provider{}.NewRequest(context.Background(), chatReq(body, false))
	require.NoError(t, err)
	got, _ = io.ReadAll(req.Body)
	assert.JSONEq(t, `{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`, string(got))

	// tool_choice none with tool calls in the history: Converse would need a toolConfig for
	// toolUse/toolResult blocks, which lets the model call tools; the history goes as text.
	body = []byte(`{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}}]},{"role":"tool","tool_call_id":"t1","content":"42"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none"}`)
	req, err = Provider{}.NewRequest(context.Background(), chatReq(body, false))
	require.NoError(t, err)
	got, _ = io.ReadAll(req.Body)
	assert.JSONEq(t, `{"messages":[{"role":"user","content":[{"text":"hi"}]},
		{"role":"assistant","content":[{"text":"Called tool f (call t1) with {\"x\":1}"}]},
		{"role":"user","content":[{"text":"Result of tool call t1: 42"}]}]}`, string(got))

	// An ARN model id stays one path segment; upstream_url wins.
	r = chatReq([]byte(`{"messages":[{"role":"user","content":"hi"}]}`), false)
	r.Model.Name = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-7"
	req, err = Provider{}.NewRequest(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-7/converse", req.URL.EscapedPath())
	r.Model.Options.UpstreamURL = "https://vpce-1.bedrock-runtime.eu-west-1.vpce.amazonaws.com/model/x/converse"
	req, err = Provider{}.NewRequest(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, r.Model.Options.UpstreamURL, req.URL.String())
}

func TestNewRequestRefuses(t *testing.T) {
	tests := map[string]string{
		"http image":     `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}`,
		"bmp image":      `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/bmp;base64,AAAA"}}]}]}`,
		"bad args":       `{"messages":[{"role":"assistant","tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{nope"}}]}]}`,
		"array args":     `{"messages":[{"role":"assistant","tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"[1,2]"}}]}]}`,
		"unknown role":   `{"messages":[{"role":"wizard","content":"x"}]}`,
		"not json":       `{"messages":`,
		"bad toolchoice": `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"maybe"}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Provider{}.NewRequest(context.Background(), chatReq([]byte(body), false))
			var pe *provider.Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, 400, pe.Status)
		})
	}
	r := chatReq([]byte(`{"messages":[{"role":"user","content":"x"}]}`), false)
	r.Model.Options.Bedrock = nil
	_, err := Provider{}.NewRequest(context.Background(), r)
	assert.ErrorContains(t, err, "aws_region")
}

// The golden responses are the conformance suite's (chat.txtar, tools.txtar).
func TestParseResponseNotJSON(t *testing.T) {
	_, err := Provider{}.ParseResponse(chatReq(nil, false), nil, []byte(`<html>`))
	var pe *provider.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 502, pe.Status)
}

func TestParseResponseStopReasons(t *testing.T) {
	for stop, want := range map[string]string{
		"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls",
		"content_filtered": "content_filter", "guardrail_intervened": "content_filter", "model_context_window_exceeded": "length",
	} {
		assert.Equal(t, want, FinishReason(stop), stop)
	}
}

func TestParseError(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   provider.Error
	}{
		{"throttling", 429, http.Header{"X-Amzn-Errortype": {"ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"}, "Retry-After": {"3"}},
			`{"message":"Too many requests, please wait before trying again."}`,
			provider.Error{Status: 429, Type: "rate_limit_error", Code: "ThrottlingException", Message: "Too many requests, please wait before trying again.", RetryAfter: 3 * time.Second}},
		{"model not ready", 429, http.Header{"X-Amzn-Errortype": {"ModelNotReadyException"}}, `{"message":"Model is not ready"}`,
			provider.Error{Status: 503, Type: "server_error", Code: "ModelNotReadyException", Message: "Model is not ready"}},
		{"unavailable", 503, nil, `{"__type":"com.amazon.bedrock#ServiceUnavailableException","message":"Service unavailable"}`,
			provider.Error{Status: 503, Type: "server_error", Code: "ServiceUnavailableException", Message: "Service unavailable"}},
		{"validation", 400, http.Header{"X-Amzn-Errortype": {"ValidationException"}}, `{"message":"The model returned the following errors: messages: roles must alternate"}`,
			provider.Error{Status: 400, Type: "invalid_request_error", Code: "ValidationException", Message: "The model returned the following errors: messages: roles must alternate"}},
		{"access denied", 403, http.Header{"X-Amzn-Errortype": {"AccessDeniedException"}}, `{"Message":"You don't have access to the model with the specified model ID."}`,
			provider.Error{Status: 403, Type: "permission_error", Code: "AccessDeniedException", Message: "You don't have access to the model with the specified model ID."}},
		{"bad signature", 403, http.Header{"X-Amzn-Errortype": {"InvalidSignatureException"}}, `{"message":"The request signature we calculated does not match"}`,
			provider.Error{Status: 401, Type: "authentication_error", Code: "InvalidSignatureException", Message: "The request signature we calculated does not match"}},
		{"model timeout", 408, http.Header{"X-Amzn-Errortype": {"ModelTimeoutException"}}, `{"message":"Model has timed out"}`,
			provider.Error{Status: 504, Type: "server_error", Code: "ModelTimeoutException", Message: "Model has timed out"}},
		{"model error", 424, http.Header{"X-Amzn-Errortype": {"ModelErrorException"}}, `{"message":"boom"}`,
			provider.Error{Status: 502, Type: "server_error", Code: "ModelErrorException", Message: "boom"}},
		{"quota", 400, http.Header{"X-Amzn-Errortype": {"ServiceQuotaExceededException"}}, `{"message":"quota"}`,
			provider.Error{Status: 429, Type: "insufficient_quota", Code: "insufficient_quota", Message: "quota"}},
		{"not json", 502, nil, `<html>Bad Gateway</html>`,
			provider.Error{Status: 502, Type: "server_error", Message: "<html>Bad Gateway</html>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			got := Provider{Now: fixedNow}.ParseError(nil, tt.status, h, []byte(tt.body))
			assert.Equal(t, tt.want, *got)
		})
	}
}

// goldenEvents returns the upstream-stream events (JSON) of a conformance golden.
func goldenEvents(t testing.TB, file string) []byte {
	return xlatetest.Section(t, file, "upstream-stream")
}

// encodeEvents encodes JSON events (see encodeEventsJSON) as AWS event-stream frames.
func encodeEvents(t testing.TB, events []byte) []byte {
	raw, err := encodeEventsJSON(events)
	require.NoError(t, err)
	return raw
}

// encodeEventsJSON encodes a JSON list of {"event"|"exception", "payload"} as AWS
// event-stream frames: the upstream-stream sections of the goldens are written this way.
func encodeEventsJSON(data []byte) ([]byte, error) {
	var events []struct {
		Event     string          `json:"event"`
		Exception string          `json:"exception"`
		Payload   json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(data, &events); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := eventstream.NewEncoder()
	for _, e := range events {
		var m eventstream.Message
		if e.Exception != "" {
			m.Headers.Set(":message-type", eventstream.StringValue("exception"))
			m.Headers.Set(":exception-type", eventstream.StringValue(e.Exception))
		} else {
			m.Headers.Set(":message-type", eventstream.StringValue("event"))
			m.Headers.Set(":event-type", eventstream.StringValue(e.Event))
		}
		m.Headers.Set(":content-type", eventstream.StringValue("application/json"))
		var compact bytes.Buffer
		if err := json.Compact(&compact, e.Payload); err != nil {
			return nil, err
		}
		m.Payload = compact.Bytes()
		if err := enc.Encode(&buf, m); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

func TestStreamFrameLimits(t *testing.T) {
	huge := []byte{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0}
	s := Provider{}.NewStream(chatReq(nil, true), http.Header{}, bytes.NewReader(huge))
	_, err := s.Next()
	assert.ErrorContains(t, err, "size limit")

	bad := []byte{0, 0, 0, 20, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	s = Provider{}.NewStream(chatReq(nil, true), http.Header{}, bytes.NewReader(bad))
	_, err = s.Next()
	assert.ErrorContains(t, err, "malformed")

	raw := encodeEvents(t, goldenEvents(t, "stream_text.txtar"))
	raw[len(raw)-1] ^= 0xff // corrupt the last frame's CRC
	s = Provider{}.NewStream(chatReq(nil, true), http.Header{}, bytes.NewReader(raw))
	chunks, err := xlatetest.Drain(s)
	assert.Len(t, chunks, 4)
	assert.Error(t, err)

	s = Provider{}.NewStream(chatReq(nil, true), http.Header{}, bytes.NewReader(raw[:30]))
	_, err = xlatetest.Drain(s)
	assert.ErrorContains(t, err, "unexpected EOF")

	raw = encodeEvents(t, goldenEvents(t, "stream_text.txtar"))
	raw[9] ^= 0xff // the first frame's prelude CRC
	_, err = xlatetest.Drain(Provider{}.NewStream(chatReq(nil, true), http.Header{}, bytes.NewReader(raw)))
	assert.ErrorContains(t, err, "malformed")
}

// Frames may carry headers of every type of the event stream encoding; the decoder skips
// those it does not read, whatever their type, and reads the string ones it needs.
func TestStreamHeaderTypes(t *testing.T) {
	var buf bytes.Buffer
	enc := eventstream.NewEncoder()
	frame := func(typ, payload string) {
		var m eventstream.Message
		m.Headers.Set("b", eventstream.BoolValue(true))
		m.Headers.Set("f", eventstream.BoolValue(false))
		m.Headers.Set("i8", eventstream.Int8Value(-1))
		m.Headers.Set("i16", eventstream.Int16Value(300))
		m.Headers.Set("i32", eventstream.Int32Value(70000))
		m.Headers.Set("i64", eventstream.Int64Value(1<<40))
		m.Headers.Set("raw", eventstream.BytesValue([]byte{0, 1, 2}))
		m.Headers.Set("ts", eventstream.TimestampValue(fixedNow()))
		m.Headers.Set("id", eventstream.UUIDValue{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
		m.Headers.Set(":message-type", eventstream.StringValue("event"))
		m.Headers.Set(":event-type", eventstream.StringValue(typ))
		m.Payload = []byte(payload)
		require.NoError(t, enc.Encode(&buf, m))
	}
	frame("messageStart", `{"role":"assistant"}`)
	frame("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Hi"}}`)
	frame("messageStop", `{"stopReason":"end_turn"}`)
	chunks, err := xlatetest.Drain(Provider{}.NewStream(chatReq(nil, true), respHeader, bytes.NewReader(buf.Bytes())))
	require.NoError(t, err)
	require.Len(t, chunks, 3)
	assert.Contains(t, string(chunks[1]), `"content":"Hi"`)
	assert.Contains(t, string(chunks[2]), `"finish_reason":"stop"`)
}

func TestSign(t *testing.T) {
	r := chatReq([]byte(`{"messages":[{"role":"user","content":"hi"}]}`), false)
	req, err := Provider{}.NewRequest(context.Background(), r)
	require.NoError(t, err)
	body, _ := io.ReadAll(req.Body)
	cred := provider.Credentials{AWSAccessKeyID: "AKIDEXAMPLE", AWSSecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", AWSSessionToken: "session"}
	require.NoError(t, Provider{Now: fixedNow}.Sign(req, cred))

	assert.Equal(t, "20250602T100000Z", req.Header.Get("X-Amz-Date"))
	assert.Equal(t, "session", req.Header.Get("X-Amz-Security-Token"))
	auth := req.Header.Get("Authorization")
	require.True(t, strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250602/us-east-1/bedrock/aws4_request, SignedHeaders="), auth)

	// Check the signature against the SigV4 specification, computed independently.
	signedHeaders := between(auth, "SignedHeaders=", ",")
	sig := auth[strings.Index(auth, "Signature=")+len("Signature="):]
	assert.Equal(t, referenceSignature(t, req, body, signedHeaders, cred.AWSSecretAccessKey), sig)

	// Same clock, same input: the same signature.
	req2, _ := Provider{}.NewRequest(context.Background(), r)
	require.NoError(t, Provider{Now: fixedNow}.Sign(req2, cred))
	assert.Equal(t, auth, req2.Header.Get("Authorization"))

	// A region-less request on a custom host cannot be signed.
	r.Model.Options.UpstreamURL = "http://localhost:9/converse"
	r.Model.Options.Bedrock = nil
	req3, err := Provider{}.NewRequest(context.Background(), r)
	require.NoError(t, err)
	assert.ErrorContains(t, Provider{Now: fixedNow}.Sign(req3, cred), "region")
}

func between(s, from, to string) string {
	s = s[strings.Index(s, from)+len(from):]
	return s[:strings.Index(s, to)]
}

// referenceSignature follows https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html.
func referenceSignature(t *testing.T, req *http.Request, body []byte, signedHeaders, secret string) string {
	names := strings.Split(signedHeaders, ";")
	require.True(t, sort.StringsAreSorted(names))
	var canonHeaders strings.Builder
	for _, n := range names {
		v := req.Header.Get(n)
		switch n {
		case "host":
			v = req.URL.Host
		case "content-length":
			v = strconv.FormatInt(req.ContentLength, 10)
		}
		canonHeaders.WriteString(n + ":" + strings.TrimSpace(v) + "\n")
	}
	// Non-S3 services encode the already-escaped path once more.
	uri := strings.ReplaceAll(req.URL.EscapedPath(), "%", "%25")
	payload := sha256.Sum256(body)
	canon := strings.Join([]string{req.Method, uri, "", canonHeaders.String(), signedHeaders, hex.EncodeToString(payload[:])}, "\n")
	ch := sha256.Sum256([]byte(canon))
	sts := "AWS4-HMAC-SHA256\n20250602T100000Z\n20250602/us-east-1/bedrock/aws4_request\n" + hex.EncodeToString(ch[:])
	mac := func(key []byte, s string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	k := mac([]byte("AWS4"+secret), "20250602")
	k = mac(k, "us-east-1")
	k = mac(k, "bedrock")
	k = mac(k, "aws4_request")
	return hex.EncodeToString(mac(k, sts))
}

var testCase = providertest.Case{
	Provider: Provider{},
	Model: provider.Model{Provider: "bedrock", Name: testModel,
		Options: provider.Options{Bedrock: &provider.BedrockOptions{AWSRegion: "us-east-1"}}},
	EncodeStream: encodeEventsJSON,
}

// TestConformance runs the providertest suite on the *.txtar goldens.
func TestConformance(t *testing.T) { providertest.Run(t, testCase) }

func FuzzStream(f *testing.F) { providertest.FuzzStream(f, testCase) }

func FuzzResponse(f *testing.F) { providertest.FuzzResponse(f, testCase) }

func FuzzNewRequest(f *testing.F) {
	f.Add(xlatetest.Section(f, "chat.txtar", "request.json"))
	f.Add(xlatetest.Section(f, "tools.txtar", "request.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = Provider{}.NewRequest(context.Background(), chatReq(body, false))
	})
}

func TestEmbeddings(t *testing.T) {
	dims := 256
	tests := []struct {
		name, model, in, wantURL, wantBody string
		opts                               provider.Options
		header                             http.Header
		resp, want                         string
	}{
		{name: "titan v2", model: "amazon.titan-embed-text-v2:0", in: `{"model":"e","input":"Hello world","dimensions":256}`,
			opts:     provider.Options{Bedrock: &provider.BedrockOptions{AWSRegion: "eu-west-1", EmbeddingsNormalize: true}},
			wantURL:  "https://bedrock-runtime.eu-west-1.amazonaws.com/model/amazon.titan-embed-text-v2%3A0/invoke",
			wantBody: `{"inputText":"Hello world","dimensions":256,"normalize":true}`,
			resp:     `{"embedding":[0.1,-0.2,0.3],"inputTextTokenCount":3}`,
			want:     `{"object":"list","model":"amazon.titan-embed-text-v2:0","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2,0.3]}],"usage":{"prompt_tokens":3,"completion_tokens":0,"total_tokens":3}}`},
		{name: "titan dims from options", model: "amazon.titan-embed-text-v2:0", in: `{"model":"e","input":["one"]}`,
			opts:     provider.Options{EmbeddingsDimensions: &dims, Bedrock: &provider.BedrockOptions{AWSRegion: "eu-west-1"}},
			wantURL:  "https://bedrock-runtime.eu-west-1.amazonaws.com/model/amazon.titan-embed-text-v2%3A0/invoke",
			wantBody: `{"inputText":"one","dimensions":256}`,
			resp:     `{"embedding":[1],"inputTextTokenCount":1}`,
			want:     `{"object":"list","model":"amazon.titan-embed-text-v2:0","data":[{"object":"embedding","index":0,"embedding":[1]}],"usage":{"prompt_tokens":1,"completion_tokens":0,"total_tokens":1}}`},
		{name: "cohere", model: "cohere.embed-english-v3", in: `{"model":"e","input":["a","b"]}`,
			opts:     provider.Options{Bedrock: &provider.BedrockOptions{AWSRegion: "us-east-1"}, Cohere: &provider.CohereOptions{EmbeddingInputType: "search_query"}},
			wantURL:  "https://bedrock-runtime.us-east-1.amazonaws.com/model/cohere.embed-english-v3/invoke",
			wantBody: `{"texts":["a","b"],"input_type":"search_query"}`,
			header:   http.Header{"X-Amzn-Bedrock-Input-Token-Count": {"4"}},
			resp:     `{"embeddings":[[0.5,0.25],[-1,0]],"id":"e-1","response_type":"embeddings_floats","texts":["a","b"]}`,
			want:     `{"object":"list","model":"cohere.embed-english-v3","data":[{"object":"embedding","index":0,"embedding":[0.5,0.25]},{"object":"embedding","index":1,"embedding":[-1,0]}],"usage":{"prompt_tokens":4,"completion_tokens":0,"total_tokens":4}}`},
		{name: "cohere typed", model: "cohere.embed-multilingual-v3", in: `{"model":"e","input":"a"}`,
			opts:     provider.Options{Bedrock: &provider.BedrockOptions{AWSRegion: "us-east-1"}},
			wantURL:  "https://bedrock-runtime.us-east-1.amazonaws.com/model/cohere.embed-multilingual-v3/invoke",
			wantBody: `{"texts":["a"],"input_type":"classification"}`,
			resp:     `{"embeddings":{"float":[[0.5]]},"id":"e-1","response_type":"embeddings_by_type","texts":["a"]}`,
			want:     `{"object":"list","model":"cohere.embed-multilingual-v3","data":[{"object":"embedding","index":0,"embedding":[0.5]}],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &provider.Request{RouteType: provider.Embeddings, Body: []byte(tt.in),
				Model: provider.Model{Provider: "bedrock", Name: tt.model, Options: tt.opts}}
			req, err := Provider{}.NewRequest(context.Background(), r)
			require.NoError(t, err)
			assert.Equal(t, tt.wantURL, req.URL.String())
			body, _ := io.ReadAll(req.Body)
			assert.JSONEq(t, tt.wantBody, string(body))
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			resp, err := Provider{}.ParseResponse(r, h, []byte(tt.resp))
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(resp.Body))
		})
	}
	r := &provider.Request{RouteType: provider.Embeddings, Body: []byte(`{"input":["a","b"]}`),
		Model: provider.Model{Name: "amazon.titan-embed-text-v2:0", Options: provider.Options{Bedrock: &provider.BedrockOptions{AWSRegion: "us-east-1"}}}}
	_, err := Provider{}.NewRequest(context.Background(), r)
	assert.ErrorContains(t, err, "one input")
	r.Model.Name = "meta.llama3"
	_, err = Provider{}.NewRequest(context.Background(), r)
	assert.ErrorContains(t, err, "not meta.llama3")
}

func TestStreamEnds(t *testing.T) {
	r := chatReq([]byte(`{"stream":true,"stream_options":{"include_usage":true}}`), true)
	// Without the metadata frame, include_usage still ends with a usage chunk.
	var events []json.RawMessage
	require.NoError(t, json.Unmarshal(goldenEvents(t, "stream_text.txtar"), &events))
	noMeta, _ := json.Marshal(events[:len(events)-1])
	chunks, err := xlatetest.Drain(Provider{}.NewStream(r, respHeader, bytes.NewReader(encodeEvents(t, noMeta))))
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"chatcmpl-req-1","object":"chat.completion.chunk","created":1748858400,"model":"anthropic.claude-3-5-sonnet-20240620-v1:0","choices":[],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}`, string(chunks[len(chunks)-1]))

	// Cut before messageStop: an error, not a silent end.
	noStop, _ := json.Marshal(events[:3])
	_, err = xlatetest.Drain(Provider{}.NewStream(r, respHeader, bytes.NewReader(encodeEvents(t, noStop))))
	assert.ErrorContains(t, err, "before messageStop")
}
