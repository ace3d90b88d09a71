package aiproxy

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
)

// Kong's template variables (dynamic model selection): a target's model.name and any string of
// its model.options may hold $(headers.NAME), $(query_params.NAME) and $(uri_captures.NAME),
// also written $(headers["NAME"]), resolved per request from the client's request. New finds
// the fields that hold one; targets without any pay nothing per request.

// tmplSource is where a template variable's value comes from.
type tmplSource uint8

const (
	tmplLiteral tmplSource = iota
	tmplHeader
	tmplQuery
	tmplCapture
)

var tmplSources = map[string]tmplSource{"headers": tmplHeader, "query_params": tmplQuery, "uri_captures": tmplCapture}

// tmplPart is a literal text or one variable of a template.
type tmplPart struct {
	src  tmplSource
	text string // the literal, or the variable's name
	expr string // the variable as written: "$(headers.x-model)"
}

// template is a parsed configuration value with at least one variable.
type template []tmplPart

// parseTemplate parses s. It returns nil (and no error) when s holds no variable: s is then
// used as it is. $('text') and $("text") stand for text, which is how Kong escapes a literal
// "$(": $('$(not a variable)').
func parseTemplate(s string) (template, error) {
	if !strings.Contains(s, "$(") {
		return nil, nil
	}
	var t template
	vars := 0
	lit := strings.Builder{}
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "$(")
		if j < 0 {
			lit.WriteString(s[i:])
			break
		}
		lit.WriteString(s[i : i+j])
		start := i + j
		part, n, err := parseVariable(s[start:])
		if err != nil {
			return nil, err
		}
		if part.src == tmplLiteral {
			lit.WriteString(part.text)
		} else {
			if lit.Len() > 0 {
				t = append(t, tmplPart{text: lit.String()})
				lit.Reset()
			}
			t = append(t, part)
			vars++
		}
		i = start + n
	}
	if lit.Len() > 0 {
		t = append(t, tmplPart{text: lit.String()})
	}
	if vars == 0 { // only escapes: a plain value
		return template{{text: t.literal()}}, nil
	}
	return t, nil
}

// literal is the text of a template without variables.
func (t template) literal() string {
	var b strings.Builder
	for _, p := range t {
		b.WriteString(p.text)
	}
	return b.String()
}

// static reports whether t has no variable (a value made only of escapes).
func (t template) static() bool { return len(t) == 1 && t[0].src == tmplLiteral }

// parseVariable parses the variable at the start of s ("$(" ...) and returns it and its length.
func parseVariable(s string) (tmplPart, int, error) {
	i := 2
	skip := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	skip()
	unsupported := func() (tmplPart, int, error) {
		end := strings.IndexByte(s, ')')
		shown := s
		if end >= 0 {
			shown = s[:end+1]
		}
		if len(shown) > 64 {
			shown = shown[:64] + "…"
		}
		return tmplPart{}, 0, fmt.Errorf("template %q is not supported: use $(headers.NAME), $(query_params.NAME) or $(uri_captures.NAME)", shown)
	}
	if i < len(s) && (s[i] == '\'' || s[i] == '"') { // $('literal')
		text, n, ok := quoted(s[i:])
		if !ok {
			return unsupported()
		}
		i += n
		skip()
		if i >= len(s) || s[i] != ')' {
			return unsupported()
		}
		return tmplPart{text: text}, i + 1, nil
	}
	k := i
	for k < len(s) && (s[k] >= 'a' && s[k] <= 'z' || s[k] == '_') {
		k++
	}
	src, ok := tmplSources[s[i:k]]
	if !ok {
		return unsupported()
	}
	i = k
	var name string
	switch {
	case i < len(s) && s[i] == '.':
		i++
		k = i
		for k < len(s) && s[k] != ')' && s[k] != ' ' && s[k] != '\t' {
			k++
		}
		name, i = s[i:k], k
	case i < len(s) && s[i] == '[':
		i++
		skip()
		text, n, ok := quoted(s[i:])
		if !ok {
			return unsupported()
		}
		name, i = text, i+n
		skip()
		if i >= len(s) || s[i] != ']' {
			return unsupported()
		}
		i++
	default:
		return unsupported()
	}
	skip()
	if name == "" || i >= len(s) || s[i] != ')' {
		return unsupported()
	}
	return tmplPart{src: src, text: name, expr: s[:i+1]}, i + 1, nil
}

// quoted reads a string in single or double quotes at the start of s (no escapes inside).
func quoted(s string) (string, int, bool) {
	q := s[0]
	end := strings.IndexByte(s[1:], q)
	if end < 0 {
		return "", 0, false
	}
	return s[1 : 1+end], end + 2, true
}

