package aiproxy_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
)

const templateChat = `{"model":"client-model","messages":[{"role":"user","content":"hi"}]}`

// templateProxy is a Proxy with one OpenAI target whose model.name (and upstream_url, when
// given) hold template variables, and the Stats of its last request.
func templateProxy(t *testing.T, up *aiproxytest.OpenAI, name, upstreamURL string) (*aiproxy.Proxy, *aiproxy.Stats) {
	t.Helper()
	if upstreamURL == "" {
		upstreamURL = up.ChatURL()
	}
	var last aiproxy.Stats
	p, err := aiproxy.New(aiproxy.Config{
		Targets: []aiproxy.Target{{
			Model: provider.Model{Provider: "openai", Name: name, Options: provider.Options{UpstreamURL: upstreamURL}},
			Auth:  aiproxy.Auth{HeaderName: "Authorization", HeaderValue: aiproxy.Secret("Bearer " + up.APIKey)},
		}},
		Hooks: onStats(func(s aiproxy.Stats) { last = s }),
	})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p, &last
}

func sentModel(t *testing.T, r aiproxytest.Request) string {
	t.Helper()
	var b struct{ Model string }
	require.NoError(t, json.Unmarshal(r.Body, &b))
	return b.Model
}

// Kong's dynamic model selection: model.name taken from the route's path capture, a header or a
// query parameter, per request, in either of Kong's spellings.
func TestTemplateModelName(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	up.APIKey = "sk-template"
	for _, tc := range []struct {
		name, template, path string
		header               []string
		want                 string
	}{
		{"path capture", "$(uri_captures.model)", "/gpt-4o/chat/completions", nil, "gpt-4o"},
		{"path capture, brackets", `$(uri_captures["model"])`, "/gpt-4o-mini/chat/completions", nil, "gpt-4o-mini"},
		{"header", "$(headers.x-model)", "/v1/chat/completions", []string{"X-Model", "o3"}, "o3"},
		{"header, underscores as nginx reads them", "$(headers.x_model)", "/v1/chat/completions", []string{"X-Model", "o4-mini"}, "o4-mini"},
		{"header, single quotes", "$(headers['X-Model'])", "/v1/chat/completions", []string{"X-Model", "o1"}, "o1"},
		{"query parameter", "$(query_params.model)", "/v1/chat/completions?model=gpt-4.1", nil, "gpt-4.1"},
		{"with literal text", "ft:$(headers.x-base):acme", "/v1/chat/completions", []string{"X-Base", "gpt-4o"}, "ft:gpt-4o:acme"},
		{"a slash is a model name's own", "$(headers.x-model)", "/v1/chat/completions", []string{"X-Model", "meta-llama/Llama-3.1-8B"}, "meta-llama/Llama-3.1-8B"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, stats := templateProxy(t, up, tc.template, "")
			mux := http.NewServeMux()
			mux.Handle("POST /{model}/chat/completions", p)
			mux.Handle("POST /v1/chat/completions", p)
			req := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(templateChat))
			for i := 0; i+1 < len(tc.header); i += 2 {
				req.Header.Set(tc.header[i], tc.header[i+1])
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			reqs := up.Requests()
			assert.Equal(t, tc.want, sentModel(t, reqs[len(reqs)-1]))
			assert.Equal(t, "openai/"+tc.want, rec.Header().Get("X-Kong-Llm-Model"))
			assert.Equal(t, "client-model", stats.RequestedModel)
		})
	}
}

// An escape is literal text: $('$(headers.x)') is the model "$(headers.x)", not a variable.
func TestTemplateEscape(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	p, _ := templateProxy(t, up, "$('$(headers.x)')", "")
	rec := postTo(p, "/v1/chat/completions", noModel)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	reqs := up.Requests()
	assert.Equal(t, "$(headers.x)", sentModel(t, reqs[len(reqs)-1]))
}

const noModel = `{"messages":[{"role":"user","content":"hi"}]}`

