package huggingface

import (
	"net/http"
	"strings"

	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// errorType returns TGI's error_type for an HTTP status: TGI's own for the statuses TGI
// answers with (400, 413 and 422 validation, 429 overloaded, 5xx generation), the status
// text in snake case for the others (401 unauthorized, 403 forbidden, 404 not_found).
func errorType(status int) string {
	switch {
	case status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge || status == http.StatusUnprocessableEntity:
		return "validation"
	case status == http.StatusTooManyRequests:
		return "overloaded"
	case status >= 500 || status == http.StatusFailedDependency:
		return "generation"
	}
	if t := http.StatusText(status); t != "" {
		return strings.ReplaceAll(strings.ToLower(t), " ", "_")
	}
	return "generation"
}

// Error translates an OpenAI-format error body ({"error":{"message","type","code"}}) with
// its HTTP status into TGI's: {"error":...,"error_type":...}, the type chosen by status. A
// body without a message gets the status text.
func Error(status int, body []byte) []byte {
	return appendError(nil, status, body)
}

func appendError(dst []byte, status int, body []byte) []byte {
	msg := chat.ErrorMessage(status, body)
	dst = append(dst, `{"error":`...)
	dst = jsonx.AppendString(dst, msg)
	dst = append(dst, `,"error_type":"`...)
	dst = append(dst, errorType(status)...)
	return append(dst, `"}`...)
}
