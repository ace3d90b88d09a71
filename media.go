package aiproxy

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/openai"
	"github.com/aiproxy/aiproxy/secret"
)

// Kong 3.14's route types beyond text (chat, completions, embeddings, responses): audio,
// images, OpenAI's stateful resources (files, batches, assistants), video, and preserve. They
// are served on OpenAI and Azure targets, as Kong serves them, and images on Gemini and
// Bedrock targets too, translated (images.go).
const (
	routeSpeech           provider.RouteType = "audio/v1/audio/speech"
	routeTranscriptions   provider.RouteType = "audio/v1/audio/transcriptions"
	routeTranslations     provider.RouteType = "audio/v1/audio/translations"
	routeImageGenerations                    = provider.ImageGenerations
	routeImageEdits                          = provider.ImageEdits
	routeFiles            provider.RouteType = "llm/v1/files"
	routeBatches          provider.RouteType = "llm/v1/batches"
	routeAssistants       provider.RouteType = "llm/v1/assistants"
	routeVideos           provider.RouteType = "video/v1/videos/generations"
	routePreserve         provider.RouteType = "preserve"
)

// mediaKind is how a request of a media route type is read and sent.
type mediaKind uint8

const (
	// mediaJSON: POST of a JSON object whose model the target's model name replaces.
	mediaJSON mediaKind = iota + 1
	// mediaMultipart: POST of a multipart/form-data upload whose model field the target's
	// model name replaces; every other byte is sent as it came.
	mediaMultipart
	// mediaResource: any method on a resource and its sub-paths (/v1/files/{id}/content),
	// passed through with the target's credentials.
	mediaResource
	// mediaPreserve: the request as it is (method, path, body), to the target's URL.
	mediaPreserve
)

// mediaRoute is one path of a media route type: a path ending (JSON and multipart) or the
// path segment a resource's paths start with.
type mediaRoute struct {
	route provider.RouteType
	kind  mediaKind
	path  string
}

// mediaRoutes are the paths of the media route types. The resources' upstream path is the
// client's from the segment on ("/files/file-abc/content"); a video generation is POST
// /v1/videos (OpenAI's), /v1/videos/generations being the route type's own name for it.
var mediaRoutes = []mediaRoute{
	{routeSpeech, mediaJSON, "/audio/speech"},
	{routeTranscriptions, mediaMultipart, "/audio/transcriptions"},
	{routeTranslations, mediaMultipart, "/audio/translations"},
	{routeImageGenerations, mediaJSON, "/images/generations"},
	{routeImageEdits, mediaMultipart, "/images/edits"},
	{routeFiles, mediaResource, "files"},
	{routeBatches, mediaResource, "batches"},
	{routeAssistants, mediaResource, "assistants"},
	{routeAssistants, mediaResource, "threads"},
	{routeVideos, mediaResource, "videos"},
}

// mediaRouteTypes are the media route types, for Target.validate.
var mediaRouteTypes = map[provider.RouteType]bool{
	routeSpeech: true, routeTranscriptions: true, routeTranslations: true, routeImageGenerations: true,
	routeImageEdits: true, routeFiles: true, routeBatches: true, routeAssistants: true, routeVideos: true,
	routePreserve: true,
}

// mediaCall is what the proxy keeps of a request of a media route type.
type mediaCall struct {
	kind mediaKind
	// path is the upstream path relative to the API root: "/audio/speech",
	// "/files/file-abc/content"; for preserve, the client's whole path.
	path string
	// contentType is the client's Content-Type, sent on.
	contentType string
	// boundary is a multipart body's, and model the span of its model field's value in
	// call.body ([-1, -1]: no such field).
	boundary string
	model    [2]int
	// editJSON is an image edit's upload in OpenAI's JSON form, for the targets that
	// translate it (images.go); nil until one does.
	editJSON []byte
}

// servesMedia reports whether any target serves a media route type.
func (s *surface) servesMedia() bool {
	for r := range s.routes {
		if mediaRouteTypes[r] {
			return true
		}
	}
	return false
}

