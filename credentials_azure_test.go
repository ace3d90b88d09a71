package aiproxy

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
)

// tokenCall is one request a fakeAzure token endpoint received.
type tokenCall struct {
	host, path string
	query      url.Values
	header     http.Header
	form       url.Values
}

// fakeAzure is Entra ID, the managed-identity endpoints and Azure OpenAI in one server. The
// proxy's Transport (transport) sends every request to it, so the hosts the proxy asks
// (login.microsoftonline.com, 169.254.169.254, <instance>.openai.azure.com) are recorded as
// they were.
type fakeAzure struct {
	srv *httptest.Server

	mu       sync.Mutex
	tokens   []tokenCall
	upstream []http.Header
	// token answers token requests; nil issues entra-token-<n>, valid for an hour.
	token func(w http.ResponseWriter, n int)
}

func newFakeAzure(t *testing.T) *fakeAzure {
	f := &fakeAzure{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Header.Get("X-Original-Host")
		f.mu.Lock()
		defer f.mu.Unlock()
		if host == "my-resource.openai.azure.com" {
			f.upstream = append(f.upstream, r.Header.Clone())
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
			return
		}
		_ = r.ParseForm()
		f.tokens = append(f.tokens, tokenCall{host: host, path: r.URL.Path, query: r.URL.Query(), header: r.Header.Clone(), form: r.PostForm})
		if f.token != nil {
			f.token(w, len(f.tokens))
			return
		}
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"entra-token-%d"}`, len(f.tokens))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAzure) transport() http.RoundTripper {
	target, _ := url.Parse(f.srv.URL)
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("X-Original-Host", r.URL.Host)
		r.URL.Scheme, r.URL.Host = target.Scheme, target.Host
		return http.DefaultTransport.RoundTrip(r)
	})
}

func (f *fakeAzure) calls() ([]tokenCall, []http.Header) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]tokenCall(nil), f.tokens...), append([]http.Header(nil), f.upstream...)
}

// azureMITarget is an Azure OpenAI target with auth.azure_use_managed_identity.
func azureMITarget(a Auth) Target {
	a.AzureUseManagedIdentity = true
	return Target{Model: provider.Model{Provider: "azure", Name: "gpt-4o", Options: provider.Options{
		AzureInstance: "my-resource", AzureDeploymentID: "gpt-4o", AzureAPIVersion: "2024-10-21"}}, Auth: a}
}

// noAzureEnv clears the environment the Azure identity falls back to.
func noAzureEnv(t *testing.T) {
	for _, k := range []string{"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_AUTHORITY_HOST", "IDENTITY_ENDPOINT", "IDENTITY_HEADER"} {
		t.Setenv(k, "")
	}
}

const chatBody = `{"messages":[{"role":"user","content":"hello"}]}`

// TestAzureClientCredentialsThroughProxy: with client ID, secret (from a vault) and tenant,
// the proxy gets an Entra ID token by the client-credentials flow through its own
// transport and sends it as the bearer token instead of the client's credentials; the token
// is reused until near its expiry, and a rotated secret gets a new token.
func TestAzureClientCredentialsThroughProxy(t *testing.T) {
	noAzureEnv(t)
	az := newFakeAzure(t)
	v := &memVault{values: map[string]string{"azure/secret": "client-secret-1"}}
	var mu sync.Mutex
	now := time.Unix(1700000000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p := newProxy(t, Config{Transport: az.transport(), Now: clock, Vaults: map[string]secret.Resolver{"mem": v},
		Targets: []Target{azureMITarget(Auth{AzureClientID: "app-1", AzureClientSecret: "{vault://mem/azure/secret}", AzureTenantID: "tenant-1"})}})

	for range 2 {
		rec := post(t, p, chatBody, "Authorization", "Bearer client-key", "api-key", "client-key")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	}
	tokens, upstream := az.calls()
	require.Len(t, tokens, 1, "the token is cached across requests")
	assert.Equal(t, "login.microsoftonline.com", tokens[0].host)
	assert.Equal(t, "/tenant-1/oauth2/v2.0/token", tokens[0].path)
	assert.Equal(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {"app-1"},
		"client_secret": {"client-secret-1"}, "scope": {"https://cognitiveservices.azure.com/.default"}}, tokens[0].form)
	require.Len(t, upstream, 2)
	for _, h := range upstream {
		assert.Equal(t, []string{"Bearer entra-token-1"}, h.Values("Authorization"))
		assert.Empty(t, h.Values("Api-Key"), "no api-key header: neither the client's nor one of the target")
	}

	mu.Lock()
	now = now.Add(56 * time.Minute) // within five minutes of the expiry
	mu.Unlock()
	require.Equal(t, http.StatusOK, post(t, p, chatBody).Code)
	v.mu.Lock()
	v.values["azure/secret"] = "client-secret-2"
	v.mu.Unlock()
	require.Equal(t, http.StatusOK, post(t, p, chatBody).Code)

	tokens, upstream = az.calls()
	require.Len(t, tokens, 3)
	assert.Equal(t, "client-secret-1", tokens[1].form.Get("client_secret"), "renewed near expiry")
	assert.Equal(t, "client-secret-2", tokens[2].form.Get("client_secret"), "the rotated secret is used")
	assert.Equal(t, "Bearer entra-token-2", upstream[2].Get("Authorization"))
	assert.Equal(t, "Bearer entra-token-3", upstream[3].Get("Authorization"))
}

// TestAzureIdentityFromEnvironment: empty fields fall back to AZURE_CLIENT_ID,
// AZURE_CLIENT_SECRET and AZURE_TENANT_ID, as in Kong, and AZURE_AUTHORITY_HOST moves the
// authority.
func TestAzureIdentityFromEnvironment(t *testing.T) {
	noAzureEnv(t)
	t.Setenv("AZURE_CLIENT_ID", "env-app")
	t.Setenv("AZURE_CLIENT_SECRET", "env-secret")
	t.Setenv("AZURE_TENANT_ID", "env-tenant")
	t.Setenv("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/")
	az := newFakeAzure(t)
	p := newProxy(t, Config{Transport: az.transport(), Targets: []Target{azureMITarget(Auth{})}})
	require.Equal(t, http.StatusOK, post(t, p, chatBody).Code)
	tokens, upstream := az.calls()
	require.Len(t, tokens, 1)
	assert.Equal(t, "login.microsoftonline.us", tokens[0].host)
	assert.Equal(t, "/env-tenant/oauth2/v2.0/token", tokens[0].path)
	assert.Equal(t, "env-app", tokens[0].form.Get("client_id"))
	assert.Equal(t, "env-secret", tokens[0].form.Get("client_secret"))
	assert.Equal(t, "Bearer entra-token-1", upstream[0].Get("Authorization"))
}

// TestAzureManagedIdentityThroughProxy: without a secret, the host's managed identity:
// IMDS, system-assigned or user-assigned, or the App Service endpoint of IDENTITY_ENDPOINT.
func TestAzureManagedIdentityThroughProxy(t *testing.T) {
	imds := func(w http.ResponseWriter, n int) {
		fmt.Fprintf(w, `{"access_token":"mi-token-%d","refresh_token":"","expires_in":"86399","expires_on":"1700086399","not_before":"1700000000","resource":"https://cognitiveservices.azure.com/","token_type":"Bearer"}`, n)
	}
	for _, tc := range []struct {
		name     string
		auth     Auth
		env      map[string]string
		host     string
		path     string
		query    url.Values
		header   string // name of the header that must be sent, with value
		hdrValue string
	}{
		{name: "IMDS system-assigned", host: "169.254.169.254", path: "/metadata/identity/oauth2/token",
			query:  url.Values{"api-version": {"2018-02-01"}, "resource": {"https://cognitiveservices.azure.com/"}},
			header: "Metadata", hdrValue: "true"},
		{name: "IMDS user-assigned", auth: Auth{AzureClientID: "mi-client"}, host: "169.254.169.254", path: "/metadata/identity/oauth2/token",
			query:  url.Values{"api-version": {"2018-02-01"}, "resource": {"https://cognitiveservices.azure.com/"}, "client_id": {"mi-client"}},
			header: "Metadata", hdrValue: "true"},
		{name: "IMDS user-assigned from AZURE_CLIENT_ID", env: map[string]string{"AZURE_CLIENT_ID": "env-mi"},
			host: "169.254.169.254", path: "/metadata/identity/oauth2/token",
			query:  url.Values{"api-version": {"2018-02-01"}, "resource": {"https://cognitiveservices.azure.com/"}, "client_id": {"env-mi"}},
			header: "Metadata", hdrValue: "true"},
		{name: "App Service", auth: Auth{AzureClientID: "mi-client"},
			env:  map[string]string{"IDENTITY_ENDPOINT": "http://localhost:42356/msi/token", "IDENTITY_HEADER": "identity-header-1"},
			host: "localhost:42356", path: "/msi/token",
			query:  url.Values{"api-version": {"2019-08-01"}, "resource": {"https://cognitiveservices.azure.com/"}, "client_id": {"mi-client"}},
			header: "X-Identity-Header", hdrValue: "identity-header-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noAzureEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			az := newFakeAzure(t)
			az.token = imds
			p := newProxy(t, Config{Transport: az.transport(), Targets: []Target{azureMITarget(tc.auth)}})
			for range 2 {
				rec := post(t, p, chatBody, "api-key", "client-key")
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			}
			tokens, upstream := az.calls()
			require.Len(t, tokens, 1)
			assert.Equal(t, tc.host, tokens[0].host)
			assert.Equal(t, tc.path, tokens[0].path)
			assert.Equal(t, tc.query, tokens[0].query)
			assert.Equal(t, tc.hdrValue, tokens[0].header.Get(tc.header))
			for _, h := range upstream {
				assert.Equal(t, "Bearer mi-token-1", h.Get("Authorization"))
				assert.Empty(t, h.Values("Api-Key"))
			}
		})
	}
}

// TestAzureTokenErrorReachesClient: a refused token request fails the attempt like any
// credential failure (GCP's too): the client gets a 502 in OpenAI's format, code
// upstream_failed, naming Entra ID's error; no request reaches Azure OpenAI.
func TestAzureTokenErrorReachesClient(t *testing.T) {
	noAzureEnv(t)
	az := newFakeAzure(t)
	az.token = func(w http.ResponseWriter, _ int) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app 'app-1'.","error_codes":[7000215],"timestamp":"2026-12-02 15:00:00Z","trace_id":"t","correlation_id":"c"}`)
	}
	p := newProxy(t, Config{Transport: az.transport(), Balancer: BalancerConfig{Retries: -1},
		Targets: []Target{azureMITarget(Auth{AzureClientID: "app-1", AzureClientSecret: "wrong-secret-value", AzureTenantID: "tenant-1"})}})
	rec := post(t, p, chatBody)
	require.Equal(t, http.StatusBadGateway, rec.Code, rec.Body.String())
	msg, typ, code := openaiError(t, rec.Body.Bytes())
	assert.Equal(t, "server_error", typ)
	assert.Equal(t, "upstream_failed", code)
	assert.Contains(t, msg, "azure/gpt-4o: upstream 502 server_error: entra: client credentials token endpoint answered 401 invalid_client: AADSTS7000215: Invalid client secret provided.")
	assert.NotContains(t, rec.Body.String(), "wrong-secret-value")
	_, upstream := az.calls()
	assert.Empty(t, upstream)
}

