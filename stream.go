package aiproxy

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
)

// streamBody is a streaming response's body: each Read returns whole server-sent events
// translated by the provider, "data: [DONE]" at the end, or an error event if the upstream
// fails after the response has started (failover is no longer possible then).
//
// Close may come from another goroutine while a Read waits for the upstream (an HTTP
// client cancelling): it closes the upstream, which ends that Read, and then finishes the
// request once the Read has returned.
type streamBody struct {
	c        *call
	t        *target
	s        provider.Stream
	fr       framer // the client API's framing
	upstream io.Closer
	ready    provider.Ready // s, when it can tell that its next event has arrived; else nil
	// end records the request when the stream ends: err is nil when it ended as it should.
	end func(usage provider.Usage, err error)
	now func() time.Time // for TimeToFirstToken

	mu       sync.Mutex // held by Read, and by Close to finish; guards what follows
	buf      []byte     // framed events not yet read
	off      int
	done     bool
	finished bool

	closed   atomic.Bool // Close was called
	upClosed atomic.Bool // the upstream body was closed
}

// frame appends one event's data, framed in the client's API (an error means that API
// cannot express it), with the attempt's credentials redacted (an upstream may echo them in
// an event). The first event that carries content or a tool call sets the request's
// TimeToFirstToken; the usage-only last chunk that the proxy asked for and the client did not
// is left out.
func (b *streamBody) frame(data []byte) error {
	stats := &b.c.stats
	if stats.TimeToFirstToken == 0 && carriesContent(data) {
		stats.TimeToFirstToken = b.now().Sub(b.c.start)
	}
	if b.c.addedUsage && bytes.Contains(data, emptyChoices) {
		return nil
	}
	buf, err := b.fr.Chunk(b.buf, secret.Redact(data, b.c.creds[:]))
	if err != nil {
		return err
	}
	b.keep(buf)
	return nil
}

// keep makes buf, which extends b.buf, the framed events, and keeps what it adds for
// log_payloads.
func (b *streamBody) keep(buf []byte) {
	start := len(b.buf)
	b.buf = buf
	b.c.keepResponse(b.t, b.buf[start:])
}

func (b *streamBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.off >= len(b.buf) || b.ready != nil && len(b.buf)-b.off < len(p) && b.ready.Ready() {
		// Events that have arrived together are framed together, so that the client gets
		// them in one write (and flush), as a byte-copying proxy would.
		if b.closed.Load() {
			return 0, errReadAfterClose
		}
		if b.done {
			if b.off < len(b.buf) {
				break
			}
			return 0, io.EOF
		}
		if b.off >= len(b.buf) {
			b.buf, b.off = b.buf[:0], 0
		}
		data, err := b.s.Next()
		if err == nil && !b.closed.Load() {
			err = b.frame(data)
		}
		switch {
		case b.closed.Load(): // Close ended Next; it finishes the request
			return 0, errReadAfterClose
		case err == nil:
		case errors.Is(err, io.EOF):
			b.keep(b.fr.End(b.buf))
			b.done = true
			b.finish(nil)
		default:
			e := b.endError(err)
			data, _ := e.MarshalJSON()
			b.keep(b.fr.Fail(b.buf, e.Status, data))
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
	if b.closed.Swap(true) {
		return nil
	}
	b.closeUpstream() // ends a Read waiting in Next
	b.mu.Lock()
	defer b.mu.Unlock()
	b.finish(errStreamAbandoned)
	return nil
}

var (
	errStreamAbandoned = errors.New("the client closed the stream before it ended")
	errReadAfterClose  = errors.New("aiproxy: read on a closed stream")
)

func (b *streamBody) closeUpstream() {
	if b.upClosed.CompareAndSwap(false, true) {
		b.upstream.Close()
	}
}

// finish closes the upstream and records the request, once. b.mu is held.
func (b *streamBody) finish(err error) {
	if b.finished {
		return
	}
	b.finished = true
	b.closeUpstream()
	b.end(b.s.Usage(), err)
}

// endError turns an error that ends a started stream into the OpenAI error sent as its last
// event, with the attempt's credentials scrubbed from the message (an upstream may echo them).
func (b *streamBody) endError(err error) *provider.Error {
	var pe *provider.Error
	if errors.As(err, &pe) {
		pe.Message = secret.Scrub(pe.Message, b.c.creds[:])
		return pe
	}
	return &provider.Error{Status: http.StatusBadGateway, Type: "server_error", Code: "stream_interrupted",
		Message: secret.Scrub("the upstream stream failed: "+err.Error(), b.c.creds[:])}
}

var (
	emptyChoices = []byte(`"choices":[]`)
	contentKey   = []byte(`"content":`)
	toolCallsKey = []byte(`"tool_calls":`)
	// nativeDelta and responsesDelta end the event types of Anthropic's and the Responses
	// API's deltas.
	nativeDelta    = []byte(`_delta"`)
	responsesDelta = []byte(`.delta"`)
)

// carriesContent reports whether a chat completion chunk carries text (a non-empty content or
// reasoning_content string) or a tool call, unlike the first chunk of most streams, which
// carries only the role; or whether an event passed through in Anthropic's or the Responses
// API's own framing is a delta (content_block_delta, response.output_text.delta, …), which
// chat chunks never name.
func carriesContent(data []byte) bool {
	if bytes.Contains(data, toolCallsKey) || bytes.Contains(data, nativeDelta) || bytes.Contains(data, responsesDelta) {
		return true
	}
	for rest := data; ; {
		i := bytes.Index(rest, contentKey)
		if i < 0 {
			return false
		}
		rest = bytes.TrimLeft(rest[i+len(contentKey):], " ")
		if len(rest) > 1 && rest[0] == '"' && rest[1] != '"' {
			return true
		}
	}
}
