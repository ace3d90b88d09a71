package compat

import "github.com/aiproxy/aiproxy/provider/openai"

// Databricks is Databricks Model Serving's OpenAI-compatible API. model.options.upstream_url
// is required: the workspace's serving-endpoints root, e.g.
// https://dbc-1234.cloud.databricks.com/serving-endpoints, or a full endpoint URL; the
// model name is the serving endpoint's name (Bearer personal access token). Its chat
// requests take top_k.
func Databricks() Provider {
	return Provider{Provider: openai.Provider{TopK: true}, Name: "databricks", Endpoint: required("databricks", "the workspace's https://<workspace>/serving-endpoints")}
}
