// Package format holds what the client-format translators share: the errors they return.
//
// aiproxy's providers (package provider and its subpackages) translate OpenAI's chat format,
// which clients speak, into each upstream's API. The subpackages of format go the other way
// round, for clients that do not speak OpenAI's chat format: each translates one client API
// into an OpenAI chat-completions request, and the chat completion (or its stream) back into
// that API's response, so that any chat target can serve it.
//
//   - format/responses: OpenAI's Responses API (POST /v1/responses).
//   - format/anthropic: Anthropic's Messages API (POST /v1/messages).
//   - format/gemini: Google's Gemini API (generateContent and streamGenerateContent).
//   - format/cohere: Cohere's v2 Chat API (POST /v2/chat).
//   - format/bedrock: Amazon Bedrock's Converse API (POST /model/{modelId}/converse and
//     /converse-stream, whose stream is AWS's binary event stream).
//   - format/huggingface: Hugging Face's text-generation API (TGI's POST /generate and
//     /generate_stream, the serverless Inference API's model URL).
//
// Like the providers, every translation is pure: no I/O, no secrets, no shared state, and the
// same output for the same input, so it may run again on every retry.
package format

import (
	"errors"
	"strconv"
)

// ErrUnsupported is matched (with errors.Is) by every *UnsupportedError.
var ErrUnsupported = errors.New("not supported by the translation to OpenAI chat")

// UnsupportedError reports a request field that the translation to OpenAI chat cannot
// express: state that only the original API's own servers keep (a stored response, a
// conversation, an uploaded file), or a feature chat completions lacks (built-in tools). A
// proxy answers it with a 400 that names Field, or sends the request untranslated to a target
// that speaks the client's API natively.
type UnsupportedError struct {
	// API is the client API: "responses", "anthropic", "gemini", "bedrock", "cohere" or
	// "huggingface".
	API string
	// Field is the path of the offending field in the request, such as
	// "previous_response_id" or "input[2].content[0].file_id".
	Field string
	// Reason says why it cannot be translated.
	Reason string
}

func (e *UnsupportedError) Error() string {
	return e.API + ": " + e.Field + " is not supported: " + e.Reason
}

// Is reports whether target is ErrUnsupported.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// ErrInvalidRequest is matched (with errors.Is) by every *InvalidRequestError.
var ErrInvalidRequest = errors.New("invalid request")

// InvalidRequestError reports a request that is not valid in the client's API: malformed
// JSON, a missing required field, a value of the wrong type. A proxy answers it with a 400.
type InvalidRequestError struct {
	// API is the client API: "responses", "anthropic", "gemini", "bedrock", "cohere" or
	// "huggingface".
	API string
	// Field is the path of the offending field; empty for the body as a whole.
	Field string
	// Message says what is wrong.
	Message string
}

func (e *InvalidRequestError) Error() string {
	if e.Field == "" {
		return e.API + ": " + e.Message
	}
	return e.API + ": " + e.Field + ": " + e.Message
}

// Is reports whether target is ErrInvalidRequest.
func (e *InvalidRequestError) Is(target error) bool { return target == ErrInvalidRequest }

// Index appends "[i]" to a field path: Index("input", 2) is "input[2]".
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }
