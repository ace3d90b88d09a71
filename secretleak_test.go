package aiproxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
	"github.com/aiproxy/aiproxy/vault"
)

// syncBuffer collects the output of a run from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Printf(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// echoUpstream answers every request with OpenAI's 401 error, quoting the credentials it was
// sent, as an upstream that echoes a bad key back would. A streaming request gets one chunk
// and then an error event quoting them; for model echo-first-event the error event is the
// first event, for echo-text-event the first event is plain text quoting them, and
// echo-invalid gets a 200 whose body is that text instead of JSON.
func echoUpstream() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msg := "Incorrect API key provided: " + r.Header.Get("Authorization") + " (token " +
			strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + ")"
		errBody, _ := json.Marshal(map[string]any{"error": map[string]any{
			"message": msg, "type": "invalid_request_error", "code": "invalid_api_key"}})
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Model string `json:"model"`
		}
		_ = json.Unmarshal(body, &req)
		switch {
		case req.Model == "echo-first-event":
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: %s\n\n", errBody)
		case req.Model == "echo-text-event":
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: %s\n\n", msg)
		case req.Model == "echo-invalid":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, msg)
		case bytes.Contains(body, []byte(`"stream":true`)):
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: %s\n\ndata: %s\n\n",
				`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"echo","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"}}]}`, errBody)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write(errBody)
		}
	}))
}

