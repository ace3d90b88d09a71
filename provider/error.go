package provider

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Error is an upstream failure in OpenAI's error format. Status is the HTTP status the proxy
// classifies for failover and answers with: providers map their own codes onto the nearest
// OpenAI status (Anthropic's 529 "overloaded" becomes 503, for example).
type Error struct {
	Status  int    // HTTP status
	Type    string // OpenAI error type, e.g. "invalid_request_error", "rate_limit_exceeded"
	Code    string // OpenAI error code, may be empty
	Param   string // offending parameter, may be empty
	Message string // human-readable; never contains a secret
	// RetryAfter is how long the upstream asked callers to wait (Retry-After), zero if it did not.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	return "upstream " + strconv.Itoa(e.Status) + " " + e.Type + ": " + e.Message
}

// MarshalJSON renders e as OpenAI's error body: {"error":{"message","type","param","code"}}.
func (e *Error) MarshalJSON() ([]byte, error) {
	type body struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}
	b := body{Message: e.Message, Type: e.Type}
	if e.Param != "" {
		b.Param = &e.Param
	}
	if e.Code != "" {
		b.Code = &e.Code
	}
	return json.Marshal(struct {
		Error body `json:"error"`
	}{b})
}

// ErrorType returns the OpenAI error type conventionally used for an HTTP status.
func ErrorType(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusNotFound:
		return "not_found_error"
	case status == http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request_error"
	}
}

// RetryAfter parses a Retry-After header (seconds or an HTTP date) relative to now.
// It returns zero when the header is absent or unparsable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
