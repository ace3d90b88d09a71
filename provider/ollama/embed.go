package ollama

import (
	"encoding/json"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
)

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
		Model      string   `json:"model"`
		Input      []string `json:"input"`
		Dimensions *int     `json:"dimensions,omitempty"`
	}{Model: req.Model, Input: inputs, Dimensions: req.Dimensions}
	if r.Model.Name != "" {
		out.Model = r.Model.Name
	}
	if out.Dimensions == nil {
		out.Dimensions = r.Model.Options.EmbeddingsDimensions
	}
	return json.Marshal(out)
}

func parseEmbeddings(r *provider.Request, body []byte) (*provider.Response, error) {
	var doc struct {
		Model           string      `json:"model"`
		Embeddings      [][]float32 `json:"embeddings"`
		PromptEvalCount int         `json:"prompt_eval_count"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, xlate.BadGateway("ollama: cannot decode the embed response: " + err.Error())
	}
	model := doc.Model
	if model == "" {
		model = xlate.Model(r)
	}
	u := provider.Usage{PromptTokens: doc.PromptEvalCount, TotalTokens: doc.PromptEvalCount}
	out, err := xlate.Embeddings(model, doc.Embeddings, u)
	if err != nil {
		return nil, err
	}
	return &provider.Response{Body: out, Model: doc.Model, Usage: u}, nil
}
