package kong

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
	"github.com/aiproxy/aiproxy/vectorstore"
	redisstore "github.com/aiproxy/aiproxy/vectorstore/redis"
)

// env is the environment the seeds' templates and variables read.
var env = map[string]string{
	"DECK_DECK_REDIS_HOST": "127.0.0.1",
	"DECK_REDIS_HOST":      "127.0.0.1",
	"DECK_OPENAI_API_KEY":  "sk-test",
}

func lookup(k string) (string, bool) { v, ok := env[k]; return v, ok }

func parse(t *testing.T, file string) *File {
	t.Helper()
	f, err := ParseFile(filepath.Join("testdata", file), Options{LookupEnv: lookup})
	require.NoError(t, err)
	return f
}

// mustNew checks that aiproxy.New accepts a loaded config (New opens no database; the
// first request does). The seeds' references name the vault "hashicorp-vault", which their
// tutorials create beside the plugin; a resolver stands in for it (New does no I/O).
func mustNew(t *testing.T, cfg aiproxy.Config) {
	t.Helper()
	if cfg.Vaults == nil {
		cfg.Vaults = map[string]secret.Resolver{"hashicorp-vault": secret.EnvResolver{}}
	}
	p, err := aiproxy.New(cfg)
	require.NoError(t, err)
	p.Close()
}

func TestEverySeedConfigLoads(t *testing.T) {
	files, err := filepath.Glob("testdata/seed*")
	require.NoError(t, err)
	require.Len(t, files, 12)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			f := parse(t, filepath.Base(file))
			require.Len(t, f.Plugins, 1)
			p := f.Plugins[0]
			assert.True(t, p.Enabled)
			assert.NotEmpty(t, p.Config.Targets)
			mustNew(t, p.Config)
		})
	}
}

func TestSeed000And001(t *testing.T) {
	for _, file := range []string{"seed000-deck.yaml", "seed001-entities.yaml", "seed003-entities.yaml"} {
		t.Run(file, func(t *testing.T) {
			cfg := parse(t, file).Plugins[0].Config
			assert.Equal(t, aiproxy.Semantic, cfg.Balancer.Algorithm)
			require.NotNil(t, cfg.Embeddings)
			assert.Equal(t, secret.Secret("{vault://hashicorp-vault/openai/key}"), cfg.Embeddings.Auth.HeaderValue)
			assert.Equal(t, aiproxy.EmbeddingModel{Provider: "openai", Name: "text-embedding-3-small"}, cfg.Embeddings.Model)
			db := cfg.VectorDB
			require.NotNil(t, db)
			assert.Equal(t, "redis", db.Strategy)
			assert.Equal(t, vectorstore.Cosine, db.DistanceMetric)
			assert.Equal(t, 0.8, *db.Threshold)
			assert.Equal(t, 1536, db.Dimensions)
			assert.Equal(t, &redisstore.Options{Host: "127.0.0.1", Port: 6379}, db.Store, "the host comes from the environment")
			require.Len(t, cfg.Targets, 3)
			prog := cfg.Targets[0]
			assert.Equal(t, provider.Chat, prog.RouteType)
			assert.Equal(t, "gpt-3.5-turbo", prog.Model.Name)
			assert.Equal(t, 826, *prog.Model.Options.MaxTokens)
			assert.Equal(t, 0.0, *prog.Model.Options.Temperature)
			assert.Equal(t, 1.0, prog.Model.Options.InputCost)
			assert.Equal(t, "programming, coding, software development, Python, JavaScript, APIs, debugging", prog.Description)
			assert.Equal(t, "mathematics, algebra, calculus, trigonometry, equations, integrals, derivatives, theorems", cfg.Targets[1].Description)
			mistral := cfg.Targets[2]
			assert.Equal(t, aiproxy.Catchall, mistral.Description)
			assert.Equal(t, "openai", mistral.Model.Options.MistralFormat)
			assert.Equal(t, "https://api.mistral.ai/v1/chat/completions", mistral.Model.Options.UpstreamURL)
			assert.Equal(t, secret.Secret("{vault://hashicorp-vault/mistral/key}"), mistral.Auth.HeaderValue)
		})
	}
	cfg := parse(t, "seed003-entities.yaml").Plugins[0].Config
	assert.Equal(t, aiproxy.Logging{LogPayloads: true, LogStatistics: true}, cfg.Targets[0].Logging)
	assert.Equal(t, aiproxy.Logging{}, cfg.Targets[2].Logging)
}

