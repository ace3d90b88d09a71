package compat

// XAIBaseURL is xAI's API root.
const XAIBaseURL = "https://api.x.ai/v1"

// XAI is xAI's OpenAI-compatible API for Grok models (Bearer key).
func XAI() Provider { return Provider{Name: "xai", Endpoint: fixed(XAIBaseURL)} }
