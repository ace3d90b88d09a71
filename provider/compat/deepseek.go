package compat

// DeepSeekBaseURL is DeepSeek's API root.
const DeepSeekBaseURL = "https://api.deepseek.com"

// DeepSeek is DeepSeek's OpenAI-compatible API (Bearer key).
func DeepSeek() Provider { return Provider{Name: "deepseek", Endpoint: fixed(DeepSeekBaseURL)} }
