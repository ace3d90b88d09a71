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
	start := len(b.buf)
	b.buf = sse.AppendData(b.buf, data)
	b.c.keepResponse(b.t, b.buf[start:])
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
			e := b.endError(err)
			data, _ := e.MarshalJSON()
			b.frame(data)
			b.done = true
			b.finish(e)
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

// endError turns an error that ends a started stream into the OpenAI error sent as its last
// event, with the attempt's credentials scrubbed from the message (an upstream may echo them).
func (b *streamBody) endError(err error) *provider.Error {
	var pe *provider.Error
	if errors.As(err, &pe) {
		pe.Message = scrub(pe.Message, b.c.creds[:])
		return pe
	}
	return &provider.Error{Status: http.StatusBadGateway, Type: "server_error", Code: "stream_interrupted",
		Message: scrub("the upstream stream failed: "+err.Error(), b.c.creds[:])}
}
