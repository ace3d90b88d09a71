package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/embed/offline"
	"github.com/aiproxy/aiproxy/kong"
	"github.com/aiproxy/aiproxy/otelaiproxy"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/vectorstore"
)

// routePaths are the OpenAI endpoints where a plugin without routes is mounted: those of
// the route types its targets serve.
var routePaths = map[provider.RouteType]string{
	provider.Chat:        "/v1/chat/completions",
	provider.Completions: "/v1/completions",
	provider.Embeddings:  "/v1/embeddings",
	// Audio, images, resources and video: POST to the first four kinds; any method on a
	// resource's paths (anyMethod).
	"audio/v1/audio/speech":         "/v1/audio/speech",
	"audio/v1/audio/transcriptions": "/v1/audio/transcriptions",
	"audio/v1/audio/translations":   "/v1/audio/translations",
	"image/v1/images/generations":   "/v1/images/generations",
	"image/v1/images/edits":         "/v1/images/edits",
	"llm/v1/files":                  "/v1/files",
	"llm/v1/batches":                "/v1/batches",
	"llm/v1/assistants":             "/v1/assistants /v1/threads",
	"video/v1/videos/generations":   "/v1/videos",
}

// anyMethod are the route types whose paths take any method (GET /v1/files, DELETE
// /v1/assistants/{id}), and preserve, which forwards any request on its route's paths.
var anyMethod = map[provider.RouteType]bool{
	"llm/v1/files": true, "llm/v1/batches": true, "llm/v1/assistants": true, "video/v1/videos/generations": true, "preserve": true,
}

// loadOptions say how configuration files become a gateway.
type loadOptions struct {
	// files are the Kong files, merged as decK merges them.
	files []string
	// offlineEmbeddings replaces the embeddings model and vector database of semantic
	// plugins with the offline embedder and an in-memory store.
	offlineEmbeddings bool
	logger            *slog.Logger
	// instrument wraps the handler of each mounted path; nil means none.
	instrument func(plugin, path string, h http.Handler) http.Handler
}

// plugin is one mounted ai-proxy-advanced plugin.
// inheritState gives the plugins of g the balancer state of old's plugin at the same place in
// the files, for the targets that did not change (aiproxy.Proxy.InheritState).
func (g *gateway) inheritState(old *gateway) {
	byPath := make(map[string]*aiproxy.Proxy, len(old.plugins))
	for _, pl := range old.plugins {
		byPath[pl.path] = pl.proxy
	}
	for _, pl := range g.plugins {
		if o := byPath[pl.path]; o != nil {
			pl.proxy.InheritState(o)
		}
	}
}

type plugin struct {
	// where names it in logs: its name and where it is in the files.
	where string
	// path locates it in the files, e.g. "plugins[0]".
	path  string
	proxy *aiproxy.Proxy
	cfg   aiproxy.Config
	paths []string
}

// gateway is one build of the configuration: the proxies of its plugins and the mux that
// routes their paths. A reload builds a new gateway and retires the old one, which closes
// once the requests it serves have finished.
type gateway struct {
	mux     *http.ServeMux
	plugins []*plugin
	file    *kong.File

	// refs counts the requests in flight, plus one while the gateway is current.
	refs    atomic.Int64
	drained chan struct{}
}

