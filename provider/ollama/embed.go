package ollama

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
		Model      string   `json:"model"`
		Input      []string `json:"input"`
		Dimensions *int     `json:"dimensions,omitempty"`
	}{req.Model, req.Inputs, req.Dimensions})
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
