package kong

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
)

// A configuration's problems are all reported at once, each with its path, so that one run of
// `aiproxy validate` lists everything to fix.
func TestEveryErrorAtOnce(t *testing.T) {
	doc := `_format_version: "3.0"
plugins:
- name: ai-proxy-advanced
  confg: {}
  config:
    balancer: {retries: 2.5, slots: 0}
    targets:
    - route_type: llm/v1/chat
      weight: heavy
      model: {provider: openai, optoins: {}}
    - model: {name: gpt-4o}
`
	_, err := Parse([]byte(doc), Options{LookupEnv: lookup})
	require.Error(t, err)
	for _, want := range []string{
		"plugins[0].confg: unknown field",
		"plugins[0].config.balancer.retries: expected an integer, got 2.5",
		"plugins[0].config.balancer.slots: 0 is out of Kong's range 10..65536",
		`plugins[0].config.targets[0].weight: expected an integer, got the string "heavy"`,
		"plugins[0].config.targets[0].model.optoins: unknown field (did you mean options?)",
		"plugins[0].config.targets[1].route_type: required",
		"plugins[0].config.targets[1].model.provider: required",
	} {
		assert.Contains(t, err.Error(), want)
	}
	// A missing decK variable stops the file before YAML is read, with every variable named.
	_, err = Parse([]byte(doc+"# ${{ env \"DECK_NOPE\" }} ${{ env \"DECK_NEITHER\" }}\n"), Options{LookupEnv: lookup})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "environment variable DECK_NOPE is not set")
	assert.Contains(t, err.Error(), "environment variable DECK_NEITHER is not set")
}

// Several files load as decK merges them: a plugin of one file is scoped to a route of
// another, and the vault entities of a third resolve its references.
func TestLoadFilesMerges(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	routes := write("routes.yaml", `_format_version: "3.0"
services:
- name: llm
  url: http://unused.invalid
  routes:
  - {name: chat, paths: [/chat]}
`)
	plugins := write("plugins.yaml", `_format_version: "3.0"
plugins:
- name: ai-proxy-advanced
  route: chat
  config:
    targets:
    - route_type: llm/v1/chat
      auth: {header_name: Authorization, header_value: "{vault://keys/openai}"}
      model: {provider: openai, name: gpt-4o}
`)
	vaults := write("vaults.yaml", `_format_version: "3.0"
vaults:
- {name: env, prefix: keys, config: {prefix: AIPROXY_FILES_TEST_}}
`)
	env := map[string]string{"AIPROXY_FILES_TEST_OPENAI": "Bearer sk-test"}
	f, err := LoadFiles([]string{routes, plugins, vaults}, LoadOptions{Options: Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}})
	require.NoError(t, err)
	defer f.Close()
	require.Len(t, f.Plugins, 1)
	pl := f.Plugins[0]
	assert.Equal(t, []string{"/chat"}, pl.Paths, "the route of another file")
	assert.Empty(t, pl.Unrouted)
	assert.Equal(t, plugins+": plugins[0]", pl.Path, "paths name their file")
	assert.Equal(t, vaults+": vaults[0]", f.Vaults[0].Path)
	p, err := aiproxy.New(pl.Config)
	require.NoError(t, err)
	defer p.Close()
	require.NoError(t, p.ValidateSecrets(context.Background()), "the vault of another file resolves the reference")

	// Errors name their file.
	bad := write("bad.yaml", "plugins:\n- name: ai-proxy-advanced\n  config: {targets: [{route_type: llm/v1/chat}]}\n")
	_, err = LoadFiles([]string{routes, bad}, LoadOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad+": plugins[0].config.targets[0].model.provider: required")
}

// A plugin scoped to a route or service with no path in the files says why: Kong would
// apply it only there, so it must not be served as a global plugin.
func TestUnrouted(t *testing.T) {
	plugin := func(scope string) string {
		return "- name: ai-proxy-advanced\n  " + scope + "\n  config: {targets: [{route_type: llm/v1/chat, model: {provider: openai}}]}\n"
	}
	doc := `_format_version: "3.0"
services:
- name: llm
  url: http://unused.invalid
  routes:
  - {name: hosts-only, hosts: [llm.example.com]}
- name: empty
  url: http://unused.invalid
routes:
- {name: top, paths: [/top], service: {name: llm}}
plugins:
` + plugin("route: missing") + plugin("route: hosts-only") + plugin("service: nowhere") + plugin("service: empty") +
		plugin("route: top") + plugin("service: llm") + plugin("consumer: alice") + plugin("enabled: true")
	f, err := Parse([]byte(doc), Options{})
	require.NoError(t, err)
	var got []string
	for _, p := range f.Plugins {
		got = append(got, p.Unrouted+"|"+strings.Join(p.Paths, ","))
	}
	assert.Equal(t, []string{
		`route "missing" is not in the configuration|`,
		`route "hosts-only" has no paths|`,
		`service "nowhere" is not in the configuration|`,
		`service "empty" has no routes with paths|`,
		"|/top",
		"|/top", // the service's routes: hosts-only has no path, top is /top
		"|",     // consumer-scoped: not a route question
		"|",     // global
	}, got)

	// An Admin API body scoped to a route: the file has no routes.
	f, err = Parse([]byte(`{"name":"ai-proxy-advanced","route":{"id":"7f3c"},"config":{"targets":[{"route_type":"llm/v1/chat","model":{"provider":"openai"}}]}}`), Options{})
	require.NoError(t, err)
	assert.Equal(t, `route "7f3c" is not in the configuration`, f.Plugins[0].Unrouted)
}
