// Quickstart shows aiproxy's headline on a machine with no API key and no network: Kong's
// how-to "Route OpenAI chat traffic using semantic balancing and Vault-stored keys" (seed
// 000), its decK file unchanged (seed000.yaml), in front of local fakes of OpenAI and
// Mistral, with the official openai-go client and the Proxy as its http.RoundTripper.
//
//	go run ./examples/quickstart
//
// It prints, for each of the how-to's prompts, the model that served it, the semantic
// distance to each target's description and the threshold; then model aliases, a failover
// and a stream (aliases.yaml); then where to look next. Only the servers change: fakes stand
// in for OpenAI and Mistral (their URLs are set in Go), the offline embedder for OpenAI's
// embeddings model and an in-memory store for Redis (Config.Embedder and Config.VectorStore,
// which take precedence over the file's embeddings and vectordb blocks), and a Kong env vault
// under the same prefix (vaults.yaml) for HashiCorp Vault.
package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/aiproxytest"
	"github.com/aiproxy/aiproxy/embed/offline"
	"github.com/aiproxy/aiproxy/kong"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/vectorstore"
)

// files are the Kong files: seed000.yaml is kong/testdata/seed000-deck.yaml, byte for byte.
//
//go:embed seed000.yaml vaults.yaml aliases.yaml
var files embed.FS

// prompts are seed 000's validation prompts: two on programming, two on mathematics and two
// on neither, which the CATCHALL target (Mistral) serves.
var prompts = []string{
	"How can I build a REST API using Flask?",
	"How can you effectively debug asynchronous code in JavaScript to identify where a Promise or callback might be failing?",
	"What is the derivative of sin(x)?",
	"Explain me Gödel`s incompleteness theorem.",
	"What is Wulfila Bible?",
	"Who was Edward Gibbon and what he is famous for?",
}

// The keys the fakes accept, and the vault that holds them: DEMO_OPENAI and DEMO_MISTRAL
// hold {"key": "Bearer ..."}, as Vault's secret/openai and secret/mistral do in the how-to.
const (
	openaiKey  = "sk-openai-demo"
	mistralKey = "mistral-demo"
)

// env is the environment the files read.
var env = map[string]string{
	"DEMO_OPENAI":          `{"key": "Bearer ` + openaiKey + `"}`,
	"DEMO_MISTRAL":         `{"key": "Bearer ` + mistralKey + `"}`,
	"DECK_DECK_REDIS_HOST": "localhost", // seed000.yaml's template; its Redis is replaced below
}

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	if err := semantic(ctx, out); err != nil {
		return err
	}
	if err := aliases(ctx, out); err != nil {
		return err
	}
	fmt.Fprint(out, `
Where to look next (the aiproxy command serves the same files):
  check them, every problem at once:
    DECK_DECK_REDIS_HOST=localhost go run ./cmd/aiproxy validate -config examples/quickstart/seed000.yaml -config examples/quickstart/vaults.yaml
  see why a prompt goes where it goes:
    DECK_DECK_REDIS_HOST=localhost go run ./cmd/aiproxy route -offline-embeddings -config examples/quickstart/seed000.yaml -config examples/quickstart/vaults.yaml "What is the derivative of sin(x)?"
  serve your own files (then GET /readyz, /metrics, /v1/models; SIGHUP reloads):
    go run ./cmd/aiproxy serve -config kong.yaml -config vaults.yaml -listen :8000
`)
	return nil
}

// load loads the named files as one configuration, as `aiproxy serve -config a -config b`
// merges them, reading variables from vars.
func load(vars map[string]string, names ...string) (*kong.File, error) {
	var docs []string
	for _, name := range names {
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		docs = append(docs, string(b))
	}
	return kong.Load([]byte(strings.Join(docs, "\n---\n")), kong.LoadOptions{
		Options: kong.Options{LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }},
	})
}

// newClient returns an openai-go client whose requests the proxy p answers.
func newClient(p *aiproxy.Proxy) openai.Client {
	return openai.NewClient(
		option.WithHTTPClient(&http.Client{Transport: p}),
		option.WithAPIKey("unused"), // the proxy sends each target's key, from the vault
		option.WithMaxRetries(0),    // retries and failover are the proxy's
	)
}

