package provider

// Model is a target's model block: Kong's targets[].model.
type Model struct {
	// Provider names the upstream API: "openai", "mistral", "anthropic", ... Required.
	Provider string `json:"provider"`
	// Name is the upstream model name, sent to the provider. Empty means the client's model
	// is passed through unchanged.
	Name string `json:"name,omitempty"`
	// Alias is a logical model name that clients may send instead of Name (Kong's
	// model_alias): a request whose model equals Alias is routed to this target.
	Alias string `json:"model_alias,omitempty"`
	// Options are Kong's model.options.
	Options Options `json:"options"`
}

// Options are Kong's model.options. A nil pointer or empty string means "not set".
//
// The sampling options (MaxTokens, Temperature, TopP, TopK) are defaults: they are applied
// only when the client's request does not set the same field. The proxy sets MaxTokens,
// Temperature and TopP in every body; TopK reaches only the providers whose API takes a
// top_k (the native translators, and openai.Provider with TopK set), since OpenAI's does not.
type Options struct {
	MaxTokens   *int     `json:"max_tokens,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"` // 0..5
	TopP        *float64 `json:"top_p,omitempty"`       // 0..1
	TopK        *int     `json:"top_k,omitempty"`       // 0..500

	// InputCost and OutputCost are the price per 1M prompt and completion tokens; they feed
	// the cost statistic and the lowest-usage balancer's "cost" strategy.
	InputCost  float64 `json:"input_cost,omitempty"`
	OutputCost float64 `json:"output_cost,omitempty"`

	// UpstreamURL replaces the provider's default endpoint with a full URL.
	UpstreamURL string `json:"upstream_url,omitempty"`
	// UpstreamPath replaces the path of the provider's endpoint.
	UpstreamPath string `json:"upstream_path,omitempty"`

	AnthropicVersion  string `json:"anthropic_version,omitempty"`
	AzureInstance     string `json:"azure_instance,omitempty"`
	AzureAPIVersion   string `json:"azure_api_version,omitempty"`
	AzureDeploymentID string `json:"azure_deployment_id,omitempty"`
	// MistralFormat is "openai" or "ollama".
	MistralFormat string `json:"mistral_format,omitempty"`
	// Llama2Format is "raw", "openai" or "ollama".
	Llama2Format string `json:"llama2_format,omitempty"`
	// EmbeddingsDimensions asks embeddings models for vectors of this size.
	EmbeddingsDimensions *int `json:"embeddings_dimensions,omitempty"`

	Bedrock     *BedrockOptions     `json:"bedrock,omitempty"`
	Gemini      *GeminiOptions      `json:"gemini,omitempty"`
	Huggingface *HuggingfaceOptions `json:"huggingface,omitempty"`
	Cohere      *CohereOptions      `json:"cohere,omitempty"`
	Dashscope   *DashscopeOptions   `json:"dashscope,omitempty"`
	Databricks  *DatabricksOptions  `json:"databricks,omitempty"`
}

// BedrockOptions are Kong's model.options.bedrock.
type BedrockOptions struct {
	AWSRegion                string `json:"aws_region,omitempty"`
	AWSAssumeRoleARN         string `json:"aws_assume_role_arn,omitempty"`
	AWSRoleSessionName       string `json:"aws_role_session_name,omitempty"`
	AWSSTSEndpointURL        string `json:"aws_sts_endpoint_url,omitempty"`
	EmbeddingsNormalize      bool   `json:"embeddings_normalize,omitempty"`
	PerformanceConfigLatency string `json:"performance_config_latency,omitempty"`
	VideoOutputS3URI         string `json:"video_output_s3_uri,omitempty"`
}

// GeminiOptions are Kong's model.options.gemini. Setting ProjectID selects Vertex AI.
type GeminiOptions struct {
	APIEndpoint string `json:"api_endpoint,omitempty"`
	ProjectID   string `json:"project_id,omitempty"`
	LocationID  string `json:"location_id,omitempty"`
	EndpointID  string `json:"endpoint_id,omitempty"`
}

// HuggingfaceOptions are Kong's model.options.huggingface.
type HuggingfaceOptions struct {
	UseCache     *bool `json:"use_cache,omitempty"`
	WaitForModel *bool `json:"wait_for_model,omitempty"`
}

// InputType is the input_type of Cohere embeddings (Cohere's API and Cohere models on
// Bedrock): embedding_input_type, else Kong's default "classification".
func (c *CohereOptions) InputType() string {
	if c == nil || c.EmbeddingInputType == "" {
		return "classification"
	}
	return c.EmbeddingInputType
}

// CohereOptions are Kong's model.options.cohere.
type CohereOptions struct {
	EmbeddingInputType string `json:"embedding_input_type,omitempty"`
	// WaitForModel is accepted so that Kong configurations that set it load; Cohere's v2 API
	// has no such switch, so it has no effect.
	WaitForModel *bool `json:"wait_for_model,omitempty"`
}

// DashscopeOptions are Kong's model.options.dashscope.
type DashscopeOptions struct {
	// International selects the international endpoint; nil means true, as in Kong.
	International *bool `json:"international,omitempty"`
}

// DatabricksOptions are Kong's model.options.databricks.
type DatabricksOptions struct {
	// WorkspaceInstanceID names the workspace: requests go to
	// https://<WorkspaceInstanceID>.cloud.databricks.com/serving-endpoints/v1/…, as in Kong,
	// unless upstream_url is set. Empty: upstream_url is required.
	WorkspaceInstanceID string `json:"workspace_instance_id,omitempty"`
}
