package aiproxy_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/provider"
)

// FuzzClientAPIs: whatever path and body a client sends (the Responses API, Anthropic's
// Messages, models, unknown paths), the proxy answers without panicking, with the upstream's
// answer translated or an error in the client's format: Anthropic's for /messages, OpenAI's
// otherwise.
func FuzzClientAPIs(f *testing.F) {
	for _, s := range []struct{ path, body string }{
		{"/v1/responses", `{"model":"gpt-4o","input":"hi"}`},
		{"/v1/responses", `{"model":"gpt-4o","input":[{"role":"user","content":[{"type":"input_text","text":"hi"}]}],"previous_response_id":"r"}`},
		{"/v1/messages", `{"model":"gpt-4o","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"top_k":3}`},
		{"/v1/messages", `{"model":"gpt-4o","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}}]}]}`},
		{"/v1/models", ``}, {"/v1/audio/speech", `{}`}, {"/anything", `{"model":"gpt-4o","max_tokens":1,"messages":[]}`},
		{"/v1/responses", `{"model":7}`}, {"/v1/messages", `[`},
	} {
		f.Add(s.path, s.body)
	}
	p, err := aiproxy.New(aiproxy.Config{LLMFormat: "anthropic", Transport: memoryUpstream{}, Targets: []aiproxy.Target{{
		Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: "http://upstream/v1/chat/completions"}},
	}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { p.Close() })
	f.Fuzz(func(t *testing.T, path, body string) {
		if u, err := url.ParseRequestURI(path); err != nil || u.Path != path || strings.ContainsAny(path, " ") {
			return // not a path a server would hand the Handler
		}
		method := http.MethodPost
		if strings.HasSuffix(path, "/models") {
			method = http.MethodGet
		}
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		if rec.Code == http.StatusOK {
			return
		}
		var e struct {
			Type  string
			Error struct{ Message, Type string } `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
			t.Fatalf("status %d for %s %q without an error body: %s", rec.Code, path, body, rec.Body)
		}
		if strings.HasSuffix(path, "/messages") && e.Type != "error" {
			t.Fatalf("an Anthropic client got a non-Anthropic error: %s", rec.Body)
		}
	})
}