// build loads the files and builds a proxy for each plugin Kong would apply to a path. Every
// problem is reported, joined; warnings (plugins not mounted) are logged.
func build(o loadOptions) (*gateway, error) {
	file, err := kong.LoadFiles(o.files, kong.LoadOptions{}) // builds the files' Vault resolvers
	if err != nil {
		return nil, err
	}
	g := &gateway{mux: http.NewServeMux(), file: file, drained: make(chan struct{})}
	g.refs.Store(1)
	var errs []error
	owner := map[string]string{} // mux pattern -> plugin
	for _, pl := range file.Plugins {
		where := pl.Name + " (" + cmp.Or(pl.Path, "config") + ")"
		switch {
		case !pl.Enabled:
			o.logger.Info("plugin disabled, not mounted", "plugin", where)
			continue
		case pl.Scope.Consumer != "" || pl.Scope.ConsumerGroup != "":
			o.logger.Warn("consumer-scoped plugin not mounted: aiproxy does not identify consumers", "plugin", where)
			continue
		case pl.Unrouted != "":
			o.logger.Warn("plugin not mounted: "+pl.Unrouted+", and Kong would apply it to that traffic only", "plugin", where)
			continue
		}
		cfg := pl.Config
		cfg.Logger = o.logger.With("plugin", pl.Name)
		if o.offlineEmbeddings && cfg.Balancer.Algorithm == aiproxy.Semantic {
			cfg.Embeddings, cfg.Embedder = nil, offline.New()
			var metric vectorstore.Metric // cosine
			if cfg.VectorDB != nil {
				metric = cfg.VectorDB.DistanceMetric
			}
			cfg.VectorStore = vectorstore.NewMemory(metric, 0)
		}
		paths := pl.Paths
		if len(paths) == 0 {
			paths = defaultPaths(cfg.Targets)
		}
		if o.instrument != nil { // serving with /metrics: the GenAI spans and metrics too
			hook, err := otelaiproxy.New(otelaiproxy.Options{})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			cfg.Hooks = append(cfg.Hooks, hook)
		}
		p, err := aiproxy.New(cfg)
		if err != nil {
			errs = append(errs, configErrors(pl.Path, err)...)
			continue
		}
		g.plugins = append(g.plugins, &plugin{where: where, path: pl.Path, proxy: p, cfg: cfg, paths: paths})
		for _, path := range paths {
			if !strings.HasPrefix(path, "/") {
				errs = append(errs, fmt.Errorf("%s: route path %q is not supported: use a plain path (regular expressions are not)", where, path))
				continue
			}
			var h http.Handler = p
			if o.instrument != nil {
				h = o.instrument(pl.Name, path, p)
			}
			for _, pattern := range []string{path, strings.TrimSuffix(path, "/") + "/"} {
				if other, ok := owner[pattern]; ok && other != where {
					errs = append(errs, fmt.Errorf("path %s is served by both %s and %s", pattern, other, where))
				} else if !ok {
					owner[pattern] = where
					method := "POST "
					if slices.ContainsFunc(cfg.Targets, func(t aiproxy.Target) bool { return anyMethod[t.RouteType] }) {
						method = ""
					}
					g.mux.Handle(method+pattern, h)
				}
			}
		}
	}
	if len(errs) == 0 && len(g.plugins) == 0 {
		errs = append(errs, errors.New("no enabled ai-proxy-advanced plugin to serve"))
	}
	if _, ok := owner["/"]; !ok {
		g.mux.Handle("/", notMounted(slices.Sorted(maps.Keys(owner))))
	}
	if len(errs) > 0 {
		g.close()
		return nil, errors.Join(errs...)
	}
	return g, nil
}

// configErrors returns the problems that err (from aiproxy.New or ValidateSecrets) lists,
// one error each, located in the plugin at path: "plugins[0].config.targets[1].weight: ...".
func configErrors(path string, err error) []error {
	prefix := "config."
	if path != "" {
		prefix = path + ".config."
	}
	var out []error
	var walk func(prefix string, e error)
	walk = func(prefix string, e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(prefix, e)
			}
			return
		}
		if e == aiproxy.ErrInvalidConfig {
			return // the sentinel New wraps its list in, not a problem of its own
		}
		// "targets[1]: " + a joined list: each problem of the list under that prefix.
		if inner := errors.Unwrap(e); inner != nil {
			if _, ok := inner.(interface{ Unwrap() []error }); ok && strings.HasSuffix(e.Error(), inner.Error()) {
				walk(prefix+strings.TrimSuffix(e.Error(), inner.Error()), inner)
				return
			}
		}
		out = append(out, fmt.Errorf("%s%w", prefix, e))
	}
	walk(prefix, err)
	return out
}

// defaultPaths are OpenAI's paths of the route types the targets serve.
func defaultPaths(targets []aiproxy.Target) []string {
	var paths []string
	for rt, path := range routePaths {
		if slices.ContainsFunc(targets, func(t aiproxy.Target) bool { return cmp.Or(t.RouteType, provider.Chat) == rt }) {
			paths = append(paths, strings.Fields(path)...)
		}
	}
	slices.Sort(paths)
	return paths
}

// logMounts logs where each plugin is served.
func (g *gateway) logMounts(logger *slog.Logger) {
	for _, p := range g.plugins {
		logger.Info("mounted", "plugin", p.where, "paths", strings.Join(p.paths, ","), "targets", len(p.cfg.Targets))
	}
}

// acquire counts a request in; false means the gateway is retired and drained.
func (g *gateway) acquire() bool {
	for {
		n := g.refs.Load()
		if n == 0 {
			return false
		}
		if g.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release counts a request (or the gateway's being current) out.
func (g *gateway) release() {
	if g.refs.Add(-1) == 0 {
		close(g.drained)
	}
}

// close closes the proxies and the files' resolvers.
func (g *gateway) close() {
	for _, p := range g.plugins {
		p.proxy.Close()
	}
	g.file.Close()
}

// notMounted answers a request for a path that no plugin is mounted on (or with a method
// its plugin does not take) as the proxies answer theirs: an OpenAI-format 404 that names
// the method and path, and the paths served.
func notMounted(paths []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msg := r.Method + " " + r.URL.Path + " is not served here; the mounted paths are " + strings.Join(paths, ", ")
		body, _ := json.Marshal(map[string]any{"error": map[string]any{
			"message": msg, "type": "invalid_request_error", "param": nil, "code": "unknown_url"}})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write(body)
	})
}
