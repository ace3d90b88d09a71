package bedrock

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"net/http"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/chunk"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
)

// MaxFrameSize bounds one event-stream frame. AWS's event stream allows 16 MB messages;
// ConverseStream's events are small deltas, so anything larger is refused rather than
// buffered.
const MaxFrameSize = 1 << 20

// ErrFrameTooLarge is returned by a stream whose upstream sends a frame above MaxFrameSize.
var ErrFrameTooLarge = errors.New("bedrock: event stream frame exceeds the size limit")

// errMalformed is returned for a frame whose lengths, headers or CRCs are wrong.
var errMalformed = errors.New("bedrock: malformed event stream frame")

// frame is one event-stream message: the headers a translator reads, and the payload. Its
// slices are valid until the next frame is read.
type frame struct {
	messageType, eventType, exceptionType, errorCode, errorMessage []byte
	payload                                                        []byte
}

// frameReader reads whole frames of AWS's event stream encoding
// (https://docs.aws.amazon.com/transcribe/latest/dg/event-stream.html: a prelude of total
// and headers length and its CRC32, the headers, the payload, the message's CRC32),
// checking the prelude's lengths before it buffers anything and both CRCs before it reads
// a header. It allocates nothing per frame.
type frameReader struct {
	r     *bufio.Reader
	buf   []byte
	frame frame
	raw   []byte // the last frame's bytes, as read
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 4096)}
}

