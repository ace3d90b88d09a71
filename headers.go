package aiproxy

import (
	"net/http"
	"net/url"
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
// of its own (its own are added instead).
var credentialHeaders = map[string]bool{
	"Authorization": true, "Api-Key": true, "X-Api-Key": true, "X-Goog-Api-Key": true,
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
	for k, v := range src {
		if dropRequest[k] || credentialHeaders[k] && !passCredentials && k != override {
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

// Response headers that are not passed to the client: hop-by-hop headers and those that
// no longer describe the (decoded, possibly translated) body.
var dropResponse = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true, "Content-Length": true, "Content-Encoding": true,
	"Set-Cookie": true,
}

// clientHeader turns the upstream's response headers, which the proxy owns and the provider
// has read, into the client's: without dropResponse's, with X-Kong-LLM-Model naming t when
// model_name_header is on, and the semantic decision's headers when there is one.
func (p *Proxy) clientHeader(h http.Header, t *target, stats *Stats) http.Header {
	if h == nil { // a custom Transport may leave it out
		h = http.Header{}
	}
	for k := range h {
		if dropResponse[k] {
			delete(h, k)
		}
	}
	if p.modelHeader {
		h["X-Kong-Llm-Model"] = t.modelHeader
	}
	if d := stats.Semantic; d != nil {
		semanticHeaders(h, d)
	}
	return h
}
