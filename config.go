package aiproxy

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
	"github.com/aiproxy/aiproxy/vectorstore"
)

// Config configures a Proxy. Its fields with JSON names mirror Kong's ai-proxy-advanced
// configuration (package kong loads Kong's files into it); the fields without are Go-only.
// New validates a Config once and copies it; changing it afterwards has no effect.
type Config struct {
	// Targets are the upstream models. At least one is required: nil is an error at New.
	Targets []Target `json:"targets"`
	// Balancer chooses among targets and says when to fail over. Its zero value is Kong's
	// defaults: round-robin, 5 retries, failover on error and timeout.
	Balancer BalancerConfig `json:"balancer"`
	// Embeddings configures the remote embeddings model of the semantic balancer (Kong's
	// embeddings). Nil (or model.provider "offline") means Config.Embedder, which the
	// semantic balancer then needs.
	Embeddings *EmbeddingsConfig `json:"embeddings,omitempty"`
	// VectorDB configures the semantic balancer's vector search (Kong's vectordb).
	// Nil means an in-memory store with cosine distance.
	VectorDB *VectorDBConfig `json:"vectordb,omitempty"`
	// ResponseStreaming is "allow" (the client chooses; the zero value), "deny" (a request
	// with stream: true is rejected with 400) or "always" (every chat request streams).
	ResponseStreaming string `json:"response_streaming,omitempty"`
	// MaxRequestBodySize limits the request body in bytes; larger requests get 413. Zero
	// means Kong's default, 1 MiB; negative means no limit (Kong's 0).
	MaxRequestBodySize int64 `json:"max_request_body_size,omitempty"`
	// ModelNameHeader adds the X-Kong-LLM-Model response header ("provider/model" of the
	// target that served). Nil means true.
	ModelNameHeader *bool `json:"model_name_header,omitempty"`
	// LLMFormat is the API that clients of the chat route speak: "openai" (the zero value) or
	// "anthropic" (Anthropic's Messages API, POST /v1/messages; OpenAI chat stays served at
	// /v1/chat/completions). Anthropic-format requests go to Anthropic targets as they are and
	// to every other provider through the chat translation of package format/anthropic, with
	// answers, streams and errors in Anthropic's format. "gemini", "bedrock", "cohere" and
	// "huggingface": the provider's own API (Gemini's :generateContent and
	// :streamGenerateContent, Bedrock's /model/{id}/converse and /converse-stream, Cohere's
	// /v2/chat, Hugging Face's /generate and /generate_stream), passed through to targets of
	// that provider only, as Kong does; never translated.
	LLMFormat string `json:"llm_format,omitempty"`
	// GenAICategory is Kong's genai_category: "text/generation" (the zero value),
	// "text/embeddings", "audio/speech", "audio/transcription", "image/generation" or
	// "realtime/generation". As in Kong, it names the kind of traffic the targets serve:
	// with one of the last four, every target's route_type must be of that kind
	// (audio/v1/audio/speech; audio/v1/audio/transcriptions or translations;
	// image/v1/images/generations or edits; realtime/v1/realtime). realtime/v1/realtime is
	// served (OpenAI and Azure targets); the audio and image route types are not yet: New then
	// names the unsupported route_type.
	GenAICategory string `json:"genai_category,omitempty"`
	// ACLs allow and deny requests by consumer, consumer group, header, client IP, model,
	// path and provider (Kong 3.14's acls). Nil means every request is allowed.
	ACLs *ACLs `json:"acls,omitempty"`

	// Providers adds or replaces providers by the name targets use in model.provider. Nil
	// means only the built-in providers.
	Providers map[string]provider.Provider `json:"-"`
	// Vaults resolves {vault://<name>/...} references, keyed by vault name (Kong's vault
	// prefix). "env" is built in (environment variables) unless replaced here; nil means
	// only "env".
	Vaults map[string]secret.Resolver `json:"-"`
	// StrictSecrets makes New resolve every {vault://...} reference of the configuration
	// once (every target's and the embeddings' auth fields, the vector database's
	// credentials), within 30 s in all, and fail with an error that names each field and
	// reference that does not resolve, never a value. The zero value is lazy: New does no
	// I/O, references are resolved when a request needs them (through the resolvers'
	// caches), and one that cannot be resolved fails that attempt with a 502
	// secret_unavailable error naming the reference; the request fails over to other
	// targets as for any error. Proxy.ValidateSecrets does the strict check on demand.
	StrictSecrets bool `json:"-"`
	// Embedder embeds prompts and descriptions for the semantic balancer, instead of the
	// remote model that Embeddings names. offline.New() (package embed/offline) is the
	// built-in offline embedder, which package kong sets for Kong files without an embeddings
	// block or with model.provider "offline". Nil means Embeddings' model; the semantic
	// balancer without either is an error at New.
	// One with a Dimensions() int method (as the offline embedder has) lets the store
	// VectorDB names be opened before anything is embedded, so that a restart or a replica
	// reuses the stored description vectors instead of embedding them again. Its Name()
	// string method, if any, names its embedding space in the vector IDs; without one the
	// Go type's name does, and New logs a warning when the store is Redis, pgvector or a
	// Config.VectorStore other than vectorstore.Memory, as embedders of one type would share
	// vectors there.
	Embedder Embedder `json:"-"`
	// VectorStore is a store already opened, used instead of the one VectorDB would open;
	// nil means that one. When it implements vectorstore.Getter (the stores of this module do), the description vectors already in
	// it are reused at start, and only the missing ones are embedded.
	VectorStore VectorStore `json:"-"`
	// MaxRetryAfter caps how long an upstream's 429 with Retry-After keeps its target out of
	// the balancer (a Retry-After of days, or a malformed huge one, would otherwise take a
	// healthy target out that long). Zero means 5 minutes.
	MaxRetryAfter time.Duration `json:"-"`
	// Transport sends upstream requests. Nil means a transport like http.DefaultTransport
	// whose dial timeout is Balancer.ConnectTimeout. A Transport given here keeps its own.
	Transport http.RoundTripper `json:"-"`
	// Logger receives statistics (targets with logging.log_statistics) and warnings. Nil
	// means slog.Default().
	Logger *slog.Logger `json:"-"`
	// Hooks are called around each request, in order (see Hook): Stats of every request,
	// refusals by the host program's own rules, traces and metrics. Nil means none.
	Hooks []Hook `json:"-"`
	// Fleet shares the targets' breaker, Retry-After holds, in-flight counts and
	// measurements with the other Proxies of a fleet (replicas of a service) through a
	// store such as Redis (package fleet/redisfleet), so that they balance as one. Nil means
	// each Proxy balances on its own state. A Proxy takes ownership of Fleet.Store: Close
	// closes it when it is an io.Closer.
	Fleet *FleetConfig `json:"-"`
	// Now is the clock. Nil means time.Now.
	Now func() time.Time `json:"-"`
	// AssumeRole gives the temporary credentials of the AWS role that a Bedrock target's
	// model.options.bedrock.aws_assume_role_arn names, from base credentials; awsrole.Assume
	// (package credential/awsrole, which links AWS's STS client) is the implementation, and
	// package kong sets it for Kong files that name a role. Nil makes such a target an error
	// at New naming that package.
	AssumeRole func(o provider.BedrockOptions, base provider.CredentialsFunc, client *http.Client) provider.CredentialsFunc `json:"-"`
}

