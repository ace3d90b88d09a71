package main

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/aiproxy/aiproxy"
)

// readyTimeout bounds the checks of one /readyz request.
const readyTimeout = 10 * time.Second

// readiness is /readyz's body.
type readiness struct {
	// Status is "ready" (HTTP 200) or "not ready" (HTTP 503).
	Status string `json:"status"`
	// Files are the configuration files; LoadedAt is when the serving configuration was
	// built from them, and LastReloadError why the last reload failed, if it did (the
	// previous configuration then keeps serving).
	Files           []string      `json:"files"`
	LoadedAt        time.Time     `json:"loaded_at"`
	LastReloadError string        `json:"last_reload_error,omitempty"`
	Plugins         []pluginCheck `json:"plugins"`
}

// pluginCheck is the readiness of one mounted plugin.
type pluginCheck struct {
	Plugin string   `json:"plugin"`
	Paths  []string `json:"paths"`
	// Secrets is "ok" when every {vault://...} reference resolves, else the errors, which
	// name fields and references, never values.
	Secrets string `json:"secrets"`
	// Semantic, for the semantic balancer, is "ok" when its embedder embeds and its vector
	// store answers a search, else the error.
	Semantic string `json:"semantic,omitempty"`
}

// ready answers /readyz: 200 when the configuration is loaded, every secret reference
// resolves and every semantic plugin's embedder and vector store answer; 503 otherwise.
func (s *server) ready(w http.ResponseWriter, r *http.Request, g *gateway) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	s.mu.Lock()
	body := readiness{Status: "ready", Files: s.opts.files, LoadedAt: s.loadedAt}
	if s.lastErr != nil {
		body.LastReloadError = s.lastErr.Error()
	}
	s.mu.Unlock()
	ok := func(err error) string {
		if err != nil {
			body.Status = "not ready"
			return err.Error()
		}
		return "ok"
	}
	for _, p := range g.plugins {
		c := pluginCheck{Plugin: p.where, Paths: p.paths, Secrets: ok(p.proxy.ValidateSecrets(ctx))}
		if p.cfg.Balancer.Algorithm == aiproxy.Semantic {
			_, err := p.proxy.Explain(ctx, "readiness probe") // embeds (once: cached) and searches the store
			c.Semantic = ok(err)
		}
		body.Plugins = append(body.Plugins, c)
	}
	status := http.StatusOK
	if body.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, body)
}

// model is an entry of OpenAI's model list.
type model struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// models answers GET /v1/models in OpenAI's list format: the model aliases and model names
// the mounted plugins serve, each owned by its first target's provider.
func (g *gateway) models(w http.ResponseWriter) {
	var list []model
	seen := map[string]bool{}
	for _, p := range g.plugins {
		for _, t := range p.cfg.Targets {
			for _, id := range []string{t.Model.Alias, t.Model.Name} {
				if id != "" && !seen[id] {
					seen[id] = true
					list = append(list, model{ID: id, Object: "model", OwnedBy: cmp.Or(t.Model.Provider, "aiproxy")})
				}
			}
		}
	}
	slices.SortFunc(list, func(a, b model) int { return cmp.Compare(a.ID, b.ID) })
	if list == nil {
		list = []model{} // "data": [], not null
	}
	writeJSON(w, http.StatusOK, struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{"list", list})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
