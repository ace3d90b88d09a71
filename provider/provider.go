// Package provider defines the contract between aiproxy and an upstream LLM API.
//
// A client always speaks OpenAI's wire format to aiproxy. A Provider translates one attempt of
// such a request into the upstream's own HTTP request, and the upstream's answer (a JSON body,
// an error, or a stream) back into OpenAI's format.
//
// Providers are pure translators: they do no network I/O, hold no secrets and keep no state
// between calls, so the proxy may call them again, with the same input, on every retry. Auth
// (header or query parameter, or request signing) is applied by the proxy after NewRequest.
//
// This package imports only the standard library; every provider lives in a subpackage.
package provider

import (
	"context"
	"io"
	"net/http"
	"os"
)

// RouteType is Kong's route_type: the kind of operation a target serves.
type RouteType string

// The route types aiproxy serves.
const (
	Chat        RouteType = "llm/v1/chat"        // POST /v1/chat/completions
	Completions RouteType = "llm/v1/completions" // POST /v1/completions (legacy)
	Embeddings  RouteType = "llm/v1/embeddings"  // POST /v1/embeddings
	// Responses is OpenAI's Responses API (POST /v1/responses). The proxy serves it itself:
	// translated to Chat for a provider, or passed through to OpenAI and Azure, so a
	// Provider's NewRequest never receives it.
	Responses RouteType = "llm/v1/responses"
	// ImageGenerations is OpenAI's Images API generation (POST /v1/images/generations):
	// Body is its JSON request ({"model","prompt","n","size","quality","response_format",…}),
	// and ParseResponse answers its {"created","data":[{"b64_json"}],"usage"?} body.
	ImageGenerations RouteType = "image/v1/images/generations"
	// ImageEdits is OpenAI's Images API edit (POST /v1/images/edits), which clients send as
	// multipart/form-data: the proxy gives a Provider its JSON form, as OpenAI's API also
	// takes it, each uploaded file a data: URL: {"model","prompt","images":[{"image_url":
	// "data:image/png;base64,…"}],"mask":{"image_url":…},"n","size",…}, other form fields as
	// JSON strings.
	ImageEdits RouteType = "image/v1/images/edits"
)

// Request is the input of one attempt: the client's request, already in OpenAI's format, and
// the model of the target it goes to.
type Request struct {
	// RouteType says which OpenAI operation Body is.
	RouteType RouteType
	// Model is the target's model: provider name, upstream model name and options.
	Model Model
	// Body is the OpenAI-format JSON request body with the target's model name and
	// model.options already applied. Providers must not modify it.
	Body []byte
	// Stream reports whether the client asked for a server-sent event stream.
	Stream bool
}

// Provider translates between OpenAI's wire format and one upstream API.
//
// Implementations must be safe for concurrent use and must not do I/O.
type Provider interface {
	// NewRequest builds the upstream HTTP request for r, without credentials.
	NewRequest(ctx context.Context, r *Request) (*http.Request, error)

	// ParseResponse translates a complete, successful (2xx) upstream response body into an
	// OpenAI-format response body and the usage it reports.
	ParseResponse(r *Request, header http.Header, body []byte) (*Response, error)

	// ParseError translates an unsuccessful upstream response (status >= 400, or a provider's
	// in-band error) into an OpenAI-format error. It never returns nil.
	ParseError(r *Request, status int, header http.Header, body []byte) *Error

	// NewStream translates a successful streaming upstream response, read from body, into
	// OpenAI chat.completion.chunk events.
	NewStream(r *Request, header http.Header, body io.Reader) Stream
}

// Response is a translated, complete upstream response.
type Response struct {
	// Body is the OpenAI-format JSON response body.
	Body []byte
	// Model is the model the upstream says served the request; empty if it did not say.
	Model string
	// Usage is the token usage the upstream reported.
	Usage Usage
}

// Stream yields a translated streaming response one event at a time.
type Stream interface {
	// Next returns the JSON data of the next OpenAI-format event (a chat.completion.chunk for
	// chat), without SSE framing, or io.EOF after the last one. The proxy frames each event as
	// "data: ...\n\n" and ends the stream with "data: [DONE]". A *Error return means the
	// upstream reported an error in the stream.
	Next() ([]byte, error)
	// Usage returns the usage the stream reported so far; it is complete after io.EOF.
	Usage() Usage
}

// Usage is the token usage of one request. Its JSON form is OpenAI's usage object, with
// CachedTokens under prompt_tokens_details.cached_tokens.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	TotalTokens      int
	// CachedTokens counts prompt tokens served from the provider's prompt cache, where reported.
	CachedTokens int
}

// Signer is implemented by providers whose requests must be signed (for example AWS SigV4)
// rather than carry a header or parameter. The proxy calls Sign on every attempt, after
// NewRequest and after adding headers, with the resolved credentials. Sign reads the body
// it signs through req.GetBody, which NewRequest must set (http.NewRequest does for
// in-memory bodies).
type Signer interface {
	Sign(req *http.Request, cred Credentials) error
}

// Credentials are the resolved secrets of a target's auth block that signing providers need.
// They are passed to Sign and must never be logged or kept.
type Credentials struct {
	AWSAccessKeyID     string
	AWSSecretAccessKey string
	AWSSessionToken    string
}

// Ready is an optional capability of a Stream: whether its next event has already arrived,
// so that Next returns it without waiting. The proxy then writes the events that arrived
// together to the client together, instead of one write and flush each.
type Ready interface {
	Ready() bool
}

// EnvCredentials are the AWS credentials of the environment, as Kong reads them:
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
func EnvCredentials() Credentials {
	return Credentials{AWSAccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), AWSSecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		AWSSessionToken: os.Getenv("AWS_SESSION_TOKEN")}
}

// CredentialsFunc returns the credentials to sign one request with; it may do I/O (a vault,
// an STS call) and must never put a credential in its error.
type CredentialsFunc func(ctx context.Context) (Credentials, error)
