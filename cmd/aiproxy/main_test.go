package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/aiproxytest"
)

// logs is a log sink that tests can read while the server writes to it.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

const deckFile = `_format_version: "3.0"
services:
- name: chat
  url: http://unused.invalid
  routes:
  - name: fast-route
    paths: [/fast]
    plugins:
    - name: ai-proxy-advanced
      config:
        targets:
        - route_type: llm/v1/chat
          auth: {header_name: Authorization, header_value: Bearer sk-secret-upstream-key}
          model: {provider: openai, name: gpt-4o-mini, options: {upstream_url: UPSTREAM}}
vaults:
- name: env
  prefix: keys
  config: {prefix: AIPROXY_CMD_TEST_}
plugins:
- name: ai-proxy-advanced
  config:
    targets:
    - route_type: llm/v1/chat
      auth: {header_name: Authorization, header_value: "{vault://keys/upstream}"}
      model: {provider: openai, name: gpt-4o, options: {upstream_url: UPSTREAM}}
`

func TestServesTheConfigUntilCancelled(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	up.APIKey = "sk-secret-upstream-key"
	t.Setenv("AIPROXY_CMD_TEST_UPSTREAM", "Bearer sk-secret-upstream-key") // the global plugin's key, from the file's env vault
	config := filepath.Join(t.TempDir(), "kong.yaml")
	require.NoError(t, os.WriteFile(config, []byte(strings.ReplaceAll(deckFile, "UPSTREAM", up.ChatURL())), 0o600))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &logs{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-config", config, "-listen", "127.0.0.1:0"}, out) }()

	listening := regexp.MustCompile(`msg=listening addr=(\S+)`)
	var addr string
	require.Eventually(t, func() bool {
		m := listening.FindStringSubmatch(out.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	}, 5*time.Second, 10*time.Millisecond, "no listening line in the log:\n%s", out)

	ask := func(path string) (int, string) {
		resp, err := http.Post("http://"+addr+path, "application/json",
			strings.NewReader(`{"messages":[{"role":"user","content":"What is 1+1?"}]}`))
		require.NoError(t, err)
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("X-Kong-LLM-Model")
	}
	status, model := ask("/fast")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "openai/gpt-4o-mini", model, "the route's plugin serves the route's path")
	status, model = ask("/v1/chat/completions")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "openai/gpt-4o", model, "the global plugin serves OpenAI's paths")
	status, _ = ask("/elsewhere")
	assert.Equal(t, http.StatusNotFound, status)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after the context was cancelled")
	}
	assert.Contains(t, out.String(), "shutting down")
	assert.NotContains(t, out.String(), "sk-secret-upstream-key")
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	tests := map[string]string{
		write("typo.yaml", strings.Replace(deckFile, "route_type", "route_typ", 1)):                                                                                                                                                                       "route_typ: unknown field",
		write("disabled.yaml", "plugins:\n- name: ai-proxy-advanced\n  enabled: false\n  config: {targets: [{route_type: llm/v1/chat, model: {provider: openai}}]}\n"):                                                                                    "no enabled ai-proxy-advanced plugin",
		write("twice.yaml", "plugins:\n- name: ai-proxy-advanced\n  config: {targets: [{route_type: llm/v1/chat, model: {provider: openai}}]}\n- name: ai-proxy-advanced\n  config: {targets: [{route_type: llm/v1/chat, model: {provider: openai}}]}\n"): "path /v1/chat/completions is served by both",
		filepath.Join(dir, "missing.yaml"): "missing.yaml",
	}
	for config, want := range tests {
		err := run(context.Background(), []string{"-config", config, "-listen", "127.0.0.1:0"}, &logs{})
		if assert.Error(t, err, config) {
			assert.Contains(t, err.Error(), want)
		}
	}
}
