// Command aiproxy-load is aiproxy's load harness: it starts a fast fake OpenAI upstream on
// loopback (JSON and server-sent events) and measures requests per second and p50/p99
// latency through aiproxy's Handler mounted in an http.Server, through a bare
// httputil.ReverseProxy and directly, at several connection counts, streaming and not. With
// -soak it instead sends a bounded number of requests through aiproxy and reports the heap
// and the resident set size at intervals, to show that memory stays flat.
//
//	go run ./cmd/aiproxy-load -duration 5s -conns 1,16,64
//	go run ./cmd/aiproxy-load -soak -requests 1000000
//
// scripts/load.sh runs both. Everything (upstream, proxies, clients) runs in this one
// process, so each path gets the same machine; figures are for comparing paths, not hosts.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/provider"
)

const (
	jsonResponse = `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"A mutex guards shared memory; a channel passes ownership of data between goroutines."},"finish_reason":"stop"}],"usage":{"prompt_tokens":230,"completion_tokens":17,"total_tokens":247}}`
	streamChunk  = `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"content":"word "},"finish_reason":null}]}`
	streamEnd    = `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":230,"completion_tokens":16,"total_tokens":246}}`
	streamChunks = 16
)

// requestBody is a 1 KB chat request, as the overhead benchmark sends.
func requestBody(stream bool) []byte {
	b := []byte(`{"model":"gpt-4o","temperature":0.2,"stream":` + strconv.FormatBool(stream) + `,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"`)
	b = append(b, strings.Repeat("Explain the difference between a mutex and a channel. ", 17)...)
	return append(b, `"}]}`...)
}

// upstream answers chat completions at once: JSON, or a 16-event stream when asked.
func upstream(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if !bytes.Contains(body, []byte(`"stream":true`)) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, jsonResponse)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	f := w.(http.Flusher)
	for range streamChunks {
		_, _ = io.WriteString(w, "data: "+streamChunk+"\n\n")
		f.Flush()
	}
	_, _ = io.WriteString(w, "data: "+streamEnd+"\n\ndata: [DONE]\n\n")
}

// serve starts h on a loopback port and returns its base URL and a stop function.
func serve(h http.Handler) (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }
}

// newProxy is aiproxy in front of the upstream at base, with a key added to each request.
func newProxy(base string) *aiproxy.Proxy {
	p, err := aiproxy.New(aiproxy.Config{
		Logger: slog.New(slog.DiscardHandler),
		Targets: []aiproxy.Target{{
			Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: base + "/v1/chat/completions"}},
			Auth:  aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer sk-load"},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	return p
}

// reverseProxy is a bare httputil.ReverseProxy to base that adds the same key. Its transport
// keeps as many idle connections per host as aiproxy's (64): with http.DefaultTransport's 2,
// it would open a connection for most requests beyond 2 at a time, and compare badly.
func reverseProxy(base string) http.Handler {
	u, err := url.Parse(base)
	if err != nil {
		log.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &httputil.ReverseProxy{Transport: tr, Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Header.Set("Authorization", "Bearer sk-load")
	}}
}

// result is one path's share of one cell of the table.
type result struct {
	lat     []time.Duration // of the requests that succeeded
	errors  int
	elapsed time.Duration
}

func (r *result) add(o result) {
	r.lat, r.errors, r.elapsed = append(r.lat, o.lat...), r.errors+o.errors, r.elapsed+o.elapsed
}

func (r *result) rps() float64 { return float64(len(r.lat)) / r.elapsed.Seconds() }

// quantile returns the q-quantile of the latencies; sort them first.
func (r *result) quantile(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[int(float64(len(r.lat)-1)*q)]
}

// load sends requests to url from conns clients, each one at a time, for d, and measures them.
func load(client *http.Client, url string, body []byte, conns int, d time.Duration) result {
	lat := make([][]time.Duration, conns)
	var errs atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if !send(client, url, body) {
					errs.Add(1)
					continue
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		})
	}
	wg.Wait()
	return result{lat: slices.Concat(lat...), errors: int(errs.Load()), elapsed: time.Since(start)}
}

// send posts body to url and reads the whole answer; it reports a 200 read to its end.
func send(c *http.Client, url string, body []byte) bool {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err == nil && resp.StatusCode == http.StatusOK
}

// bench measures each path for d at each connection count, for each of streams. The paths
// take turns in slices of at most slice, so that a busy moment on a shared machine weighs on
// all of them alike.
func bench(d, slice time.Duration, connCounts []int, streams []bool) {
	up, stopUp := serve(http.HandlerFunc(upstream))
	defer stopUp()
	p := newProxy(up)
	defer p.Close()
	viaProxy, stopProxy := serve(p)
	defer stopProxy()
	viaRP, stopRP := serve(reverseProxy(up))
	defer stopRP()
	paths := []struct{ name, url string }{
		{"direct", up}, {"reverseproxy", viaRP}, {"aiproxy", viaProxy},
	}
	fmt.Printf("%-6s %5s %-12s %9s %9s %9s %6s\n", "stream", "conns", "path", "rps", "p50", "p99", "errors")
	for _, stream := range streams {
		body := requestBody(stream)
		for _, conns := range connCounts {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
			results := make([]result, len(paths))
			for left := d; left > 0; left -= slice {
				for i, path := range paths {
					results[i].add(load(client, path.url+"/v1/chat/completions", body, conns, min(slice, left)))
				}
			}
			client.CloseIdleConnections()
			for i, path := range paths {
				r := &results[i]
				slices.Sort(r.lat)
				fmt.Printf("%-6t %5d %-12s %9.0f %9s %9s %6d\n", stream, conns, path.name, r.rps(), round(r.quantile(.5)), round(r.quantile(.99)), r.errors)
			}
			rp, a := &results[1], &results[2]
			fmt.Printf("%-6t %5d %-12s %8.2f× %8.2f× %8.2f×  (aiproxy / reverseproxy)\n", stream, conns, "ratio",
				a.rps()/rp.rps(), float64(a.quantile(.5))/float64(rp.quantile(.5)), float64(a.quantile(.99))/float64(rp.quantile(.99)))
		}
	}
}

