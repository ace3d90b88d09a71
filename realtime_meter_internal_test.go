package aiproxy

import (
	"encoding/binary"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aiproxy/aiproxy/provider"
)

// wsFrame encodes one WebSocket frame (RFC 6455): fin, opcode, rsv1, payload, masked with key
// when it is not nil.
func wsFrame(fin bool, op byte, rsv1 bool, payload string, key []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	out := []byte{b0}
	var mask byte
	if key != nil {
		mask = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		out = append(out, mask|byte(n))
	case n <= 0xffff:
		out = binary.BigEndian.AppendUint16(append(out, mask|126), uint16(n))
	default:
		out = binary.BigEndian.AppendUint64(append(out, mask|127), uint64(n))
	}
	p := []byte(payload)
	if key != nil {
		out = append(out, key...)
		for i := range p {
			p[i] ^= key[i%4]
		}
	}
	return append(out, p...)
}

func TestRealtimeFrameMeter(t *testing.T) {
	done := func(in, out int) string {
		return `{"type":"response.done","response":{"usage":{"total_tokens":` + itoa(in+out) + `,"input_tokens":` + itoa(in) +
			`,"output_tokens":` + itoa(out) + `,"input_token_details":{"cached_tokens":2}}}}`
	}
	long := done(100, 50)
	half := len(long) / 2
	var stream []byte
	stream = append(stream, wsFrame(true, 1, false, `{"type":"session.created"}`, nil)...)
	stream = append(stream, wsFrame(true, 1, false, done(8, 4), nil)...)
	// A fragmented message with a ping between its frames.
	stream = append(stream, wsFrame(false, 1, false, long[:half], nil)...)
	stream = append(stream, wsFrame(true, 9, false, "ping", nil)...)
	stream = append(stream, wsFrame(true, 0, false, long[half:], nil)...)
	// A compressed message (not read), a binary one, a masked one, an extended length one.
	stream = append(stream, wsFrame(true, 1, true, done(1000, 1000), nil)...)
	stream = append(stream, wsFrame(true, 2, false, done(1000, 1000), nil)...)
	stream = append(stream, wsFrame(true, 1, false, done(3, 1), []byte{1, 2, 3, 4})...)
	stream = append(stream, wsFrame(true, 1, false, done(5, 5)+strings.Repeat(" ", 70000), nil)...)
	want := provider.Usage{PromptTokens: 116, CompletionTokens: 60, TotalTokens: 176, CachedTokens: 8}
	for _, step := range []int{1, 3, 7, 4096, len(stream)} {
		var m frameMeter
		for i := 0; i < len(stream); i += step {
			m.write(stream[i:min(i+step, len(stream))])
		}
		assert.Equal(t, want, m.usage, "fed %d bytes at a time", step)
		assert.Equal(t, 4, m.responses)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
