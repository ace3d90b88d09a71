package openai

import (
	"testing"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

func TestConformance(t *testing.T) {
	providertest.Run(t, providertest.Case{Provider: Provider{}, Model: provider.Model{Provider: "openai", Name: "gpt-4o"}})
}

func FuzzConformanceStream(f *testing.F) {
	providertest.FuzzStream(f, providertest.Case{Provider: Provider{}})
}

func FuzzConformanceResponse(f *testing.F) {
	providertest.FuzzResponse(f, providertest.Case{Provider: Provider{}})
}
