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

func TestToolCallIDSignature(t *testing.T) {
	id := ToolCallID("r", 0, "CiQB0e2Kb+2lF0jT9U/xQQ==")
	assert.Regexp(t, `^[A-Za-z0-9_-]+$`, id, "ids stay valid for Anthropic's tool_use id pattern")
	assert.Equal(t, "CiQB0e2Kb+2lF0jT9U/xQQ==", SignatureFromID(id))
	assert.Equal(t, "", SignatureFromID(ToolCallID("r", 0, "")))
	assert.Equal(t, "", SignatureFromID("call_x__ts_!!"))
}
