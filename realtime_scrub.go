package aiproxy

import (
	"encoding/binary"
	"io"

	"github.com/aiproxy/aiproxy/secret"
)

// frameScrubber reads a realtime server's WebSocket frames from r and returns them with the
// attempt's credentials redacted, as the proxy redacts them from every other answer. A text
// frame (or a continuation of a text message) that is unmasked, uncompressed and at most
// maxMeteredMessage long is read whole and, when it holds a credential, framed again around
// the redacted payload; any other frame (binary audio, control frames, compressed or longer
// messages) passes through as its bytes come, unread.
type frameScrubber struct {
	r     io.Reader
	creds []string
	in    []byte // read from r and not yet framed
	out   []byte // ready for the client
	pass  uint64 // payload bytes of the frame passing through still to come
	err   error  // r's, returned once in and out are drained
	buf   []byte // r's reads

	text, deflated bool // the current message is text; it is compressed (RSV1)
}

func (s *frameScrubber) Read(p []byte) (int, error) {
	for len(s.out) == 0 {
		switch {
		case s.pass > 0 && len(s.in) == 0 && s.err == nil: // straight from r: no copy
			n, err := s.r.Read(p[:min(uint64(len(p)), s.pass)])
			s.pass -= uint64(n)
			if n > 0 {
				return n, nil
			}
			s.err = err
		case s.pass > 0 && len(s.in) > 0:
			n := min(uint64(len(s.in)), s.pass)
			s.out, s.in, s.pass = append(s.out, s.in[:n]...), s.in[n:], s.pass-n
		case s.pass == 0 && s.frame():
		case s.err != nil: // r ended: what is left is passed on as it is
			s.out, s.in = append(s.out, s.in...), nil
			if len(s.out) == 0 {
				return 0, s.err
			}
		default:
			if s.buf == nil {
				s.buf = make([]byte, 32<<10)
			}
			n, err := s.r.Read(s.buf)
			s.in, s.err = append(s.in, s.buf[:n]...), err
		}
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}

// frame moves the frame at the start of s.in to s.out: a text frame once whole, redacted;
// any other frame's header, its payload then passing through (s.pass). It reports false when
// s.in does not hold enough of the frame yet.
func (s *frameScrubber) frame() bool {
	if len(s.in) < 2 {
		return false
	}
	b0, b1 := s.in[0], s.in[1]
	ext := 0 // the extended length's bytes
	switch b1 & 0x7f {
	case 126:
		ext = 2
	case 127:
		ext = 8
	}
	masked := b1&0x80 != 0
	head := 2 + ext
	if masked {
		head += 4
	}
	if len(s.in) < head {
		return false
	}
	length := uint64(b1 & 0x7f)
	switch ext {
	case 2:
		length = uint64(binary.BigEndian.Uint16(s.in[2:4]))
	case 8:
		length = binary.BigEndian.Uint64(s.in[2:10])
	}
	op := b0 & 0x0f
	switch op {
	case 1: // a text message starts
		s.text, s.deflated = true, b0&0x40 != 0
	case 2: // a binary one
		s.text = false
	}
	if op > 2 || !s.text || s.deflated || masked || length > maxMeteredMessage { // control frames too
		s.out, s.in, s.pass = append(s.out, s.in[:head]...), s.in[head:], length
		return true
	}
	end := head + int(length)
	if len(s.in) < end {
		return false
	}
	payload := s.in[head:end]
	if red := secret.Redact(payload, s.creds); len(red) != len(payload) || len(red) > 0 && &red[0] != &payload[0] {
		s.out = appendFrameHeader(append(s.out, b0), len(red))
		s.out = append(s.out, red...)
	} else {
		s.out = append(s.out, s.in[:end]...)
	}
	s.in = s.in[end:]
	return true
}

// appendFrameHeader appends an unmasked frame's payload length, in the shortest of
// RFC 6455's three encodings.
func appendFrameHeader(dst []byte, n int) []byte {
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, 126), uint16(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, 127), uint64(n))
}