func TestSeed002(t *testing.T) {
	scopes := map[string]Scope{
		"seed002-deck-global.yaml":         {},
		"seed002-admin-api.json":           {},
		"seed002-kongclusterplugin.yaml":   {},
		"seed002-kongplugin.yaml":          {},
		"seed002-deck-service.yaml":        {Service: "serviceName|Id"},
		"seed002-deck-route.yaml":          {Route: "routeName|Id"},
		"seed002-deck-consumer.yaml":       {Consumer: "consumerName|Id"},
		"seed002-deck-consumer-group.yaml": {ConsumerGroup: "consumerGroupName|Id"},
	}
	for file, scope := range scopes {
		t.Run(file, func(t *testing.T) {
			p := parse(t, file).Plugins[0]
			assert.Equal(t, scope, p.Scope)
			b := p.Config.Balancer
			assert.Equal(t, 3, b.Retries)
			assert.Equal(t, []string{"error", "timeout", "http_429", "http_503", "non_idempotent"}, b.FailoverCriteria)
			assert.Equal(t, 0.7, *p.Config.VectorDB.Threshold)
			ts := p.Config.Targets
			require.Len(t, ts, 3)
			assert.Equal(t, []int{2, 75, 25}, []int{ts[0].Weight, ts[1].Weight, ts[2].Weight})
			assert.Equal(t, ts[1].Description, ts[2].Description)
			assert.Equal(t, aiproxy.Logging{LogStatistics: true, LogPayloads: true}, ts[2].Logging)
		})
	}
	cfg := parse(t, "seed002-deck-global.yaml").Plugins[0].Config
	assert.Equal(t, secret.Secret("Bearer sk-test"), cfg.Targets[0].Auth.HeaderValue, "decK's env template is expanded")
	cfg = parse(t, "seed002-admin-api.json").Plugins[0].Config
	assert.Equal(t, secret.Secret("Bearer '$OPENAI_API_KEY'"), cfg.Targets[0].Auth.HeaderValue, "a request body is taken literally")
}

func TestSeed004(t *testing.T) {
	cfg := parse(t, "seed004-deck.yaml").Plugins[0].Config
	require.Len(t, cfg.Targets, 2)
	assert.Equal(t, "powerful", cfg.Targets[0].Model.Alias)
	assert.Equal(t, "gpt-4o", cfg.Targets[0].Model.Name)
	assert.Equal(t, "fast", cfg.Targets[1].Model.Alias)
	assert.Equal(t, "gpt-4o-mini", cfg.Targets[1].Model.Name)
	assert.Equal(t, secret.Secret("Bearer sk-test"), cfg.Targets[1].Auth.HeaderValue)
}

