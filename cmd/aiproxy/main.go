// Command aiproxy is a standalone AI gateway over the aiproxy library. It serves the
// ai-proxy-advanced plugins of a Kong configuration file: a decK file, an Admin API body or
// a bare plugin config, in YAML or JSON.
//
//	aiproxy -config kong.yaml -listen :8000
//
// Each enabled plugin is mounted on the paths of its decK routes, or, for a global plugin, on
// /v1/chat/completions, /v1/completions and /v1/embeddings. The file's vault entities
// (HashiCorp Vault, env) resolve the {vault://...} references of the plugins. SIGINT or SIGTERM
// shuts the server down gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aiproxy/aiproxy/kong"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return // the usage is printed
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "aiproxy:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down gracefully. Logs go to logOut.
func run(ctx context.Context, args []string, logOut io.Writer) error {
	flags := flag.NewFlagSet("aiproxy", flag.ContinueOnError)
	flags.SetOutput(logOut)
	config := flags.String("config", "kong.yaml", "Kong configuration file (decK, Admin API body or bare ai-proxy-advanced config; YAML or JSON)")
	listen := flags.String("listen", ":8000", "address to listen on")
	if err := flags.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(logOut, nil))

	file, err := kong.LoadFile(*config, kong.LoadOptions{}) // builds the file's Vault resolvers
	if err != nil {
		return err
	}
	defer file.Close()
	mux, closeAll, err := mount(file, logger)
	if err != nil {
		return err
	}
	defer closeAll()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "config", *config)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
