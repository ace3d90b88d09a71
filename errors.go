package aiproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aiproxy/aiproxy/provider"
)

// Sentinel errors, found with errors.Is in Stats.Err and in the errors New returns.
var (
	// ErrInvalidConfig is wrapped by every error New returns for a bad Config.
	ErrInvalidConfig = errors.New("aiproxy: invalid config")
	// ErrBadRequest is wrapped when the client's request is malformed (400).
	ErrBadRequest = errors.New("aiproxy: bad request")
	// ErrBodyTooLarge is wrapped when the request body exceeds MaxRequestBodySize (413).
	ErrBodyTooLarge = errors.New("aiproxy: request body too large")
	// ErrUnknownModel is wrapped when the request names a model no target serves (400).
	ErrUnknownModel = errors.New("aiproxy: unknown model")
	// ErrNoTarget is wrapped when no target could be tried: all are circuit-broken, or the
	// semantic balancer matched nothing and there is no CATCHALL target (503).
	ErrNoTarget = errors.New("aiproxy: no target available")
	// ErrUpstream is wrapped when every attempt failed (502, 503 or 504).
	ErrUpstream = errors.New("aiproxy: all attempts failed")
)

// RequestError is a request that the proxy answered with an error. It renders as OpenAI's
// error body, {"error":{"message","type","param","code"}}.
type RequestError struct {
	Status  int    // HTTP status sent to the client
	Type    string // OpenAI error type
	Code    string // OpenAI error code; may be empty
	Message string
	// Err is the sentinel (ErrBadRequest, ErrUpstream, ...) this error wraps, or the
	// request context's error when it ended before any target was tried.
	Err error
	// Attempts lists what was tried, for ErrUpstream.
	Attempts []Attempt
}

func (e *RequestError) Error() string { return e.Err.Error() + ": " + e.Message }

func (e *RequestError) Unwrap() error { return e.Err }

// response renders e as an HTTP response to req.
func (e *RequestError) response(req *http.Request) *http.Response {
	body, _ := (&provider.Error{Status: e.Status, Type: e.Type, Code: e.Code, Message: e.Message}).MarshalJSON()
	return jsonResponse(req, e.Status, http.Header{}, body)
}

func badRequest(code, format string, args ...any) *RequestError {
	return &RequestError{Status: http.StatusBadRequest, Type: "invalid_request_error", Code: code,
		Message: fmt.Sprintf(format, args...), Err: ErrBadRequest}
}

// StatusClientClosedRequest is the status recorded (Stats.Status, logs) for a request whose
// client went away before its response started: nginx's 499.
const StatusClientClosedRequest = 499

// contextEnded is the error for a request whose context ended (err is ctx.Err()) before its
// response started: 504 when its deadline passed, 499 when it was canceled. Neither is a
// target's failure.
func contextEnded(err error, during string) *RequestError {
	status, code, msg := http.StatusGatewayTimeout, "timeout", "the request's deadline passed "
	if !errors.Is(err, context.DeadlineExceeded) {
		status, code, msg = StatusClientClosedRequest, "canceled", "the client canceled the request "
	}
	return &RequestError{Status: status, Type: "server_error", Code: code, Message: msg + during, Err: err}
}

// jsonResponse builds a complete JSON response.
func jsonResponse(req *http.Request, status int, h http.Header, body []byte) *http.Response {
	// One allocation holds the response, its body reader and its header values.
	r := &struct {
		resp   http.Response
		body   bytesBody
		values [2]string
	}{}
	r.values = [2]string{"application/json", strconv.Itoa(len(body))}
	h["Content-Type"], h["Content-Length"] = r.values[0:1:1], r.values[1:2:2]
	r.body.Reset(body)
	r.resp = http.Response{
		Status:        statusLine(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          &r.body,
		ContentLength: int64(len(body)),
		Request:       req,
	}
	return &r.resp
}

// bytesBody is a response body read from memory.
type bytesBody struct{ bytes.Reader }

func (*bytesBody) Close() error { return nil }

// statusLine is http.Response.Status for a status code: "200 OK".
func statusLine(status int) string {
	switch status {
	case http.StatusOK:
		return "200 OK"
	case StatusClientClosedRequest:
		return "499 Client Closed Request"
	}
	return strconv.Itoa(status) + " " + http.StatusText(status)
}

// Attempt is one try of one target within a request.
type Attempt struct {
	Target string // the target's name
	// Status is the upstream's HTTP status (translated by the provider), zero if none came.
	Status int
	// Err says why the attempt failed; nil for the attempt that succeeded.
	Err error
	// Class is the failure's failover criterion ("error", "timeout", "invalid_header",
	// "http_429", "http_503", …); empty for a success or a failure no criterion names.
	Class string
	// Latency runs from building the upstream request to the attempt's outcome.
	Latency time.Duration
}

// failure is why all attempts failed: the status and message sent to the client.
func failure(attempts []Attempt, noTarget bool) *RequestError {
	if len(attempts) == 0 {
		msg := "no target is available: every candidate is temporarily out of service"
		if !noTarget {
			msg = "no target can serve this request"
		}
		return &RequestError{Status: http.StatusServiceUnavailable, Type: "server_error", Code: "no_target", Message: msg, Err: ErrNoTarget}
	}
	status, typ, code := http.StatusBadGateway, "server_error", "upstream_failed"
	var last *provider.Error
	if errors.As(attempts[len(attempts)-1].Err, &last) {
		switch last.Status {
		case http.StatusGatewayTimeout:
			status = http.StatusGatewayTimeout
		case http.StatusServiceUnavailable, http.StatusTooManyRequests:
			status = http.StatusServiceUnavailable
		}
	}
	if allRateLimited(attempts) {
		// Every target refused for its rate limit: the client is told so, as OpenAI would
		// (SDKs raise their rate-limit error and back off), not that the service is down.
		status, typ, code = http.StatusTooManyRequests, "requests", "rate_limit_exceeded"
	}
	var b strings.Builder
	b.WriteString("all ")
	b.WriteString(strconv.Itoa(len(attempts)))
	b.WriteString(" attempts failed: ")
	for i, a := range attempts {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(a.Target)
		b.WriteString(": ")
		b.WriteString(a.Err.Error())
	}
	return &RequestError{Status: status, Type: typ, Code: code, Message: b.String(), Err: ErrUpstream, Attempts: attempts}
}

// allRateLimited reports that every attempt failed on an upstream's 429.
func allRateLimited(attempts []Attempt) bool {
	for _, a := range attempts {
		if a.Status != http.StatusTooManyRequests {
			return false
		}
	}
	return true
}
