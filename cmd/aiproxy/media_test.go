package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A global plugin of audio and files targets is mounted at OpenAI's paths of those route
// types: POST for speech, any method under /v1/files.
func TestGatewayMountsMediaPaths(t *testing.T) {
	var seen []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path)
		if r.URL.Path == "/v1/audio/speech" {
			w.Header().Set("Content-Type", "audio/mpeg")
			w.Write([]byte("ID3\x00audio"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[]}`)
	}))
	defer up.Close()
	file := writeFile(t, t.TempDir(), "kong.yaml", `_format_version: "3.0"
plugins:
- name: ai-proxy-advanced
  config:
    targets:
    - route_type: audio/v1/audio/speech
      auth: {header_name: Authorization, header_value: Bearer k}
      model: {provider: openai, name: tts-1, options: {upstream_url: "`+up.URL+`"}}
    - route_type: llm/v1/files
      auth: {header_name: Authorization, header_value: Bearer k}
      model: {provider: openai, options: {upstream_url: "`+up.URL+`"}}
`)
	g, err := build(loadOptions{files: []string{file}, logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	defer g.close()
	assert.Equal(t, []string{"/v1/audio/speech", "/v1/files"}, g.plugins[0].paths)
	do := func(method, path, body string) (int, string) {
		rec := httptest.NewRecorder()
		g.mux.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		return rec.Code, rec.Body.String()
	}
	st, out := do(http.MethodPost, "/v1/audio/speech", `{"model":"tts-1","input":"hi","voice":"alloy"}`)
	assert.Equal(t, 200, st)
	assert.Equal(t, "ID3\x00audio", out)
	st, _ = do(http.MethodGet, "/v1/files", "")
	assert.Equal(t, 200, st)
	st, _ = do(http.MethodDelete, "/v1/files/file-1", "")
	assert.Equal(t, 200, st)
	assert.Equal(t, []string{"POST /v1/audio/speech", "GET /v1/files", "DELETE /v1/files/file-1"}, seen)
}
