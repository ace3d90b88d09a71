package aiproxy

import (
	"slices"
	"strings"
)

// poolFor chooses the targets that may serve c, from the model the client named:
//
//   - a model_alias selects the targets with that alias;
//   - otherwise a model.name selects the targets with that name (except under the semantic
//     balancer, where only aliases narrow the choice);
//   - no model, or any model under the semantic balancer, leaves every target to the
//     balancer;
//   - any other model goes to targets without a model.name, which pass the client's model
//     through, or is rejected with 400 naming the model and the ones served.
func (p *Proxy) poolFor(c *call, stats *Stats) (*pool, *RequestError) {
	if pl, ok := p.byAlias[c.model]; ok {
		return pl, nil
	}
	if p.semantic != nil && c.media == nil { // audio, images, files: no prompt to compare
		return p.semantic.route(c, stats)
	}
	if c.model == "" {
		return p.all, nil
	}
	if pl, ok := p.byName[c.model]; ok {
		return pl, nil
	}
	if p.passthrough != nil {
		return p.passthrough, nil
	}
	return nil, badRequest("model_not_found", "the model %q is not served here; use one of: %s", c.model, strings.Join(p.models(), ", ")).wrap(ErrUnknownModel)
}

// models lists the aliases and model names clients may ask for.
func (p *Proxy) models() []string {
	var names []string
	for k := range p.byAlias {
		names = append(names, k)
	}
	for k := range p.byName {
		names = append(names, k)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// wrap makes e wrap sentinel instead of its default.
func (e *RequestError) wrap(sentinel error) *RequestError {
	e.Err = sentinel
	return e
}