// TestNoSecretInAFullRun runs the proxy over the real Vault through success, streaming, an
// upstream failure, an upstream that echoes the key, a missing key and strict start-up, with
// log_statistics and log_payloads on and a debug logger on the Vault resolver, and captures
// all it outputs: log lines, the responses clients get, the Stats hook's values, and every
// rendering of the Config, the resolvers and the proxy. No secret value appears in any.
func TestNoSecretInAFullRun(t *testing.T) {
	ctx := context.Background()
	path := "aiproxy-test/leak-" + randHex(4)
	openaiKey, mistralKey, paramKey := "sk-leak-openai-"+randHex(12), "leak-mistral-"+randHex(12), "leak-param-"+randHex(12)
	azureSecret, azureToken := "leak-azure-secret-"+randHex(12), "leak-entra-token-"+randHex(12)
	putVault(t, "secret", path, map[string]any{"openai": openaiKey, "mistral": "Bearer " + mistralKey, "azure": azureSecret})
	t.Setenv("AIPROXY_LEAK_TEST_PARAM", paramKey)

	// A token of its own for the resolver, so that the Vault token is a secret of the run too.
	root, err := api.NewClient(&api.Config{Address: requireEnv(t, "VAULT_ADDR")})
	require.NoError(t, err)
	root.SetToken(requireEnv(t, "VAULT_TOKEN"))
	policy := "aiproxy-leak-" + randHex(4)
	require.NoError(t, root.Sys().PutPolicy(policy, `path "secret/data/`+path+`" { capabilities = ["read"] }`))
	t.Cleanup(func() { _ = root.Sys().DeletePolicy(policy) })
	tok, err := root.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{policy}, TTL: "1h"})
	require.NoError(t, err)
	vaultToken := tok.Auth.ClientToken
	secrets := []string{openaiKey, mistralKey, paramKey, vaultToken, azureSecret, azureToken}

	// Entra ID for the Azure targets' client-credentials flow: tenant "ok" gets azureToken,
	// tenant "denied" an error that quotes the client secret.
	entra := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		if r.URL.Path != "/ok/oauth2/v2.0/token" || r.PostForm.Get("client_secret") != azureSecret {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided: %s.","error_codes":[7000215]}`, r.PostForm.Get("client_secret"))
			return
		}
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"access_token":%q}`, azureToken)
	}))
	defer entra.Close()
	t.Setenv("AZURE_AUTHORITY_HOST", entra.URL)

	var out syncBuffer
	logger := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hcv, err := vault.New(vault.Config{Address: requireEnv(t, "VAULT_ADDR"), Mount: "secret", KV: "v2",
		Token: aiproxy.Secret(vaultToken), NegTTL: 60, Logger: logger})
	require.NoError(t, err)

	openai, mistral, echo := aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI(), echoUpstream()
	defer openai.Close()
	defer mistral.Close()
	defer echo.Close()
	azureUp := aiproxytest.NewOpenAI()
	defer azureUp.Close()
	openai.APIKey, mistral.APIKey, azureUp.APIKey = openaiKey, mistralKey, azureToken
	logging := aiproxy.Logging{LogStatistics: true, LogPayloads: true}
	ref := func(key string) aiproxy.Secret { return aiproxy.Secret("{vault://hcv/" + path + "/" + key + "}") }
	target := func(name, url string, auth aiproxy.Auth) aiproxy.Target {
		return aiproxy.Target{Model: provider.Model{Provider: "openai", Name: name, Options: provider.Options{UpstreamURL: url}},
			Auth: auth, Logging: logging}
	}
	bearer := aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer " + ref("openai")}
	azure := func(name, url, tenant string) aiproxy.Target {
		return aiproxy.Target{Model: provider.Model{Provider: "azure", Name: name, Options: provider.Options{UpstreamURL: url}},
			Auth: aiproxy.Auth{AzureUseManagedIdentity: true, AzureClientID: "app-1", AzureClientSecret: ref("azure"),
				AzureTenantID: aiproxy.Secret(tenant)}, Logging: logging}
	}
	cfg := aiproxy.Config{
		Vaults: map[string]secret.Resolver{"hcv": hcv},
		Targets: []aiproxy.Target{
			target("ok", openai.ChatURL(), bearer),
			target("whole", mistral.ChatURL(), aiproxy.Auth{HeaderName: "Authorization", HeaderValue: ref("mistral")}),
			target("param", openai.ChatURL(), aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer " + ref("openai"),
				ParamName: "api_key", ParamValue: "{vault://env/aiproxy-leak-test-param}", ParamLocation: "body"}),
			target("echo", echo.URL+"/v1/chat/completions", bearer),
			target("echo-stream", echo.URL+"/v1/chat/completions", bearer),
			target("echo-first-event", echo.URL+"/v1/chat/completions", bearer),
			target("echo-text-event", echo.URL+"/v1/chat/completions", bearer),
			target("echo-invalid", echo.URL+"/v1/chat/completions", bearer),
			target("fail", openai.ChatURL(), bearer),
			target("missing", openai.ChatURL(), aiproxy.Auth{HeaderName: "Authorization", HeaderValue: ref("missing")}),
			azure("azure-ok", azureUp.ChatURL(), "ok"),
			azure("azure-echo", echo.URL+"/v1/chat/completions", "ok"),
			azure("azure-denied", azureUp.ChatURL(), "denied"),
		},
		Balancer: aiproxy.BalancerConfig{Retries: -1},
		Logger:   logger,
		Hooks: onStats(func(s aiproxy.Stats) {
			b, err := json.Marshal(s)
			out.Printf("stats %v | %+v | %#v | %s | %v", s, s, s, b, err)
			if s.Err != nil {
				out.Printf("stats error %v | %+v", s.Err, s.Err)
			}
		}),
	}
	p, err := aiproxy.New(cfg)
	require.NoError(t, err)
	defer p.Close()
	srv := httptest.NewServer(p)
	defer srv.Close()

	statuses := map[string]int{}
	ask := func(model, extra string) {
		body := `{"model":"` + model + `","messages":[{"role":"user","content":"hello"}]` + extra + `}`
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		statuses[model] = resp.StatusCode
		out.Printf("response %s %d %v %s", model, resp.StatusCode, resp.Header, b)
	}
	ask("ok", "")
	ask("ok", `,"stream":true`)
	ask("whole", "")
	ask("param", `,"temperature":0`)
	ask("echo", "")
	ask("echo-stream", `,"stream":true`)
	assert.Regexp(t, `(?s)response echo-stream 200 .*Incorrect API key provided: \[redacted\]`, out.String(), "the error event reached the client, scrubbed")
	ask("echo-first-event", `,"stream":true`)
	assert.Regexp(t, `(?s)response echo-first-event 502 .*Incorrect API key provided: \[redacted\]`, out.String(), "an error in the first event reached the client, scrubbed")
	ask("echo-text-event", `,"stream":true`)
	assert.Regexp(t, `(?s)response echo-text-event 502 .*Incorrect API key provided: \[redacted\]`, out.String(), "a first event that is not JSON reached the client, scrubbed")
	ask("echo-invalid", "")
	openai.Fail(http.StatusInternalServerError, 1, "")
	ask("fail", "")
	ask("missing", "")
	ask("missing", "") // negatively cached
	ask("azure-ok", "")
	ask("azure-ok", `,"stream":true`)
	ask("azure-echo", "")
	ask("azure-denied", "")
	assert.Equal(t, map[string]int{"ok": 200, "whole": 200, "param": 200, "echo": 401, "echo-stream": 200,
		"echo-first-event": 502, "echo-text-event": 502, "echo-invalid": 502, "fail": 500, "missing": 502,
		"azure-ok": 200, "azure-echo": 401, "azure-denied": 502}, statuses)
	require.Contains(t, string(openai.Requests()[2].Body), `"api_key":"`+paramKey+`"`, "the body parameter reached the upstream")

	// The semantic balancer's embeddings request, with the key from Vault, to the echoing upstream.
	sem, err := aiproxy.New(aiproxy.Config{
		Vaults: map[string]secret.Resolver{"hcv": hcv},
		Targets: []aiproxy.Target{
			{Model: provider.Model{Provider: "openai", Name: "ok", Options: provider.Options{UpstreamURL: openai.ChatURL()}},
				Auth: bearer, Logging: logging, Description: aiproxy.Catchall},
			{Model: provider.Model{Provider: "openai", Name: "code", Options: provider.Options{UpstreamURL: openai.ChatURL()}},
				Auth: bearer, Logging: logging, Description: "programming, coding"},
		},
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Semantic},
		Embeddings: &aiproxy.EmbeddingsConfig{Auth: bearer, Model: aiproxy.EmbeddingModel{Provider: "openai",
			Name: "text-embedding-3-small", Options: provider.Options{UpstreamURL: echo.URL + "/v1/embeddings"}}},
		Logger: logger, Hooks: cfg.Hooks,
	})
	require.NoError(t, err)
	semSrv := httptest.NewServer(sem)
	defer semSrv.Close()
	resp, err := http.Post(semSrv.URL, "application/json", strings.NewReader(`{"messages":[{"role":"user","content":"hello"}]}`))
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	out.Printf("semantic response %d %v %s", resp.StatusCode, resp.Header, b)

	// Strict start-up and on-demand validation with the missing key.
	strict := cfg
	strict.StrictSecrets = true
	_, err = aiproxy.New(strict)
	require.Error(t, err)
	out.Printf("strict New: %v | %+v", err, err)
	err = p.ValidateSecrets(ctx)
	require.Error(t, err)
	out.Printf("ValidateSecrets: %v", err)

	// Every rendering of the configuration, the resolvers and the proxy.
	b, err = json.Marshal(cfg)
	require.NoError(t, err)
	out.Printf("config %v | %+v | %#v | %s", cfg, cfg, cfg, b)
	out.Printf("resolver %v | %+v | %#v | %s | %d | %x", hcv, hcv, hcv, hcv, hcv, hcv)
	logger.Info("resolver", "vault", hcv, "config", cfg.Targets[0].Auth)
	out.Printf("proxy %v | %+v", p, p)

	all := out.String()
	for _, want := range []string{`"msg":"aiproxy request"`, `"msg":"vault: authenticated"`, "Incorrect API key provided",
		"embedding the target descriptions: upstream 401",
		"{vault://hcv/" + path + "/missing}", "secret not found", "The server had an error", "StrictSecrets", "[redacted]",
		"AADSTS7000215: Invalid client secret provided: [redacted]"} {
		require.Contains(t, all, want, "the run produced the output that is checked")
	}
	for _, s := range secrets {
		if i := strings.Index(all, s); i >= 0 {
			t.Errorf("a secret reached the output: …%s…", all[max(0, i-200):i])
		}
	}
}