// describeMedia lists the media paths served, for a 404.
func (s *surface) describeMedia() []string {
	var out []string
	for _, m := range mediaRoutes {
		if !s.routes[m.route] {
			continue
		}
		if m.kind == mediaResource {
			out = append(out, "/v1/"+m.path+"/… ("+string(m.route)+")")
		} else {
			out = append(out, "POST /v1"+m.path+" ("+string(m.route)+")")
		}
	}
	if s.routes[routePreserve] {
		out = append(out, "any other path (preserve)")
	}
	return out
}

// routeMedia routes a request of a media route type that some target serves: it reports
// false for a request of another route type (chat, …), which routeRequest then routes.
func (p *Proxy) routeMedia(c *call) (bool, *RequestError) {
	r := c.req
	// The path as escaped: its sub-path is sent on as it came, so that an escaped "?", "#" or
	// "/" in an id stays one.
	path := r.URL.EscapedPath()
	var m *mediaCall
	for _, mr := range mediaRoutes {
		if !p.surface.routes[mr.route] {
			continue
		}
		switch mr.kind {
		case mediaResource:
			if i := resourceIndex(path, mr.path); i >= 0 {
				sub := path[i:]
				if mr.route == routeVideos && (sub == "/videos/generations" || sub == "/videos/generations/") {
					sub = "/videos"
				}
				m = &mediaCall{kind: mr.kind, path: sub}
			}
		default:
			if strings.HasSuffix(path, mr.path) {
				m = &mediaCall{kind: mr.kind, path: mr.path}
			}
		}
		if m != nil {
			c.route = mr.route
			break
		}
	}
	if m == nil && p.surface.routes[routePreserve] && !p.servesPath(path) {
		m, c.route = &mediaCall{kind: mediaPreserve, path: path}, routePreserve
	}
	if m == nil && mediaRouteTypes[p.route] && !apiLike(path) {
		// A path of the host program's choosing, where every target serves one media route
		// type: that route type, as a Kong route serves its plugin's.
		for _, mr := range mediaRoutes {
			if mr.route == p.route && mr.kind != mediaResource {
				m, c.route = &mediaCall{kind: mr.kind, path: mr.path}, mr.route
				break
			}
		}
		if m == nil {
			return true, p.notServed(r)
		}
	}
	if m == nil {
		return false, nil
	}
	c.media, c.stats.Route = m, c.route
	if dotSegment(m.path) {
		return true, badRequest("invalid_path", "the path %s has a . or .. segment, which would name another resource upstream", r.URL.Path)
	}
	if (m.kind == mediaJSON || m.kind == mediaMultipart) && r.Method != http.MethodPost {
		return true, &RequestError{Status: http.StatusMethodNotAllowed, Type: "invalid_request_error", Code: "method_not_allowed",
			Message: "use POST for " + path, Err: ErrBadRequest}
	}
	return true, nil
}

// dotSegment reports whether an escaped path has a "." or ".." segment (escaped or not), which
// an upstream would resolve to a path other than the route type's.
func dotSegment(path string) bool {
	for seg := range strings.SplitSeq(path, "/") {
		if u, err := url.PathUnescape(seg); err != nil || u == "." || u == ".." {
			return true
		}
	}
	return false
}

// servesPath reports whether a path is one of a route type served other than preserve.
func (p *Proxy) servesPath(path string) bool {
	if p.route == routePreserve {
		return false
	}
	for _, ap := range apiPaths {
		if strings.HasSuffix(path, ap.suffix) && p.surface.serves(ap.route, ap.api) {
			return true
		}
	}
	return false
}

// resourceIndex returns where the segment seg starts in path ("/v1/files/x" and "files": 3),
// as the first segment after an API version or at the start; -1 when path has none.
func resourceIndex(path, seg string) int {
	for i := 0; i < len(path); {
		j := strings.IndexByte(path[i+1:], '/')
		end := len(path)
		if j >= 0 {
			end = i + 1 + j
		}
		if path[i] == '/' && path[i+1:end] == seg {
			return i
		}
		if j < 0 {
			return -1
		}
		i = end
	}
	return -1
}

