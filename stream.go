package aiproxy

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/sse"
)

// streamBody is a streaming response's body: each Read returns whole server-sent events
// translated by the provider, "data: [DONE]" at the end, or an error event if the upstream
// fails after the response has started (failover is no longer possible then).
type streamBody struct {
	p        *Proxy
	c        *call
	t        *target
	s        provider.Stream
	upstream io.Closer
	sentAt   time.Time

	buf  []byte // framed events not yet read
	off  int
	done bool
	once sync.Once
}

// frame appends one event's data, framed.
func (b *streamBody) frame(data []byte) {
	b.buf = sse.AppendData(b.buf, data)
}

func (b *streamBody) Read(p []byte) (int, error) {
	for b.off >= len(b.buf) {
		if b.done {
			return 0, io.EOF
		}
		b.buf, b.off = b.buf[:0], 0
		data, err := b.s.Next()
		switch {
		case err == nil:
			b.frame(data)
		case errors.Is(err, io.EOF):
			b.frame(sse.Done)
			b.done = true
			b.finish(nil)
		default:
			b.frame(streamError(err))
			b.done = true
			b.finish(err)
		}
	}
	n := copy(p, b.buf[b.off:])
	b.off += n
	return n, nil
}

// Close ends the stream early (the client went away) or after the end.
func (b *streamBody) Close() error {
	b.finish(errStreamAbandoned)
	return nil
}

var errStreamAbandoned = errors.New("the client closed the stream before it ended")

// finish closes the upstream and records the request, once.
func (b *streamBody) finish(err error) {
	b.once.Do(func() {
		b.upstream.Close()
		b.t.inflight.Add(-1)
		stats := &b.c.stats
		if err == nil {
			b.p.succeeded(b.t, stats, b.s.Usage(), "", b.p.now().Sub(b.sentAt))
		} else {
			stats.Usage = b.s.Usage()
			stats.Err = err
		}
		b.p.finish(b.c, http.StatusOK)
	})
}

// streamError renders an error that ends a started stream as an OpenAI error event.
func streamError(err error) []byte {
	var pe *provider.Error
	if !errors.As(err, &pe) {
		pe = &provider.Error{Status: 502, Type: "server_error", Code: "stream_interrupted", Message: "the upstream stream failed: " + err.Error()}
	}
	b, _ := pe.MarshalJSON()
	return b
}
