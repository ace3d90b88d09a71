// Package azure is the provider for Azure OpenAI: OpenAI's wire format at a deployment URL,
//
//	https://{azure_instance}.openai.azure.com/openai/deployments/{azure_deployment_id}/chat/completions?api-version={azure_api_version}
//
// (embeddings and completions likewise). Bodies pass through as with the openai provider.
// Azure's first streamed chunk, which carries only prompt_filter_results (no id, no choices),
// is dropped so that clients see OpenAI's stream shape. Auth is the api-key header or an
// Entra ID bearer token, applied by the proxy.
package azure

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// DefaultAPIVersion is the api-version used when model.options.azure_api_version is empty
// (Kong's default). It predates tools and tool_choice (it has only functions): requests with
// tools need azure_api_version 2024-02-01 or a later GA version (or a preview that has them).
const DefaultAPIVersion = "2023-05-15"

// Provider speaks Azure OpenAI. The zero value is ready to use.
type Provider struct{}

var _ provider.Provider = Provider{}

// URL returns the deployment URL of r: options.upstream_url if set, else built from
// azure_instance, azure_deployment_id (default: the model name) and azure_api_version.
func URL(r *provider.Request) (string, error) {
	o := r.Model.Options
	if o.UpstreamURL != "" {
		return o.UpstreamURL, nil
	}
	if o.AzureInstance == "" {
		return "", &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error",
			Message: "azure: model.options.azure_instance (or upstream_url) is required"}
	}
	dep := o.AzureDeploymentID
	if dep == "" {
		dep = r.Model.Name
	}
	if dep == "" {
		return "", &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error",
			Message: "azure: model.options.azure_deployment_id (or model.name) is required"}
	}
	ver := o.AzureAPIVersion
	if ver == "" {
		ver = DefaultAPIVersion
	}
	host := o.AzureInstance
	if !strings.Contains(host, ".") { // a resource name, not a host
		host += ".openai.azure.com"
	}
	p := "/openai/deployments/" + url.PathEscape(dep) + openai.Path(r.RouteType)
	return openai.URL("https://"+host, p, r) + "?api-version=" + url.QueryEscape(ver), nil
}

// NewRequest posts r.Body to the deployment.
func (Provider) NewRequest(ctx context.Context, r *provider.Request) (*http.Request, error) {
	u, err := URL(r)
	if err != nil {
		return nil, err
	}
	return openai.NewJSONRequest(ctx, u, r.Body, r.Stream)
}

// ParseResponse returns the body unchanged, with its model and usage.
func (Provider) ParseResponse(r *provider.Request, h http.Header, body []byte) (*provider.Response, error) {
	return openai.Provider{}.ParseResponse(r, h, body)
}

// ParseError reads Azure's OpenAI-format error body.
func (Provider) ParseError(_ *provider.Request, status int, h http.Header, body []byte) *provider.Error {
	return openai.ParseErrorBody(status, h, body)
}

// NewStream passes chunks through, dropping Azure's prompt_filter_results-only chunks.
func (Provider) NewStream(r *provider.Request, h http.Header, body io.Reader) provider.Stream {
	return &stream{Stream: openai.Provider{}.NewStream(r, h, body)}
}

type stream struct{ provider.Stream }

var filterKey = []byte(`"prompt_filter_results"`)

func (s *stream) Next() ([]byte, error) {
	for {
		ev, err := s.Stream.Next()
		if err != nil || !bytes.Contains(ev, filterKey) || !filterOnly(ev) {
			return ev, err
		}
	}
}

// filterOnly reports whether a chunk has no choices and no usage: Azure's annotation chunk.
func filterOnly(ev []byte) bool {
	only := true
	_ = jsonx.Object(ev, func(m jsonx.Member) bool {
		switch string(m.Key) {
		case "choices":
			if v := bytes.TrimSpace(m.Value); len(v) > 0 && !bytes.Equal(bytes.ReplaceAll(v, []byte(" "), nil), []byte("[]")) {
				only = false
			}
		case "usage":
			if string(m.Value) != "null" {
				only = false
			}
		}
		return only
	})
	return only
}