func (f *frameReader) next() (*frame, error) {
	pre, err := f.r.Peek(12)
	if err != nil {
		if err == io.EOF && len(pre) == 0 {
			return nil, io.EOF
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	total := binary.BigEndian.Uint32(pre[0:4])
	headers := binary.BigEndian.Uint32(pre[4:8])
	if total > MaxFrameSize {
		return nil, ErrFrameTooLarge
	}
	if total < 16 || headers > total-16 {
		return nil, errMalformed
	}
	if cap(f.buf) < int(total) {
		f.buf = make([]byte, total)
	}
	b := f.buf[:total]
	if _, err := io.ReadFull(f.r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if crc32.ChecksumIEEE(b[:8]) != binary.BigEndian.Uint32(b[8:12]) ||
		crc32.ChecksumIEEE(b[:total-4]) != binary.BigEndian.Uint32(b[total-4:]) {
		return nil, errMalformed
	}
	f.raw = b
	f.frame = frame{payload: b[12+headers : total-4]}
	if !f.frame.headers(b[12 : 12+headers]) {
		return nil, errMalformed
	}
	return &f.frame, nil
}

// headers reads the string headers a translator needs out of h, skipping the others by
// their type's size; it reports false for headers that do not fit.
func (fr *frame) headers(h []byte) bool {
	for len(h) > 0 {
		n := int(h[0])
		if len(h) < 1+n+1 {
			return false
		}
		name, typ := h[1:1+n], h[1+n]
		h = h[2+n:]
		size := 0
		switch typ {
		case 0, 1: // bool true, false
		case 2: // byte
			size = 1
		case 3: // int16
			size = 2
		case 4: // int32
			size = 4
		case 5, 8: // int64, timestamp
			size = 8
		case 9: // uuid
			size = 16
		case 6, 7: // bytes, string: a 2-byte length first
			if len(h) < 2 {
				return false
			}
			size = 2 + int(binary.BigEndian.Uint16(h))
		default:
			return false
		}
		if len(h) < size {
			return false
		}
		if typ == 7 {
			v := h[2:size]
			switch string(name) {
			case ":message-type":
				fr.messageType = v
			case ":event-type":
				fr.eventType = v
			case ":exception-type":
				fr.exceptionType = v
			case ":error-code":
				fr.errorCode = v
			case ":error-message":
				fr.errorMessage = v
			}
		}
		h = h[size:]
	}
	return true
}

// streamEvent is the union of ConverseStream's event payloads.
type streamEvent struct {
	Role              string `json:"role"`
	ContentBlockIndex int    `json:"contentBlockIndex"`
	Start             *struct {
		ToolUse *struct {
			ToolUseID string `json:"toolUseId"`
			Name      string `json:"name"`
		} `json:"toolUse"`
	} `json:"start"`
	Delta *struct {
		ToolUse *struct {
			Input string `json:"input"`
		} `json:"toolUse"`
	} `json:"delta"`
	StopReason string `json:"stopReason"`
	Usage      *usage `json:"usage"`
	Message    string `json:"message"`
}

// NewStream translates a ConverseStream event stream into chat.completion.chunk events.
func (p Provider) NewStream(r *provider.Request, header http.Header, body io.Reader) provider.Stream {
	s := &stream{fr: newFrameReader(body), tools: map[int]int{}}
	id := xlate.ID("chatcmpl-", nil)
	if rid := header.Get("X-Amzn-Requestid"); rid != "" {
		id = "chatcmpl-" + rid
	} else if r != nil {
		id = xlate.ID("chatcmpl-", r.Body)
	}
	if r != nil {
		s.includeUsage = chunk.IncludeUsage(r.Body)
	}
	s.w = chunk.NewWriter(id, xlate.Model(r), xlate.Created(header, p.Now))
	return s
}

type stream struct {
	fr           *frameReader
	w            *chunk.Writer
	q            chunk.Loop
	includeUsage bool
	usage        provider.Usage
	started      bool
	// tools maps a content block index to its OpenAI tool call index.
	tools    map[int]int
	ev       streamEvent
	stopped  bool // messageStop was seen
	usageOut bool // the usage chunk was queued
}

func (s *stream) Usage() provider.Usage { return s.usage }

func (s *stream) Next() ([]byte, error) {
	return s.q.Next(s, "bedrock: the event stream ended before messageStop")
}

// Step reads and translates one frame; after messageStop, the upstream's end ends the
// stream, with the usage chunk even if no metadata event gave it.
func (s *stream) Step() error {
	m, err := s.fr.next()
	switch {
	case err == io.EOF && s.stopped:
		s.usageChunk()
		s.q.Done()
		return nil
	case err == io.EOF:
		return err
	case err != nil:
		return xlate.BadGateway("bedrock: reading the event stream: " + err.Error())
	}
	switch string(m.messageType) {
	case "exception":
		var doc struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(m.payload, &doc)
		return newError(0, string(m.exceptionType), doc.Message)
	case "error":
		return newError(0, string(m.errorCode), string(m.errorMessage))
	}
	return s.event(m.eventType, m.payload)
}

// role queues the role chunk first, even if the upstream skipped messageStart.
func (s *stream) role() {
	if !s.started {
		s.started = true
		s.q.Push(s.w.Role(s.q.Buf()))
	}
}

// usageChunk queues the usage chunk, once, if the client asked for it.
func (s *stream) usageChunk() {
	if s.includeUsage && !s.usageOut {
		s.usageOut = true
		s.q.Push(s.w.Usage(s.q.Buf(), s.usage))
	}
}

// event translates one event into the chunks it queues.
func (s *stream) event(typ, payload []byte) error {
	if string(typ) == "contentBlockDelta" { // the hot path: text deltas, without a decode
		if text := xlate.Lookup(payload, "delta", "text"); len(text) > 0 && text[0] == '"' {
			if len(text) > 2 {
				s.role()
				s.q.Push(s.w.TextRaw(s.q.Buf(), text))
			}
			return nil
		}
	}
	s.ev = streamEvent{}
	if err := json.Unmarshal(payload, &s.ev); err != nil {
		return xlate.BadGateway("bedrock: cannot decode a " + string(typ) + " event: " + err.Error())
	}
	ev := &s.ev
	switch string(typ) {
	case "messageStart":
		s.role()
	case "contentBlockStart":
		if ev.Start == nil || ev.Start.ToolUse == nil {
			return nil
		}
		idx := len(s.tools)
		s.tools[ev.ContentBlockIndex] = idx
		s.role()
		s.q.Push(s.w.ToolStart(s.q.Buf(), idx, ev.Start.ToolUse.ToolUseID, ev.Start.ToolUse.Name, nil, nil))
	case "contentBlockDelta":
		if ev.Delta == nil || ev.Delta.ToolUse == nil {
			return nil // reasoning and other deltas have no OpenAI chat equivalent
		}
		idx, ok := s.tools[ev.ContentBlockIndex]
		if !ok {
			return xlate.BadGateway("bedrock: tool input delta for a block that did not start a tool call")
		}
		s.role()
		s.q.Push(s.w.ToolArgsRaw(s.q.Buf(), idx, jsonx.AppendString(nil, ev.Delta.ToolUse.Input)))
	case "messageStop":
		s.stopped = true
		s.role()
		s.q.Push(s.w.Finish(s.q.Buf(), FinishReason(ev.StopReason)))
	case "metadata":
		if ev.Usage != nil {
			s.usage = ev.Usage.toUsage()
			s.usageChunk()
		}
	}
	return nil // contentBlockStop and events added later
}
