package kong

// route is a decK route: its name (or id), its service's, and its paths.
type route struct {
	name, service string
	paths         []string
}

// deckRoutes lists the routes of a decK state: top-level ones and those nested in services.
func deckRoutes(doc map[string]any) []route {
	var out []route
	add := func(v any, service string) {
		list, _ := v.([]any)
		for _, e := range list {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			r := route{name: entityName(m), service: service}
			if r.service == "" {
				r.service = ref(m["service"])
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
			add(m["routes"], entityName(m))
		}
	}
	add(doc["routes"], "")
	return out
}

// setPaths fills in Paths for the plugins from index first on: the paths of the plugin's
// route, or of every route of its service.
func (f *File) setPaths(first int, routes []route) {
	for i := first; i < len(f.Plugins); i++ {
		p := &f.Plugins[i]
		for _, r := range routes {
			switch {
			case p.Scope.Route != "" && p.Scope.Route == r.name,
				p.Scope.Route == "" && p.Scope.Service != "" && p.Scope.Service == r.service:
				p.Paths = append(p.Paths, r.paths...)
			}
		}
	}
}