func TestErrorsNameThePath(t *testing.T) {
	base := `_format_version: "3.0"
plugins:
- name: ai-proxy-advanced
  config:
    targets:
    - route_type: llm/v1/chat
      model:
        provider: openai
        name: gpt-4o
`
	// A ${name} placeholder of the documentation's entity blocks without a variable.
	unresolved := "entities:\n  plugins:\n  - name: ai-proxy-advanced\n    config:\n      vectordb:\n        redis:\n          host: ${redis_hst}\nvariables:\n  redis_host:\n    value: $DECK_REDIS_HOST\n"
	tests := map[string]string{
		strings.Replace(base, "name: gpt-4o", "name: gpt-4o\n        optoins: {}", 1):                       "plugins[0].config.targets[0].model.optoins: unknown field (did you mean options?)",
		strings.Replace(base, "route_type: llm/v1/chat", "route_type: llm/v1/chat\n      weight: heavy", 1): `plugins[0].config.targets[0].weight: expected an integer, got the string "heavy"`,
		strings.Replace(base, "    targets:", "    balancer:\n      retries: 2.5\n    targets:", 1):         "plugins[0].config.balancer.retries: expected an integer, got 2.5",
		strings.Replace(base, "  config:", "  confg: {}\n  config:", 1):                                     "plugins[0].confg: unknown field",
		strings.Replace(base, "- route_type: llm/v1/chat\n      model:", "- model:", 1):                     "plugins[0].config.targets[0].route_type: required",
		strings.Replace(base, "name: gpt-4o", "name: ${{ env \"DECK_NOPE\" }}", 1):                          "environment variable DECK_NOPE is not set",
		strings.Replace(base, "    targets:", "    vectordb:\n      strategy: redis\n    targets:", 1):      "plugins[0].config.vectordb.dimensions: required",
		"entities:\n  plugins: []\nvariables:\n  h:\n    value: $DECK_MISSING\n":                            "environment variable DECK_MISSING is not set (variables.h)",
		unresolved: "entities.plugins[0].config.vectordb.redis.host: ${redis_hst} has no entry in variables",
		"foo: 1\n": "no ai-proxy-advanced configuration found",
		// Values out of the ranges of Kong's schema.
		strings.Replace(base, "route_type: llm/v1/chat", "route_type: llm/v1/chat\n      weight: 0", 1):       "plugins[0].config.targets[0].weight: 0 is out of Kong's range 1..65535",
		strings.Replace(base, "route_type: llm/v1/chat", "route_type: llm/v1/chat\n      weight: 70000", 1):   "plugins[0].config.targets[0].weight: 70000 is out of Kong's range 1..65535",
		strings.Replace(base, "    targets:", "    balancer: {slots: 0}\n    targets:", 1):                    "plugins[0].config.balancer.slots: 0 is out of Kong's range 10..65536",
		strings.Replace(base, "    targets:", "    balancer: {read_timeout: 0}\n    targets:", 1):             "plugins[0].config.balancer.read_timeout: 0 is out of Kong's range 1..2147483646",
		strings.Replace(base, "    targets:", "    balancer: {connect_timeout: 2147483647}\n    targets:", 1): "plugins[0].config.balancer.connect_timeout: 2147483647 is out of Kong's range 1..2147483646",
		strings.Replace(base, "    targets:", "    balancer: {write_timeout: 0}\n    targets:", 1):            "plugins[0].config.balancer.write_timeout: 0 is out of Kong's range 1..2147483646",
		strings.Replace(base, "    targets:", "    balancer: {retries: -1}\n    targets:", 1):                 "plugins[0].config.balancer.retries: -1 is out of Kong's range 0..32767",
		strings.Replace(base, "    targets:", "    max_request_body_size: -1\n    targets:", 1):               "plugins[0].config.max_request_body_size: -1 is out of Kong's range 0..",
		// Files with no ai-proxy-advanced plugin say what they hold instead.
		"_format_version: \"3.0\"\nservices:\n- name: s\n  plugins:\n  - name: rate-limiting\n    config: {minute: 5}\nplugins:\n- name: key-auth\n": "no ai-proxy-advanced plugin found, only: plugin key-auth (plugins[0]), plugin rate-limiting (services[0].plugins[0])",
		`{"name": "rate-limiting", "config": {"minute": 5}}`:                            "no ai-proxy-advanced plugin found, only: plugin rate-limiting (an Admin API body)",
		"apiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nplugin: key-auth\n": "no ai-proxy-advanced plugin found, only: a KongPlugin of plugin key-auth",
		"apiVersion: v1\nkind: Service\n":                                               "no ai-proxy-advanced plugin found, only: a Kubernetes Service",
		"_format_version: \"3.0\"\nservices:\n- name: s\n":                              "no ai-proxy-advanced plugin found: the configuration has no plugins",
		"[1, 2]": "the configuration must be an object",
	}
	for in, want := range tests {
		_, err := Parse([]byte(in), Options{LookupEnv: lookup})
		if assert.Error(t, err, in) {
			assert.Contains(t, err.Error(), want)
		}
	}
	// The other ranges are reported by aiproxy.New.
	f, err := Parse([]byte(strings.Replace(base, "    targets:", "    balancer: {max_fails: 40000}\n    targets:", 1)), Options{})
	require.NoError(t, err)
	_, err = aiproxy.New(f.Plugins[0].Config)
	assert.ErrorIs(t, err, aiproxy.ErrInvalidConfig)
	assert.ErrorContains(t, err, "balancer.max_fails 40000 is out of range 0..32767")

	// The bounds themselves are accepted.
	f, err = Parse([]byte(strings.Replace(strings.Replace(base, "    targets:", "    balancer: {slots: 65536, retries: 0, read_timeout: 1, connect_timeout: 2147483646}\n    targets:", 1),
		"route_type: llm/v1/chat", "route_type: llm/v1/chat\n      weight: 1", 1)), Options{})
	require.NoError(t, err)
	mustNew(t, f.Plugins[0].Config)
}