// BalancerConfig is Kong's balancer block.
type BalancerConfig struct {
	// Algorithm is one of "round-robin" (the zero value; smooth weighted round-robin),
	// "priority", "lowest-latency", "lowest-usage", "least-connections",
	// "consistent-hashing" and "semantic".
	Algorithm string `json:"algorithm,omitempty"`
	// Retries counts attempts after the first. Zero means Kong's default, 5; negative means
	// none (Kong's 0). A request never tries the same target twice.
	Retries int `json:"retries,omitempty"`
	// FailoverCriteria says which failures are retried on another target: "error",
	// "timeout", "invalid_header", "http_403", "http_404", "http_429", "http_500",
	// "http_502", "http_503", "http_504" and "non_idempotent". Nil means Kong's default,
	// error and timeout. Without non_idempotent a request that reached the upstream is not
	// retried (chat requests are POSTs), as in Kong and nginx.
	FailoverCriteria []string `json:"failover_criteria,omitempty"`
	// ConnectTimeout bounds connecting to an upstream. Zero means 60 s. Kong: milliseconds.
	ConnectTimeout time.Duration `json:"connect_timeout,omitempty"`
	// WriteTimeout bounds sending the request. Zero means 60 s. Kong: milliseconds.
	WriteTimeout time.Duration `json:"write_timeout,omitempty"`
	// ReadTimeout bounds each wait for the upstream: for the response to start and then
	// between two reads of its body. Zero means 60 s. Kong: milliseconds.
	ReadTimeout time.Duration `json:"read_timeout,omitempty"`
	// HashOnHeader is the request header consistent-hashing hashes. Empty means
	// "X-Kong-LLM-Request-ID". A request without it is balanced round-robin.
	HashOnHeader string `json:"hash_on_header,omitempty"`
	// Slots is the size of the consistent-hashing ring (10..65536). Zero means 10000.
	Slots int `json:"slots,omitempty"`
	// LatencyStrategy is what lowest-latency measures: "tpot" (time per output token; the
	// zero value) or "e2e" (whole request).
	LatencyStrategy string `json:"latency_strategy,omitempty"`
	// TokensCountStrategy is what lowest-usage counts: "total-tokens" (the zero value),
	// "prompt-tokens", "completion-tokens" or "cost".
	TokensCountStrategy string `json:"tokens_count_strategy,omitempty"`
	// MaxFails is the circuit breaker: after this many failed attempts on a target within
	// FailTimeout, the target is left out for FailTimeout. Zero disables it. Errors,
	// timeouts and invalid responses always count; http_429 and http_5xx count when listed
	// in FailoverCriteria; http_403 and http_404 never count (Kong's rule).
	MaxFails int `json:"max_fails,omitempty"`
	// FailTimeout is the breaker's window and open time. Zero means 10 s. Kong: milliseconds.
	FailTimeout time.Duration `json:"fail_timeout,omitempty"`
}

