package bedrock

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
)

// Embeddings go through InvokeModel, whose body is the model's own: Amazon Titan
// (amazon.titan-embed-*) or Cohere (cohere.embed-*).

func isTitan(model string) bool  { return strings.Contains(model, "amazon.titan-embed") }
func isCohere(model string) bool { return strings.Contains(model, "cohere.embed") }

func embedBody(req *xlate.EmbeddingsRequest, r *provider.Request) ([]byte, error) {
	inputs, model := req.Inputs, req.Model
	switch {
	case isTitan(model):
		if len(inputs) != 1 {
			return nil, xlate.BadRequest("input", "bedrock: Titan embeddings models take one input per request")
		}
		body := struct {
			InputText  string `json:"inputText"`
			Dimensions *int   `json:"dimensions,omitempty"`
			Normalize  *bool  `json:"normalize,omitempty"`
		}{InputText: inputs[0], Dimensions: req.Dimensions}
		if o := r.Model.Options.Bedrock; o != nil && o.EmbeddingsNormalize {
			t := true
			body.Normalize = &t
		}
		return json.Marshal(body)
	case isCohere(model):
		return json.Marshal(struct {
			Texts     []string `json:"texts"`
			InputType string   `json:"input_type"`
		}{inputs, r.Model.Options.Cohere.InputType()})
	}
	return nil, xlate.BadRequest("model", "bedrock: embeddings are supported for amazon.titan-embed-* and cohere.embed-* models, not "+model)
}

func parseEmbeddings(r *provider.Request, header http.Header, body []byte) (*provider.Response, error) {
	model := xlate.Model(r)
	var (
		vecs [][]float32
		u    provider.Usage
	)
	switch {
	case isCohere(model):
		var doc struct {
			Embeddings json.RawMessage `json:"embeddings"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			return nil, xlate.BadGateway("bedrock: cannot decode the Cohere embeddings response: " + err.Error())
		}
		// embeddings is an array of vectors, or {"float": [...]} when embedding_types was set.
		if len(doc.Embeddings) > 0 && doc.Embeddings[0] == '{' {
			var typed struct {
				Float [][]float32 `json:"float"`
			}
			if err := json.Unmarshal(doc.Embeddings, &typed); err != nil {
				return nil, xlate.BadGateway("bedrock: cannot decode the Cohere embeddings: " + err.Error())
			}
			vecs = typed.Float
		} else if err := json.Unmarshal(doc.Embeddings, &vecs); err != nil {
			return nil, xlate.BadGateway("bedrock: cannot decode the Cohere embeddings: " + err.Error())
		}
		u.PromptTokens, _ = strconv.Atoi(header.Get("X-Amzn-Bedrock-Input-Token-Count"))
	default:
		var doc struct {
			Embedding           []float32 `json:"embedding"`
			InputTextTokenCount int       `json:"inputTextTokenCount"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			return nil, xlate.BadGateway("bedrock: cannot decode the Titan embeddings response: " + err.Error())
		}
		if doc.Embedding == nil {
			return nil, xlate.BadGateway("bedrock: the Titan embeddings response has no embedding")
		}
		vecs = [][]float32{doc.Embedding}
		u.PromptTokens = doc.InputTextTokenCount
	}
	u.TotalTokens = u.PromptTokens
	out, err := xlate.Embeddings(model, vecs, u)
	if err != nil {
		return nil, err
	}
	return &provider.Response{Body: out, Model: model, Usage: u}, nil
}
