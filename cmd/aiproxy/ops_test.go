package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// semanticFile is seed 000's shape: the semantic balancer with the offline embedder and a
// CATCHALL, keys from the env vault.
const semanticFile = `_format_version: "3.0"
plugins:
- name: ai-proxy-advanced
  config:
    vectordb: {dimensions: 1536, distance_metric: cosine, strategy: memory, threshold: 0.8}
    balancer: {algorithm: semantic}
    targets:
    - route_type: llm/v1/chat
      auth: {header_name: Authorization, header_value: "{vault://keys/upstream}"}
      model: {provider: openai, name: gpt-3.5-turbo, options: {upstream_url: UPSTREAM}}
      description: programming, coding, software development, Python, JavaScript, APIs, debugging
    - route_type: llm/v1/chat
      auth: {header_name: Authorization, header_value: "{vault://keys/upstream}"}
      model: {provider: openai, name: gpt-4o, options: {upstream_url: UPSTREAM}}
      description: mathematics, algebra, calculus, trigonometry, equations, integrals, derivatives, theorems
    - route_type: llm/v1/chat
      auth: {header_name: Authorization, header_value: "{vault://keys/upstream}"}
      model: {provider: mistral, name: mistral-tiny, options: {mistral_format: openai, upstream_url: UPSTREAM}}
      description: CATCHALL
`

func TestOperationalEndpoints(t *testing.T) {
	up := upstream(t)
	dir := t.TempDir()
	deck := writeFile(t, dir, "kong.yaml", strings.ReplaceAll(deckFile, "UPSTREAM", up.ChatURL()))
	semantic := writeFile(t, dir, "semantic.yaml", strings.ReplaceAll(strings.Replace(semanticFile, "plugins:\n- name", "routes:\n- {name: smart, paths: [/smart]}\nplugins:\n- route: smart\n  name", 1), "UPSTREAM", up.ChatURL()))
	vaults := writeFile(t, dir, "vaults.yaml", vaultsFile)
	s := startServe(t, "-config", deck, "-config", semantic, "-config", vaults)

	status, body := s.get(t, "/healthz")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "ok\n", body)

	// The env vault's variable is not set: not ready, and the reference is named.
	status, body = s.get(t, "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, status)
	var ready readiness
	require.NoError(t, json.Unmarshal([]byte(body), &ready), body)
	assert.Equal(t, "not ready", ready.Status)
	require.Len(t, ready.Plugins, 3)
	assert.Equal(t, "ok", ready.Plugins[1].Secrets, "the route plugin's key is a literal")
	assert.Contains(t, ready.Plugins[0].Secrets, "targets[0].auth.header_value: aiproxy: resolving {vault://keys/upstream}: environment variable AIPROXY_CMD_TEST_UPSTREAM is not set")
	assert.Equal(t, "ok", ready.Plugins[2].Semantic, "the offline embedder and the memory store answer")

	t.Setenv("AIPROXY_CMD_TEST_UPSTREAM", "Bearer sk-secret-upstream-key")
	status, body = s.get(t, "/readyz")
	assert.Equal(t, http.StatusOK, status, body)
	assert.NotContains(t, body, "sk-secret-upstream-key")

	// Models: aliases and model names of every mounted plugin, in OpenAI's list format.
	status, body = s.get(t, "/v1/models")
	assert.Equal(t, http.StatusOK, status)
	var models struct {
		Object string
		Data   []struct {
			ID, Object string
			OwnedBy    string `json:"owned_by"`
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &models))
	assert.Equal(t, "list", models.Object)
	var ids []string
	for _, m := range models.Data {
		ids = append(ids, m.ID+"@"+m.OwnedBy)
		assert.Equal(t, "model", m.Object)
	}
	assert.Equal(t, []string{"fast@openai", "gpt-3.5-turbo@openai", "gpt-4o@openai", "gpt-4o-mini@openai", "mistral-tiny@mistral"}, ids)

	// Traffic, then the metrics: per plugin and route, in Prometheus's text format.
	for range 3 {
		status, _ := s.ask(t, "/fast")
		require.Equal(t, http.StatusOK, status)
	}
	status, model := s.ask(t, "/smart")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "mistral/mistral-tiny", model, `"What is 1+1?" matches no description: the CATCHALL`)
	status, body = s.get(t, "/metrics")
	require.Equal(t, http.StatusOK, status)
	parser := expfmt.NewTextParser(pmodel.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err, body)
	duration := families["http_server_request_duration_seconds"]
	require.NotNil(t, duration, body)
	counts := map[string]uint64{}
	for _, m := range duration.GetMetric() {
		counts[labels(m)["http_route"]+" "+labels(m)["http_response_status_code"]] += m.GetHistogram().GetSampleCount()
		assert.Equal(t, "POST", labels(m)["http_request_method"])
	}
	assert.Equal(t, map[string]uint64{"/fast 200": 3, "/smart 200": 1}, counts)
	for _, name := range []string{"http_server_active_requests", "go_goroutines", "process_cpu_seconds_total",
		"gen_ai_client_operation_duration_seconds", "aiproxy_attempts_total", "aiproxy_requests_in_flight"} {
		assert.Contains(t, families, name)
	}
}