// A value the request does not give is a 400 naming the variable; a value that could leave its
// place in the upstream URL is a 400 too, and nothing is sent upstream.
func TestTemplateRefusals(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	for _, tc := range []struct {
		name, template, value, want string
	}{
		{"missing header", "$(headers.x-model)", "", "model.name is $(headers.x-model), which this request does not give: no x-model header"},
		{"missing query parameter", "$(query_params.m)", "", "no m query parameter"},
		{"missing capture", "$(uri_captures.model)", "", "no model path value"},
		{"dot segment", "$(headers.x-model)", "../../admin", `dot segment`},
		{"encoded slash", "$(headers.x-model)", "a%2Fb", `holds "%"`},
		{"query", "$(headers.x-model)", "gpt-4o?x=1", `holds "?"`},
		{"fragment", "$(headers.x-model)", "gpt-4o#x", `holds "#"`},
		{"backslash", "$(headers.x-model)", `..\x`, `holds "\\"`},
		{"userinfo", "$(headers.x-model)", "a@evil", `holds "@"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, stats := templateProxy(t, up, tc.template, "")
			before := len(up.Requests())
			req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(templateChat))
			if tc.value != "" {
				req.Header.Set("X-Model", tc.value)
			}
			rec := httptest.NewRecorder()
			p.ServeHTTP(rec, req)
			require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
			msg, typ, _ := openaiErr(t, rec.Body.Bytes())
			assert.Equal(t, "invalid_request_error", typ)
			assert.Contains(t, msg, tc.want)
			assert.ErrorIs(t, stats.Err, aiproxy.ErrBadRequest)
			assert.Len(t, up.Requests(), before)
		})
	}
	// CR and LF cannot reach a header, but a query parameter can carry them.
	p, _ := templateProxy(t, up, "$(query_params.m)", "")
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/chat/completions?m=a%0D%0AX-Evil:%201", strings.NewReader(templateChat)))
	require.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), "control character")
}

func openaiErr(t *testing.T, body []byte) (msg, typ, code string) {
	t.Helper()
	var e struct {
		Error struct{ Message, Type, Code string }
	}
	require.NoError(t, json.Unmarshal(body, &e), string(body))
	return e.Error.Message, e.Error.Type, e.Error.Code
}

// Templates in model.options: here a path segment of upstream_url; a variable in its scheme
// or host is refused at New (the credentials would go where the client says).
func TestTemplateOptions(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	p, _ := templateProxy(t, up, "gpt-4o", up.URL+"/$(headers.x-tenant)/v1/chat/completions")
	rec := postTo(p, "/v1/chat/completions", noModel, "X-Tenant", "acme")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	reqs := up.Requests()
	assert.Equal(t, "/acme/v1/chat/completions", reqs[len(reqs)-1].Path)
	assert.Equal(t, "gpt-4o", sentModel(t, reqs[len(reqs)-1]))

	for _, tc := range []struct {
		name string
		m    provider.Model
		want string
	}{
		{"host", provider.Model{Provider: "openai", Options: provider.Options{UpstreamURL: "https://$(headers.x-host)/v1/chat/completions"}},
			"model.options.upstream_url: a template variable may not choose the upstream's scheme or host"},
		{"gemini endpoint", provider.Model{Provider: "gemini", Name: "gemini-2.0-flash", Options: provider.Options{Gemini: &provider.GeminiOptions{APIEndpoint: "$(headers.x-endpoint)"}}},
			"model.options.gemini.api_endpoint: a template variable may not choose the upstream's host"},
		{"unsupported expression", provider.Model{Provider: "openai", Name: `$(uri_captures["rest"] or "")`},
			`model.name: template "$(uri_captures[\"rest\"] or \"\")" is not supported`},
		{"unclosed", provider.Model{Provider: "openai", Name: "$(headers.x"}, "model.name: template"},
		{"unknown source", provider.Model{Provider: "openai", Name: "$(cookies.x)"}, "use $(headers.NAME), $(query_params.NAME) or $(uri_captures.NAME)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := aiproxy.New(aiproxy.Config{Targets: []aiproxy.Target{{Model: tc.m}}})
			require.ErrorIs(t, err, aiproxy.ErrInvalidConfig)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// Azure's deployment from the path, as Kong's "one chat route with dynamic Azure OpenAI
// deployments" example: model.name and model.options.azure_deployment_id share a capture.
func TestTemplateAzureDeployment(t *testing.T) {
	var got []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = append(got, r.URL.Path, string(body))
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}`)
	}))
	defer up.Close()
	p, err := aiproxy.New(aiproxy.Config{Targets: []aiproxy.Target{{
		Model: provider.Model{Provider: "azure", Name: "$(uri_captures.deployment)", Options: provider.Options{
			AzureInstance: "acme", AzureDeploymentID: "$(uri_captures.deployment)"}},
		Auth: aiproxy.Auth{HeaderName: "api-key", HeaderValue: "k"},
	}}, Transport: toHost(up.URL)})
	require.NoError(t, err)
	defer p.Close()
	mux := http.NewServeMux()
	mux.Handle("POST /openai/deployments/{deployment}/chat/completions", p)
	for _, dep := range []string{"gpt-35", "gpt-4o"} {
		rec := postTo(mux, "/openai/deployments/"+dep+"/chat/completions", templateChat)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, "/openai/deployments/"+dep+"/chat/completions", got[len(got)-2])
		assert.Contains(t, got[len(got)-1], `"model":"`+dep+`"`)
	}
}

