package kong

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strconv"
	"testing"

	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/secret"
	"github.com/aiproxy/aiproxy/vault"
)

// devVault is the dev Vault that scripts/services.sh starts: its host, port and root token.
func devVault(t *testing.T) (host string, port int, token string) {
	t.Helper()
	addr, token := os.Getenv("VAULT_ADDR"), os.Getenv("VAULT_TOKEN")
	if addr == "" || token == "" {
		t.Fatal("VAULT_ADDR and VAULT_TOKEN are not set: this test needs a real Vault. Run ./scripts/test.sh, or `. scripts/services.sh` in bash and then go test.")
	}
	u, err := url.Parse(addr)
	require.NoError(t, err)
	port, err = strconv.Atoi(u.Port())
	require.NoError(t, err)
	return u.Hostname(), port, token
}

// putSecret writes data at secret/<path> (KV v2) in the dev Vault.
func putSecret(t *testing.T, path string, data map[string]any) {
	t.Helper()
	c, err := api.NewClient(&api.Config{Address: os.Getenv("VAULT_ADDR")})
	require.NoError(t, err)
	c.SetToken(os.Getenv("VAULT_TOKEN"))
	_, err = c.KVv2("secret").Put(context.Background(), path, data)
	require.NoError(t, err)
}

func randName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func resolve(t *testing.T, r secret.Resolver, ref string) (string, error) {
	t.Helper()
	parsed, err := secret.ParseRef(ref)
	require.NoError(t, err)
	return r.Resolve(context.Background(), parsed)
}

// The tutorial's vault entity, loaded with the tutorial's variables, resolves from a real Vault.
// The only change is the port: the tutorial's Vault listens on 8200, the tests' on VAULT_ADDR's.
func TestLoadTutorialVaultEntity(t *testing.T) {
	host, port, token := devVault(t)
	path := randName("kong-load-")
	key := "sk-" + randName("")
	putSecret(t, path, map[string]any{"key": key})

	data, err := os.ReadFile("testdata/hcv-llm-providers-entities.yaml")
	require.NoError(t, err)
	seed, err := os.ReadFile("testdata/seed000-deck.yaml")
	require.NoError(t, err)
	env := map[string]string{"HCV_HOST": host, "HCV_TOKEN": token, "DECK_DECK_REDIS_HOST": "127.0.0.1"}
	var configured []string
	f, err := Load(append(append(seed, "\n---\n"...), data...), LoadOptions{
		Options: Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }},
		ConfigureVault: func(prefix string, c *vault.Config) {
			configured = append(configured, prefix)
			assert.Equal(t, vault.Config{Protocol: "http", Host: host, Port: 8200, Mount: "secret", KV: "v2", Token: secret.Secret(token)}, *c)
			c.Port = port
		},
	})
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, []string{"hashicorp-vault"}, configured)
	require.Len(t, f.Plugins, 1)
	vaults := f.Plugins[0].Config.Vaults
	require.Len(t, vaults, 1)
	got, err := resolve(t, vaults["hashicorp-vault"], "{vault://hashicorp-vault/"+path+"/key}")
	require.NoError(t, err)
	assert.Equal(t, key, got)
}

// Kong's environment configuration of its HashiCorp Vault backend: KONG_VAULT_HCV_* fill what
// an entity leaves unset (or null, as decK dumps write it), and without an entity serve {vault://hcv/...}.
func TestLoadVaultEnvironment(t *testing.T) {
	host, port, token := devVault(t)
	path := randName("kong-env-")
	key := "sk-" + randName("")
	putSecret(t, path, map[string]any{"key": key})
	env := map[string]string{
		"KONG_VAULT_HCV_HOST": host, "KONG_VAULT_HCV_PORT": strconv.Itoa(port), "KONG_VAULT_HCV_TOKEN": token,
		"KONG_VAULT_HCV_KV": "v2", "KONG_VAULT_HCV_MOUNT": "secret",
	}
	opts := LoadOptions{Options: Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}
	const file = `
_format_version: "3.0"
vaults:
- name: hcv
  prefix: team-vault
  config: {kv: v2, token: null, host: null}
plugins:
- name: ai-proxy-advanced
  config:
    targets:
    - route_type: llm/v1/chat
      model: {provider: openai, name: gpt-4o}
      auth: {header_name: Authorization, header_value: "{vault://team-vault/x/key}"}
`
	f, err := Load([]byte(file), opts)
	require.NoError(t, err)
	defer f.Close()
	vaults := f.Plugins[0].Config.Vaults
	require.Len(t, vaults, 2)
	for _, prefix := range []string{"team-vault", "hcv"} {
		got, err := resolve(t, vaults[prefix], "{vault://"+prefix+"/"+path+"/key}")
		require.NoError(t, err, prefix)
		assert.Equal(t, key, got, prefix)
	}

	// Without the token, the entity is incomplete: Load says which entity, not the value.
	delete(env, "KONG_VAULT_HCV_TOKEN")
	_, err = Load([]byte(file), opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "vaults[0]: vault: auth_method token needs a token")
}

func TestLoadVaultEntities(t *testing.T) {
	env := map[string]string{"MY_SECRET_OPENAI_KEY": "sk-env-prefixed"}
	opts := LoadOptions{Options: Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}
	load := func(vaults string) (*File, error) {
		return Load([]byte(`
_format_version: "3.0"
vaults:`+vaults+`
plugins:
- name: ai-proxy-advanced
  config:
    targets:
    - route_type: llm/v1/chat
      model: {provider: openai, name: gpt-4o}
      auth: {header_name: Authorization, header_value: "Bearer {vault://my-env-vault/openai-key}"}
- name: ai-proxy-advanced
  instance_name: second
  config:
    targets:
    - route_type: llm/v1/chat
      model: {provider: openai, name: gpt-4o}
`), opts)
	}

	f, err := load(`
- {name: env, prefix: my-env-vault, config: {prefix: my-secret-}}
- {name: hcv, prefix: hashicorp-vault, config: {token: t}}`)
	require.NoError(t, err)
	require.Len(t, f.Plugins, 2)
	a, b := f.Plugins[0].Config.Vaults, f.Plugins[1].Config.Vaults
	require.Len(t, a, 2)
	assert.NotSame(t, a["hashicorp-vault"], b["hashicorp-vault"], "each plugin owns its resolvers")
	got, err := resolve(t, a["my-env-vault"], "{vault://my-env-vault/openai-key}")
	require.NoError(t, err)
	assert.Equal(t, "sk-env-prefixed", got)
	require.NoError(t, f.Close())
	_, err = resolve(t, b["hashicorp-vault"], "{vault://hashicorp-vault/openai/key}")
	assert.ErrorIs(t, err, vault.ErrClosed, "File.Close closes what Load built")

	for vaults, want := range map[string]string{
		`
- {name: aws, prefix: aws-vault, config: {region: us-east-1}}`: `vaults[0].name: vault "aws" is not supported (hcv, env)`,
		`
- {name: env, prefix: v1}
- {name: env, prefix: v1}`: `vaults[1].prefix: "v1" is used by another vault`,
		`
- {name: hcv, prefix: hv, config: {token: t, kv: v3}}`: "vaults[0]: vault: kv must be v1 or v2",
		`
- {name: hcv, prefix: hv, config: {token: t, port: eighty}}`: "vaults[0].config: json: cannot unmarshal",
		`
- {name: env, prefix: e, config: {base64_decode: true}}`: "vaults[0].config.base64_decode: not supported",
	} {
		_, err := load(vaults)
		require.Error(t, err, vaults)
		assert.Contains(t, err.Error(), want)
	}
}
