package anthropic

import (
	"testing"
	"time"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

var testCase = providertest.Case{
	Provider: Provider{Now: func() time.Time { return time.Unix(1700000000, 0) }},
	Model:    provider.Model{Provider: "anthropic", Name: "claude-sonnet-4-5"},
}

func TestConformance(t *testing.T) { providertest.Run(t, testCase) }

func FuzzStream(f *testing.F) { providertest.FuzzStream(f, testCase) }

func FuzzResponse(f *testing.F) { providertest.FuzzResponse(f, testCase) }
