package aiproxy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/aiproxytest"
)

// TestAnthropicCountTokens: the Anthropic SDK's Messages.CountTokens reaches the Anthropic
// target's /v1/messages/count_tokens with the target's key and model and none of its
// sampling options (which the endpoint refuses), even with response_streaming: always; the
// count is not metered as usage. A passed-through request carries the client's
// anthropic-version. With no Anthropic target, it is a 400 naming the endpoint.
func TestAnthropicCountTokens(t *testing.T) {
	an := newAnthropicFake()
	defer an.Close()
	target := anTarget(an, "claude-sonnet-4-5")
	target.Model.Options.MaxTokens = ptr(512)
	target.Model.Options.Temperature = ptr(0.2)
	cfg := anthropicFormat(target)
	cfg.ResponseStreaming = "always"
	p, log := surfaceProxy(t, cfg)
	client := anthropicClient(p)
	ctx := context.Background()

	count, err := client.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: "assistant",
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("How many tokens is this?"))}},
		aoption.WithHeader("anthropic-version", "2099-01-01"))
	require.NoError(t, err)
	assert.Positive(t, count.InputTokens)
	s := log.last(t)
	assert.Zero(t, s.Usage, "a count is not usage")
	assert.Equal(t, 200, s.Status)

	reqs := an.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/v1/messages/count_tokens", reqs[0].Path)
	assert.Equal(t, "2099-01-01", reqs[0].Header.Get("Anthropic-Version"), "the client's version of the API")
	var sent map[string]any
	require.NoError(t, json.Unmarshal(reqs[0].Body, &sent))
	assert.Equal(t, "claude-sonnet-4-5", sent["model"])

	p1, _ := surfaceProxy(t, anthropicFormat(target)) // response_streaming: allow
	client1 := anthropicClient(p1)
	_, err = client1.Messages.New(ctx, anthropic.MessageNewParams{Model: "assistant", MaxTokens: 64,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))}},
		aoption.WithHeader("anthropic-version", "2099-01-01"))
	require.NoError(t, err)
	assert.Equal(t, "2099-01-01", an.Requests()[1].Header.Get("Anthropic-Version"))

	oa := aiproxytest.NewOpenAI()
	defer oa.Close()
	p2, _ := surfaceProxy(t, anthropicFormat(oaTarget(oa, "gpt-4o")))
	client2 := anthropicClient(p2)
	_, err = client2.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: "assistant",
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))}})
	var apiErr *anthropic.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	assert.Contains(t, apiErr.Error(), "count_tokens")
	assert.Empty(t, oa.Requests())
}