// handleMedia reads a media request (its body under max_request_body_size, once: every
// attempt replays it) and attempts it.
func (p *Proxy) handleMedia(c *call) *http.Response {
	r, m := c.req, c.media
	fail := func(e *RequestError) *http.Response {
		c.stats.Err = e
		return e.response(r)
	}
	if rerr := checkHeaders(r.Header); rerr != nil {
		return fail(rerr)
	}
	m.contentType = r.Header.Get("Content-Type")
	var rerr *RequestError
	switch m.kind {
	case mediaJSON:
		if c.body, rerr = readBody(r, p.limit); rerr == nil {
			rerr = c.parseMediaJSON()
		}
	case mediaMultipart:
		if c.body, rerr = readBody(r, p.limit); rerr == nil {
			rerr = c.parseMultipart()
		}
	default: // a resource or preserve: any body, or none
		if r.Body != nil && r.Body != http.NoBody {
			body, err := readAll(r.Body, r.ContentLength, p.limit)
			switch {
			case errors.Is(err, errTooLarge):
				rerr = tooLarge(p.limit)
			case err != nil:
				rerr = badRequest("body_read_failed", "reading the request body failed: %v", err)
			}
			c.body = body
		}
	}
	if rerr != nil {
		return fail(rerr)
	}
	c.stats.RequestedModel = c.model
	if !p.modelServes(c) {
		c.model = "" // every target of the route type is a candidate; theirs replaces it
	}
	if rerr := p.mediaProviders(c); rerr != nil {
		return fail(rerr)
	}
	if rerr := p.beforeRoute(c); rerr != nil {
		return fail(rerr)
	}
	return p.attempts(c)
}

// parseMediaJSON reads the model of a JSON request (speech, image generations).
func (c *call) parseMediaJSON() *RequestError {
	var perr *RequestError
	err := jsonx.Object(c.body, func(m jsonx.Member) bool {
		if string(m.Key) == "model" {
			s, err := jsonx.String(m.Value)
			if err != nil && string(m.Value) != "null" {
				perr = badRequest("invalid_type", "model must be a string")
				return false
			}
			c.model, c.modelJSON = s, m.Value
		}
		return true
	})
	if err != nil {
		return badRequest("invalid_json", "the request body is not a JSON object: %v", err)
	}
	return perr
}

// parseMultipart finds the boundary and the model field of a multipart/form-data upload.
func (c *call) parseMultipart() *RequestError {
	m := c.media
	mt, params, err := mime.ParseMediaType(m.contentType)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return badRequest("invalid_content_type", "%s takes a multipart/form-data upload with a boundary, not %q", c.req.URL.Path, m.contentType)
	}
	m.boundary = params["boundary"]
	start, end, err := multipartField(c.body, m.boundary, "model")
	if err != nil {
		return badRequest("invalid_multipart", "the multipart/form-data body is malformed: %v", err)
	}
	m.model = [2]int{start, end}
	if start >= 0 {
		c.model = string(c.body[start:end])
	}
	return nil
}

