package aiproxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
)

// embedAPI is a fake embeddings API in one provider's wire format: it checks the path and
// the credentials, reads the texts from the provider's request body, and answers with
// aiproxytest.BagOfWords vectors in the provider's response body.
type embedAPI struct {
	path, auth string                              // the path and credential the provider must send
	texts      func(body []byte) ([]string, int)   // the texts, and the dimensions asked for (0: none)
	answer     func(vecs [][]float32) any          // the response body
	credential func(r *http.Request) string        // where the credential is
	check      func(t *testing.T, r *http.Request) // further checks, may be nil
}

func jsonTexts[T any](pick func(T) ([]string, int)) func([]byte) ([]string, int) {
	return func(b []byte) ([]string, int) {
		var v T
		if json.Unmarshal(b, &v) != nil {
			return nil, 0
		}
		return pick(v)
	}
}

func header(name string) func(*http.Request) string {
	return func(r *http.Request) string { return r.Header.Get(name) }
}

type openAIEmbedReq struct {
	Input      []string `json:"input"`
	Model      string   `json:"model"`
	Dimensions int      `json:"dimensions"`
}

var openAIAnswer = func(vecs [][]float32) any {
	var data []map[string]any
	for i, v := range vecs {
		data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": v})
	}
	return map[string]any{"object": "list", "data": data, "model": "m", "usage": map[string]int{"prompt_tokens": 1, "total_tokens": 1}}
}

var openAITexts = jsonTexts(func(v openAIEmbedReq) ([]string, int) { return v.Input, v.Dimensions })