// toHost sends every request to base, keeping its path and query: a fake for a provider
// whose host is fixed (Azure's <instance>.openai.azure.com).
func toHost(base string) http.RoundTripper {
	return transportFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		u := *r.URL
		b, _ := http.NewRequest(http.MethodGet, base, nil)
		u.Scheme, u.Host = b.URL.Scheme, b.URL.Host
		r.URL, r.Host = &u, ""
		return http.DefaultTransport.RoundTrip(r)
	})
}

type transportFunc func(*http.Request) (*http.Response, error)

func (f transportFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func postTo(h http.Handler, path, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// Under chi, the path's URL parameters are the captures: chi (v5.5.0, which this module tests with) sets them as
// the request's path values. A router that keeps its captures elsewhere passes them with
// http.Request.SetPathValue in a middleware, as pathValues does here with chi's own.
func TestTemplateUnderChi(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	p, _ := templateProxy(t, up, "$(uri_captures.model)", "")

	r := chi.NewRouter()
	r.Post("/{model}/chat/completions", p.ServeHTTP)
	rec := postTo(r, "/gpt-4o/chat/completions", templateChat)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	reqs := up.Requests()
	assert.Equal(t, "gpt-4o", sentModel(t, reqs[len(reqs)-1]))

	// The middleware for other routers; here it copies chi's parameters under other names.
	pathValues := func(names map[string]string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for param, capture := range names {
					r.SetPathValue(capture, chi.URLParam(r, param))
				}
				next.ServeHTTP(w, r)
			})
		}
	}
	r2 := chi.NewRouter()
	r2.With(pathValues(map[string]string{"m": "model"})).Post("/{m}/chat/completions", p.ServeHTTP)
	rec = postTo(r2, "/o3/chat/completions", templateChat)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	reqs = up.Requests()
	assert.Equal(t, "o3", sentModel(t, reqs[len(reqs)-1]))
}

// As an http.RoundTripper: the captures are the request's path values, which a program sets
// with SetPathValue; headers and query parameters are the request's own.
func TestTemplateRoundTripper(t *testing.T) {
	up := aiproxytest.NewOpenAI()
	defer up.Close()
	p, _ := templateProxy(t, up, "$(headers.x-model)", "")
	client := &http.Client{Transport: p}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://proxy.invalid/v1/chat/completions", strings.NewReader(templateChat))
	req.Header.Set("X-Model", "gpt-4o-mini")
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "openai/gpt-4o-mini", resp.Header.Get("X-Kong-Llm-Model"))

	req, _ = http.NewRequestWithContext(context.Background(), http.MethodPost, "http://proxy.invalid/v1/chat/completions", strings.NewReader(templateChat))
	resp, err = client.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, string(body), "missing_template_value")
}
