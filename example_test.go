package aiproxy_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/provider"
)

// The Proxy as an http.Handler, mounted on net/http's ServeMux.
func ExampleProxy_ServeHTTP() {
	upstream := aiproxytest.NewOpenAI() // a local OpenAI-compatible API
	defer upstream.Close()

	p, err := aiproxy.New(aiproxy.Config{Targets: []aiproxy.Target{{
		Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: upstream.ChatURL()}},
		Auth:  aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer sk-upstream-key"},
	}}})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	mux := http.NewServeMux()
	mux.Handle("POST /v1/chat/completions", p)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"messages":[{"role":"user","content":"What is 1+1?"}]}`))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	text, _ := aiproxytest.CompletionText(body)
	fmt.Println(resp.Status, resp.Header.Get("X-Kong-LLM-Model"))
	fmt.Println(text)
	// Output:
	// 200 OK openai/gpt-4o
	// Hello from gpt-4o
}

// The Proxy as an http.RoundTripper under an http.Client, such as the one an OpenAI SDK
// client takes. The request's host does not matter: the proxy sends it to its targets, with
// the targets' credentials.
func ExampleProxy_RoundTrip() {
	upstream := aiproxytest.NewOpenAI()
	defer upstream.Close()
	upstream.APIKey = "sk-upstream-key" // the upstream rejects any other key

	p, err := aiproxy.New(aiproxy.Config{Targets: []aiproxy.Target{{
		Model: provider.Model{Provider: "openai", Name: "gpt-4o-mini", Options: provider.Options{UpstreamURL: upstream.ChatURL()}},
		Auth:  aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer sk-upstream-key"},
	}}})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	client := &http.Client{Transport: p}
	req, _ := http.NewRequest(http.MethodPost, "https://api.openai.com/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}`))
	req.Header.Set("Authorization", "Bearer sk-client-key") // replaced by the target's
	resp, err := client.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	text, _ := aiproxytest.CompletionText(body)
	fmt.Println(resp.StatusCode, text)
	// Output:
	// 200 Hello from gpt-4o-mini
}

// Model aliases, as in Kong's model_alias: clients ask for "powerful" or "fast", and the
// proxy sends each request to the target with that alias, under the target's model name.
func Example_modelAliases() {
	upstream := aiproxytest.NewOpenAI()
	defer upstream.Close()
	target := func(alias, model string) aiproxy.Target {
		return aiproxy.Target{Model: provider.Model{Provider: "openai", Name: model, Alias: alias,
			Options: provider.Options{UpstreamURL: upstream.ChatURL()}}}
	}
	p, err := aiproxy.New(aiproxy.Config{Targets: []aiproxy.Target{
		target("powerful", "gpt-4o"),
		target("fast", "gpt-4o-mini"),
	}})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	client := &http.Client{Transport: p}
	for _, model := range []string{"powerful", "fast", "slow"} {
		resp, err := client.Post("http://aiproxy/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"`+model+`","messages":[{"role":"user","content":"What is 1+1?"}]}`))
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			fmt.Printf("%s: %d %s\n", model, resp.StatusCode, body)
			continue
		}
		text, _ := aiproxytest.CompletionText(body)
		fmt.Printf("%s: %s (%s)\n", model, text, resp.Header.Get("X-Kong-LLM-Model"))
	}
	// Output:
	// powerful: Hello from gpt-4o (openai/gpt-4o)
	// fast: Hello from gpt-4o-mini (openai/gpt-4o-mini)
	// slow: 400 {"error":{"message":"the model \"slow\" is not served here; use one of: fast, gpt-4o, gpt-4o-mini, powerful","type":"invalid_request_error","param":null,"code":"model_not_found"}}
}

// Failover: the first target answers 503, so the proxy tries the next one, and the client
// sees only the answer. A hook reports what happened. As in Kong, a POST that reached an
// upstream is retried only with "non_idempotent" among the failover criteria.
func Example_failover() {
	primary, backup := aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()
	defer primary.Close()
	defer backup.Close()
	primary.Fail(http.StatusServiceUnavailable, 1, "") // the next request gets OpenAI's 503

	p, err := aiproxy.New(aiproxy.Config{
		Targets: []aiproxy.Target{
			{Weight: 75, Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: primary.ChatURL()}}},
			{Weight: 25, Model: provider.Model{Provider: "openai", Name: "gpt-4o-mini", Options: provider.Options{UpstreamURL: backup.ChatURL()}}},
		},
		Balancer: aiproxy.BalancerConfig{Retries: 3, FailoverCriteria: []string{"error", "timeout", "http_429", "http_503", "non_idempotent"}},
		Hooks: []aiproxy.Hook{{AfterResponse: func(_ context.Context, _ *http.Request, s *aiproxy.Stats) {
			for _, a := range s.Attempts {
				fmt.Printf("tried %s: %d\n", a.Target, a.Status)
			}
			fmt.Printf("served by %s\n", s.Target)
		}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	client := &http.Client{Transport: p}
	resp, err := client.Post("http://aiproxy/v1/chat/completions", "application/json",
		strings.NewReader(`{"messages":[{"role":"user","content":"What is 1+1?"}]}`))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	text, _ := aiproxytest.CompletionText(body)
	fmt.Println(resp.StatusCode, text)
	// Output:
	// tried openai/gpt-4o: 503
	// served by openai/gpt-4o-mini
	// 200 Hello from gpt-4o-mini
}

// A per-API-key token budget built on the hooks: BeforeRoute refuses a caller whose budget is
// spent (429, OpenAI's insufficient_quota), AfterResponse charges what each request used. The
// caller is identified by a header of the host program's own (here X-Team), since the proxy
// replaces the client's own API key with the target's.
func Example_tokenBudget() {
	up := aiproxytest.NewOpenAI()
	defer up.Close()

	var mu sync.Mutex
	budget := map[string]int{"team-a": 30} // tokens left per team
	p, err := aiproxy.New(aiproxy.Config{
		Targets: []aiproxy.Target{{Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: up.ChatURL()}}}},
		Hooks: []aiproxy.Hook{{
			BeforeRoute: func(_ context.Context, r *http.Request, _ aiproxy.Inbound) error {
				mu.Lock()
				defer mu.Unlock()
				if budget[r.Header.Get("X-Team")] <= 0 {
					return &aiproxy.RequestError{Status: http.StatusTooManyRequests, Type: "insufficient_quota",
						Code: "insufficient_quota", Message: "your team's token budget is spent", Err: aiproxy.ErrBadRequest}
				}
				return nil
			},
			AfterResponse: func(_ context.Context, r *http.Request, s *aiproxy.Stats) {
				mu.Lock()
				budget[r.Header.Get("X-Team")] -= s.Usage.TotalTokens
				mu.Unlock()
			},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	client := &http.Client{Transport: p}
	for range 3 {
		req, _ := http.NewRequest(http.MethodPost, "http://aiproxy/v1/chat/completions",
			strings.NewReader(`{"messages":[{"role":"user","content":"Tell me something about budgets, please."}]}`))
		req.Header.Set("X-Team", "team-a")
		resp, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		mu.Lock()
		fmt.Println(resp.StatusCode, budget["team-a"])
		mu.Unlock()
	}
	// Output:
	// 200 11
	// 200 -8
	// 429 -8
}
