package gemini

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

var testCase = providertest.Case{
	Provider: Provider{Now: func() time.Time { return time.Unix(1700000000, 0) }},
	Model:    provider.Model{Provider: "gemini", Name: "gemini-2.5-flash"},
}

func TestConformance(t *testing.T) { providertest.Run(t, testCase) }

func FuzzStream(f *testing.F) { providertest.FuzzStream(f, testCase) }

func FuzzResponse(f *testing.F) { providertest.FuzzResponse(f, testCase) }

// Every value of Gemini's FinishReason enum (https://ai.google.dev/api/generate-content#FinishReason)
// is mapped on purpose: to an OpenAI finish_reason, or to an error when there is no answer.
func TestFinishReasons(t *testing.T) {
	finish := map[string]string{
		"FINISH_REASON_UNSPECIFIED": "stop", "STOP": "stop", "OTHER": "stop", "NO_IMAGE": "stop",
		"MAX_TOKENS": "length",
		"SAFETY":     "content_filter", "RECITATION": "content_filter", "LANGUAGE": "content_filter",
		"BLOCKLIST": "content_filter", "PROHIBITED_CONTENT": "content_filter", "SPII": "content_filter",
		"IMAGE_SAFETY": "content_filter", "IMAGE_PROHIBITED_CONTENT": "content_filter",
		"IMAGE_RECITATION": "content_filter", "IMAGE_OTHER": "content_filter",
	}
	errs := map[string]int{
		"MALFORMED_FUNCTION_CALL": 502, "UNEXPECTED_TOOL_CALL": 502, "TOO_MANY_TOOL_CALLS": 502,
		"MALFORMED_RESPONSE": 502, "MISSING_THOUGHT_SIGNATURE": 400,
	}
	for reason, want := range finish {
		assert.Nil(t, finishError(reason), reason)
		assert.Equal(t, want, FinishReason(reason, false), reason)
	}
	assert.Equal(t, "tool_calls", FinishReason("STOP", true))
	for reason, status := range errs {
		e := finishError(reason)
		if assert.NotNil(t, e, reason) {
			assert.Equal(t, status, e.Status, reason)
			assert.Equal(t, reason, e.Code)
		}
	}
}

// Tool call ids must be valid on every provider a conversation may fail over to: at most 40
// characters (OpenAI), and of Anthropic's and Bedrock's [a-zA-Z0-9_-] alphabet.
func TestToolCallID(t *testing.T) {
	id := ToolCallID("mVLaaPK4LJe1nvgPkZbkmAM", 3)
	assert.Regexp(t, `^[A-Za-z0-9_-]{1,40}$`, id)
	assert.Equal(t, id, ToolCallID("mVLaaPK4LJe1nvgPkZbkmAM", 3), "deterministic")
	assert.NotEqual(t, id, ToolCallID("mVLaaPK4LJe1nvgPkZbkmAM", 4))
}