func round(d time.Duration) time.Duration {
	if d > 10*time.Millisecond {
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// soak sends n requests (one in streamEvery a stream) through aiproxy from conns clients
// and reports the heap in use (after a GC; it also holds the requests in flight) and the
// RSS every n/reports requests, and how far each strays from the first report's.
func soak(n, conns, reports, streamEvery int, timeout time.Duration) error {
	up, stopUp := serve(http.HandlerFunc(upstream))
	defer stopUp()
	p := newProxy(up)
	defer p.Close()
	viaProxy, stopProxy := serve(p)
	defer stopProxy()
	url := viaProxy + "/v1/chat/completions"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	defer client.CloseIdleConnections()
	bodies := [2][]byte{requestBody(false), requestBody(true)}

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var sent, failed atomic.Int64
	every := max(n/reports, 1)
	var baseHeap, baseRSS uint64
	var worstHeap, worstRSS float64
	var heaps, rsses []uint64
	var mu sync.Mutex // serialises the reports
	report := func(done int64) {
		mu.Lock()
		defer mu.Unlock()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		rss := rssBytes()
		if baseHeap == 0 {
			baseHeap, baseRSS = m.HeapInuse, rss
		}
		heaps, rsses = append(heaps, m.HeapInuse), append(rsses, rss)
		dh, dr := pct(m.HeapInuse, baseHeap), pct(rss, baseRSS)
		worstHeap, worstRSS = max(worstHeap, abs(dh)), max(worstRSS, abs(dr))
		fmt.Printf("%9d requests  heap %7.1f MiB (%+5.1f%%)  rss %7.1f MiB (%+5.1f%%)  goroutines %d  errors %d\n",
			done, mib(m.HeapInuse), dh, mib(rss), dr, runtime.NumGoroutine(), failed.Load())
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := sent.Add(1)
				if i > int64(n) {
					return
				}
				if !send(client, url, bodies[btoi(streamEvery > 0 && i%int64(streamEvery) == 0)]) {
					failed.Add(1)
				}
				if i%int64(every) == 0 {
					report(i)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	fmt.Printf("%d requests in %s (%.0f/s), %d errors; largest drift from the first report: heap %.1f%%, rss %.1f%%\n",
		min(sent.Load(), int64(n)), elapsed.Round(time.Second), float64(min(sent.Load(), int64(n)))/elapsed.Seconds(), failed.Load(), worstHeap, worstRSS)
	if h := len(heaps) / 2; h > 0 {
		fmt.Printf("second half of the reports against the first (the trend): heap %+.1f%%, rss %+.1f%%\n",
			pct(mean(heaps[len(heaps)-h:]), mean(heaps[:h])), pct(mean(rsses[len(rsses)-h:]), mean(rsses[:h])))
	}
	if ctx.Err() != nil {
		return fmt.Errorf("the soak stopped at its -soak-timeout of %s", timeout)
	}
	return nil
}

// rssBytes is the process's resident set size, from /proc (0 where there is none).
func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

func pct(v, base uint64) float64 {
	if base == 0 {
		return 0
	}
	return (float64(v) - float64(base)) / float64(base) * 100
}

func abs(f float64) float64 { return max(f, -f) }

func mean(vs []uint64) uint64 {
	var sum uint64
	for _, v := range vs {
		sum += v
	}
	return sum / uint64(len(vs))
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

// run parses the flags and runs the bench or the soak.
func run() error {
	duration := flag.Duration("duration", 5*time.Second, "how long each path is loaded at each connection count")
	slice := flag.Duration("slice", time.Second, "the paths take turns in slices of this long")
	connList := flag.String("conns", "1,16,64", "connection counts, comma-separated")
	soakMode := flag.Bool("soak", false, "send -requests through aiproxy and report heap and RSS instead")
	requests := flag.Int("requests", 1_000_000, "soak: requests to send")
	soakConns := flag.Int("soak-conns", 16, "soak: connections")
	reports := flag.Int("reports", 10, "soak: memory reports over the run")
	streamEvery := flag.Int("stream-every", 10, "soak: one request in this many is a stream (0: none)")
	soakTimeout := flag.Duration("soak-timeout", 30*time.Minute, "soak: stop after this long, whatever was sent")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	streams := flag.String("stream", "false,true", "bench: non-streaming and/or streaming requests, comma-separated")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *soakMode {
		return soak(*requests, *soakConns, *reports, *streamEvery, *soakTimeout)
	}
	var counts []int
	for _, s := range strings.Split(*connList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-conns: %q is not a positive number", s)
		}
		counts = append(counts, n)
	}
	var modes []bool
	for _, s := range strings.Split(*streams, ",") {
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-stream: %q is not true or false", s)
		}
		modes = append(modes, b)
	}
	bench(*duration, *slice, counts, modes)
	return nil
}