// EmbeddingsConfig is Kong's embeddings block: the model that embeds prompts and
// descriptions for the semantic balancer, and its credentials.
type EmbeddingsConfig struct {
	// Auth holds the credentials added to each embeddings request, as a target's Auth. The
	// zero Auth adds none.
	Auth Auth `json:"auth"`
	// Model is the embeddings model; its Provider is required ("offline" for the built-in
	// offline embedder, which is also what a nil Config.Embeddings means).
	Model EmbeddingModel `json:"model"`
}

// String renders the block with its credentials redacted. Without it, fmt would print the
// fields of a *EmbeddingsConfig under a verb such as %s without the redaction of Secret.
func (e EmbeddingsConfig) String() string {
	type plain EmbeddingsConfig
	return fmt.Sprintf("%+v", plain(e))
}

// EmbeddingModel names an embeddings model: provider "openai", "azure", "mistral",
// "gemini", "bedrock", "huggingface", "ollama" (and any provider registered in
// Config.Providers that serves llm/v1/embeddings), or "offline" for the built-in embedder.
type EmbeddingModel struct {
	// Provider names the provider; required (empty is an error at New).
	Provider string `json:"provider"`
	// Name is the provider's model name, e.g. "text-embedding-3-small"; required for a
	// remote provider. The offline embedder ignores it.
	Name string `json:"name"`
	// Options are the model's options (upstream_url, azure_instance, bedrock.aws_region, …),
	// as a target's. The zero value uses the provider's defaults.
	Options provider.Options `json:"options"`
}