// multipartField returns the span of the value of the form field name in a multipart body
// of the boundary, or -1, -1 when it has no such field, having checked the body's framing up
// to its closing delimiter.
func multipartField(body []byte, boundary, name string) (start, end int, err error) {
	delim := []byte("\r\n--" + boundary)
	start, end = -1, -1
	var i int
	switch {
	case bytes.HasPrefix(body, delim[2:]):
		i = len(delim) - 2
	default:
		k := bytes.Index(body, delim)
		if k < 0 {
			return -1, -1, errors.New("no boundary delimiter")
		}
		i = k + len(delim)
	}
	for n := 0; ; n++ {
		rest := body[i:]
		if bytes.HasPrefix(rest, []byte("--")) {
			return start, end, nil // the closing delimiter
		}
		// Transport padding, then CRLF, then the part's headers up to an empty line.
		rest = bytes.TrimLeft(rest, " \t")
		if !bytes.HasPrefix(rest, []byte("\r\n")) {
			return -1, -1, fmt.Errorf("part %d: no line break after the boundary", n)
		}
		hstart := len(body) - len(rest) + 2
		h := bytes.Index(body[hstart:], []byte("\r\n\r\n"))
		var headers []byte
		var vstart int
		switch {
		case bytes.HasPrefix(body[hstart:], []byte("\r\n")): // no headers
			vstart = hstart + 2
		case h < 0:
			return -1, -1, fmt.Errorf("part %d: its headers do not end", n)
		default:
			headers, vstart = body[hstart:hstart+h], hstart+h+4
		}
		k := bytes.Index(body[vstart:], delim)
		if k < 0 {
			return -1, -1, fmt.Errorf("part %d: no boundary after it (the body is cut off)", n)
		}
		if start < 0 && partName(headers) == name {
			start, end = vstart, vstart+k
		}
		i = vstart + k + len(delim)
	}
}

// partName is the name parameter of a part's Content-Disposition header.
func partName(headers []byte) string {
	for line := range strings.SplitSeq(string(headers), "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "Content-Disposition") {
			continue
		}
		if _, params, err := mime.ParseMediaType(strings.TrimSpace(v)); err == nil {
			return params["name"]
		}
	}
	return ""
}

// modelServes reports whether the targets that the request's model selects (poolFor: its
// alias, its model name, or the targets without one) include one of its route type. An audio
// or image client must name a model (tts-1, whisper-1), which need not be a target's: when
// none of the route type has it, the request goes to every target of the route type, each
// sending its own model name.
func (p *Proxy) modelServes(c *call) bool {
	if c.model == "" {
		return true
	}
	pl := p.byAlias[c.model]
	if pl == nil {
		pl = p.byName[c.model]
	}
	if pl == nil {
		pl = p.passthrough
	}
	return pl != nil && slices.ContainsFunc(pl.targets, func(t *target) bool { return t.servesRoute(c.route) })
}

// mediaServed reports whether t's provider serves its media route type: OpenAI and Azure,
// with the built-in providers (a custom Provider's API is unknown), and Gemini and Bedrock
// the image route types.
func mediaServed(t *target) bool {
	if t.cfg.Provider != nil {
		return false
	}
	switch t.cfg.Model.Provider {
	case "openai", "azure":
		return true
	}
	return imageTranslated(t)
}

// mediaProviders refuses a media request whose targets are all of providers that do not
// serve its route type: 400 naming the route type and the providers.
func (p *Proxy) mediaProviders(c *call) *RequestError {
	var provs []string
	for _, t := range p.targets {
		if !t.servesRoute(c.route) {
			continue
		}
		if mediaServed(t) {
			return nil
		}
		name := t.cfg.Model.Provider
		if t.cfg.Provider != nil {
			name += " (custom Provider)"
		}
		if !strings.Contains(strings.Join(provs, ","), name) {
			provs = append(provs, name)
		}
	}
	served := "openai and azure"
	if c.route == routeImageGenerations || c.route == routeImageEdits {
		served = "openai, azure, gemini and bedrock"
	}
	return badRequest("unsupported_route_type", "route type %s is served on providers %s only; the targets of this route type are of provider %s",
		c.route, served, strings.Join(provs, ", "))
}

