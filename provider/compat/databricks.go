package compat

import (
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// Databricks is Databricks Model Serving's OpenAI-compatible API (Bearer personal access
// token; the model name is the serving endpoint's name). Requests go to
// model.options.upstream_url when it is set (the workspace's serving-endpoints root, e.g.
// https://dbc-1234.cloud.databricks.com/serving-endpoints, or a full endpoint URL), else, as
// in Kong, to https://<model.options.databricks.workspace_instance_id>.cloud.databricks.com
// /serving-endpoints/v1/chat/completions. Its chat requests take top_k.
func Databricks() Provider {
	orURL := required("databricks", "the workspace's https://<workspace>/serving-endpoints, or model.options.databricks.workspace_instance_id")
	return Provider{Provider: openai.Provider{TopK: true}, Name: "databricks", Endpoint: func(r *provider.Request) (string, error) {
		if d := r.Model.Options.Databricks; d != nil && d.WorkspaceInstanceID != "" && r.Model.Options.UpstreamURL == "" {
			return "https://" + d.WorkspaceInstanceID + ".cloud.databricks.com/serving-endpoints/v1" + openai.Path(r.RouteType), nil
		}
		return orURL(r)
	}}
}
