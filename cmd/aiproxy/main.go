// Command aiproxy is a standalone AI gateway over the aiproxy library. It serves the
// ai-proxy-advanced plugins of Kong configuration files: decK files, Admin API bodies or
// bare plugin configs, in YAML or JSON.
//
//	aiproxy serve    -config kong.yaml [-config vaults.yaml] [-listen :8000]
//	aiproxy validate -config kong.yaml [-config vaults.yaml] [-secrets]
//	aiproxy route    -config kong.yaml [-config vaults.yaml] "a prompt"
//
// Several -config files are merged as decK merges its state files: their entities are
// concatenated, so a plugin may be scoped to a route of another file and resolve its
// {vault://...} references through the vault entities (HashiCorp Vault, env) of another.
// Without a subcommand, aiproxy serves (aiproxy -config kong.yaml -listen :8000).
//
// serve mounts each enabled plugin on the paths of its decK routes (prefixes, as in Kong),
// or, for a global plugin, on OpenAI's paths of the route types its targets serve
// (/v1/chat/completions, /v1/completions, /v1/embeddings). A plugin scoped to a route or
// service that has no paths in the files, or to a consumer, is not mounted, with a warning.
// It also serves GET /healthz (the process is alive), GET /readyz (the configuration is
// loaded, its secrets resolve and its semantic plugins' embedder and vector store answer),
// GET /metrics (Prometheus) and GET /v1/models (the aliases and model names served). SIGHUP,
// or a change to a -config file, reloads the configuration: the new one is built and
// checked first (a bad file is logged and the old configuration keeps serving), and requests
// in flight finish on the old one. SIGINT or SIGTERM shuts the server down gracefully within
// -shutdown-timeout.
//
// validate loads and checks the files as serve would, without serving, and prints every
// problem with its path; it exits 1 if there is one. route prints, for each plugin with
// the semantic balancer, every description's distance from the prompt, the threshold and
// the decision, without calling any model.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	err := run(ctx, os.Args[1:], io.Writer(os.Stdout), os.Stderr, hup)
	var invalid *invalidError
	switch {
	case errors.Is(err, flag.ErrHelp): // the usage is printed
	case errors.As(err, &invalid): // validate printed the problems
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "aiproxy:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  aiproxy serve    -config FILE [-config FILE ...] [flags]   serve the plugins (the default)
  aiproxy validate -config FILE [-config FILE ...] [flags]   check the files; exit 1 on a problem
  aiproxy route    -config FILE [-config FILE ...] PROMPT    explain the semantic balancer's choice

Run aiproxy COMMAND -h for a command's flags.
`

// run runs the command args name. Output goes to stdout, logs to stderr; a value on reload
// reloads a serving configuration (SIGHUP). It returns when the command is done, or, for
// serve, when ctx is done and the server has shut down.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, reload <-chan os.Signal) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr, reload)
	case "validate":
		return validate(ctx, args, stdout, stderr)
	case "route":
		return explain(ctx, args, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// configFlags are the flags every command takes: which files, and how to load them.
type configFlags struct {
	files             []string
	offlineEmbeddings bool
}

func (c *configFlags) register(flags *flag.FlagSet) {
	flags.Func("config", "Kong configuration `file` (decK, Admin API body or bare ai-proxy-advanced config; YAML or JSON); repeat it to merge several files as decK does (default kong.yaml)",
		func(s string) error { c.files = append(c.files, s); return nil })
	flags.BoolVar(&c.offlineEmbeddings, "offline-embeddings", false,
		"route semantic plugins with the built-in offline embedder and an in-memory vector store, whatever their embeddings and vectordb blocks say (to try a config without its embeddings API and vector database)")
}

// loadOptions returns the options to build a gateway with.
func (c *configFlags) loadOptions(logger *slog.Logger) loadOptions {
	files := c.files
	if len(files) == 0 {
		files = []string{"kong.yaml"}
	}
	return loadOptions{files: files, offlineEmbeddings: c.offlineEmbeddings, logger: logger}
}

// newFlags returns the flag set of a command, which prints its usage to out.
func newFlags(name, synopsis string, out io.Writer) *flag.FlagSet {
	flags := flag.NewFlagSet("aiproxy "+name, flag.ContinueOnError)
	flags.SetOutput(out)
	flags.Usage = func() {
		fmt.Fprintf(out, "usage: aiproxy %s %s\n\n", name, synopsis)
		flags.PrintDefaults()
	}
	return flags
}
