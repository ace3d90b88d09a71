package aiproxy_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genai"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/provider"
)

// The official SDKs as clients of translated native requests: the AWS SDK's Bedrock Runtime
// (Converse, ConverseStream) and Google's Gen AI SDK (GenerateContent, GenerateContentStream),
// each over HTTP to the Handler and through the RoundTripper, to an OpenAI target.

// sdkEndpoints are the two ways an SDK reaches the proxy: its base URL and HTTP client.
func sdkEndpoints(t *testing.T, p *aiproxy.Proxy) map[string]struct {
	base   string
	client *http.Client
} {
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return map[string]struct {
		base   string
		client *http.Client
	}{
		"Handler":      {srv.URL, srv.Client()},
		"RoundTripper": {"http://aiproxy.invalid", &http.Client{Transport: p}},
	}
}

func bedrockClient(base string, hc *http.Client) *bedrockruntime.Client {
	return bedrockruntime.New(bedrockruntime.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(base),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDCLIENT", "client-secret", "client-session-token"),
		HTTPClient:       hc,
		RetryMaxAttempts: 1,
	})
}

func TestNativeBedrockTranslatedSDK(t *testing.T) {
	oa := chatFake(t)
	p, log := surfaceProxy(t, aiproxy.Config{LLMFormat: "bedrock", Targets: []aiproxy.Target{openaiAt(oa, 0)}})
	brokenEnds := sdkEndpoints(t, erroringProxy(t, "bedrock", brokenChat(t, "close")))
	ctx := context.Background()
	hi := []types.Message{{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: "Hi"}}}}
	for name, ep := range sdkEndpoints(t, p) {
		t.Run(name, func(t *testing.T) {
			c := bedrockClient(ep.base, ep.client)
			out, err := c.Converse(ctx, &bedrockruntime.ConverseInput{
				ModelId: aws.String("assistant"), Messages: hi,
				System:          []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: "Be brief."}},
				InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(64)},
			})
			require.NoError(t, err)
			msg, ok := out.Output.(*types.ConverseOutputMemberMessage)
			require.True(t, ok, "%T", out.Output)
			require.Len(t, msg.Value.Content, 1)
			text, ok := msg.Value.Content[0].(*types.ContentBlockMemberText)
			require.True(t, ok, "%T", msg.Value.Content[0])
			assert.Equal(t, "Hello from gpt-4o", text.Value)
			assert.Equal(t, types.StopReasonEndTurn, out.StopReason)
			assert.Equal(t, int32(17), aws.ToInt32(out.Usage.TotalTokens))
			assert.Equal(t, 17, log.last(t).Usage.TotalTokens)
			assert.JSONEq(t, `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_completion_tokens":64}`,
				lastChat(t, oa))
			last := oa.Requests()[len(oa.Requests())-1]
			assert.Equal(t, "Bearer sk-oa", last.Header.Get("Authorization"), "the target's credentials, not the client's signature")
			assert.Empty(t, last.Header.Get("X-Amz-Security-Token"), "the client's AWS session token stays with the proxy")

			// A tool call.
			out, err = c.Converse(ctx, &bedrockruntime.ConverseInput{
				ModelId: aws.String("assistant"), Messages: hi,
				ToolConfig: &types.ToolConfiguration{Tools: []types.Tool{&types.ToolMemberToolSpec{Value: types.ToolSpecification{
					Name: aws.String("get_weather"), InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(map[string]any{
						"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}})},
				}}}},
			})
			require.NoError(t, err)
			assert.Equal(t, types.StopReasonToolUse, out.StopReason)
			msg = out.Output.(*types.ConverseOutputMemberMessage)
			require.Len(t, msg.Value.Content, 1)
			tu, ok := msg.Value.Content[0].(*types.ContentBlockMemberToolUse)
			require.True(t, ok, "%T", msg.Value.Content[0])
			assert.Equal(t, "get_weather", aws.ToString(tu.Value.Name))
			var args map[string]any
			require.NoError(t, tu.Value.Input.UnmarshalSmithyDocument(&args))
			assert.Equal(t, map[string]any{"city": "Paris"}, args)

			// The stream, event by event.
			so, err := c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String("assistant"), Messages: hi})
			require.NoError(t, err)
			stream := so.GetStream()
			var kinds []string
			var streamed strings.Builder
			var stop types.StopReason
			var total int32
			for ev := range stream.Events() {
				switch v := ev.(type) {
				case *types.ConverseStreamOutputMemberMessageStart:
					kinds = append(kinds, "messageStart")
					assert.Equal(t, types.ConversationRoleAssistant, v.Value.Role)
				case *types.ConverseStreamOutputMemberContentBlockDelta:
					kinds = append(kinds, "contentBlockDelta")
					if d, ok := v.Value.Delta.(*types.ContentBlockDeltaMemberText); ok {
						streamed.WriteString(d.Value)
					}
				case *types.ConverseStreamOutputMemberContentBlockStop:
					kinds = append(kinds, "contentBlockStop")
				case *types.ConverseStreamOutputMemberMessageStop:
					kinds = append(kinds, "messageStop")
					stop = v.Value.StopReason
				case *types.ConverseStreamOutputMemberMetadata:
					kinds = append(kinds, "metadata")
					total = aws.ToInt32(v.Value.Usage.TotalTokens)
				default:
					t.Errorf("unexpected event %T", ev)
				}
			}
			require.NoError(t, stream.Err())
			require.NoError(t, stream.Close())
			assert.Equal(t, []string{"messageStart", "contentBlockDelta", "contentBlockDelta", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata"}, kinds)
			assert.Equal(t, "Hello from gpt-4o", streamed.String())
			assert.Equal(t, types.StopReasonEndTurn, stop)
			assert.Equal(t, int32(helloUsage.TotalTokens), total)

			// An upstream 429 is the SDK's ThrottlingException.
			oa.Fail(429, 1, "")
			_, err = bedrockClient(ep.base, ep.client).Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String("assistant"), Messages: hi})
			var throttled *types.ThrottlingException
			require.ErrorAs(t, err, &throttled)
			assert.Contains(t, throttled.ErrorMessage(), "Rate limit reached")

			// A stream broken off is the SDK's stream error, of the exception's type.
			bc := bedrockClient(brokenEnds[name].base, brokenEnds[name].client)
			so, err = bc.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String("assistant"), Messages: hi})
			require.NoError(t, err)
			stream = so.GetStream()
			n := 0
			for range stream.Events() {
				n++
			}
			assert.Equal(t, 2, n, "messageStart and the delta before the break")
			var streamErr *types.ModelStreamErrorException
			require.ErrorAs(t, stream.Err(), &streamErr)
			assert.NotEmpty(t, streamErr.ErrorMessage())
			stream.Close()
		})
	}
}

