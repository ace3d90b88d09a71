package kong

import (
	"slices"
	"strconv"
)

// route is a decK route: the names and ids it is known by, its service's, and its paths.
type route struct {
	ids, service []string
	paths        []string
}

// deckServices lists the names and ids of a decK state's services.
func deckServices(doc map[string]any) [][]string {
	var out [][]string
	services, _ := doc["services"].([]any)
	for _, s := range services {
		if m, ok := s.(map[string]any); ok {
			out = append(out, entityIDs(m))
		}
	}
	return out
}

// deckRoutes lists the routes of a decK state: top-level ones and those nested in services.
func deckRoutes(doc map[string]any) []route {
	var out []route
	add := func(v any, service []string) {
		list, _ := v.([]any)
		for _, e := range list {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			r := route{ids: entityIDs(m), service: service}
			if r.service == nil {
				if s := ref(m["service"]); s != "" {
					r.service = []string{s}
				}
			}
			paths, _ := m["paths"].([]any)
			for _, p := range paths {
				if s, ok := p.(string); ok {
					r.paths = append(r.paths, s)
				}
			}
			out = append(out, r)
		}
	}
	services, _ := doc["services"].([]any)
	for _, s := range services {
		if m, ok := s.(map[string]any); ok {
			add(m["routes"], entityIDs(m))
		}
	}
	add(doc["routes"], nil)
	return out
}

// entityIDs are the names and id an entity may be referenced by.
func entityIDs(m map[string]any) []string {
	var out []string
	for _, k := range []string{"name", "username", "custom_id", "id"} {
		if n, ok := m[k].(string); ok && n != "" {
			out = append(out, n)
		}
	}
	return out
}

// resolveScopes sets each plugin's Paths from the routes of every file read (as decK merges
// its files), and Unrouted for a plugin scoped to a route or service that has none.
func (f *File) resolveScopes() {
	for i := range f.Plugins {
		p := &f.Plugins[i]
		s := p.Scope
		if s.Consumer != "" || s.ConsumerGroup != "" || (s.Route == "" && s.Service == "") {
			continue
		}
		found := false
		for _, r := range f.routes {
			if s.Route != "" && slices.Contains(r.ids, s.Route) || s.Route == "" && slices.Contains(r.service, s.Service) {
				found = true
				p.Paths = append(p.Paths, r.paths...)
			}
		}
		switch {
		case len(p.Paths) > 0:
		case s.Route != "" && !found:
			p.Unrouted = "route " + strconv.Quote(s.Route) + " is not in the configuration"
		case s.Route != "":
			p.Unrouted = "route " + strconv.Quote(s.Route) + " has no paths"
		case !slices.ContainsFunc(f.services, func(ids []string) bool { return slices.Contains(ids, s.Service) }) && !found:
			p.Unrouted = "service " + strconv.Quote(s.Service) + " is not in the configuration"
		default:
			p.Unrouted = "service " + strconv.Quote(s.Service) + " has no routes with paths"
		}
	}
}
