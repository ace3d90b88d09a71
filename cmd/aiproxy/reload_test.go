package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chatFile is a global plugin with one target of model, at url.
func chatFile(model, url string) string {
	return `plugins:
- name: ai-proxy-advanced
  config:
    targets:
    - route_type: llm/v1/chat
      model: {provider: openai, name: ` + model + `, options: {upstream_url: ` + url + `}}
`
}

// slowUpstream is a fake OpenAI API that takes d to answer, unless the client leaves.
func slowUpstream(t *testing.T, d time.Duration) string {
	up := upstream(t)
	up.APIKey = ""
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
			up.Config.Handler.ServeHTTP(w, r)
		case <-r.Context().Done(): // the proxy went away
		}
	}))
	t.Cleanup(slow.Close)
	return slow.URL + "/v1/chat/completions"
}

// Requests in flight during reloads finish on the configuration they started on; none is
// lost, and each retired configuration is closed once its requests are done. A bad file is
// logged and the configuration before it keeps serving.
func TestReloadUnderLoad(t *testing.T) {
	url := slowUpstream(t, 150*time.Millisecond)
	config := filepath.Join(t.TempDir(), "kong.yaml")
	require.NoError(t, os.WriteFile(config, []byte(chatFile("model-0", url)), 0o600))
	s := startServe(t, "-config", config, "-watch", "0")

	const clients = 16
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	models := map[string]int{}
	for range clients {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post("http://"+s.addr+"/v1/chat/completions", "application/json",
					strings.NewReader(`{"messages":[{"role":"user","content":"hi"}]}`))
				if !assert.NoError(t, err) {
					return
				}
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				models[resp.Header.Get("X-Kong-LLM-Model")]++
				mu.Unlock()
			}
		})
	}
	for i := 1; i <= 5; i++ {
		time.Sleep(100 * time.Millisecond) // requests are in flight
		require.NoError(t, os.WriteFile(config, []byte(chatFile("model-"+string(rune('0'+i)), url)), 0o600))
		s.reload <- syscall.SIGHUP
		require.Eventually(t, func() bool { return strings.Count(s.out.String(), "msg=\"reloaded the configuration\"") == i },
			5*time.Second, 5*time.Millisecond)
		require.Eventually(t, func() bool { // the new configuration serves before the next reload
			mu.Lock()
			defer mu.Unlock()
			return models["openai/model-"+string(rune('0'+i))] > 0
		}, 5*time.Second, 5*time.Millisecond)
	}
	// A bad file: logged, and model-5 keeps serving.
	require.NoError(t, os.WriteFile(config, []byte("plugins: [{name: ai-proxy-advanced, config: {targets: []}}]"), 0o600))
	s.reload <- syscall.SIGHUP
	require.Eventually(t, func() bool {
		return strings.Contains(s.out.String(), "reload failed; the previous configuration keeps serving")
	},
		5*time.Second, 5*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()

	total := 0
	for _, n := range statuses {
		total += n
	}
	assert.Equal(t, map[int]int{http.StatusOK: total}, statuses, "no request lost")
	for i := range 6 {
		assert.Positive(t, models["openai/model-"+string(rune('0'+i))], "configuration %d served: %v", i, models)
	}
	assert.Len(t, models, 6, "%v", models)
	require.Eventually(t, func() bool {
		return strings.Count(s.out.String(), "the previous configuration is closed: its requests have finished") == 5
	}, 5*time.Second, 10*time.Millisecond, "each retired configuration is closed once drained")
	status, model := s.ask(t, "/v1/chat/completions")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "openai/model-5", model)
	_, metrics := s.get(t, "/metrics")
	assert.Contains(t, metrics, `aiproxy_config_reloads_total{otel_scope_name="github.com/aiproxy/aiproxy/cmd/aiproxy",otel_scope_schema_url="",otel_scope_version="",result="success"} 5`)
}

// A change to a -config file reloads it.
func TestReloadOnFileChange(t *testing.T) {
	up := upstream(t)
	up.APIKey = ""
	config := filepath.Join(t.TempDir(), "kong.yaml")
	require.NoError(t, os.WriteFile(config, []byte(chatFile("before", up.ChatURL())), 0o600))
	s := startServe(t, "-config", config, "-watch", "20ms")
	_, model := s.ask(t, "/v1/chat/completions")
	assert.Equal(t, "openai/before", model)
	require.NoError(t, os.WriteFile(config, []byte(chatFile("after", up.ChatURL())), 0o600))
	require.Eventually(t, func() bool { _, model := s.ask(t, "/v1/chat/completions"); return model == "openai/after" },
		5*time.Second, 20*time.Millisecond)
	assert.Contains(t, s.out.String(), "reason=\"a configuration file changed\"")
}

// The built binary: SIGHUP reloads; SIGTERM with a request stalled upstream waits
// -shutdown-timeout, then says that shutdown timed out and exits 1.
func TestProcessSignals(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "aiproxy")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	url := slowUpstream(t, 10*time.Second)
	fast := upstream(t)
	fast.APIKey = ""
	config := filepath.Join(t.TempDir(), "kong.yaml")
	require.NoError(t, os.WriteFile(config, []byte(chatFile("fast", fast.ChatURL())), 0o600))
	logs := &logs{}
	cmd := exec.Command(bin, "serve", "-config", config, "-listen", "127.0.0.1:0", "-shutdown-timeout", "300ms", "-watch", "0")
	cmd.Stderr = logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	s := &served{out: logs}
	require.Eventually(t, func() bool {
		_, after, ok := strings.Cut(logs.String(), "msg=listening addr=")
		if ok {
			s.addr, _, _ = strings.Cut(after, " ")
		}
		return ok
	}, 10*time.Second, 10*time.Millisecond)
	_, model := s.ask(t, "/v1/chat/completions")
	assert.Equal(t, "openai/fast", model)

	require.NoError(t, os.WriteFile(config, []byte(chatFile("stalled", url)), 0o600))
	require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "reloaded the configuration") }, 5*time.Second, 10*time.Millisecond)

	go func() {
		resp, err := http.Post("http://"+s.addr+"/v1/chat/completions", "application/json", strings.NewReader(`{"messages":[{"role":"user","content":"hi"}]}`))
		if err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(200 * time.Millisecond) // the request is stalled upstream
	start := time.Now()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	err = cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Less(t, time.Since(start), 5*time.Second, "shutdown waits -shutdown-timeout, not for the upstream")
	assert.Contains(t, logs.String(), `level=ERROR msg="shutdown timed out: requests still in flight were cut off" timeout=300ms`)
	assert.Contains(t, logs.String(), "aiproxy: shutdown timed out after 300ms: requests still in flight were cut off (raise -shutdown-timeout to let them finish)")
}