// tmplRequest reads template variables from one client request; the query is parsed once.
type tmplRequest struct {
	r     *http.Request
	query url.Values
}

func (q *tmplRequest) value(p tmplPart) string {
	switch p.src {
	case tmplHeader:
		v := q.r.Header.Get(p.text)
		if v == "" && strings.Contains(p.text, "_") { // as nginx: x_model names X-Model
			v = q.r.Header.Get(strings.ReplaceAll(p.text, "_", "-"))
		}
		return v
	case tmplQuery:
		if q.query == nil {
			q.query = url.Values{}
			if q.r.URL != nil {
				q.query, _ = url.ParseQuery(q.r.URL.RawQuery)
			}
		}
		return q.query.Get(p.text)
	case tmplCapture:
		return q.r.PathValue(p.text)
	}
	return p.text
}

// render resolves t for the request; field names the configuration field, for errors.
func (t template) render(q *tmplRequest, field string) (string, *RequestError) {
	var b strings.Builder
	for _, p := range t {
		if p.src == tmplLiteral {
			b.WriteString(p.text)
			continue
		}
		v := q.value(p)
		if v == "" {
			return "", badRequest("missing_template_value", "%s is %s, which this request does not give: %s", field, p.expr, missingWhat(p))
		}
		if why := unsafeValue(v); why != "" {
			return "", badRequest("invalid_template_value", "%s is %s, whose value %s", field, p.expr, why)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

func missingWhat(p tmplPart) string {
	switch p.src {
	case tmplHeader:
		return "no " + p.text + " header"
	case tmplQuery:
		return "no " + p.text + " query parameter"
	}
	return "no " + p.text + " path value (a pattern wildcard such as {" + p.text + "}: see http.Request.PathValue)"
}

// unsafeValue says why a value a client chose cannot go into a model name or option, which
// providers put into upstream URLs: it could leave its path segment or the URL (path
// traversal, an encoded slash, a query or fragment, header injection). "" when it is safe.
func unsafeValue(v string) string {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c < 0x20 || c == 0x7f:
			return "holds a control character"
		case c == '?' || c == '#' || c == '%' || c == '\\' || c == '@':
			return fmt.Sprintf("holds %q, which could change the upstream URL", string(c))
		}
	}
	for _, seg := range strings.Split(v, "/") {
		if seg == ".." || seg == "." {
			return "holds a dot segment (\"..\"), which could change the upstream URL"
		}
	}
	return ""
}

// modelTemplate is a target's model with template variables: which fields hold them.
type modelTemplate struct {
	name   template // nil when model.name holds none
	fields []tmplField
}

// tmplField is a string field of model.options with a template.
type tmplField struct {
	path  string // "model.options.azure_deployment_id"
	index []int  // reflect field indexes from provider.Options
	t     template
}

var optionsType = reflect.TypeFor[provider.Options]()

// compileTemplates finds the template variables of t's model; targets without any keep
// t.tmpl nil. A model.name with one no longer rewrites the body's model at New: each attempt
// sets the name resolved for its request.
func (t *target) compileTemplates() error {
	var mt modelTemplate
	var errs []error
	var err error
	if mt.name, err = parseTemplate(t.cfg.Model.Name); err != nil {
		errs = append(errs, fmt.Errorf("model.name: %w", err))
	}
	walkStrings(reflect.ValueOf(&t.cfg.Model.Options).Elem(), nil, "model.options", func(path string, index []int, s string) {
		tt, err := parseTemplate(s)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
		case tt == nil:
		case tt.static():
			setString(&t.cfg.Model.Options, index, tt.literal())
		case path == "model.options.upstream_url" && !templateAfterHost(s):
			errs = append(errs, fmt.Errorf("%s: a template variable may not choose the upstream's scheme or host: the target's credentials would go where the client says", path))
		case path == "model.options.gemini.api_endpoint":
			errs = append(errs, fmt.Errorf("%s: a template variable may not choose the upstream's host: the target's credentials would go where the client says", path))
		default:
			mt.fields = append(mt.fields, tmplField{path: path, index: append([]int(nil), index...), t: tt})
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if mt.name != nil && mt.name.static() {
		t.cfg.Model.Name = mt.name.literal()
		mt.name = nil
		for i := range t.edits {
			if t.edits[i].Key == "model" {
				t.edits[i].Value = jsonx.AppendString(nil, t.cfg.Model.Name)
			}
		}
	}
	if mt.name == nil && mt.fields == nil {
		return nil
	}
	if mt.name != nil { // the name is set per attempt
		edits := t.edits[:0:0]
		for _, e := range t.edits {
			if e.Key != "model" {
				edits = append(edits, e)
			}
		}
		t.edits = edits
	}
	t.tmpl = &mt
	return nil
}

// templateAfterHost reports whether every variable of an upstream_url comes after its host.
func templateAfterHost(s string) bool {
	i := strings.Index(s, "$(")
	_, rest, ok := strings.Cut(s[:i], "://")
	return ok && strings.ContainsAny(rest, "/")
}

// walkStrings calls fn for each string field of the struct v (following pointers to structs),
// with its Kong path and reflect index.
func walkStrings(v reflect.Value, index []int, path string, fn func(path string, index []int, s string)) {
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		fv := v.Field(i)
		idx := append(index, i)
		switch {
		case fv.Kind() == reflect.String:
			fn(path+"."+name, idx, fv.String())
		case fv.Kind() == reflect.Pointer && fv.Type().Elem().Kind() == reflect.Struct && !fv.IsNil():
			walkStrings(fv.Elem(), idx, path+"."+name, fn)
		}
	}
}

// setString sets the string field at index of o, copying the structs that pointers on the way
// lead to, so that a resolved copy never writes into the configuration it was copied from.
func setString(o *provider.Options, index []int, s string) {
	v := reflect.ValueOf(o).Elem()
	for k, i := range index {
		f := v.Field(i)
		if k == len(index)-1 {
			f.SetString(s)
			return
		}
		cp := reflect.New(f.Type().Elem())
		cp.Elem().Set(f.Elem())
		f.Set(cp)
		v = cp.Elem()
	}
}

// staticName is the model name that routes requests to t: "" when t takes any model (no
// model.name, or one chosen per request by a template).
func (t *target) staticName() string {
	if t.tmpl != nil && t.tmpl.name != nil {
		return ""
	}
	return t.cfg.Model.Name
}

// resolve returns t's model for the request r, its template variables replaced.
func (mt *modelTemplate) resolve(m provider.Model, q *tmplRequest) (*provider.Model, *RequestError) {
	if mt.name != nil {
		name, rerr := mt.name.render(q, "model.name")
		if rerr != nil {
			return nil, rerr
		}
		m.Name = name
	}
	for _, f := range mt.fields {
		v, rerr := f.t.render(q, f.path)
		if rerr != nil {
			return nil, rerr
		}
		setString(&m.Options, f.index, v)
	}
	return &m, nil
}

// resolveTemplates resolves the model of every target of pl that has template variables, for
// this request. The first value the request does not give is a 400 naming it.
func (c *call) resolveTemplates(pl *pool) *RequestError {
	q := &tmplRequest{r: c.req}
	for _, t := range pl.targets {
		if t.tmpl == nil {
			continue
		}
		m, rerr := t.tmpl.resolve(t.cfg.Model, q)
		if rerr != nil {
			return rerr
		}
		if c.admit.models == nil {
			c.admit.models = map[*target]*provider.Model{}
		}
		c.admit.models[t] = m
	}
	return nil
}

// request builds the upstream request of an attempt on t: with t's model resolved for this
// request when it has template variables.
func (c *call) request(t *target, x exchange) (upstream, *failed) {
	c.stats.resolvedModel = ""
	client := c.req
	if c.x.api != openaiAPI && !x.pass {
		client = c.x.withoutQuery(c.req)
	}
	if m := c.nativeModel(t, x); m != nil {
		return t.requestModel(c.ctx, x.route, x.body, c.stream, client, m)
	}
	if t.tmpl == nil || c.admit == nil || c.admit.models[t] == nil {
		return t.request(c.ctx, x.route, x.body, c.stream, client)
	}
	m := c.admit.models[t]
	body := x.body
	if t.tmpl.name != nil {
		c.stats.resolvedModel = m.Name
		edit := []jsonx.Edit{{Key: "model", Value: jsonx.AppendString(nil, m.Name)}}
		body = jsonx.Apply(make([]byte, 0, len(body)+len(m.Name)+16), body, edit)
	}
	return t.requestModel(c.ctx, x.route, body, c.stream, client, m)
}

// modelHeaderOf is the X-Kong-LLM-Model value for a response from t.
func modelHeaderOf(t *target, s *Stats) []string {
	if s.resolvedModel != "" {
		return []string{t.cfg.Model.Provider + "/" + s.resolvedModel}
	}
	return t.modelHeader
}

// modelName is the model name t serves this request with: its resolved template, or its
// configured name ("" for a target that passes the client's model through).
func (c *call) modelName(t *target) string {
	if c.admit != nil {
		if m := c.admit.models[t]; m != nil {
			return m.Name
		}
	}
	return t.cfg.Model.Name
}