func TestDeckFileWithManyPlugins(t *testing.T) {
	doc := `_format_version: "3.0"
services:
- name: chat-service
  url: http://example.invalid
  plugins:
  - name: ai-proxy-advanced
    instance_name: svc-proxy
    config:
      targets:
      - {route_type: llm/v1/chat, model: {provider: openai, name: a}}
  routes:
  - name: chat-route
    paths: [/chat]
    plugins:
    - name: ai-proxy-advanced
      enabled: false
      config:
        max_request_body_size: 0
        balancer: {retries: 0, connect_timeout: 1500}
        targets:
        - {route_type: llm/v1/chat, model: {provider: openai, name: b}}
    - name: rate-limiting
      config: {minute: 5}
consumers:
- username: alice
  plugins:
  - name: ai-proxy-advanced
    config:
      targets:
      - {route_type: llm/v1/chat, model: {provider: openai, name: c}}
vaults:
- name: hcv
  prefix: hashicorp-vault
  config: {host: vault.internal, mount: secret, kv: v2}
`
	f, err := Parse([]byte(doc), Options{})
	require.NoError(t, err)
	require.Len(t, f.Plugins, 3)
	assert.Equal(t, "svc-proxy", f.Plugins[0].Name)
	assert.Equal(t, Scope{Service: "chat-service"}, f.Plugins[0].Scope)
	assert.Equal(t, "services[0].plugins[0]", f.Plugins[0].Path)
	r := f.Plugins[1]
	assert.Equal(t, Scope{Service: "chat-service", Route: "chat-route"}, r.Scope)
	assert.False(t, r.Enabled)
	assert.Equal(t, -1, r.Config.Balancer.Retries, "Kong's retries 0 means none")
	assert.Equal(t, int64(-1), r.Config.MaxRequestBodySize, "Kong's 0 means unlimited")
	assert.Equal(t, 1500*time.Millisecond, r.Config.Balancer.ConnectTimeout, "Kong's milliseconds")
	assert.Equal(t, Scope{Consumer: "alice"}, f.Plugins[2].Scope)
	assert.Equal(t, []string{"/chat"}, f.Plugins[0].Paths, "a service's plugin serves its routes' paths")
	assert.Equal(t, []string{"/chat"}, r.Paths)
	assert.Empty(t, f.Plugins[2].Paths)
	require.Len(t, f.Vaults, 1)
	assert.Equal(t, Vault{Name: "hcv", Prefix: "hashicorp-vault", Path: "vaults[0]",
		Config: map[string]any{"host": "vault.internal", "mount": "secret", "kv": "v2"}}, f.Vaults[0])
}

