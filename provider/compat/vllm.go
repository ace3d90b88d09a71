package compat

import "github.com/aiproxy/aiproxy/provider/openai"

// VLLM is a vLLM server's OpenAI-compatible API. model.options.upstream_url is required: the
// server's root (e.g. http://vllm:8000/v1) or a full endpoint URL. Its chat requests take
// top_k (one of vLLM's extra sampling parameters).
func VLLM() Provider {
	return Provider{Provider: openai.Provider{TopK: true}, Name: "vllm", Endpoint: required("vllm", "the server's root, e.g. http://vllm:8000/v1")}
}