func TestNativeGeminiTranslatedSDK(t *testing.T) {
	oa := chatFake(t)
	p, log := surfaceProxy(t, aiproxy.Config{LLMFormat: "gemini", Targets: []aiproxy.Target{openaiAt(oa, 0)}})
	ctx := context.Background()
	for name, ep := range sdkEndpoints(t, p) {
		t.Run(name, func(t *testing.T) {
			client, err := genai.NewClient(ctx, &genai.ClientConfig{APIKey: "client-key", Backend: genai.BackendGeminiAPI, HTTPClient: ep.client,
				HTTPOptions: genai.HTTPOptions{BaseURL: ep.base, APIVersion: "v1beta"}})
			require.NoError(t, err)
			resp, err := client.Models.GenerateContent(ctx, "assistant", genai.Text("Hi"), &genai.GenerateContentConfig{
				SystemInstruction: genai.NewContentFromText("Be brief.", genai.RoleUser), MaxOutputTokens: 64})
			require.NoError(t, err)
			assert.Equal(t, "Hello from gpt-4o", resp.Text())
			require.Len(t, resp.Candidates, 1)
			assert.Equal(t, genai.FinishReasonStop, resp.Candidates[0].FinishReason)
			require.NotNil(t, resp.UsageMetadata)
			assert.Equal(t, int32(17), resp.UsageMetadata.TotalTokenCount)
			assert.Equal(t, 17, log.last(t).Usage.TotalTokens)
			assert.JSONEq(t, `{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_completion_tokens":64}`,
				lastChat(t, oa))
			last := oa.Requests()[len(oa.Requests())-1]
			assert.Equal(t, "Bearer sk-oa", last.Header.Get("Authorization"))
			assert.Empty(t, last.Header.Get("X-Goog-Api-Key"), "the client's key stays with the proxy")

			// A function call.
			resp, err = client.Models.GenerateContent(ctx, "assistant", genai.Text("Weather in Paris?"), &genai.GenerateContentConfig{
				Tools: []*genai.Tool{{FunctionDeclarations: []*genai.FunctionDeclaration{{Name: "get_weather", Parameters: &genai.Schema{
					Type: genai.TypeObject, Properties: map[string]*genai.Schema{"city": {Type: genai.TypeString}}}}}}}})
			require.NoError(t, err)
			calls := resp.FunctionCalls()
			require.Len(t, calls, 1)
			assert.Equal(t, "get_weather", calls[0].Name)
			assert.Equal(t, map[string]any{"city": "Paris"}, calls[0].Args)

			// The stream (the SDK asks for alt=sse).
			var text strings.Builder
			var final *genai.GenerateContentResponse
			for r, err := range client.Models.GenerateContentStream(ctx, "assistant", genai.Text("Hi"), nil) {
				require.NoError(t, err)
				text.WriteString(r.Text())
				final = r
			}
			assert.Equal(t, "Hello from gpt-4o", text.String())
			require.NotNil(t, final)
			assert.Equal(t, genai.FinishReasonStop, final.Candidates[0].FinishReason)
			require.NotNil(t, final.UsageMetadata)
			assert.Equal(t, int32(helloUsage.TotalTokens), final.UsageMetadata.TotalTokenCount)

			// An upstream 429 is the SDK's APIError with Gemini's status.
			oa.Fail(429, 1, "")
			_, err = client.Models.GenerateContent(ctx, "assistant", genai.Text("Hi"), nil)
			var apiErr genai.APIError
			require.True(t, errors.As(err, &apiErr), "%T %v", err, err)
			assert.Equal(t, "RESOURCE_EXHAUSTED", apiErr.Status, "%+v", apiErr)
		})
	}
}

