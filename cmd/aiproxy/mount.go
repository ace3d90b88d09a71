package main

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/kong"
)

// defaultPaths are where a plugin without routes is mounted: OpenAI's endpoints.
var defaultPaths = []string{"/v1/chat/completions", "/v1/completions", "/v1/embeddings"}

// mount builds a Proxy for each enabled plugin and routes its paths to it. A path is a
// prefix, as in Kong. closeAll closes the proxies.
func mount(f *kong.File, logger *slog.Logger) (mux *http.ServeMux, closeAll func(), err error) {
	mux = http.NewServeMux()
	var proxies []*aiproxy.Proxy
	closeAll = func() {
		for _, p := range proxies {
			p.Close()
		}
	}
	owner := map[string]string{} // path -> plugin
	for _, pl := range f.Plugins {
		where := pl.Name + " (" + cmp.Or(pl.Path, "config") + ")"
		switch {
		case !pl.Enabled:
			logger.Info("plugin disabled, not mounted", "plugin", where)
			continue
		case pl.Scope.Consumer != "" || pl.Scope.ConsumerGroup != "":
			logger.Warn("consumer-scoped plugin not mounted: aiproxy does not identify consumers", "plugin", where)
			continue
		}
		paths := pl.Paths
		if len(paths) == 0 {
			paths = defaultPaths
		}
		cfg := pl.Config
		cfg.Logger = logger.With("plugin", pl.Name)
		p, err := aiproxy.New(cfg)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("%s: %w", where, err)
		}
		proxies = append(proxies, p)
		for _, path := range paths {
			if !strings.HasPrefix(path, "/") {
				closeAll()
				return nil, nil, fmt.Errorf("%s: route path %q is not supported: use a plain path (regular expressions are not)", where, path)
			}
			for _, pattern := range []string{path, strings.TrimSuffix(path, "/") + "/"} {
				if other, ok := owner[pattern]; ok && other != where {
					closeAll()
					return nil, nil, fmt.Errorf("path %s is served by both %s and %s", pattern, other, where)
				} else if !ok {
					owner[pattern] = where
					mux.Handle("POST "+pattern, p)
				}
			}
			logger.Info("mounted", "plugin", where, "path", path, "targets", len(cfg.Targets))
		}
	}
	if len(proxies) == 0 {
		return nil, nil, errors.New("no enabled ai-proxy-advanced plugin to serve")
	}
	return mux, closeAll, nil
}
