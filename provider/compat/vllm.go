package compat

// VLLM is a vLLM server's OpenAI-compatible API. model.options.upstream_url is required: the
// server's root (e.g. http://vllm:8000/v1) or a full endpoint URL.
func VLLM() Provider {
	return Provider{Name: "vllm", Endpoint: required("vllm", "the server's root, e.g. http://vllm:8000/v1")}
}