// semantic runs seed 000: routing by meaning, keys from the vault.
func semantic(ctx context.Context, out io.Writer) error {
	openaiUp, mistralUp := aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()
	defer openaiUp.Close()
	defer mistralUp.Close()
	openaiUp.APIKey, mistralUp.APIKey = openaiKey, mistralKey

	f, err := load(env, "seed000.yaml", "vaults.yaml")
	if err != nil {
		return err
	}
	defer f.Close()
	cfg := f.Plugins[0].Config
	cfg.Targets[0].Model.Options.UpstreamURL = openaiUp.ChatURL()  // gpt-3.5-turbo
	cfg.Targets[1].Model.Options.UpstreamURL = openaiUp.ChatURL()  // gpt-4o
	cfg.Targets[2].Model.Options.UpstreamURL = mistralUp.ChatURL() // mistral-tiny, the CATCHALL
	cfg.Embedder = offline.New()
	cfg.VectorStore = vectorstore.NewMemory(cfg.VectorDB.DistanceMetric, 0)
	cfg.StrictSecrets = true // New resolves every {vault://...} key now, and fails naming any that does not resolve
	p, err := aiproxy.New(cfg)
	if err != nil {
		return err
	}
	defer p.Close()
	client := newClient(p)

	threshold := *cfg.VectorDB.Threshold
	fmt.Fprintf(out, "Routing by meaning: Kong's seed 000, keys from {vault://hashicorp-vault/...}\n")
	fmt.Fprintf(out, "keys: resolved at start through vaults.yaml (DEMO_OPENAI, DEMO_MISTRAL); each fake accepts only its own\n")
	fmt.Fprintf(out, "threshold %.2f (cosine distance); ✓ within it; nothing within it → the CATCHALL, mistral-tiny\n\n", threshold)
	var columns []string // the descriptions, in the file's order
	for _, t := range cfg.Targets {
		if t.Description != aiproxy.Catchall {
			columns = append(columns, t.Description)
		}
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "prompt\t")
	for _, c := range columns {
		label, _, _ := strings.Cut(c, ",")
		fmt.Fprint(tw, label+"\t")
	}
	fmt.Fprintln(tw, "served by")
	for _, prompt := range prompts {
		resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
		})
		if err != nil {
			return err
		}
		d, err := p.Explain(ctx, prompt) // the same decision, with every description's distance
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t", shorten(prompt, 48))
		for _, c := range columns {
			for _, s := range d.Scores {
				if s.Description == c {
					mark := "  "
					if s.Distance <= threshold {
						mark = " ✓"
					}
					fmt.Fprintf(tw, "%.4f%s\t", s.Distance, mark)
				}
			}
		}
		fmt.Fprintln(tw, resp.Model)
	}
	return tw.Flush()
}

// aliases runs aliases.yaml: model aliases, a failover and a stream, on two fake upstreams.
func aliases(ctx context.Context, out io.Writer) error {
	upA, upB := aiproxytest.NewOpenAI(), aiproxytest.NewOpenAI()
	defer upA.Close()
	defer upB.Close()
	for name, up := range map[string]*aiproxytest.OpenAI{"A": upA, "B": upB} {
		up.APIKey = openaiKey
		up.Reply = func(r *provider.ChatRequest) string { return "Hello from " + r.Model + " on upstream " + name }
	}
	vars := maps.Clone(env)
	vars["DECK_UPSTREAM_A"], vars["DECK_UPSTREAM_B"] = upA.ChatURL(), upB.ChatURL()
	f, err := load(vars, "aliases.yaml", "vaults.yaml")
	if err != nil {
		return err
	}
	defer f.Close()
	cfg := f.Plugins[0].Config
	stats := make(chan aiproxy.Stats, 1)
	cfg.Hooks = []aiproxy.Hook{{AfterResponse: func(_ context.Context, _ *http.Request, s *aiproxy.Stats) { stats <- *s }}}
	p, err := aiproxy.New(cfg)
	if err != nil {
		return err
	}
	defer p.Close()
	client := newClient(p)

	fmt.Fprintln(out, "\nModel aliases, failover and streaming (aliases.yaml, upstreams A and B)")
	ask := func(model string) error {
		resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is 1+1?")},
		})
		var apiErr *openai.Error
		switch {
		case errors.As(err, &apiErr):
			fmt.Fprintf(out, "   HTTP %d: %s\n", apiErr.StatusCode, apiErr.Message)
		case err != nil:
			return err
		default:
			fmt.Fprintf(out, "   answer: %q\n", resp.Choices[0].Message.Content)
		}
		report(out, <-stats)
		return nil
	}
	fmt.Fprintln(out, "1. model \"fast\" (alias of gpt-4o-mini)")
	if err := ask("fast"); err != nil {
		return err
	}
	fmt.Fprintln(out, "2. model \"powerful\" (gpt-4o on A or B): A answers 503, the proxy fails over to B")
	upA.Fail(http.StatusServiceUnavailable, 1, "")
	if err := ask("powerful"); err != nil {
		return err
	}
	fmt.Fprintln(out, "3. model \"powerful\", streamed")
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:         "powerful",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is 1+1?")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	fmt.Fprint(out, "   chunks:")
	for stream.Next() {
		if c := stream.Current(); len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
			fmt.Fprintf(out, " %q", c.Choices[0].Delta.Content)
		}
	}
	if err := errors.Join(stream.Err(), stream.Close()); err != nil {
		return err
	}
	fmt.Fprintln(out)
	report(out, <-stats)
	fmt.Fprintln(out, "4. model \"slow\", which no target serves")
	return ask("slow")
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

// shorten cuts s to n runes, with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