// A Bedrock SDK client that signs with temporary credentials sends its session token in
// X-Amz-Security-Token: a credential, which no target gets, neither a translated one (above)
// nor a Bedrock target, whose request the proxy signs with the target's own credentials.
func TestNativeBedrockSDKSessionTokenNotForwarded(t *testing.T) {
	br := newNativeFake(t, nil, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"output":{"message":{"role":"assistant","content":[{"text":"Hello from Bedrock"}]}},"stopReason":"end_turn",` +
			`"usage":{"inputTokens":7,"outputTokens":4,"totalTokens":11},"metrics":{"latencyMs":100}}`))
	})
	p, _ := surfaceProxy(t, aiproxy.Config{LLMFormat: "bedrock", Targets: []aiproxy.Target{{Model: provider.Model{Provider: "bedrock", Name: "amazon.nova-lite-v1:0", Alias: "assistant",
		Options: provider.Options{UpstreamURL: br.srv.URL, Bedrock: &provider.BedrockOptions{AWSRegion: "us-east-1"}}},
		Auth: aiproxy.Auth{AWSAccessKeyID: "AKIDTARGET", AWSSecretAccessKey: "target-secret"}}}})
	for name, ep := range sdkEndpoints(t, p) {
		t.Run(name, func(t *testing.T) {
			out, err := bedrockClient(ep.base, ep.client).Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String("assistant"),
				Messages: []types.Message{{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: "Hi"}}}}})
			require.NoError(t, err)
			assert.Equal(t, "Hello from Bedrock", out.Output.(*types.ConverseOutputMemberMessage).Value.Content[0].(*types.ContentBlockMemberText).Value)
			r, _ := br.last()
			assert.Contains(t, r.Header.Get("Authorization"), "Credential=AKIDTARGET/", "signed by the proxy with the target's credentials")
			assert.Empty(t, r.Header.Get("X-Amz-Security-Token"), "the client's session token is not forwarded")
		})
	}
}
