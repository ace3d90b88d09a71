package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aiproxy/aiproxy/secret"
	"github.com/stretchr/testify/require"
)

// TestNoSecretInOutput runs every path of the resolver (login, reads, misses, rotation,
// Vault down, resurrection, expiry, Close) with a debug logger, collects every log line and
// error string and the printed Config, and finds no secret value or credential in them.
func TestNoSecretInOutput(t *testing.T) {
	addr, _ := devVault(t)
	path := uniquePath(t)
	key, other, rotated := secretValue(), secretValue(), secretValue()
	putV2(t, path, map[string]any{"key": key, "other": other})
	_, roleID, secretID := approle(t, path, "1h", "2h")
	secrets := []string{key, other, rotated, secretID}

	var logs logBuffer
	var out []string
	proxy := newTCPProxy(t, addr)
	clock := newFakeClock()
	resurrect := Seconds(30)
	cfg := Config{
		Address: proxy.URL(), Mount: "secret", KV: "v2",
		AuthMethod: "approle", ApproleRoleID: roleID, ApproleSecretID: secret.Secret(secretID),
		TTL: 10, NegTTL: 5, ResurrectTTL: &resurrect,
		Clock: clock, Logger: debugLogger(&logs), MaxRetries: -1, Timeout: 2 * time.Second,
		RotationInterval: -1,
	}
	out = append(out, fmt.Sprintf("%v|%+v|%#v", cfg, cfg, cfg))
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	out = append(out, string(b))

	r, err := New(cfg)
	require.NoError(t, err)
	ctx := context.Background()
	resolve := func(s string) {
		v, err := r.Resolve(ctx, ref(t, s))
		if err != nil {
			out = append(out, err.Error(), fmt.Sprintf("%+v|%#v", err, err))
		}
		_ = v
	}
	base := "{vault://hashicorp-vault/" + path
	resolve(base + "/key}")
	resolve(base + "}")
	resolve(base + "/missing}")
	resolve(base + "-gone/key}")
	resolve(base + "/key#9}")
	resolve(base + "/key?bogus=1}")
	if err := r.Validate(ctx, ref(t, base+"/key}"), ref(t, base+"/nope}")); err != nil {
		out = append(out, err.Error())
	}
	out = append(out, fmt.Sprintf("%v|%+v|%#v|%s|%d|%x", r, r, r, r, r, r), r.String())
	putV2(t, path, map[string]any{"key": rotated, "other": other})
	clock.Advance(11 * time.Second)
	if err := r.Refresh(ctx); err != nil {
		out = append(out, err.Error())
	}
	proxy.Close()
	clock.Advance(11 * time.Second)
	resolve(base + "/key}")
	if err := r.Refresh(ctx); err != nil {
		out = append(out, err.Error())
	}
	clock.Advance(60 * time.Second)
	resolve(base + "/key}")
	resolve(base + "/other}")
	require.NoError(t, r.Close())
	resolve(base + "/key}")

	// The run did exercise the paths whose output is checked.
	all := logs.String() + "\n" + strings.Join(out, "\n")
	for _, want := range []string{"authenticated", "secret rotated", "serving the last good value",
		"no secret at", "has no key", "bogus", "closed"} {
		require.Contains(t, all, want)
	}
	for _, s := range secrets {
		require.NotContains(t, all, s, "a secret value reached the output")
	}
}

