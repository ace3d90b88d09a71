package gemini

import (
	"net/http"

	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// Status returns the canonical Google status for an HTTP status: 400 INVALID_ARGUMENT, 401
// UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 NOT_FOUND, 409 ABORTED, 413 INVALID_ARGUMENT,
// 429 RESOURCE_EXHAUSTED, 499 CANCELLED, 501 UNIMPLEMENTED, 503 UNAVAILABLE, 504
// DEADLINE_EXCEEDED, another 4xx FAILED_PRECONDITION, anything else INTERNAL.
func Status(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusConflict:
		return "ABORTED"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case http.StatusNotImplemented:
		return "UNIMPLEMENTED"
	case http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	case http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	}
	if status >= 400 && status < 500 {
		return "FAILED_PRECONDITION"
	}
	return "INTERNAL"
}

// Error translates an OpenAI-format error body ({"error":{"message","type","code"}}) with
// its HTTP status into Google's error object: {"error":{"code":status,"message":...,
// "status":...}}, the status named by Status. A body without a message gets the status text.
func Error(status int, openaiErr []byte) []byte {
	return appendError(nil, status, openaiErr)
}

func appendError(dst []byte, status int, body []byte) []byte {
	msg := chat.ErrorMessage(status, body)
	dst = append(dst, `{"error":{"code":`...)
	dst = chat.AppendInt(dst, status)
	dst = append(dst, `,"message":`...)
	dst = jsonx.AppendString(dst, msg)
	dst = append(dst, `,"status":"`...)
	dst = append(dst, Status(status)...)
	return append(dst, `"}}`...)
}
