package compat

import (
	"net/url"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/gemini"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// VertexEndpoint is a model deployed to a Vertex AI endpoint (from Model Garden, or a
// dedicated endpoint of one's own), which Kong's gemini provider reaches when
// model.options.gemini.endpoint_id is set: its OpenAI-compatible chat completions at
// {api_endpoint, else the location's host}/v1/projects/{project_id}/locations/{location_id}
// /endpoints/{endpoint_id}/chat/completions (upstream_url replaces the whole URL), the
// request without "model" (an endpoint serves the one model deployed to it), answers and
// streams passed through. Authentication is GCP's (auth.gcp_use_service_account) or a
// configured header. Such a target serves llm/v1/chat only (aiproxy.New checks).
func VertexEndpoint() Provider {
	return Provider{Provider: openai.Provider{OmitModel: true}, Name: "gemini", Endpoint: func(r *provider.Request) (string, error) {
		if u := r.Model.Options.UpstreamURL; u != "" {
			return u, nil
		}
		g := r.Model.Options.Gemini
		base, loc := gemini.VertexLocation(g)
		return base + loc + "/endpoints/" + url.PathEscape(g.EndpointID) + "/chat/completions", nil
	}}
}
