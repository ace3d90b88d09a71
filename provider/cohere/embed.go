package cohere

import (
	"encoding/json"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
)

func embedBody(r *provider.Request) ([]byte, error) {
	req, err := xlate.DecodeEmbeddings(r)
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Model           string   `json:"model"`
		Texts           []string `json:"texts"`
		InputType       string   `json:"input_type"`
		EmbeddingTypes  []string `json:"embedding_types"`
		OutputDimension *int     `json:"output_dimension,omitempty"`
	}{req.Model, req.Inputs, r.Model.Options.Cohere.InputType(), []string{"float"}, req.Dimensions})
}

func parseEmbeddings(r *provider.Request, body []byte) (*provider.Response, error) {
	var doc struct {
		Embeddings struct {
			Float [][]float32 `json:"float"`
		} `json:"embeddings"`
		Meta struct {
			BilledUnits struct {
				InputTokens float64 `json:"input_tokens"`
			} `json:"billed_units"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, xlate.BadGateway("cohere: cannot decode the embed response: " + err.Error())
	}
	n := int(doc.Meta.BilledUnits.InputTokens)
	u := provider.Usage{PromptTokens: n, TotalTokens: n}
	model := xlate.Model(r)
	out, err := xlate.Embeddings(model, doc.Embeddings.Float, u)
	if err != nil {
		return nil, err
	}
	return &provider.Response{Body: out, Usage: u}, nil
}
