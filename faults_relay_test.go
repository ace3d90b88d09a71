package aiproxy_test

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// relay is a TCP relay in front of a real server (Redis, Vault, an embeddings API) that a
// test turns into a fault: cut (the server is down: open connections are reset, new ones
// reset as soon as they are accepted), slow (every chunk the server sends is held), or
// restore. Cleanup closes it and waits for its goroutines.
type relay struct {
	ln      net.Listener
	backend string

	mu      sync.Mutex
	down    bool
	delay   time.Duration
	changed chan struct{} // closed, and replaced, when the mode changes: held chunks move on
	conns   map[net.Conn]struct{}
	dialed  int // connections accepted
	wg      sync.WaitGroup
}

// newRelay listens on a loopback port and relays every connection to backend (host:port).
func newRelay(t *testing.T, backend string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, backend: backend, changed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go r.accept()
	t.Cleanup(r.close)
	return r
}

// Addr is where the relay listens, host:port.
func (r *relay) Addr() string { return r.ln.Addr().String() }

// Dialed is how many connections the relay has accepted.
func (r *relay) Dialed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dialed
}

// Port is the port the relay listens on.
func (r *relay) Port() int { return r.ln.Addr().(*net.TCPAddr).Port }

// Cut takes the server down: open connections are reset, and so is every new one.
func (r *relay) Cut() { r.set(true, 0) }

// Slow holds every chunk the server sends for d (or until the mode changes).
func (r *relay) Slow(d time.Duration) { r.set(false, d) }

// Restore relays again without delay.
func (r *relay) Restore() { r.set(false, 0) }

func (r *relay) set(down bool, delay time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down, r.delay = down, delay
	close(r.changed)
	r.changed = make(chan struct{})
	if down {
		for c := range r.conns {
			reset(c)
		}
		clear(r.conns)
	}
}

// reset closes c with a TCP RST, as a server that went away does.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func (r *relay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return // closed
		}
		r.mu.Lock()
		r.dialed++
		if r.down {
			r.mu.Unlock()
			reset(c)
			continue
		}
		r.conns[c] = struct{}{}
		r.wg.Add(1)
		r.mu.Unlock()
		go r.serve(c)
	}
}

// serve relays one connection both ways until either side ends, then closes both.
func (r *relay) serve(c net.Conn) {
	defer r.wg.Done()
	b, err := net.DialTimeout("tcp", r.backend, 5*time.Second)
	r.mu.Lock()
	if err != nil || r.conns == nil || r.down { // the backend is gone, or the relay was cut or closed meanwhile
		r.mu.Unlock()
		reset(c)
		if b != nil {
			b.Close()
		}
		return
	}
	r.conns[b] = struct{}{}
	r.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { r.pipe(b, c, false); done <- struct{}{} }()
	go func() { r.pipe(c, b, true); done <- struct{}{} }()
	<-done
	c.Close()
	b.Close()
	<-done
	r.mu.Lock()
	delete(r.conns, c)
	delete(r.conns, b)
	r.mu.Unlock()
}

// pipe copies src to dst; held, it holds each chunk for the relay's delay.
func (r *relay) pipe(dst, src net.Conn, held bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if held {
				r.hold()
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				reset(dst)
			}
			return
		}
	}
}

// hold waits for the relay's delay, or until the mode changes or the relay closes.
func (r *relay) hold() {
	r.mu.Lock()
	d, changed := r.delay, r.changed
	r.mu.Unlock()
	if d == 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-changed:
	}
}

// close stops accepting, resets every connection and waits for the relay's goroutines.
func (r *relay) close() {
	r.ln.Close()
	r.set(true, 0)
	r.mu.Lock()
	r.conns = nil
	r.mu.Unlock()
	r.wg.Wait()
}
