package aiproxy

import (
	"net/http"
	"net/url"
	"strings"
)

// Request headers that are not forwarded upstream: hop-by-hop headers, headers the proxy or
// the provider sets, and cookies.
var dropRequest = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Host": true, "Content-Length": true, "Content-Type": true, "Accept": true, "Accept-Encoding": true,
	"Cookie": true,
}

// credentialHeaders are the client's credentials, forwarded only to a target that has none
// of its own (its own are added instead). An AWS SDK client (a Bedrock one) signs with
// temporary credentials' session token in X-Amz-Security-Token.
var credentialHeaders = map[string]bool{
	"Authorization": true, "Api-Key": true, "X-Api-Key": true, "X-Goog-Api-Key": true, "X-Amz-Security-Token": true,
}

// copyRequestHeaders copies the client's headers into the upstream request's, except those
// in dropRequest, those the provider set, and, unless passCredentials, the client's
// credentials. With allowOverride, the client's value of the credential header authHeader is
// kept.
func copyRequestHeaders(dst, src http.Header, authHeader string, allowOverride, passCredentials bool) {
	override := ""
	if allowOverride && authHeader != "" {
		override = http.CanonicalHeaderKey(authHeader)
	}
	hop := src["Connection"] // the headers it names are hop-by-hop too
	for k, v := range src {
		if dropRequest[k] || credentialHeaders[k] && !passCredentials && k != override || len(hop) > 0 && namedIn(hop, k) {
			continue
		}
		if _, set := dst[k]; set {
			continue
		}
		dst[k] = v
	}
}

// copyQuery adds the client's query parameters to the upstream URL u, as Kong forwards
// them. A parameter that u sets already (the target's URL, such as Azure's api-version)
// keeps u's value.
func copyQuery(u *url.URL, client string) {
	if client == "" {
		return
	}
	cq, _ := url.ParseQuery(client) // what parses; Go's server has already checked the URL
	q := u.Query()
	for k, v := range cq {
		if _, set := q[k]; !set {
			q[k] = v
		}
	}
	u.RawQuery = q.Encode()
}

// namedIn reports whether the Connection header values hop name the header key.
func namedIn(hop []string, key string) bool {
	for _, v := range hop {
		for name := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(name), key) {
				return true
			}
		}
	}
	return false
}

// checkHeaders refuses a request whose header names or values net/http would refuse to send
// upstream (a CR or LF in a value, a space in a name): the client's mistake, answered 400
// before any target is tried, never counted against one.
func checkHeaders(h http.Header) *RequestError {
	for k, vs := range h {
		if !validHeaderName(k) {
			return badRequest("invalid_header", "the header name %q is not valid", k)
		}
		for _, v := range vs {
			if !validHeaderValue(v) {
				return badRequest("invalid_header", "the value of header %s holds a control character (CR, LF or NUL)", k)
			}
		}
	}
	return nil
}

// validHeaderName reports whether k is an RFC 9110 token.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v has no control character but horizontal tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// forwardedResponse are the upstream response headers a client gets: request IDs, timing and
// rate-limit information that SDKs and operators read, and Retry-After. Every other header is
// dropped (hop-by-hop ones, cookies, and anything an upstream might echo, such as a key).
// Content-Type and Content-Length are the proxy's own, as it may have translated the body.
var forwardedResponse = map[string]bool{
	"Retry-After": true, "X-Request-Id": true, "Request-Id": true, "Openai-Processing-Ms": true,
	"Openai-Version": true, "Apim-Request-Id": true, "X-Amzn-Requestid": true,
}

// forwardedPrefixes are the families of rate-limit headers forwarded: OpenAI's, Azure's
// and Mistral's x-ratelimit-*, and Anthropic's anthropic-ratelimit-*.
var forwardedPrefixes = []string{"X-Ratelimit-", "Anthropic-Ratelimit-"}

func forwarded(k string) bool {
	if forwardedResponse[k] {
		return true
	}
	for _, p := range forwardedPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// clientHeader turns the upstream's response headers, which the proxy owns and the provider
// has read, into the client's: those forwarded only, with X-Kong-LLM-Model naming t when
// model_name_header is on, and the semantic decision's headers when there is one.
func (p *Proxy) clientHeader(h http.Header, t *target, stats *Stats) http.Header {
	if h == nil { // a custom Transport may leave it out
		h = http.Header{}
	}
	for k := range h {
		if !forwarded(k) {
			delete(h, k)
		}
	}
	if p.modelHeader {
		h["X-Kong-Llm-Model"] = modelHeaderOf(t, stats)
	}
	if d := stats.Semantic; d != nil {
		semanticHeaders(h, d)
	}
	return h
}
