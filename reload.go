package aiproxy

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// InheritState gives p's targets the balancer state of old's targets that did not change: the
// circuit breaker (failures counted, open or held until), the latency average and the recent
// usage. A target did not change when it has the same name, provider, model, route type and
// upstream URL. Call it on a new Proxy before it serves (Live.Reload does); old keeps its own
// state.
func (p *Proxy) InheritState(old *Proxy) {
	byKey := make(map[targetKey]*target, len(old.targets))
	for _, t := range old.targets {
		byKey[t.key()] = t
	}
	for _, t := range p.targets {
		if o := byKey[t.key()]; o != nil {
			t.health.copyFrom(&o.health)
			t.latency.copyFrom(&o.latency)
			t.usage.copyFrom(&o.usage)
		}
	}
}

// targetKey identifies a target across configurations.
type targetKey struct {
	name, provider, model, url string
	route                      string
}

func (t *target) key() targetKey {
	return targetKey{name: t.name, provider: t.cfg.Model.Provider, model: t.cfg.Model.Name, url: t.cfg.Model.Options.UpstreamURL,
		route: string(t.cfg.RouteType)}
}

// Live is an http.Handler and http.RoundTripper that serves through a Proxy which Reload
// replaces while it serves: the new configuration is built and checked first (an invalid one
// leaves the current Proxy serving), its unchanged targets inherit their state, new requests go
// to it at once, and the old Proxy is closed when the requests it was answering have ended (a
// stream when its body is closed). It is safe for concurrent use.
type Live struct {
	mu  sync.Mutex // serialises Reload and Close
	cur atomic.Pointer[generation]
}

// generation is one Proxy of a Live, with the requests it is answering.
type generation struct {
	p        *Proxy
	inflight sync.WaitGroup
	mu       sync.Mutex // guards retired and the Add of a request against the last Wait
	retired  bool
}

// NewLive serves through p until the first Reload. Live owns p from then on.
func NewLive(p *Proxy) *Live {
	l := &Live{}
	l.cur.Store(&generation{p: p})
	return l
}

// Proxy returns the Proxy serving new requests now.
func (l *Live) Proxy() *Proxy { return l.cur.Load().p }

// Reload builds a Proxy from cfg and, if New accepts it, makes it serve new requests, with the
// state of the current Proxy's unchanged targets; the current Proxy is closed in the
// background once its requests have ended. On error nothing changes.
func (l *Live) Reload(cfg Config) error {
	p, err := New(cfg)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.cur.Load()
	p.InheritState(old.p)
	l.cur.Store(&generation{p: p})
	go old.retire()
	return nil
}

// Close closes the current Proxy once its requests have ended. The Live must not be used
// after.
func (l *Live) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	g := l.cur.Load()
	g.mu.Lock()
	g.retired = true
	g.mu.Unlock()
	g.inflight.Wait()
	return g.p.Close()
}

// retire waits for g's requests to end, then closes its Proxy.
func (g *generation) retire() {
	g.mu.Lock()
	g.retired = true
	g.mu.Unlock()
	g.inflight.Wait()
	_ = g.p.Close()
}

// acquire returns the current generation with one more request counted, or retries when a
// Reload retired it meanwhile.
func (l *Live) acquire() *generation {
	for {
		g := l.cur.Load()
		g.mu.Lock()
		if !g.retired {
			g.inflight.Add(1)
			g.mu.Unlock()
			return g
		}
		g.mu.Unlock()
	}
}

// ServeHTTP serves r through the current Proxy.
func (l *Live) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g := l.acquire()
	defer g.inflight.Done()
	g.p.ServeHTTP(w, r)
}

// RoundTrip answers r through the current Proxy; the Proxy counts the request until the
// response body is closed.
func (l *Live) RoundTrip(r *http.Request) (*http.Response, error) {
	g := l.acquire()
	resp, err := g.p.RoundTrip(r)
	if err != nil {
		g.inflight.Done()
		return nil, err
	}
	resp.Body = &doneBody{ReadCloser: resp.Body, done: g.inflight.Done}
	return resp, nil
}

// doneBody calls done once, when it is closed.
type doneBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *doneBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}
