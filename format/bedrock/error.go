package bedrock

import (
	"net/http"

	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// ExceptionType returns the exception Bedrock's runtime API answers an HTTP status with, the
// value of its X-Amzn-Errortype header: 400 and 413 ValidationException, 401 and 403
// AccessDeniedException, 404 ResourceNotFoundException, 408 and 504 ModelTimeoutException,
// 429 ThrottlingException, 503 ServiceUnavailableException, anything else
// InternalServerException.
func ExceptionType(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return "ValidationException"
	case http.StatusUnauthorized, http.StatusForbidden:
		return "AccessDeniedException"
	case http.StatusNotFound:
		return "ResourceNotFoundException"
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return "ModelTimeoutException"
	case http.StatusTooManyRequests:
		return "ThrottlingException"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailableException"
	}
	return "InternalServerException"
}

// streamException returns the ConverseStream exception event for an HTTP status: the
// stream's union has only internalServerException, modelStreamErrorException,
// validationException, throttlingException and serviceUnavailableException, spelled as
// those members are named, which is what the AWS SDKs look the :exception-type header up by.
func streamException(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "throttlingException"
	case status == http.StatusServiceUnavailable:
		return "serviceUnavailableException"
	case status == http.StatusBadGateway || status == http.StatusGatewayTimeout || status == http.StatusFailedDependency:
		return "modelStreamErrorException"
	case status >= 400 && status < 500:
		return "validationException"
	}
	return "internalServerException"
}

// Error translates an OpenAI-format error body ({"error":{"message","type","code"}}) with
// its HTTP status into Bedrock's: the body {"message":...} and the exception type for its
// X-Amzn-Errortype header (ExceptionType). A body without a message gets the status text.
func Error(status int, body []byte) ([]byte, string) {
	return appendMessage(nil, status, body), ExceptionType(status)
}

// appendMessage appends {"message":...}, the payload of Bedrock's errors.
func appendMessage(dst []byte, status int, body []byte) []byte {
	msg := chat.ErrorMessage(status, body)
	dst = append(dst, `{"message":`...)
	dst = jsonx.AppendString(dst, msg)
	return append(dst, '}')
}
