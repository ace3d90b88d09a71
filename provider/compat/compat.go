// Package compat holds the OpenAI-compatible providers of Kong's list: deepseek, xai,
// cerebras, databricks, dashscope and vllm, and the Vertex AI endpoints that gemini targets
// with model.options.gemini.endpoint_id reach. Each is the openai provider (bodies, errors and
// streams pass through) with its own endpoint: a default API root, or one derived from
// model.options, or a required upstream_url.
package compat

import (
	"context"
	"net/http"
	"strings"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// Provider is an OpenAI-compatible upstream.
type Provider struct {
	openai.Provider
	// Name is the provider's name in Kong's configuration, e.g. "deepseek".
	Name string
	// Endpoint returns the upstream URL of a request.
	Endpoint func(r *provider.Request) (string, error)
}

var _ provider.Provider = Provider{}

// NewRequest posts r.Body to p.Endpoint(r).
func (p Provider) NewRequest(ctx context.Context, r *provider.Request) (*http.Request, error) {
	u, err := p.Endpoint(r)
	if err != nil {
		return nil, err
	}
	return openai.NewJSONRequest(ctx, u, p.Body(r), r.Stream)
}

// fixed is an endpoint under a default API root; upstream_url and upstream_path apply.
func fixed(base string) func(r *provider.Request) (string, error) {
	return func(r *provider.Request) (string, error) { return openai.URL(base, openai.Path(r.RouteType), r), nil }
}

// required is an endpoint that model.options.upstream_url must give: either the whole URL
// (it ends with the route's path) or the API root that the route's path is appended to.
func required(name, hint string) func(r *provider.Request) (string, error) {
	return func(r *provider.Request) (string, error) {
		u := r.Model.Options.UpstreamURL
		if u == "" {
			return "", &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error",
				Message: name + ": model.options.upstream_url is required (" + hint + ")"}
		}
		p := openai.Path(r.RouteType)
		if strings.HasSuffix(strings.TrimSuffix(u, "/"), p) {
			return u, nil
		}
		return strings.TrimSuffix(u, "/") + p, nil
	}
}

// New returns the provider of a Kong provider name among this package's, or false.
func New(name string) (Provider, bool) {
	switch name {
	case "deepseek":
		return DeepSeek(), true
	case "xai":
		return XAI(), true
	case "cerebras":
		return Cerebras(), true
	case "databricks":
		return Databricks(), true
	case "dashscope":
		return DashScope(), true
	case "vllm":
		return VLLM(), true
	}
	return Provider{}, false
}

// ParseError reads the OpenAI-format error body, keeping the upstream's status, except that
// 402 (DeepSeek's "Insufficient Balance", a payment-required answer) becomes OpenAI's 429
// insufficient_quota, so that failover on 429 moves on to the next target.
func (p Provider) ParseError(r *provider.Request, status int, h http.Header, body []byte) *provider.Error {
	e := p.Provider.ParseError(r, status, h, body)
	if status == http.StatusPaymentRequired {
		xlate.InsufficientQuota(e)
	}
	return e
}