// idempotent reports whether a request of method may be sent twice (nginx's rule: POST,
// PATCH and LOCK are not): such a request fails over after it reached an upstream too.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// mediaBodyFor returns the body t receives: the client's, with the model replaced by t's
// model name when it has one (JSON: the model member; multipart: the model field's value,
// every other byte as it came; added as a last field when absent).
func (c *call) mediaBodyFor(t *target) []byte {
	m := c.media
	name := c.modelName(t)
	if name == "" || name == c.model && (m.kind != mediaMultipart || m.model[0] >= 0) {
		return c.body
	}
	switch m.kind {
	case mediaJSON:
		return jsonx.Apply(make([]byte, 0, len(c.body)+len(name)+16), c.body, []jsonx.Edit{{Key: "model", Value: jsonx.AppendString(nil, name)}})
	case mediaMultipart:
		if s, e := m.model[0], m.model[1]; s >= 0 {
			out := make([]byte, 0, len(c.body)-(e-s)+len(name))
			return append(append(append(out, c.body[:s]...), name...), c.body[e:]...)
		}
		closing := bytes.LastIndex(c.body, []byte("\r\n--"+m.boundary+"--"))
		if closing < 0 {
			return c.body
		}
		part := "\r\n--" + m.boundary + "\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n" + name
		out := make([]byte, 0, len(c.body)+len(part))
		return append(append(append(out, c.body[:closing]...), part...), c.body[closing:]...)
	}
	return c.body
}

// mediaAPIVersion is the api-version of an Azure request of route when azure_api_version
// is not set: the GA version that has the operation (2024-10-21: audio, image generations,
// files, batches), or the preview that has it (image edits, assistants).
func mediaAPIVersion(route provider.RouteType) string {
	switch route {
	case routeImageEdits:
		return "2025-04-01-preview"
	case routeAssistants:
		return "2024-05-01-preview"
	}
	return "2024-10-21"
}

// mediaURL is the upstream URL of a media request to t with model (its options).
//
// OpenAI: the API root (https://api.openai.com/v1, or the provider's BaseURL) and the path.
// upstream_url is the whole URL of an audio or image route type (a bare host gets the path),
// and the API root of a resource (a bare host gets /v1). Azure: the deployment URL of audio
// and images (/openai/deployments/{id}/audio/speech?api-version=…), /openai/files,
// /openai/batches, /openai/assistants, /openai/threads (?api-version=…), and the v1 API's
// /openai/v1/videos. Preserve: upstream_url when it has a path, else its host (or the
// provider's) and the client's path.
func (c *call) mediaURL(t *target, model *provider.Model) (string, error) {
	m := c.media
	if c.route == provider.Responses {
		return c.storedResponseURL(t, model)
	}
	o := model.Options
	azure := t.cfg.Model.Provider == "azure"
	switch {
	case m.kind == mediaPreserve:
		if o.UpstreamURL != "" {
			return withClientPath(o.UpstreamURL, m.path), nil
		}
	case o.UpstreamURL != "" && m.kind == mediaResource:
		root := strings.TrimSuffix(o.UpstreamURL, "/")
		if u, err := url.Parse(root); err == nil && u.Path == "" && !azure {
			root += "/v1"
		}
		return root + m.path, nil
	case o.UpstreamURL != "":
		if azure {
			return o.UpstreamURL, nil
		}
		return openai.URL(openai.DefaultBaseURL, m.path, &provider.Request{Model: *model}), nil
	}
	if !azure {
		base := openai.DefaultBaseURL
		if op, ok := t.prov.(openai.Provider); ok && op.BaseURL != "" {
			base = op.BaseURL
		}
		if m.kind == mediaPreserve {
			u, err := url.Parse(base)
			if err != nil {
				return "", err
			}
			return u.Scheme + "://" + u.Host + m.path, nil
		}
		if m.kind == mediaResource {
			return strings.TrimSuffix(base, "/") + m.path, nil
		}
		return openai.URL(base, m.path, &provider.Request{Model: *model}), nil
	}
	host := o.AzureInstance
	if host == "" {
		return "", &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error",
			Message: "azure: model.options.azure_instance (or upstream_url) is required"}
	}
	if !strings.Contains(host, ".") {
		host += ".openai.azure.com"
	}
	ver := url.QueryEscape(cmp.Or(o.AzureAPIVersion, mediaAPIVersion(c.route)))
	switch {
	case m.kind == mediaPreserve:
		return "https://" + host + m.path, nil
	case c.route == routeVideos:
		return "https://" + host + "/openai/v1" + m.path, nil
	case m.kind == mediaResource:
		return "https://" + host + "/openai" + m.path + "?api-version=" + ver, nil
	}
	dep := cmp.Or(o.AzureDeploymentID, model.Name)
	if dep == "" {
		return "", &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error",
			Message: "azure: model.options.azure_deployment_id (or model.name) is required"}
	}
	return "https://" + host + "/openai/deployments/" + url.PathEscape(dep) + m.path + "?api-version=" + ver, nil
}

