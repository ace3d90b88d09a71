package aiproxy

import (
	"net/http"
	"strconv"

	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// listModels answers GET /v1/models: the models clients may ask for (the aliases and model
// names of p.models), in OpenAI's list format. owned_by is the provider of the targets
// behind the name, or "aiproxy" when they are of several providers; created is when New ran.
func (p *Proxy) listModels(c *call) *http.Response {
	created := strconv.AppendInt(nil, p.surface.created, 10)
	body := []byte(`{"object":"list","data":[`)
	for i, name := range p.models() {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, `{"id":`...)
		body = jsonx.AppendString(body, name)
		body = append(body, `,"object":"model","created":`...)
		body = append(body, created...)
		body = append(body, `,"owned_by":`...)
		body = jsonx.AppendString(body, p.owner(name))
		body = append(body, '}')
	}
	body = append(body, "]}"...)
	return jsonResponse(c.req, http.StatusOK, http.Header{}, body)
}

// owner is the provider of the targets that an alias or model name selects, or "aiproxy"
// when they are of several.
func (p *Proxy) owner(name string) string {
	owner := ""
	for _, pl := range []*pool{p.byAlias[name], p.byName[name]} {
		if pl == nil {
			continue
		}
		for _, t := range pl.targets {
			switch prov := t.cfg.Model.Provider; {
			case owner == "":
				owner = prov
			case owner != prov:
				return "aiproxy"
			}
		}
	}
	if owner == "" {
		return "aiproxy"
	}
	return owner
}
