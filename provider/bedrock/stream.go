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

	"github.com/aiproxy/aiproxy/provider"
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
		Text    *string `json:"text"`
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
	s.c.Model = xlate.Model(r)
	if r != nil {
		s.includeUsage = xlate.IncludeUsage(r.Body)
	}
	s.c.Created = xlate.Created(header, p.Now)
	if id := header.Get("X-Amzn-Requestid"); id != "" {
		s.c.ID = "chatcmpl-" + id
	} else if r != nil {
		s.c.ID = xlate.ID("chatcmpl-", r.Body)
	}
	return s
}

type stream struct {
	fr           *frameReader
	c            xlate.Chunker
	includeUsage bool
	usage        provider.Usage
	started      bool
	// tools maps a content block index to its OpenAI tool call index.
	tools    map[int]int
	ev       streamEvent
	pending  []byte // a chunk to return before reading on
	done     bool
	stopped  bool // messageStop was seen
	usageOut bool // the usage chunk was returned
}

func (s *stream) Usage() provider.Usage { return s.usage }

func (s *stream) Next() ([]byte, error) {
	if s.pending != nil {
		out := s.pending
		s.pending = nil
		return out, nil
	}
	for {
		if s.done {
			return nil, io.EOF
		}
		m, err := s.fr.next()
		if err == io.EOF {
			s.done = true
			if !s.stopped {
				return nil, xlate.BadGateway("bedrock: the event stream ended before messageStop")
			}
			if s.includeUsage && !s.usageOut { // no metadata event: still end with a usage chunk
				s.usageOut = true
				return s.c.Usage(s.usage), nil
			}
			return nil, io.EOF
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
		out, err := s.event(header(&m, ":event-type"), m.Payload)
		if err != nil {
			s.done = true
			return nil, err
		}
		if out != nil {
			return out, nil
		}
	}
}

// event translates one event; nil, nil means it has no chunk of its own.
func (s *stream) event(typ string, payload []byte) ([]byte, error) {
	if typ == "contentBlockDelta" { // the hot path: text deltas, without a full decode
		if text, ok := xlate.JSONString(xlate.Lookup(payload, "delta", "text")); ok {
			if text == "" {
				return nil, nil
			}
			return s.withRole(s.c.Content(text)), nil
		}
	}
	s.ev = streamEvent{}
	if err := json.Unmarshal(payload, &s.ev); err != nil {
		return nil, xlate.BadGateway("bedrock: cannot decode a " + typ + " event: " + err.Error())
	}
	ev := &s.ev
	switch typ {
	case "messageStart":
		if s.started {
			return nil, nil
		}
		s.started = true
		return s.c.Role(), nil
	case "contentBlockStart":
		if ev.Start == nil || ev.Start.ToolUse == nil {
			return nil, nil
		}
		idx := len(s.tools)
		s.tools[ev.ContentBlockIndex] = idx
		return s.withRole(s.c.ToolStart(idx, ev.Start.ToolUse.ToolUseID, ev.Start.ToolUse.Name)), nil
	case "contentBlockDelta":
		switch {
		case ev.Delta == nil:
			return nil, nil
		case ev.Delta.Text != nil:
			if *ev.Delta.Text == "" {
				return nil, nil
			}
			return s.withRole(s.c.Content(*ev.Delta.Text)), nil
		case ev.Delta.ToolUse != nil:
			idx, ok := s.tools[ev.ContentBlockIndex]
			if !ok {
				return nil, xlate.BadGateway("bedrock: tool input delta for a block that did not start a tool call")
			}
			return s.withRole(s.c.ToolArgs(idx, ev.Delta.ToolUse.Input)), nil
		}
		return nil, nil // reasoning and other deltas have no OpenAI chat equivalent
	case "messageStop":
		s.stopped = true
		return s.withRole(s.c.Finish(FinishReason(ev.StopReason))), nil
	case "metadata":
		if ev.Usage != nil {
			s.usage = ev.Usage.toUsage()
			if s.includeUsage && !s.usageOut {
				s.usageOut = true
				return s.c.Usage(s.usage), nil
			}
		}
		return nil, nil
	}
	return nil, nil // contentBlockStop and events added later
}

// withRole makes sure the role chunk comes first, even if the upstream skipped messageStart.
func (s *stream) withRole(chunk []byte) []byte {
	if s.started {
		return chunk
	}
	s.started = true
	s.pending = append([]byte(nil), chunk...)
	return s.c.Role()
}