// TestRemoteEmbedders routes through the semantic balancer with each remote embedder against
// a fake API speaking its wire format, at the path the provider builds itself (a transport
// sends every request to the fake), and checks that the descriptions are embedded in one
// request where the API takes several texts.
func TestRemoteEmbedders(t *testing.T) {
	dims := 96
	cases := []struct {
		name     string
		model    aiproxy.EmbeddingModel
		auth     aiproxy.Auth
		api      embedAPI
		perText  bool // the API takes one text per request
		vectorDB int  // vectordb.dimensions
	}{
		{name: "openai", model: aiproxy.EmbeddingModel{Provider: "openai", Name: "text-embedding-3-small", Options: provider.Options{EmbeddingsDimensions: &dims}},
			auth: aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer sk-emb"}, vectorDB: dims,
			api: embedAPI{path: "/v1/embeddings", auth: "Bearer sk-emb", credential: header("Authorization"), texts: openAITexts, answer: openAIAnswer,
				check: func(t *testing.T, r *http.Request) { assert.Equal(t, "api.openai.com", r.Host) }}},
		{name: "azure", model: aiproxy.EmbeddingModel{Provider: "azure", Name: "text-embedding-3-large",
			Options: provider.Options{AzureInstance: "myres", AzureDeploymentID: "emb", AzureAPIVersion: "2024-10-21"}},
			auth: aiproxy.Auth{HeaderName: "api-key", HeaderValue: "az-emb"},
			api: embedAPI{path: "/openai/deployments/emb/embeddings", auth: "az-emb", credential: header("Api-Key"), texts: openAITexts, answer: openAIAnswer,
				check: func(t *testing.T, r *http.Request) {
					assert.Equal(t, "myres.openai.azure.com", r.Host)
					assert.Equal(t, "2024-10-21", r.URL.Query().Get("api-version"))
				}}},
		{name: "azure with vectordb.dimensions", model: aiproxy.EmbeddingModel{Provider: "azure", Name: "text-embedding-3-small",
			Options: provider.Options{AzureInstance: "myres", AzureDeploymentID: "emb-small", AzureAPIVersion: "2024-10-21"}},
			auth: aiproxy.Auth{HeaderName: "api-key", HeaderValue: "az-emb"}, vectorDB: 256, // sent as dimensions, as Kong does
			api: embedAPI{path: "/openai/deployments/emb-small/embeddings", auth: "az-emb", credential: header("Api-Key"), texts: openAITexts, answer: openAIAnswer,
				check: func(t *testing.T, r *http.Request) { assert.Equal(t, "myres.openai.azure.com", r.Host) }}},
		{name: "mistral", model: aiproxy.EmbeddingModel{Provider: "mistral", Name: "mistral-embed"},
			auth: aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer mi-emb"},
			api:  embedAPI{path: "/v1/embeddings", auth: "Bearer mi-emb", credential: header("Authorization"), texts: openAITexts, answer: openAIAnswer}},
		{name: "ollama", model: aiproxy.EmbeddingModel{Provider: "ollama", Name: "nomic-embed-text"},
			api: embedAPI{path: "/api/embed", credential: header("Authorization"),
				texts: jsonTexts(func(v struct {
					Model string   `json:"model"`
					Input []string `json:"input"`
				}) ([]string, int) {
					return v.Input, 0
				}),
				answer: func(vecs [][]float32) any { return map[string]any{"model": "nomic-embed-text", "embeddings": vecs} }}},
		{name: "gemini", model: aiproxy.EmbeddingModel{Provider: "gemini", Name: "text-embedding-004"},
			auth: aiproxy.Auth{ParamName: "key", ParamValue: "g-emb", ParamLocation: "query"},
			api: embedAPI{path: "/v1beta/models/text-embedding-004:batchEmbedContents", auth: "g-emb", credential: func(r *http.Request) string { return r.URL.Query().Get("key") },
				texts: jsonTexts(func(v struct {
					Requests []struct {
						Model   string `json:"model"`
						Content struct {
							Parts []struct{ Text string } `json:"parts"`
						} `json:"content"`
					} `json:"requests"`
				}) ([]string, int) {
					var out []string
					for _, r := range v.Requests {
						out = append(out, r.Content.Parts[0].Text)
					}
					return out, 0
				}),
				answer: func(vecs [][]float32) any {
					var es []map[string]any
					for _, v := range vecs {
						es = append(es, map[string]any{"values": v})
					}
					return map[string]any{"embeddings": es}
				}}},
		{name: "bedrock titan", model: aiproxy.EmbeddingModel{Provider: "bedrock", Name: "amazon.titan-embed-text-v2:0",
			Options: provider.Options{Bedrock: &provider.BedrockOptions{AWSRegion: "eu-west-1"}}},
			auth: aiproxy.Auth{AWSAccessKeyID: "AKIDEXAMPLE", AWSSecretAccessKey: "wJalrXUtnFEMI"}, perText: true,
			api: embedAPI{path: "/model/amazon.titan-embed-text-v2:0/invoke", auth: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", credential: signature,
				texts: jsonTexts(func(v struct {
					InputText string `json:"inputText"`
				}) ([]string, int) {
					return []string{v.InputText}, 0
				}),
				answer: func(vecs [][]float32) any { return map[string]any{"embedding": vecs[0], "inputTextTokenCount": 3} },
				check: func(t *testing.T, r *http.Request) {
					assert.Equal(t, "bedrock-runtime.eu-west-1.amazonaws.com", r.Host)
				}}},
		{name: "bedrock cohere", model: aiproxy.EmbeddingModel{Provider: "bedrock", Name: "cohere.embed-english-v3",
			Options: provider.Options{Bedrock: &provider.BedrockOptions{AWSRegion: "us-east-1"}}},
			auth: aiproxy.Auth{AWSAccessKeyID: "AKIDEXAMPLE", AWSSecretAccessKey: "wJalrXUtnFEMI"},
			api: embedAPI{path: "/model/cohere.embed-english-v3/invoke", auth: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", credential: signature,
				texts: jsonTexts(func(v struct {
					Texts     []string `json:"texts"`
					InputType string   `json:"input_type"`
				}) ([]string, int) {
					return v.Texts, 0
				}),
				answer: func(vecs [][]float32) any { return map[string]any{"embeddings": vecs, "id": "x", "texts": []string{}} }}},
		{name: "huggingface", model: aiproxy.EmbeddingModel{Provider: "huggingface", Name: "BAAI/bge-small-en-v1.5"},
			auth: aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer hf-emb"},
			api: embedAPI{path: "/hf-inference/models/BAAI/bge-small-en-v1.5/pipeline/feature-extraction", auth: "Bearer hf-emb", credential: header("Authorization"),
				texts: jsonTexts(func(v struct {
					Inputs []string `json:"inputs"`
				}) ([]string, int) {
					return v.Inputs, 0
				}),
				answer: func(vecs [][]float32) any { return vecs }}},
		// Text Embeddings Inference (a self-hosted TEI server, or an Inference Endpoint running
		// it) at upstream_url: POST /embed {"inputs": [...]}, answered with one vector per input.
		{name: "huggingface TEI", model: aiproxy.EmbeddingModel{Provider: "huggingface", Name: "BAAI/bge-small-en-v1.5",
			Options: provider.Options{UpstreamURL: "http://tei.internal:8080/embed"}},
			api: embedAPI{path: "/embed", credential: header("Authorization"),
				texts: jsonTexts(func(v struct {
					Inputs []string `json:"inputs"`
				}) ([]string, int) {
					return v.Inputs, 0
				}),
				answer: func(vecs [][]float32) any { return vecs },
				check:  func(t *testing.T, r *http.Request) { assert.Equal(t, "tei.internal:8080", r.Host) }}},
	}
	descs := []string{"cooking recipes baking", "astronomy planets stars", "law courts contracts"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := newEmbedAPI(t, tc.api)
			cfg, chatAPI := semanticConfig(t, 0.5, append(descs, "CATCHALL")...)
			cfg.Embedder = nil
			cfg.Embeddings = &aiproxy.EmbeddingsConfig{Model: tc.model, Auth: tc.auth}
			cfg.VectorDB.Dimensions = tc.vectorDB
			cfg.Transport = redirect(chatAPI.Listener.Addr().String(), api.URL)
			p := newSeedProxy(t, cfg)

			for prompt, want := range map[string]string{"baking recipes": "cooking", "planets and stars": "astronomy", "whales": "CATCHALL"} {
				rec, model := chat(t, p, prompt)
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				assert.Equal(t, want, model, prompt)
			}
			batches := api.batches()
			first := 1
			if tc.perText {
				first = len(descs)
			}
			require.Len(t, batches, first+3, "the descriptions, then one request per prompt")
			if !tc.perText {
				assert.ElementsMatch(t, descs, batches[0], "all descriptions in one request")
			}
			if tc.vectorDB != 0 {
				assert.Equal(t, []int{tc.vectorDB}, api.dims(), "the dimensions asked for")
			}
		})
	}
}

