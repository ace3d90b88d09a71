package aiproxy_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/provider"
)

// FuzzRequestBody: whatever a client sends, the proxy answers without panicking, with either
// the upstream's answer or an OpenAI-format error. (The in-memory upstream answers JSON even
// to a streaming request, which the proxy reports as a 502.)
func FuzzRequestBody(f *testing.F) {
	for _, s := range []string{
		`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`,
		`{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stream":true}`,
		`{"messages":"nope"}`, `{"messages":[]}`, `[]`, `{`, ``, `{"model":7}`,
		`{"messages":[{"role":"user","content":"\ud800"}],"max_tokens":-1}`,
	} {
		f.Add(s)
	}
	p, err := aiproxy.New(aiproxy.Config{Transport: memoryUpstream{}, Targets: []aiproxy.Target{{
		Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: "http://upstream/v1/chat/completions"}},
	}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { p.Close() })
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body)))
		if rec.Code == http.StatusOK {
			return
		}
		var e struct {
			Error struct{ Message, Type string } `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
			t.Fatalf("status %d for %q without an OpenAI-format error: %s", rec.Code, body, rec.Body)
		}
	})
}
