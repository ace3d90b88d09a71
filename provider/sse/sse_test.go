package sse

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readAll(t *testing.T, r io.Reader) []Event {
	t.Helper()
	sr := NewReader(r)
	var out []Event
	for {
		ev, err := sr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		ev.Data = bytes.Clone(ev.Data)
		out = append(out, ev)
	}
}

func TestReader(t *testing.T) {
	stream := ": keep-alive\n\n" +
		"event: message_start\r\ndata: {\"a\":1}\r\n\r\n" +
		"data: line1\ndata: line2\n\n" +
		"id: 7\nevent: ping\n\n" + // no data: skipped
		"data:nospace\rdata: x\r\r" +
		"data: [DONE]" // unterminated at EOF
	want := []Event{
		{Name: "message_start", Data: []byte(`{"a":1}`)},
		{Data: []byte("line1\nline2")},
		{Data: []byte("nospace\nx")},
		{Data: []byte("[DONE]")},
	}
	assert.Equal(t, want, readAll(t, bytes.NewReader([]byte(stream))))
	// The same stream split into one-byte reads gives the same events.
	assert.Equal(t, want, readAll(t, iotest.OneByteReader(bytes.NewReader([]byte(stream)))))
}

func TestReaderLimit(t *testing.T) {
	big := bytes.Repeat([]byte("x"), MaxEventSize+10)
	_, err := NewReader(bytes.NewReader(append([]byte("data: "), big...))).Next()
	assert.ErrorIs(t, err, ErrEventTooLarge)
}

func TestAppendData(t *testing.T) {
	assert.Equal(t, "data: {}\n\n", string(AppendData(nil, []byte("{}"))))
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("event: a\ndata: b\n\n"), 3)
	f.Add([]byte("data: x\r\n\r\ndata: y"), 1)
	f.Fuzz(func(t *testing.T, in []byte, chunk int) {
		if chunk < 1 {
			chunk = 1
		}
		whole := readAllNoFail(bytes.NewReader(in))
		split := readAllNoFail(&chunked{b: in, n: chunk})
		if len(whole) != len(split) {
			t.Fatalf("split reads changed the events: %d vs %d", len(whole), len(split))
		}
		for i := range whole {
			if whole[i].Name != split[i].Name || !bytes.Equal(whole[i].Data, split[i].Data) {
				t.Fatalf("event %d differs", i)
			}
		}
	})
}

func readAllNoFail(r io.Reader) []Event {
	sr := NewReader(r)
	var out []Event
	for {
		ev, err := sr.Next()
		if err != nil {
			return out
		}
		ev.Data = bytes.Clone(ev.Data)
		out = append(out, ev)
	}
}

type chunked struct {
	b []byte
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := min(c.n, len(p), len(c.b))
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}