// signature is the SigV4 Authorization header, up to the credential's date.
func signature(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if i := strings.Index(a, "Credential=AKIDEXAMPLE/"); i >= 0 {
		return a[:i+len("Credential=AKIDEXAMPLE/")]
	}
	return a
}

type fakeEmbedAPI struct {
	*httptest.Server
	mu     sync.Mutex
	texts  [][]string
	dimSet map[int]bool
}

func (f *fakeEmbedAPI) batches() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.texts
}

func (f *fakeEmbedAPI) dims() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for d := range f.dimSet {
		out = append(out, d)
	}
	return out
}

func newEmbedAPI(t *testing.T, api embedAPI) *fakeEmbedAPI {
	f := &fakeEmbedAPI{dimSet: map[int]bool{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != api.path || r.Method != http.MethodPost {
			t.Errorf("%s %s, want POST %s", r.Method, r.URL.Path, api.path)
			http.NotFound(w, r)
			return
		}
		if got := api.credential(r); got != api.auth {
			t.Errorf("credential %q, want %q", got, api.auth)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if api.check != nil {
			api.check(t, r)
		}
		texts, dims := api.texts(body)
		if len(texts) == 0 {
			t.Errorf("no texts in %s", body)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		n := 64
		if dims != 0 {
			n = dims
		}
		vecs := make([][]float32, len(texts))
		for i, s := range texts {
			vecs[i] = aiproxytest.BagOfWords(s, n)
		}
		f.mu.Lock()
		f.texts = append(f.texts, texts)
		if dims != 0 {
			f.dimSet[dims] = true
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(api.answer(vecs))
	}))
	t.Cleanup(f.Close)
	return f
}

// redirect sends every request whose host is not keep to target, keeping its path, query
// and Host header (the name the provider chose).
func redirect(keep, target string) http.RoundTripper {
	u, _ := url.Parse(target)
	return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host != keep {
			r = r.Clone(r.Context())
			r.Host = r.URL.Host
			r.URL.Scheme, r.URL.Host = u.Scheme, u.Host
		}
		return http.DefaultTransport.RoundTrip(r)
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
