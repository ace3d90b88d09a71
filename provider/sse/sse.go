// Package sse reads server-sent events (the text/event-stream format of the WHATWG HTML
// standard) as LLM APIs send them, and writes them in the framing OpenAI clients expect.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Event is one dispatched event.
type Event struct {
	// Name is the event's "event:" field; empty means the default "message".
	Name string
	// Data is the event's "data:" lines joined by "\n".
	Data []byte
}

// MaxEventSize bounds one event (all its lines), so a misbehaving upstream cannot make the
// reader buffer without limit.
const MaxEventSize = 4 << 20

// ErrEventTooLarge is returned when an event exceeds MaxEventSize.
var ErrEventTooLarge = errors.New("sse: event exceeds the size limit")

// Reader reads events from a stream. Lines may end in "\n", "\r\n" or "\r", and may arrive
// split across any number of reads.
type Reader struct {
	r    *bufio.Reader
	data []byte
	line []byte
	name string // the last event name, reused while it repeats
	ev   Event
}

// NewReader returns a Reader on r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 4096)}
}

// Ready reports whether a whole event (up to its blank line) has already been read from the
// stream, so that Next returns it without waiting for the upstream.
func (r *Reader) Ready() bool {
	n := r.r.Buffered()
	if n == 0 {
		return false
	}
	b, _ := r.r.Peek(n)
	return bytes.Contains(b, lf2) || bytes.Contains(b, crlf2) || bytes.Contains(b, cr2)
}

var (
	lf2   = []byte("\n\n")
	crlf2 = []byte("\r\n\r\n")
	cr2   = []byte("\r\r")
)

// Next returns the next event with a data field. Events without data are skipped, as the
// standard says. Event.Data is valid until the next call. At the end of the stream Next
// returns io.EOF; an event not terminated by a blank line at the end of the stream is
// dispatched first.
func (r *Reader) Next() (Event, error) {
	r.data = r.data[:0]
	r.ev = Event{}
	hasData := false
	size := 0
	for {
		line, err := r.readLine()
		if err != nil && (err != io.EOF || len(line) == 0) {
			if err == io.EOF && hasData {
				r.ev.Data = r.data
				return r.ev, nil
			}
			return Event{}, err
		}
		size += len(line)
		if size > MaxEventSize {
			return Event{}, ErrEventTooLarge
		}
		if len(line) == 0 { // blank line: dispatch
			if hasData {
				r.ev.Data = r.data
				return r.ev, nil
			}
			r.ev = Event{}
			continue
		}
		if line[0] == ':' { // comment
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if hasData {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, value...)
			hasData = true
		case "event":
			if string(value) != r.name {
				r.name = string(value)
			}
			r.ev.Name = r.name
		} // "id" and "retry" are of no use to a translator
		if err == io.EOF { // last line without a terminator
			if hasData {
				r.ev.Data = r.data
				return r.ev, nil
			}
			return Event{}, io.EOF
		}
	}
}

// readLine returns one line without its terminator. It returns io.EOF with the last,
// unterminated line, or with an empty line at the end.
func (r *Reader) readLine() ([]byte, error) {
	r.line = r.line[:0]
	for {
		b, err := r.r.ReadByte()
		if err != nil {
			return r.line, err
		}
		switch b {
		case '\n':
			return r.line, nil
		case '\r':
			if next, err := r.r.Peek(1); err == nil && next[0] == '\n' {
				_, _ = r.r.ReadByte()
			}
			return r.line, nil
		}
		r.line = append(r.line, b)
		if len(r.line) > MaxEventSize {
			return nil, ErrEventTooLarge
		}
	}
}

// Done is the data of OpenAI's final stream event.
var Done = []byte("[DONE]")

// AppendData appends data framed as one event, "data: <data>\n\n", to dst. data must not
// contain a newline (JSON from encoding/json never does).
func AppendData(dst, data []byte) []byte {
	dst = append(dst, "data: "...)
	dst = append(dst, data...)
	return append(dst, '\n', '\n')
}
