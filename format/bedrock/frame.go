package bedrock

import (
	"encoding/binary"
	"hash/crc32"
)

// ConverseStream answers in AWS's event stream encoding (application/vnd.amazon.eventstream):
// each message is a prelude (its total length, its headers' length, and their CRC32), the
// headers (a name's length and name, the value type 7 for a string, the value's 2-byte
// length and value), the payload, and the CRC32 of all that. The headers of every event type
// are encoded once; a frame is framed in place around its payload, without allocating.

// headers encodes string headers given as name, value pairs.
func headers(pairs ...string) string {
	var h []byte
	for i := 0; i+1 < len(pairs); i += 2 {
		h = append(h, byte(len(pairs[i])))
		h = append(h, pairs[i]...)
		h = append(h, 7)
		h = binary.BigEndian.AppendUint16(h, uint16(len(pairs[i+1])))
		h = append(h, pairs[i+1]...)
	}
	return string(h)
}

// eventHeaders are the headers of an event of type typ, in the order Bedrock sends them.
func eventHeaders(typ string) string {
	return headers(":event-type", typ, ":content-type", "application/json", ":message-type", "event")
}

var (
	messageStart      = eventHeaders("messageStart")
	contentBlockStart = eventHeaders("contentBlockStart")
	contentBlockDelta = eventHeaders("contentBlockDelta")
	contentBlockStop  = eventHeaders("contentBlockStop")
	messageStop       = eventHeaders("messageStop")
	metadata          = eventHeaders("metadata")
)

// exceptionHeaders are the headers of an exception message.
func exceptionHeaders(exception string) string {
	return headers(":exception-type", exception, ":content-type", "application/json", ":message-type", "exception")
}

// frame is a message being appended: where it starts and its headers' length.
type frame struct{ start, headers int }

// begin appends a prelude to fill in and the headers h; the caller appends the payload and
// then calls end.
func begin(dst []byte, h string) ([]byte, frame) {
	f := frame{start: len(dst), headers: len(h)}
	dst = append(dst, make([]byte, 12)...)
	return append(dst, h...), f
}

// end fills in the prelude of the message f and appends its CRC32.
func (f frame) end(dst []byte) []byte {
	b := dst[f.start:]
	binary.BigEndian.PutUint32(b[0:4], uint32(len(b)+4))
	binary.BigEndian.PutUint32(b[4:8], uint32(f.headers))
	binary.BigEndian.PutUint32(b[8:12], crc32.ChecksumIEEE(b[:8]))
	return binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(b))
}