// VectorDBConfig is Kong's vectordb block.
type VectorDBConfig struct {
	// Strategy names the database: "redis", "pgvector", or "memory" (aiproxy's in-process
	// store; the zero value). "redis" and "pgvector" need Store, and Store, when set, is the
	// database opened whatever Strategy says.
	Strategy string `json:"strategy,omitempty"`
	// Store opens the database on the first request that needs it (and again on a later
	// request when that fails), for vectors of the embedder's length and DistanceMetric; Close
	// closes it. &redisstore.Options{…} (package vectorstore/redis) and
	// &pgvectorstore.Options{…} (package vectorstore/pgvector) open Redis and PostgreSQL with
	// Kong's vectordb.redis and vectordb.pgvector settings, whose user names and passwords may
	// be secret references ({vault://...}) resolved through Config.Vaults; package kong sets
	// Store from those blocks. Nil means the in-memory store; a Strategy of "redis" or
	// "pgvector" with a nil Store is an error at New naming the package to import.
	// Config.VectorStore, when set, replaces it.
	Store vectorstore.Opener `json:"-"`
	// DistanceMetric is "cosine" (the zero value) or "euclidean".
	DistanceMetric vectorstore.Metric `json:"distance_metric,omitempty"`
	// Threshold is, as in Kong, the largest distance at which a description still matches
	// a prompt: with cosine, 0.2 accepts similarity ≥ 0.8 and 0.8 accepts similarity ≥ 0.2.
	// Nil means MinSimilarity decides, or, if that is nil too, any distance matches.
	Threshold *float64 `json:"threshold,omitempty"`
	// MinSimilarity is the same limit as a cosine similarity (Threshold = 1 −
	// MinSimilarity), for Go users who think in similarity. Setting both is an error. Nil
	// means Threshold decides.
	MinSimilarity *float64 `json:"-"`
	// PruneStale, when the store starts, deletes the vectors stored under this proxy's
	// embedder and metric that none of its current descriptions and examples owns: those
	// of descriptions changed since, which are otherwise kept (and never matched). It needs
	// a store that can (vectorstore.Pruner: memory, Redis, pgvector). Leave it false when
	// proxies with other descriptions share the namespace with the same embedder, as the
	// old replicas do during a rolling deploy: they would lose the vectors of the
	// descriptions they still route by, and send those prompts elsewhere until restarted.
	PruneStale bool `json:"-"`
	// Dimensions is the length of the vectors that the embeddings model returns; it is
	// checked against what that model returns, with an error naming both. As in Kong, it is
	// sent to OpenAI and Azure OpenAI models as the dimensions parameter (text-embedding-3
	// models shorten their vectors to it) unless model.options.embeddings_dimensions is set
	// or the model is text-embedding-ada-002.
	//
	// It describes the model configured in Embeddings only: when the embedder is the
	// built-in offline one (Embeddings nil or provider "offline") or Config.Embedder, it is
	// not checked, and the store holds vectors of the length that embedder returns. So a
	// Kong config sized for a remote model (1536) runs unchanged on the offline embedder
	// (65). Zero means whatever the embedder returns.
	//
	// For a remote model, setting it also lets the store be opened before anything is
	// embedded, so that a restart or a replica reuses the description vectors stored under
	// the same embedder and text, and embeds only new or changed descriptions. Without it,
	// every start embeds every description (the store is opened for the length returned).
	Dimensions int `json:"dimensions,omitempty"`
	// Scoring is how a target is scored against a prompt (Go only; Kong files keep the
	// zero value). ScoreNearest, the zero value, is Kong's rule: the distance of the
	// target's nearest description or example. ScoreCombined adds what the examples say:
	// see Scoring.
	Scoring Scoring `json:"-"`
}
