package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// serve runs the gateway until ctx is done, then shuts it down.
func serve(ctx context.Context, args []string, logOut io.Writer, reload <-chan os.Signal) error {
	flags := newFlags("serve", "-config FILE [-config FILE ...] [flags]", logOut)
	var cf configFlags
	cf.register(flags)
	listen := flags.String("listen", ":8000", "address to listen on")
	shutdownTimeout := flags.Duration("shutdown-timeout", 30*time.Second,
		"on SIGINT or SIGTERM, how long requests in flight may take to finish before their connections are closed")
	watch := flags.Duration("watch", 2*time.Second, "how often to check the -config files for changes, which reload them; 0 turns it off (SIGHUP still reloads)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", flags.Arg(0))
	}
	logger := slog.New(slog.NewTextHandler(logOut, nil))
	m, err := newMetrics()
	if err != nil {
		return err
	}
	opts := cf.loadOptions(logger)
	opts.instrument = m.instrument
	s := &server{opts: opts, logger: logger, metrics: m}
	g, err := build(opts)
	if err != nil {
		return err
	}
	g.logMounts(logger)
	s.current.Store(g)
	s.loaded(nil)
	defer s.closeAll()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "config", strings.Join(opts.files, ","))

	var changed <-chan struct{}
	if *watch > 0 {
		changed = watchFiles(ctx, opts.files, *watch, logger)
	}
	for {
		select {
		case err := <-served:
			return err
		case <-reload:
			s.reload("SIGHUP")
			continue
		case <-changed:
			s.reload("a configuration file changed")
			continue
		case <-ctx.Done():
		}
		break
	}
	logger.Info("shutting down", "timeout", shutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		if !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		srv.Close() // cancels the requests still in flight
		logger.Error("shutdown timed out: requests still in flight were cut off", "timeout", shutdownTimeout.String())
		return fmt.Errorf("shutdown timed out after %s: requests still in flight were cut off (raise -shutdown-timeout to let them finish)", *shutdownTimeout)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("shut down")
	return nil
}

// server serves the current gateway and the operational endpoints.
type server struct {
	opts    loadOptions
	logger  *slog.Logger
	metrics *metrics

	current atomic.Pointer[gateway]
	// reloading serialises reloads.
	reloading sync.Mutex
	// status describes the last load, under mu: when the current configuration was loaded,
	// and why the last reload failed (nil if it did not).
	mu       sync.Mutex
	loadedAt time.Time
	lastErr  error
	// retired counts the retired gateways not closed yet.
	retired sync.WaitGroup
}

// routes is the server's handler: the operational endpoints, and every other request to the
// current gateway.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { s.with(func(g *gateway) { s.ready(w, r, g) }) })
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, _ *http.Request) { s.with(func(g *gateway) { g.models(w) }) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.with(func(g *gateway) { g.mux.ServeHTTP(w, r) }) })
	return mux
}

// with calls fn with the current gateway, which stays open until fn returns, even if a
// reload retires it meanwhile.
func (s *server) with(fn func(*gateway)) {
	for {
		g := s.current.Load()
		if g.acquire() {
			defer g.release()
			fn(g)
			return
		}
		// g was retired and drained between Load and acquire: the next Load is newer.
	}
}

// reload builds the configuration again and, if it is valid, makes it current. The old
// gateway is closed once the requests it serves have finished. A configuration that does not
// build is logged and the old one keeps serving.
func (s *server) reload(reason string) {
	s.reloading.Lock()
	defer s.reloading.Unlock()
	s.logger.Info("reloading the configuration", "reason", reason)
	g, err := build(s.opts)
	s.metrics.reloaded(err)
	s.loaded(err)
	if err != nil {
		s.logger.Error("reload failed; the previous configuration keeps serving", "error", err)
		return
	}
	g.logMounts(s.logger)
	g.inheritState(s.current.Load())
	s.retire(s.current.Swap(g), "the previous configuration is closed: its requests have finished")
	s.logger.Info("reloaded the configuration")
}

// loaded records the outcome of a load.
func (s *server) loaded(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastErr = err
	if err == nil {
		s.loadedAt = time.Now()
	}
}

// retire closes g once the requests it serves have finished, and then logs done.
func (s *server) retire(g *gateway, done string) {
	g.release()
	s.retired.Add(1)
	go func() {
		defer s.retired.Done()
		<-g.drained
		g.close()
		s.logger.Info(done)
	}()
}

// closeAll retires the current gateway, and waits up to 5 s for every gateway to close.
func (s *server) closeAll() {
	s.retire(s.current.Load(), "the configuration is closed")
	done := make(chan struct{})
	go func() { s.retired.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.logger.Warn("requests are still running on a configuration; exiting without waiting for them")
	}
}

// watchFiles sends on the channel it returns when the content of one of files has changed,
// checking every interval, until ctx is done.
func watchFiles(ctx context.Context, files []string, interval time.Duration, logger *slog.Logger) <-chan struct{} {
	changed := make(chan struct{}, 1)
	digest := func() []byte {
		h := sha256.New()
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				fmt.Fprintf(h, "%s unreadable: %v", f, err)
			}
			h.Write(data)
			h.Write([]byte{0})
		}
		return h.Sum(nil)
	}
	last := digest()
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if d := digest(); !slices.Equal(d, last) {
				last = d
				logger.Info("a configuration file changed", "files", strings.Join(files, ","))
				select {
				case changed <- struct{}{}:
				default: // a reload is pending already
				}
			}
		}
	}()
	return changed
}