func TestBareConfig(t *testing.T) {
	f, err := Parse([]byte(`{"targets":[{"route_type":"llm/v1/chat","model":{"provider":"openai","name":"gpt-4o"}}],"response_streaming":"deny"}`), Options{})
	require.NoError(t, err)
	assert.Equal(t, "deny", f.Plugins[0].Config.ResponseStreaming)
}

// FuzzParse: any file parses or is refused without panicking, and the configuration of
// every plugin a file yields is accepted or refused by aiproxy.New, without panicking.
func FuzzParse(f *testing.F) {
	for _, file := range []string{"seed000-deck.yaml", "seed001-entities.yaml", "seed002-admin-api.json", "seed002-kongplugin.yaml", "seed004-deck.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b, Options{LookupEnv: lookup})
		if err != nil {
			return
		}
		for _, pl := range file.Plugins {
			if p, err := aiproxy.New(pl.Config); err == nil {
				p.Close()
			}
		}
	})
}

// TestAzureManagedIdentity: Kong's azure_use_managed_identity with its client-credentials,
// user-assigned and system-assigned forms loads, references included, and New accepts it.
func TestAzureManagedIdentity(t *testing.T) {
	f, err := Parse([]byte(`_format_version: "3.0"
plugins:
  - name: ai-proxy-advanced
    config:
      targets:
      - route_type: llm/v1/chat
        auth:
          azure_use_managed_identity: true
          azure_client_id: 11111111-2222-3333-4444-555555555555
          azure_client_secret: "{vault://hashicorp-vault/azure/secret}"
          azure_tenant_id: contoso.onmicrosoft.com
        model:
          provider: azure
          name: gpt-4o
          options:
            azure_instance: my-resource
            azure_deployment_id: gpt-4o
            azure_api_version: "2024-10-21"
      - route_type: llm/v1/chat
        auth:
          azure_use_managed_identity: true
          azure_client_id: 66666666-7777-8888-9999-000000000000
        model:
          provider: azure
          name: gpt-4o-mini
          options:
            azure_instance: my-resource
      - route_type: llm/v1/embeddings
        auth:
          azure_use_managed_identity: true
        model:
          provider: azure
          name: text-embedding-3-small
          options:
            azure_instance: my-resource
`), Options{})
	require.NoError(t, err)
	cfg := f.Plugins[0].Config
	require.Len(t, cfg.Targets, 3)
	assert.Equal(t, aiproxy.Auth{AzureUseManagedIdentity: true, AzureClientID: "11111111-2222-3333-4444-555555555555",
		AzureClientSecret: "{vault://hashicorp-vault/azure/secret}", AzureTenantID: "contoso.onmicrosoft.com"}, cfg.Targets[0].Auth)
	assert.Equal(t, aiproxy.Auth{AzureUseManagedIdentity: true, AzureClientID: "66666666-7777-8888-9999-000000000000"}, cfg.Targets[1].Auth)
	assert.Equal(t, aiproxy.Auth{AzureUseManagedIdentity: true}, cfg.Targets[2].Auth)
	mustNew(t, cfg)
}

// model.options.gemini.endpoint_id (a model deployed to a Vertex AI endpoint) loads.
func TestGeminiEndpointID(t *testing.T) {
	f, err := Parse([]byte(`
targets:
- route_type: llm/v1/chat
  auth: {gcp_use_service_account: true, gcp_service_account_json: "{vault://env/GCP_SA}"}
  model:
    provider: gemini
    name: llama-3-3-70b
    options: {gemini: {api_endpoint: us-central1-aiplatform.googleapis.com, project_id: my-project, location_id: us-central1, endpoint_id: "1234567890"}}
`), Options{})
	require.NoError(t, err)
	assert.Equal(t, "1234567890", f.Plugins[0].Config.Targets[0].Model.Options.Gemini.EndpointID)
	mustNew(t, f.Plugins[0].Config)
}
