package bedrock

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

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

// errMalformed is returned for a frame whose prelude lengths are inconsistent.
var errMalformed = errors.New("bedrock: malformed event stream frame")

// frameReader reads whole frames, checking the prelude's lengths before it buffers anything,
// and decodes them with aws-sdk-go-v2's eventstream decoder (which checks both CRCs).
type frameReader struct {
	r       *bufio.Reader
	frame   []byte
	payload []byte
	br      bytes.Reader
	dec     *eventstream.Decoder
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 4096), dec: eventstream.NewDecoder()}
}

func (f *frameReader) next() (eventstream.Message, error) {
	pre, err := f.r.Peek(12)
	if err != nil {
		if err == io.EOF && len(pre) == 0 {
			return eventstream.Message{}, io.EOF
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return eventstream.Message{}, err
	}
	total := binary.BigEndian.Uint32(pre[0:4])
	headers := binary.BigEndian.Uint32(pre[4:8])
	if total > MaxFrameSize {
		return eventstream.Message{}, ErrFrameTooLarge
	}
	if total < 16 || headers > total-16 {
		return eventstream.Message{}, errMalformed
	}
	if cap(f.frame) < int(total) {
		f.frame = make([]byte, total)
	}
	f.frame = f.frame[:total]
	if _, err := io.ReadFull(f.r, f.frame); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return eventstream.Message{}, err
	}
	f.br.Reset(f.frame)
	m, err := f.dec.Decode(&f.br, f.payload[:0])
	if err != nil {
		return eventstream.Message{}, err
	}
	f.payload = m.Payload
	return m, nil
}

func header(m *eventstream.Message, name string) string {
	if v := m.Headers.Get(name); v != nil {
		return v.String()
	}
	return ""
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
	q            chunk.Queue
	includeUsage bool
	usage        provider.Usage
	started      bool
	// tools maps a content block index to its OpenAI tool call index.
	tools    map[int]int
	ev       streamEvent
	done     bool // nothing more to read
	stopped  bool // messageStop was seen
	usageOut bool // the usage chunk was queued
}

func (s *stream) Usage() provider.Usage { return s.usage }

func (s *stream) Next() ([]byte, error) {
	for {
		if c := s.q.Pop(); c != nil {
			return c, nil
		}
		if s.done {
			return nil, io.EOF
		}
		s.q.Reset()
		m, err := s.fr.next()
		if err == io.EOF {
			s.done = true
			if !s.stopped {
				return nil, xlate.BadGateway("bedrock: the event stream ended before messageStop")
			}
			s.usageChunk() // no metadata event: still end with a usage chunk
			continue
		}
		if err != nil {
			s.done = true
			return nil, xlate.BadGateway("bedrock: reading the event stream: " + err.Error())
		}
		switch header(&m, ":message-type") {
		case "exception":
			s.done = true
			exc := header(&m, ":exception-type")
			var doc struct {
				Message string `json:"message"`
			}
			_ = json.Unmarshal(m.Payload, &doc)
			return nil, newError(0, exc, doc.Message)
		case "error":
			s.done = true
			return nil, newError(0, header(&m, ":error-code"), header(&m, ":error-message"))
		}
		if err := s.event(header(&m, ":event-type"), m.Payload); err != nil {
			s.done = true
			return nil, err
		}
	}
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
func (s *stream) event(typ string, payload []byte) error {
	if typ == "contentBlockDelta" { // the hot path: text deltas, without a decode
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
		return xlate.BadGateway("bedrock: cannot decode a " + typ + " event: " + err.Error())
	}
	ev := &s.ev
	switch typ {
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
