// Quickstart runs aiproxy in front of two local fake OpenAI-compatible upstreams and sends
// it a few requests: two model aliases, a failover, a streamed answer and an unknown model.
// No network and no API key are needed:
//
//	go run ./examples/quickstart
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/kong"
	"github.com/aiproxy/aiproxy/provider"
)

// config is a Kong decK file, as Kong's docs write it: "powerful" is gpt-4o on two upstreams
// (weights 75 and 25), "fast" is gpt-4o-mini, and a request that gets a 503 fails over.
const config = `
_format_version: "3.0"
plugins:
- name: ai-proxy-advanced
  config:
    balancer:
      algorithm: round-robin
      retries: 3
      failover_criteria: [error, timeout, http_429, http_503, non_idempotent]
    targets:
    - route_type: llm/v1/chat
      weight: 75
      auth: {header_name: Authorization, header_value: 'Bearer ${{ env "DECK_OPENAI_API_KEY" }}'}
      model:
        provider: openai
        name: gpt-4o
        model_alias: powerful
        options: {upstream_url: '${{ env "DECK_UPSTREAM_A" }}'}
    - route_type: llm/v1/chat
      weight: 25
      auth: {header_name: Authorization, header_value: 'Bearer ${{ env "DECK_OPENAI_API_KEY" }}'}
      model:
        provider: openai
        name: gpt-4o
        model_alias: powerful
        options: {upstream_url: '${{ env "DECK_UPSTREAM_B" }}'}
    - route_type: llm/v1/chat
      auth: {header_name: Authorization, header_value: 'Bearer ${{ env "DECK_OPENAI_API_KEY" }}'}
      model:
        provider: openai
        name: gpt-4o-mini
        model_alias: fast
        options: {upstream_url: '${{ env "DECK_UPSTREAM_B" }}'}
`

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	// Two fake OpenAI APIs on loopback, which say in each answer which one they are.
	const key = "sk-local-demo"
	upA, upB := aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()
	defer upA.Close()
	defer upB.Close()
	for name, up := range map[string]*aiproxytest.OpenAI{"A": upA, "B": upB} {
		up.APIKey = key
		up.Reply = func(r *provider.ChatRequest) string { return "Hello from " + r.Model + " on upstream " + name }
	}

	// The proxy, configured from the decK file, as an http.Handler on a local server.
	env := map[string]string{"DECK_OPENAI_API_KEY": key, "DECK_UPSTREAM_A": upA.ChatURL(), "DECK_UPSTREAM_B": upB.ChatURL()}
	file, err := kong.Parse([]byte(config), kong.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		return err
	}
	cfg := file.Plugins[0].Config
	stats := make(chan aiproxy.Stats, 1)
	cfg.Hooks = []aiproxy.Hook{{AfterResponse: func(_ context.Context, _ *http.Request, s *aiproxy.Stats) { stats <- *s }}}
	p, err := aiproxy.New(cfg)
	if err != nil {
		return err
	}
	defer p.Close()
	mux := http.NewServeMux()
	mux.Handle("POST /v1/chat/completions", p)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	url := "http://" + ln.Addr().String() + "/v1/chat/completions"
	fmt.Fprintf(out, "aiproxy is listening on %s, in front of upstreams A and B\n", url)

	upA.Fail(http.StatusServiceUnavailable, 1, "") // A's next answer is a 503
	steps := []struct {
		title, model string
		stream       bool
	}{
		{"model \"fast\" (alias of gpt-4o-mini)", "fast", false},
		{"model \"powerful\" (gpt-4o on A or B): A answers 503, the proxy fails over to B", "powerful", false},
		{"model \"powerful\", streamed", "powerful", true},
		{"model \"slow\", which no target serves", "slow", false},
	}
	for i, s := range steps {
		fmt.Fprintf(out, "\n%d. %s\n", i+1, s.title)
		if err := ask(out, url, s.model, s.stream); err != nil {
			return err
		}
		report(out, <-stats)
	}
	return nil
}

// ask sends one chat request and prints the answer.
func ask(out io.Writer, url, model string, stream bool) error {
	body := `{"model":"` + model + `","messages":[{"role":"user","content":"What is 1+1?"}]}`
	if stream {
		body = `{"model":"` + model + `","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"What is 1+1?"}]}`
	}
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	fmt.Fprintf(out, "   HTTP %d, X-Kong-LLM-Model: %q\n", resp.StatusCode, resp.Header.Get("X-Kong-LLM-Model"))
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error struct{ Message string } }
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			return err
		}
		fmt.Fprintf(out, "   error: %s\n", e.Error.Message)
		return nil
	}
	if !stream {
		var c provider.ChatCompletion
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
			return err
		}
		fmt.Fprintf(out, "   answer: %q\n", *c.Choices[0].Message.Content)
		return nil
	}
	fmt.Fprint(out, "   events:")
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			fmt.Fprintln(out, " [DONE]")
			return nil
		}
		var c provider.ChatChunk
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return err
		}
		if len(c.Choices) > 0 && c.Choices[0].Delta.Content != nil {
			fmt.Fprintf(out, " %q", *c.Choices[0].Delta.Content)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("the stream ended without [DONE]")
}

// report prints what the proxy did, from its statistics.
func report(out io.Writer, s aiproxy.Stats) {
	for _, a := range s.Attempts {
		fmt.Fprintf(out, "   attempt on %s failed: HTTP %d\n", a.Target, a.Status)
	}
	if s.Target == "" {
		fmt.Fprintln(out, "   answered by the proxy: no target was tried")
		return
	}
	fmt.Fprintf(out, "   served by target %s after %d attempt(s); tokens: %d prompt + %d completion = %d\n",
		s.Target, len(s.Attempts)+1, s.Usage.PromptTokens, s.Usage.CompletionTokens, s.Usage.TotalTokens)
}