// labels returns a metric's labels by name.
func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// validate reports every problem at once, with its path, and exits 1 (invalidError).
func TestValidate(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", `_format_version: "3.0"
plugins:
- name: ai-proxy-advanced
  route: nowhere
  config:
    targets:
    - {route_type: llm/v1/chat, weight: heavy, model: {provider: openai, optoins: {}}}
- name: ai-proxy-advanced
  config:
    balancer: {algorithm: fastest}
    targets:
    - {route_type: llm/v1/chat, model: {provider: openia, name: gpt-4o}}
    - {route_type: llm/v1/chat, model: {provider: openai, name: gpt-4o}, auth: {header_value: "{vault://nowhere/key}"}}
`)
	var out bytes.Buffer
	err := run(context.Background(), []string{"validate", "-config", bad}, &out, io.Discard, nil)
	var invalid *invalidError
	require.True(t, errors.As(err, &invalid), "%v", err)
	for _, want := range []string{
		`plugins[0].config.targets[0].weight: expected an integer, got the string "heavy"`,
		"plugins[0].config.targets[0].model.optoins: unknown field (did you mean options?)",
	} {
		assert.Contains(t, out.String(), want)
	}
	// The file parses: the plugins' own problems, and the scope warning.
	fixed := writeFile(t, dir, "fixed.yaml", strings.NewReplacer("weight: heavy, ", "", "optoins", "options").Replace(readFile(t, bad)))
	out.Reset()
	err = run(context.Background(), []string{"validate", "-config", fixed}, &out, io.Discard, nil)
	require.True(t, errors.As(err, &invalid), "%v", err)
	assert.Equal(t, 4, invalid.problems, out.String())
	for _, want := range []string{
		`level=WARN msg="plugin not mounted: route \"nowhere\" is not in the configuration, and Kong would apply it to that traffic only" plugin="ai-proxy-advanced (plugins[0])"`,
		`configuration invalid: 4 problem(s)`,
		`plugins[1].config.balancer.algorithm "fastest" is not one of`,
		`plugins[1].config.targets[0]: model.provider "openia" is not supported`,
		`plugins[1].config.targets[1]: auth.header_name and auth.header_value go together`,
		`plugins[1].config.targets[1].auth.header_value: {vault://nowhere/key} names vault "nowhere", which is not configured`,
	} {
		assert.Contains(t, out.String(), want)
	}
	assert.NotContains(t, out.String(), "time=")

	// -secrets resolves every reference.
	good := writeFile(t, dir, "good.yaml", strings.ReplaceAll(deckFile, "UPSTREAM", "http://127.0.0.1:1/v1/chat/completions")+vaultsFile[len(`_format_version: "3.0"`)+1:])
	out.Reset()
	err = run(context.Background(), []string{"validate", "-secrets", "-config", good}, &out, io.Discard, nil)
	require.True(t, errors.As(err, &invalid), "%v", err)
	assert.Contains(t, out.String(), "plugins[0].config.targets[0].auth.header_value: aiproxy: resolving {vault://keys/upstream}: environment variable AIPROXY_CMD_TEST_UPSTREAM is not set")
	t.Setenv("AIPROXY_CMD_TEST_UPSTREAM", "Bearer sk-secret-upstream-key")
	out.Reset()
	require.NoError(t, run(context.Background(), []string{"validate", "-secrets", "-config", good}, &out, io.Discard, nil))
	assert.Contains(t, out.String(), "configuration OK: 2 plugin(s) to serve")
	assert.Contains(t, out.String(), "ai-proxy-advanced (services[0].routes[0].plugins[0]) on /fast: 1 target(s)")
	assert.NotContains(t, out.String(), "sk-secret-upstream-key")
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// route prints every description's distance, the threshold and the decision.
func TestRoute(t *testing.T) {
	config := writeFile(t, t.TempDir(), "kong.yaml", strings.ReplaceAll(semanticFile, "UPSTREAM", "http://127.0.0.1:1/v1/chat/completions")+vaultsFile[len(`_format_version: "3.0"`)+1:])
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"route", "-config", config, "What is the derivative of sin(x)?"}, &out, io.Discard, nil))
	got := out.String()
	for _, want := range []string{
		"threshold: 0.8000 (cosine distance: a description matches at or below it)",
		"mathematics, algebra, calculus, trigonometry, equations, in…  openai/gpt-4o",
		`decision: "mathematics, algebra, calculus, trigonometry, equations, in…" at 0.`,
		"→ openai/gpt-4o\n",
	} {
		assert.Contains(t, got, want)
	}
	assert.Regexp(t, `0\.\d{4} ✓  mathematics`, got, "the match within the threshold is marked")

	out.Reset()
	require.NoError(t, run(context.Background(), []string{"route", "-config", config, "What is Wulfila Bible?"}, &out, io.Discard, nil))
	assert.Contains(t, out.String(), "decision: nothing within the threshold → CATCHALL: mistral/mistral-tiny")
	assert.NotContains(t, out.String(), "✓")

	err := run(context.Background(), []string{"route", "-config", writeFile(t, t.TempDir(), "rr.yaml", deckFile+vaultsFile[len(`_format_version: "3.0"`)+1:]), "hello"}, &out, io.Discard, nil)
	assert.ErrorContains(t, err, "no plugin to serve uses the semantic balancer")
}
