package bedrock

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// Status maps a Bedrock exception name (with or without the "Exception" suffix, in either
// case of the first letter, as the HTTP API and the event stream spell them) onto the status
// the proxy should classify; fallback is used for names it does not know.
func Status(exception string, fallback int) int {
	name := strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(exception, "Exception"), "exception"))
	switch name {
	case "throttling", "toomanyrequests", "servicequotaexceeded":
		return http.StatusTooManyRequests
	case "serviceunavailable", "modelnotready":
		return http.StatusServiceUnavailable
	case "modeltimeout":
		return http.StatusGatewayTimeout
	case "modelerror", "modelstreamerror":
		return http.StatusBadGateway
	case "internalserver", "internalfailure":
		return http.StatusInternalServerError
	case "validation", "serialization":
		return http.StatusBadRequest
	case "accessdenied":
		return http.StatusForbidden
	case "unrecognizedclient", "invalidsignature", "incompletesignature", "expiredtoken", "missingauthenticationtoken":
		return http.StatusUnauthorized
	case "resourcenotfound":
		return http.StatusNotFound
	case "conflict":
		return http.StatusConflict
	}
	if fallback == 0 {
		return http.StatusBadGateway
	}
	return fallback
}

// exceptionName strips the decorations AWS puts around an error type:
// "ValidationException:http://internal.amazon.com/...", "com.amazon.coral.validate#ValidationException".
func exceptionName(s string) string {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '#'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

func newError(status int, exception, message string) *provider.Error {
	e := &provider.Error{Status: Status(exception, status), Code: exception, Message: message}
	e.Type = provider.ErrorType(e.Status)
	if e.Status == http.StatusTooManyRequests && strings.HasPrefix(strings.ToLower(exception), "servicequota") {
		xlate.InsufficientQuota(e)
	}
	if e.Message == "" {
		e.Message = exception
	}
	if e.Message == "" {
		e.Message = http.StatusText(e.Status)
	}
	if e.Message == "" { // a status without a standard text, e.g. 529
		e.Message = "upstream status " + strconv.Itoa(status)
	}
	return e
}

// ParseError reads Bedrock's error: the exception name from the X-Amzn-ErrorType header
// or the body's __type, the message from the body's message.
func (p Provider) ParseError(_ *provider.Request, status int, header http.Header, body []byte) *provider.Error {
	var doc struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	_ = json.Unmarshal(body, &doc)
	exc := exceptionName(header.Get("X-Amzn-Errortype"))
	if exc == "" {
		exc = exceptionName(doc.Type)
	}
	msg := doc.Message
	if msg == "" {
		msg = doc.Message2
	}
	if msg == "" && exc == "" {
		msg = openai.Snippet(body)
	}
	e := newError(status, exc, msg)
	e.RetryAfter = provider.RetryAfter(header, p.now())
	return e
}
