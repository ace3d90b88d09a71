package cohere

import (
	"encoding/json"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
)

// DefaultInputType is Kong's default for model.options.cohere.embedding_input_type.
const DefaultInputType = "classification"

func embedBody(r *provider.Request) ([]byte, error) {
	var req provider.EmbeddingRequest
	if err := json.Unmarshal(r.Body, &req); err != nil {
		return nil, xlate.BadRequest("", "the request is not a valid embeddings request: "+err.Error())
	}
	inputs, err := xlate.EmbeddingInputs(req.Input)
	if err != nil {
		return nil, err
	}
	out := struct {
		Model           string   `json:"model"`
		Texts           []string `json:"texts"`
		InputType       string   `json:"input_type"`
		EmbeddingTypes  []string `json:"embedding_types"`
		OutputDimension *int     `json:"output_dimension,omitempty"`
	}{Model: req.Model, Texts: inputs, InputType: DefaultInputType, EmbeddingTypes: []string{"float"}, OutputDimension: req.Dimensions}
	if r.Model.Name != "" {
		out.Model = r.Model.Name
	}
	if o := r.Model.Options.Cohere; o != nil && o.EmbeddingInputType != "" {
		out.InputType = o.EmbeddingInputType
	}
	if out.OutputDimension == nil {
		out.OutputDimension = r.Model.Options.EmbeddingsDimensions
	}
	return json.Marshal(out)
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
