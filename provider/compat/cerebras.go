package compat

// CerebrasBaseURL is Cerebras Inference's API root.
const CerebrasBaseURL = "https://api.cerebras.ai/v1"

// Cerebras is Cerebras Inference's OpenAI-compatible API (Bearer key).
func Cerebras() Provider { return Provider{Name: "cerebras", Endpoint: fixed(CerebrasBaseURL)} }