// withClientPath is u, or, when u names only a host, u with the client's path (escaped).
func withClientPath(u, path string) string {
	parsed, err := url.Parse(u)
	if err != nil || parsed.Path != "" && parsed.Path != "/" {
		return u
	}
	out := parsed.Scheme + "://" + parsed.Host + path
	if parsed.RawQuery != "" {
		out += "?" + parsed.RawQuery
	}
	return out
}

// mediaModel is t's model for this request (its template variables resolved).
func (c *call) mediaModel(t *target) *provider.Model {
	model := &t.cfg.Model
	c.stats.resolvedModel = ""
	if t.tmpl != nil && c.admit != nil && c.admit.models[t] != nil {
		model = c.admit.models[t]
		if t.tmpl.name != nil {
			c.stats.resolvedModel = model.Name
		}
	}
	return model
}

// mediaRequest builds the upstream request of one attempt of a media request on t.
func (c *call) mediaRequest(t *target) (upstream, *failed) {
	model := c.mediaModel(t)
	header, param, err := t.auth.resolve(c.ctx, t.secrets)
	if err != nil {
		return upstream{}, credentialFailure("secret_unavailable", err)
	}
	u, err := c.mediaURL(t, model)
	if err != nil {
		var pe *provider.Error
		if !errors.As(err, &pe) {
			pe = &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: err.Error()}
		}
		return upstream{}, &failed{err: pe}
	}
	body := c.mediaBodyFor(t)
	if e, ok := t.auth.bodyParam(param); ok && c.media.kind == mediaJSON {
		body = jsonx.Apply(make([]byte, 0, len(body)+len(e.Key)+len(e.Value)+8), body, []jsonx.Edit{e})
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(c.ctx, c.req.Method, u, rd)
	if err != nil {
		return upstream{}, &failed{err: &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: err.Error()}}
	}
	if ct := c.media.contentType; ct != "" && body != nil {
		req.Header["Content-Type"] = []string{ct}
	}
	if a := c.req.Header["Accept"]; len(a) > 0 {
		req.Header["Accept"] = a
	}
	if t.bearer != nil {
		tok, err := t.bearer.token(c.ctx)
		if err != nil {
			return upstream{}, credentialFailure("credentials_unavailable", err)
		}
		req.Header["Authorization"] = []string{"Bearer " + tok}
	}
	copyRequestHeaders(req.Header, c.req.Header, header.name, t.cfg.Auth.AllowOverride, t.passCredentials)
	if c.req.URL != nil {
		copyQuery(req.URL, c.req.URL.RawQuery)
	}
	t.auth.apply(req, header, param)
	preq := &provider.Request{RouteType: c.route, Model: *model, Body: body}
	return upstream{preq: preq, req: req, creds: [3]string{header.value, param.value, req.Header.Get("Authorization")}}, nil
}