func TestAzureAndGCPExcludeEachOther(t *testing.T) {
	tg := azureMITarget(Auth{GCPUseServiceAccount: true})
	_, err := New(Config{Targets: []Target{tg}})
	require.ErrorIs(t, err, ErrInvalidConfig)
	assert.Contains(t, err.Error(), "auth.gcp_use_service_account and auth.azure_use_managed_identity exclude each other")
}

// TestAzureFlagIgnoredByOtherProviders: as in Kong, azure_use_managed_identity applies to
// provider azure only; an OpenAI target keeps its own header and asks no token.
func TestAzureFlagIgnoredByOtherProviders(t *testing.T) {
	noAzureEnv(t)
	az := newFakeAzure(t)
	tg := Target{Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{
		UpstreamURL: "https://my-resource.openai.azure.com/openai/v1/chat/completions"}},
		Auth: Auth{AzureUseManagedIdentity: true, HeaderName: "api-key", HeaderValue: "azure-key-1"}}
	p := newProxy(t, Config{Transport: az.transport(), Targets: []Target{tg}})
	require.Equal(t, http.StatusOK, post(t, p, chatBody).Code)
	tokens, upstream := az.calls()
	assert.Empty(t, tokens)
	require.Len(t, upstream, 1)
	assert.Equal(t, "azure-key-1", upstream[0].Get("Api-Key"))
	assert.Empty(t, upstream[0].Get("Authorization"))
}

// BenchmarkAzureToken is the per-request cost of a cached Entra ID token: the identity is
// resolved (literals and the AZURE_* environment) and compared, and the cached token returned.
func BenchmarkAzureToken(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"access_token":"tok","expires_in":3599}`)
	}))
	defer srv.Close()
	b.Setenv("AZURE_AUTHORITY_HOST", srv.URL)
	a := &Auth{AzureUseManagedIdentity: true, AzureClientID: "app-1", AzureClientSecret: "secret-1", AzureTenantID: "tenant-1"}
	tokens := azureTokens(a, secret.NewVaults(nil), srv.Client(), time.Now)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tokens.token(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
