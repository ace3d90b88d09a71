package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
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
          model: {provider: openai, name: gpt-4o-mini, model_alias: fast, options: {upstream_url: UPSTREAM}}
plugins:
- name: ai-proxy-advanced
  config:
    targets:
    - route_type: llm/v1/chat
      auth: {header_name: Authorization, header_value: "{vault://keys/upstream}"}
      model: {provider: openai, name: gpt-4o, options: {upstream_url: UPSTREAM}}
`

// vaultsFile is a second file, merged with deckFile: the vault of its references.
const vaultsFile = `_format_version: "3.0"
vaults:
- name: env
  prefix: keys
  config: {prefix: AIPROXY_CMD_TEST_}
`

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// served is a server that run started.
type served struct {
	addr   string
	out    *logs
	reload chan os.Signal
	cancel context.CancelFunc
	done   chan error
}

// startServe runs the serve command with args until the test ends.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{out: &logs{}, reload: make(chan os.Signal, 1), cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, append(args, "-listen", "127.0.0.1:0"), io.Discard, s.out, s.reload) }()
	t.Cleanup(func() { s.stop(t) })
	listening := regexp.MustCompile(`msg=listening addr=(\S+)`)
	require.Eventually(t, func() bool {
		m := listening.FindStringSubmatch(s.out.String())
		if m != nil {
			s.addr = m[1]
		}
		return m != nil
	}, 5*time.Second, 10*time.Millisecond, "no listening line in the log:\n%s", s.out)
	return s
}

// stop cancels the server and returns what run returned.
func (s *served) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err // for a later stop
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after the context was cancelled")
		return nil
	}
}

// ask posts a chat request to path and returns the status and the model that served.
func (s *served) ask(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Post("http://"+s.addr+path, "application/json",
		strings.NewReader(`{"messages":[{"role":"user","content":"What is 1+1?"}]}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Kong-LLM-Model")
}

// get returns the status and body of a GET.
func (s *served) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + s.addr + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// upstream starts a fake OpenAI API that requires the key deckFile's route plugin sends.
func upstream(t *testing.T) *aiproxytest.OpenAI {
	up := aiproxytest.NewOpenAI()
	t.Cleanup(up.Close)
	up.APIKey = "sk-secret-upstream-key"
	return up
}

func TestServesMergedFilesUntilCancelled(t *testing.T) {
	up := upstream(t)
	t.Setenv("AIPROXY_CMD_TEST_UPSTREAM", "Bearer sk-secret-upstream-key") // the global plugin's key, from the env vault of the second file
	dir := t.TempDir()
	deck := writeFile(t, dir, "kong.yaml", strings.ReplaceAll(deckFile, "UPSTREAM", up.ChatURL()))
	vaults := writeFile(t, dir, "vaults.yaml", vaultsFile)
	s := startServe(t, "serve", "-config", deck, "-config", vaults)

	status, model := s.ask(t, "/fast")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "openai/gpt-4o-mini", model, "the route's plugin serves the route's path")
	status, model = s.ask(t, "/v1/chat/completions")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "openai/gpt-4o", model, "the global plugin serves OpenAI's chat path")
	for _, path := range []string{"/elsewhere", "/v1/embeddings", "/v1/completions"} {
		status, _ = s.ask(t, path)
		assert.Equal(t, http.StatusNotFound, status, "%s: the plugins' targets serve chat only", path)
	}
	status, body := s.get(t, "/elsewhere")
	assert.Equal(t, http.StatusNotFound, status)
	var notFound struct {
		Error struct{ Message, Type, Code string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &notFound), "an OpenAI-format error: %s", body)
	assert.Equal(t, "unknown_url", notFound.Error.Code)
	assert.Contains(t, notFound.Error.Message, "GET /elsewhere")
	assert.Contains(t, notFound.Error.Message, "/fast", "it names the mounted paths")
	assert.Contains(t, s.out.String(), `paths=/v1/chat/completions targets=1`)
	assert.NotContains(t, s.out.String(), "/v1/embeddings", "no path of a route type the targets do not serve is mounted")

	require.NoError(t, s.stop(t))
	assert.Contains(t, s.out.String(), "shutting down")
	assert.NotContains(t, s.out.String(), "sk-secret-upstream-key")
}

// Without a subcommand, aiproxy serves, with the flags it always had.
func TestServeIsTheDefaultCommand(t *testing.T) {
	up := upstream(t)
	t.Setenv("AIPROXY_CMD_TEST_UPSTREAM", "Bearer sk-secret-upstream-key")
	config := writeFile(t, t.TempDir(), "kong.yaml", strings.ReplaceAll(deckFile, "UPSTREAM", up.ChatURL())+vaultsFile[len(`_format_version: "3.0"`)+1:])
	s := startServe(t, "-config", config)
	status, model := s.ask(t, "/fast")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "openai/gpt-4o-mini", model)
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]string{
		writeFile(t, dir, "typo.yaml", strings.Replace(deckFile, "route_type", "route_typ", 1)):                                                                                                                                                                       "route_typ: unknown field",
		writeFile(t, dir, "disabled.yaml", "plugins:\n- name: ai-proxy-advanced\n  enabled: false\n  config: {targets: [{route_type: llm/v1/chat, model: {provider: openai}}]}\n"):                                                                                    "no enabled ai-proxy-advanced plugin",
		writeFile(t, dir, "twice.yaml", "plugins:\n- name: ai-proxy-advanced\n  config: {targets: [{route_type: llm/v1/chat, model: {provider: openai}}]}\n- name: ai-proxy-advanced\n  config: {targets: [{route_type: llm/v1/chat, model: {provider: openai}}]}\n"): "path /v1/chat/completions is served by both",
		filepath.Join(dir, "missing.yaml"): "missing.yaml",
	}
	for config, want := range tests {
		err := run(context.Background(), []string{"-config", config, "-listen", "127.0.0.1:0"}, io.Discard, &logs{}, nil)
		if assert.Error(t, err, config) {
			assert.Contains(t, err.Error(), want)
		}
	}
	// Plugins of different route types may share the global mount.
	both := writeFile(t, dir, "both.yaml", "plugins:\n- name: ai-proxy-advanced\n  config: {targets: [{route_type: llm/v1/chat, model: {provider: openai}}]}\n"+
		"- name: ai-proxy-advanced\n  config: {targets: [{route_type: llm/v1/embeddings, model: {provider: openai}}]}\n")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"validate", "-config", both}, &out, io.Discard, nil))
	assert.Contains(t, out.String(), "plugins[0]) on /v1/chat/completions: 1 target(s)")
	assert.Contains(t, out.String(), "plugins[1]) on /v1/embeddings: 1 target(s)")
}
