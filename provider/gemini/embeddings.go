package gemini

import (
	"encoding/json"
	"strings"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
)

type embedRequest struct {
	Model                string   `json:"model"`
	Content              contentT `json:"content"`
	OutputDimensionality *int     `json:"outputDimensionality,omitempty"`
}

type predictRequest struct {
	Instances  []predictInstance `json:"instances"`
	Parameters *predictParams    `json:"parameters,omitempty"`
}

type predictInstance struct {
	Content string `json:"content"`
}

type predictParams struct {
	OutputDimensionality *int `json:"outputDimensionality,omitempty"`
}

func translateEmbeddings(r *provider.Request) (body []byte, model, method string, err error) {
	in, err := xlate.DecodeEmbeddings(r)
	if err != nil {
		return nil, "", "", err
	}
	model = strings.TrimPrefix(in.Model, "models/")
	inputs, dims := in.Inputs, in.Dimensions
	if Vertex(r) {
		pr := predictRequest{}
		for _, s := range inputs {
			pr.Instances = append(pr.Instances, predictInstance{Content: s})
		}
		if dims != nil {
			pr.Parameters = &predictParams{OutputDimensionality: dims}
		}
		body, err = json.Marshal(pr)
		return body, model, "predict", err
	}
	reqs := make([]embedRequest, len(inputs))
	for i, s := range inputs {
		reqs[i] = embedRequest{Model: "models/" + model, Content: contentT{Parts: []part{{Text: strPtr(s)}}}, OutputDimensionality: dims}
	}
	if in.Single { // one string: embedContent; an array: batchEmbedContents
		body, err = json.Marshal(reqs[0])
		return body, model, "embedContent", err
	}
	body, err = json.Marshal(struct {
		Requests []embedRequest `json:"requests"`
	}{reqs})
	return body, model, "batchEmbedContents", err
}

type values struct {
	Values []float32 `json:"values"`
}

// parseEmbeddings reads embedContent ({"embedding"}), batchEmbedContents ({"embeddings"})
// and Vertex predict ({"predictions"}) responses.
func parseEmbeddings(r *provider.Request, body []byte) (*provider.Response, error) {
	var doc struct {
		Embedding   *values  `json:"embedding"`
		Embeddings  []values `json:"embeddings"`
		Predictions []struct {
			Embeddings struct {
				Values     []float32 `json:"values"`
				Statistics struct {
					TokenCount float64 `json:"token_count"`
				} `json:"statistics"`
			} `json:"embeddings"`
		} `json:"predictions"`
		UsageMetadata *usageMetadata `json:"usageMetadata"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, invalid(err)
	}
	out := provider.EmbeddingResponse{Object: "list", Data: []provider.Embedding{}, Model: strings.TrimPrefix(r.Model.Name, "models/")}
	if out.Model == "" {
		var in struct {
			Model string `json:"model"`
		}
		_ = json.Unmarshal(r.Body, &in)
		out.Model = strings.TrimPrefix(in.Model, "models/")
	}
	add := func(v []float32) {
		if v == nil {
			v = []float32{}
		}
		out.Data = append(out.Data, provider.Embedding{Object: "embedding", Index: len(out.Data), Embedding: v})
	}
	switch {
	case doc.Embedding != nil:
		add(doc.Embedding.Values)
	case doc.Embeddings != nil:
		for _, e := range doc.Embeddings {
			add(e.Values)
		}
	default:
		for _, p := range doc.Predictions {
			add(p.Embeddings.Values)
			out.Usage.PromptTokens += int(p.Embeddings.Statistics.TokenCount)
		}
	}
	if doc.UsageMetadata != nil {
		out.Usage.PromptTokens = doc.UsageMetadata.PromptTokenCount
	}
	out.Usage.TotalTokens = out.Usage.PromptTokens
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return &provider.Response{Body: b, Model: out.Model, Usage: out.Usage}, nil
}
