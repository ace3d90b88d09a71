package aiproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestAzureEmbeddingsThroughProxy checks on the wire what the azure golden (testdata/
// embeddings.txtar) cannot: the deployment URL with api-version and the api-key header that
// the proxy adds, replacing the client's Authorization.
func TestAzureEmbeddingsThroughProxy(t *testing.T) {
	var got *http.Request
	var gotBody []byte
	tr := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		gotBody, _ = io.ReadAll(r.Body)
		body := `{"object":"list","data":[{"object":"embedding","embedding":[0.1,-0.2],"index":0}],"model":"text-embedding-3-small","usage":{"prompt_tokens":2,"total_tokens":2}}`
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
	})
	p := newProxy(t, Config{Transport: tr, Targets: []Target{{
		RouteType: provider.Embeddings,
		Model: provider.Model{Provider: "azure", Name: "text-embedding-3-small", Options: provider.Options{
			AzureInstance: "my-resource", AzureDeploymentID: "embed-prod", AzureAPIVersion: "2024-10-21"}},
		Auth: Auth{HeaderName: "api-key", HeaderValue: "azure-key-1"},
	}}})

	req := httptest.NewRequest(http.MethodPost, "/v1/embeddings", strings.NewReader(`{"input":"hello"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer client-key")
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"object":"list","data":[{"object":"embedding","embedding":[0.1,-0.2],"index":0}],"model":"text-embedding-3-small","usage":{"prompt_tokens":2,"total_tokens":2}}`, rec.Body.String())

	require.NotNil(t, got)
	assert.Equal(t, http.MethodPost, got.Method)
	assert.Equal(t, "https://my-resource.openai.azure.com/openai/deployments/embed-prod/embeddings?api-version=2024-10-21", got.URL.String())
	assert.Equal(t, []string{"azure-key-1"}, got.Header.Values("Api-Key"))
	assert.Empty(t, got.Header.Get("Authorization"), "the client's credential is not forwarded")
	assert.JSONEq(t, `{"model":"text-embedding-3-small","input":"hello"}`, string(gotBody))
}
