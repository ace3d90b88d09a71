package aiproxy

import (
	"bytes"
	"encoding/binary"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
)

// maxMeteredMessage bounds a realtime server message the meter keeps to read its usage;
// longer ones (audio deltas) are skipped.
const maxMeteredMessage = 256 << 10

// frameMeter reads the usage of a realtime session from the server's WebSocket frames as
// they are copied to the client, without changing them: the usage of each response.done
// event (input_tokens, output_tokens, total_tokens, input_token_details.cached_tokens),
// summed. Compressed messages (permessage-deflate) and long ones are not read.
type frameMeter struct {
	hdr       []byte // the current frame's header, as far as read; nil between frames
	hdrBuf    [14]byte
	need      int    // header bytes still to read; 0 while in a payload
	remaining uint64 // payload bytes still to come
	masked    bool
	mask      [4]byte
	maskPos   int
	fin       bool
	keep      bool   // the current frame's payload goes to msg
	control   bool   // the current frame is a control frame
	inText    bool   // a text message is being assembled (across continuation frames)
	skip      bool   // the message being assembled is not read (compressed, too long)
	msg       []byte // the text message so far
	usage     provider.Usage
	responses int // response.done events metered
}

var responseDone = []byte(`"response.done"`)

// write feeds the next bytes of the server's stream.
func (m *frameMeter) write(p []byte) {
	for len(p) > 0 {
		if m.remaining == 0 && m.need == 0 && m.hdr == nil {
			m.hdr, m.need = m.hdrBuf[:0], 2
		}
		if m.need > 0 {
			n := min(m.need, len(p))
			m.hdr = append(m.hdr, p[:n]...)
			p, m.need = p[n:], m.need-n
			if m.need == 0 && !m.parseHeader() {
				continue // more header bytes to come
			}
			if m.need == 0 && m.remaining == 0 {
				m.endFrame()
			}
			continue
		}
		n := len(p)
		if uint64(n) > m.remaining {
			n = int(m.remaining)
		}
		if m.keep {
			start := len(m.msg)
			m.msg = append(m.msg, p[:n]...)
			if m.masked {
				for i := start; i < len(m.msg); i++ {
					m.msg[i] ^= m.mask[m.maskPos&3]
					m.maskPos++
				}
			}
		}
		p, m.remaining = p[n:], m.remaining-uint64(n)
		if m.remaining == 0 {
			m.endFrame()
		}
	}
}

// parseHeader reads m.hdr once whole: it returns false, asking for more bytes (m.need), while
// the extended length or the mask key is still to come.
func (m *frameMeter) parseHeader() bool {
	b0, b1 := m.hdr[0], m.hdr[1]
	ext := 0
	switch b1 & 0x7f {
	case 126:
		ext = 2
	case 127:
		ext = 8
	}
	size := 2 + ext
	if b1&0x80 != 0 {
		size += 4
	}
	if len(m.hdr) < size {
		m.need = size - len(m.hdr)
		return false
	}
	var length uint64
	switch ext {
	case 0:
		length = uint64(b1 & 0x7f)
	case 2:
		length = uint64(binary.BigEndian.Uint16(m.hdr[2:4]))
	case 8:
		length = binary.BigEndian.Uint64(m.hdr[2:10])
	}
	m.masked = b1&0x80 != 0
	if m.masked {
		copy(m.mask[:], m.hdr[2+ext:])
		m.maskPos = 0
	}
	m.fin, m.remaining = b0&0x80 != 0, length
	switch op := b0 & 0x0f; {
	case op == 1: // a text message starts
		m.inText, m.skip, m.msg = true, b0&0x40 != 0, m.msg[:0]
	case op == 0: // continues the message
	case op >= 8: // a control frame, between a message's frames
		m.keep, m.control = false, true
		return true
	default: // binary
		m.inText = false
	}
	if m.inText && !m.skip && uint64(len(m.msg))+length > maxMeteredMessage {
		m.skip = true
	}
	m.keep = m.inText && !m.skip
	return true
}

// endFrame ends a frame whose payload has been read; at a message's last frame, it reads the
// message.
func (m *frameMeter) endFrame() {
	m.hdr = nil
	m.keep = false
	if m.control {
		m.control = false
		return
	}
	if m.fin {
		if m.inText && !m.skip {
			m.meter(m.msg)
		}
		m.inText, m.skip, m.msg = false, false, m.msg[:0]
	}
}

// meter adds the usage of a response.done event.
func (m *frameMeter) meter(msg []byte) {
	if !bytes.Contains(msg, responseDone) {
		return
	}
	_ = jsonx.Object(msg, func(f jsonx.Member) bool {
		if string(f.Key) != "response" {
			return true
		}
		_ = jsonx.Object(f.Value, func(r jsonx.Member) bool {
			if string(r.Key) == "usage" && string(r.Value) != "null" {
				u := nativeUsage(r.Value)
				_ = jsonx.Object(r.Value, func(d jsonx.Member) bool {
					if string(d.Key) == "input_token_details" {
						_ = jsonx.Object(d.Value, func(c jsonx.Member) bool {
							if string(c.Key) == "cached_tokens" {
								u.CachedTokens = tokenCount(c.Value)
							}
							return true
						})
					}
					return true
				})
				m.usage.PromptTokens += u.PromptTokens
				m.usage.CompletionTokens += u.CompletionTokens
				m.usage.TotalTokens += u.TotalTokens
				m.usage.CachedTokens += u.CachedTokens
				m.responses++
			}
			return true
		})
		return true
	})
}