// A Kong decK `vaults:` entry's config decodes into Config unchanged.
func TestConfigDecodesKongEntity(t *testing.T) {
	const entity = `{
		"name": "hcv", "prefix": "hashicorp-vault", "description": "Storing secrets in HashiCorp Vault",
		"config": {
			"protocol": "https", "host": "vault.example", "port": 8201, "mount": "/secret/", "kv": "v2",
			"namespace": "team-a", "token": "hvs.example", "auth_method": "approle",
			"ttl": 60, "neg_ttl": "10", "resurrect_ttl": 0, "base64_decode": false,
			"kube_role": "kr", "kube_auth_path": "k8s", "kube_api_token_file": "/var/tok",
			"approle_auth_path": "/my-approle/", "approle_role_id": "rid",
			"approle_secret_id": "sid", "approle_secret_id_file": "/run/sid",
			"approle_response_wrapping": true
		}
	}`
	var v struct {
		Name   string `json:"name"`
		Prefix string `json:"prefix"`
		Config Config `json:"config"`
	}
	require.NoError(t, json.Unmarshal([]byte(entity), &v))
	c := v.Config
	require.Equal(t, "https", c.Protocol)
	require.Equal(t, "vault.example", c.Host)
	require.Equal(t, 8201, c.Port)
	require.Equal(t, "v2", c.KV)
	require.Equal(t, "team-a", c.Namespace)
	require.Equal(t, secret.Secret("hvs.example"), c.Token)
	require.Equal(t, "approle", c.AuthMethod)
	require.Equal(t, Seconds(60), c.TTL)
	require.Equal(t, Seconds(10), c.NegTTL)
	require.NotNil(t, c.ResurrectTTL)
	require.Equal(t, Seconds(0), *c.ResurrectTTL)
	require.Equal(t, "kr", c.KubeRole)
	require.Equal(t, "k8s", c.KubeAuthPath)
	require.Equal(t, "/var/tok", c.KubeAPITokenFile)
	require.Equal(t, "rid", c.ApproleRoleID)
	require.Equal(t, secret.Secret("sid"), c.ApproleSecretID)
	require.Equal(t, "/run/sid", c.ApproleSecretIDFile)
	require.True(t, c.ApproleResponseWrapping)

	s, err := c.settings()
	require.NoError(t, err)
	require.Equal(t, "https://vault.example:8201", s.address)
	require.Equal(t, "secret", s.mount)
	require.Equal(t, 2, s.kv)
	require.Equal(t, "my-approle", s.authPath)
	require.Equal(t, time.Minute, s.ttl)
	require.Equal(t, 10*time.Second, s.negTTL)
	require.Equal(t, time.Duration(0), s.resurrectTTL)

	// Kong's defaults for an empty config with a token.
	s, err = (&Config{Token: "t"}).settings()
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:8200", s.address)
	require.Equal(t, "secret", s.mount)
	require.Equal(t, 1, s.kv)
	require.Equal(t, "token", s.authMethod)
	require.Equal(t, defaultResurrectTTL, s.resurrectTTL)
	require.Equal(t, defaultRotationInterval, s.rotationInterval)
}

func TestConfigErrors(t *testing.T) {
	for name, c := range map[string]Config{
		"no token":         {},
		"bad protocol":     {Token: "t", Protocol: "ftp"},
		"bad kv":           {Token: "t", KV: "v3"},
		"bad method":       {Token: "t", AuthMethod: "cert"},
		"approle no role":  {AuthMethod: "approle", ApproleSecretID: "s"},
		"approle no sid":   {AuthMethod: "approle", ApproleRoleID: "r"},
		"kube no role":     {AuthMethod: "kubernetes"},
		"bad address":      {Token: "t", Address: "vault:8200"},
		"tls + httpclient": {Token: "t", TLS: TLSConfig{InsecureSkipVerify: true}, HTTPClient: &httpClientZero},
		"half client cert": {Token: "t", TLS: TLSConfig{ClientCert: "c.pem"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(c)
			require.Error(t, err)
			require.NotContains(t, err.Error(), `"t"`)
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"KONG_VAULT_HCV_PROTOCOL": "https", "KONG_VAULT_HCV_HOST": "vault.example",
		"KONG_VAULT_HCV_PORT": "8300", "KONG_VAULT_HCV_KV": "v2", "KONG_VAULT_HCV_TOKEN": "tok",
		"KONG_VAULT_HCV_TTL": "300", "KONG_VAULT_HCV_RESURRECT_TTL": "0",
		"KONG_VAULT_HCV_APPROLE_RESPONSE_WRAPPING": "true",
	}
	c, err := ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.NoError(t, err)
	require.Equal(t, "https", c.Protocol)
	require.Equal(t, 8300, c.Port)
	require.Equal(t, secret.Secret("tok"), c.Token)
	require.Equal(t, Seconds(300), c.TTL)
	require.Equal(t, Seconds(0), *c.ResurrectTTL)
	require.True(t, c.ApproleResponseWrapping)

	env["KONG_VAULT_HCV_PORT"] = "secret-looking"
	_, err = ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secret-looking")
}
