package aiproxy

import (
	"strings"

	"github.com/aiproxy/aiproxy/provider"
)

// Stored responses: the state that OpenAI and Azure keep of a response created with store
// (the default) or background — GET and DELETE /v1/responses/{id}, GET
// /v1/responses/{id}/input_items, POST /v1/responses/{id}/cancel. They are passed through,
// like the resources of media.go, to the OpenAI and Azure targets that serve the Responses
// API, below each one's Responses endpoint. A response is found only in the account that
// created it, so such a request should name the model (an alias or a model name) whose
// targets share that account.

// routeStoredResponse routes a request for a stored response: it reports false for any
// other path, which routeRequest then reports as not served.
func (p *Proxy) routeStoredResponse(c *call) (bool, *RequestError) {
	path := c.req.URL.EscapedPath()
	i := resourceIndex(path, "responses")
	if i < 0 || len(path) <= i+len("/responses/") || !p.surface.serves(provider.Responses, responsesAPI) {
		return false, nil
	}
	c.route, c.media = provider.Responses, &mediaCall{kind: mediaResource, path: path[i:]}
	c.stats.Route = c.route
	if dotSegment(path[i:]) {
		return true, badRequest("invalid_path", "the path %s has a . or .. segment, which would name another response upstream", c.req.URL.Path)
	}
	return true, nil
}

// storedResponseURL is the URL of a stored response on t: the client's path below t's
// Responses endpoint (https://api.openai.com/v1/responses/{id}/input_items).
func (c *call) storedResponseURL(t *target, model *provider.Model) (string, error) {
	u, err := passthrough{t: t, route: provider.Responses}.url(&provider.Request{Model: *model})
	if err != nil {
		return "", err
	}
	return appendPath(u, strings.TrimPrefix(c.media.path, "/responses")), nil
}

// appendPath appends path to URL u's path, before its query.
func appendPath(u, path string) string {
	base, query, ok := strings.Cut(u, "?")
	if !ok {
		return u + path
	}
	return base + path + "?" + query
}