// tryMedia makes one attempt of a media request on t. A JSON answer is read whole (its usage
// metered); any other (audio bytes, text, a file's content, an event stream) is streamed to
// the client as it comes, with its Content-Type.
func (p *Proxy) tryMedia(c *call, t *target) (*http.Response, *failed) {
	if imageTranslated(t) {
		return p.tryImage(c, t)
	}
	stats := &c.stats
	t.inflight.Add(1)
	sent := p.now()
	c.attemptStart = sent
	u, f := c.mediaRequest(t)
	if f != nil {
		t.inflight.Add(-1)
		return nil, f
	}
	again := idempotent(c.req.Method) // may be sent twice
	resp, f := p.send(c, t, t.prov, u, again)
	if f != nil {
		return nil, f
	}
	ct := resp.Header.Get("Content-Type")
	disposition := resp.Header.Get("Content-Disposition")
	mt, _, _ := mime.ParseMediaType(ct)
	if mt == "application/json" {
		raw, err := readAll(resp.Body, resp.ContentLength, maxResponse)
		resp.Body.Close()
		t.inflight.Add(-1)
		if errors.Is(err, errTooLarge) {
			return nil, invalidResponse(fmt.Errorf("the upstream response is larger than %d MiB", maxResponse>>20))
		}
		if err != nil {
			f := readFailure(err)
			f.sent = !again
			return nil, f
		}
		var usage provider.Usage
		var model string
		if err := jsonx.Object(raw, func(m jsonx.Member) bool {
			switch string(m.Key) {
			case "usage":
				if c.req.Method != http.MethodGet { // a read returns state, not new work
					usage = mediaUsage(m.Value)
				}
			case "model":
				model, _ = jsonx.String(m.Value)
			}
			return true
		}); err != nil && len(bytes.TrimSpace(raw)) > 0 {
			return nil, invalidResponse(fmt.Errorf("the upstream returned a body that is not JSON: %v", err))
		}
		raw = secret.Redact(raw, c.creds[:])
		c.servedBy(t)
		p.succeeded(t, stats, usage, model, p.now().Sub(sent))
		c.keepResponse(t, raw)
		return jsonResponse(c.req, resp.StatusCode, p.clientHeader(resp.Header, t, stats), raw), nil
	}
	c.servedBy(t)
	h := p.clientHeader(resp.Header, t, stats)
	if ct != "" {
		h["Content-Type"] = []string{ct}
	}
	if disposition != "" {
		h["Content-Disposition"] = []string{disposition}
	}
	status := resp.StatusCode
	sb := &streamBody{c: c, t: t, s: &rawStream{r: resp.Body}, fr: rawFramer{}, upstream: resp.Body, now: p.now,
		end: func(usage provider.Usage, err error) {
			t.inflight.Add(-1)
			switch {
			case err == nil:
				p.succeeded(t, stats, usage, "", p.now().Sub(sent))
			case errors.Is(err, errStreamAbandoned) || c.ctx.Err() != nil:
				stats.Err = err
			default:
				stats.Err = err
				p.recordFailure(t, readFailure(err))
			}
			p.finish(c, status)
		}}
	return &http.Response{
		Status: statusLine(status), StatusCode: status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: sb, ContentLength: -1, Request: c.req,
	}, nil
}

// mediaUsage reads the usage of an audio or image answer: input_tokens, output_tokens and
// total_tokens (gpt-image-1, gpt-4o-transcribe), or OpenAI's chat names.
func mediaUsage(v []byte) provider.Usage {
	if bytes.Contains(v, []byte(`"prompt_tokens"`)) {
		var u provider.Usage
		_ = u.UnmarshalJSON(v)
		return u
	}
	u := nativeUsage(v)
	if u.TotalTokens < 0 {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	return u
}

// rawStream reads an upstream body as it comes, a read at a time (audio, a file's bytes).
type rawStream struct {
	r   io.Reader
	buf []byte
}

func (s *rawStream) Next() ([]byte, error) {
	if s.buf == nil {
		s.buf = make([]byte, 32<<10)
	}
	for {
		n, err := s.r.Read(s.buf)
		if n > 0 {
			return s.buf[:n], nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (s *rawStream) Usage() provider.Usage { return provider.Usage{} }

// rawFramer passes bytes on as they are; a body the upstream breaks off ends where it broke
// (a binary body has no way to say so but its length).
type rawFramer struct{}

func (rawFramer) Chunk(dst, data []byte) ([]byte, error) { return append(dst, data...), nil }

func (rawFramer) End(dst []byte) []byte { return dst }

func (rawFramer) Fail(dst []byte, _ int, _ []byte) []byte { return dst }
