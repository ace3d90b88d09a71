package gemini

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/chunk"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
	"github.com/aiproxy/aiproxy/provider/sse"
)

// NewStream translates streamGenerateContent's events into chat.completion.chunk events. It
// reads server-sent events (alt=sse, what NewRequest asks for) and also the JSON array that
// the endpoint sends without alt=sse (Content-Type application/json, or a body starting
// with '['). Each event's text parts become content deltas and its function calls complete
// tool calls; the finishReason gives the finish chunk, and at the end of the stream a usage
// chunk follows when the client asked stream_options.include_usage. Only candidate 0 is
// streamed.
func (p Provider) NewStream(r *provider.Request, h http.Header, body io.Reader) provider.Stream {
	s := &stream{created: xlate.Now(p.Now), br: bufio.NewReaderSize(body, 4096)}
	if r != nil {
		s.includeUsage = chunk.IncludeUsage(r.Body)
		s.model = modelName(r, "")
	}
	if h != nil {
		ct := h.Get("Content-Type")
		if strings.HasPrefix(ct, "application/json") {
			s.framing = framingArray
		}
		if strings.HasPrefix(ct, "text/event-stream") {
			s.framing = framingSSE
		}
	}
	return s
}

const (
	framingUnknown = iota
	framingSSE
	framingArray
)

type stream struct {
	br           *bufio.Reader
	framing      int
	sse          *sse.Reader
	arr          arrayReader
	w            *chunk.Writer
	q            chunk.Loop
	created      int64
	model        string
	usage        usageMetadata
	tools        int
	includeUsage bool
	finished     bool
}

func (s *stream) Usage() provider.Usage { return s.usage.openai() }

func badStream(msg string) *provider.Error {
	return &provider.Error{Status: http.StatusBadGateway, Type: "server_error", Message: "gemini: " + msg}
}

func (s *stream) nextEvent() ([]byte, error) {
	if s.framing == framingUnknown {
		s.framing = framingSSE
		for {
			b, err := s.br.Peek(1)
			if err != nil {
				break
			}
			if b[0] == ' ' || b[0] == '\n' || b[0] == '\r' || b[0] == '\t' {
				_, _ = s.br.ReadByte()
				continue
			}
			if b[0] == '[' {
				s.framing = framingArray
			}
			break
		}
	}
	if s.framing == framingArray {
		s.arr.r = s.br
		return s.arr.Next()
	}
	if s.sse == nil {
		s.sse = sse.NewReader(s.br)
	}
	ev, err := s.sse.Next()
	return ev.Data, err
}

func (s *stream) Next() ([]byte, error) {
	return s.q.Next(s, "gemini: the stream ended without a finishReason")
}

// Step reads and translates one event; after the finish, the upstream's end ends the stream
// with the usage chunk.
func (s *stream) Step() error {
	data, err := s.nextEvent()
	if err == io.EOF && s.finished {
		s.q.Done()
		if s.includeUsage {
			s.q.Push(s.w.Usage(s.q.Buf(), s.usage.openai()))
		}
		return nil
	}
	if err != nil {
		return err
	}
	if s.textEvent(data) {
		return nil
	}
	return s.event(data)
}

// textEvent translates the commonest event, text parts of candidate 0 (and usage) once the
// stream has started, without a decode; it reports false for any other event (a finish, a
// function call, a thought, an error), which event then decodes.
func (s *stream) textEvent(data []byte) bool {
	if s.w == nil || s.finished {
		return false
	}
	var cands, usage []byte
	plain := true
	if jsonx.Object(data, func(m jsonx.Member) bool {
		switch string(m.Key) {
		case "candidates":
			cands = m.Value
		case "usageMetadata":
			usage = m.Value
		case "modelVersion", "responseId", "createTime": // as in the first event
		default:
			plain = false
		}
		return plain
	}) != nil || !plain || cands == nil {
		return false
	}
	var cand, parts []byte
	_ = jsonx.Array(cands, func(c []byte) bool { cand = c; return false })
	if cand == nil || jsonx.Object(cand, func(m jsonx.Member) bool {
		switch string(m.Key) {
		case "content":
			parts = xlate.Lookup(m.Value, "parts")
		case "index", "safetyRatings", "citationMetadata":
		default: // finishReason and what may come with it
			plain = false
		}
		return plain
	}) != nil || !plain {
		return false
	}
	var texts [4][]byte
	n := 0
	if parts != nil && jsonx.Array(parts, func(p []byte) bool {
		text := xlate.Lookup(p, "text")
		if n == len(texts) || len(text) == 0 || text[0] != '"' || jsonx.Object(p, func(m jsonx.Member) bool {
			plain = string(m.Key) == "text"
			return plain
		}) != nil || !plain {
			plain = false
			return false
		}
		texts[n] = text
		n++
		return true
	}) != nil || !plain {
		return false
	}
	if usage != nil {
		u, ok := parseUsage(usage)
		if !ok {
			return false
		}
		s.usage = u
	}
	for _, t := range texts[:n] {
		if len(t) > 2 {
			s.q.Push(s.w.TextRaw(s.q.Buf(), t))
		}
	}
	return true
}

// parseUsage reads usageMetadata's counts without a decode; ok is false for anything
// event's decode would read differently.
func parseUsage(b []byte) (u usageMetadata, ok bool) {
	ok = true
	err := jsonx.Object(b, func(m jsonx.Member) bool {
		var p *int
		switch string(m.Key) {
		case "promptTokenCount":
			p = &u.PromptTokenCount
		case "candidatesTokenCount":
			p = &u.CandidatesTokenCount
		case "totalTokenCount":
			p = &u.TotalTokenCount
		case "cachedContentTokenCount":
			p = &u.CachedContentTokenCount
		case "thoughtsTokenCount":
			p = &u.ThoughtsTokenCount
		case "toolUsePromptTokenCount":
			p = &u.ToolUsePromptTokenCount
		default:
			return true // the per-modality details
		}
		*p, ok = xlate.Atoi(m.Value)
		return ok
	})
	return u, ok && err == nil
}

func (s *stream) event(data []byte) error {
	var g generateResponse
	if err := json.Unmarshal(data, &g); err != nil {
		return badStream("invalid event: " + err.Error())
	}
	if len(g.Error) > 0 && string(g.Error) != "null" {
		return parseError(http.StatusOK, nil, data)
	}
	if g.UsageMetadata != nil {
		s.usage = *g.UsageMetadata
	}
	if s.w == nil {
		model := g.ModelVersion
		if model == "" {
			model = s.model
		}
		s.w = chunk.NewWriter(g.id(data), model, s.created)
		s.q.Push(s.w.Role(s.q.Buf()))
	}
	if s.finished {
		return nil // events after the finish may only add usage
	}
	if len(g.Candidates) == 0 {
		if g.PromptFeedback != nil && g.PromptFeedback.BlockReason != "" {
			s.finished = true
			s.q.Push(s.w.Finish(s.q.Buf(), "content_filter"))
		}
		return nil
	}
	c := g.Candidates[0]
	if e := finishError(c.FinishReason); e != nil {
		return e
	}
	for _, pt := range c.Content.Parts {
		switch {
		case pt.FunctionCall != nil:
			args := jsonx.AppendString(nil, xlate.ArgsString(pt.FunctionCall.Args))
			var extra []byte
			if e := extraContent(pt.ThoughtSignature); e != nil {
				extra, _ = json.Marshal(e)
			}
			s.q.Push(s.w.ToolStart(s.q.Buf(), s.tools, ToolCallID(g.ResponseID, s.tools), pt.FunctionCall.Name, args, extra))
			s.tools++
		case pt.Text != nil && !pt.Thought && *pt.Text != "":
			s.q.Push(s.w.Text(s.q.Buf(), *pt.Text))
		}
	}
	if c.FinishReason != "" {
		s.finished = true
		s.q.Push(s.w.Finish(s.q.Buf(), FinishReason(c.FinishReason, s.tools > 0)))
	}
	return nil
}

// arrayReader yields the elements of a JSON array read incrementally, each at most
// sse.MaxEventSize bytes.
type arrayReader struct {
	r       *bufio.Reader
	started bool
	ended   bool
	buf     []byte
}

var errArray = errors.New("gemini: the stream is not a JSON array of objects")

func (a *arrayReader) skipSpace() (byte, error) {
	for {
		c, err := a.r.ReadByte()
		if err != nil {
			return 0, err
		}
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			return c, nil
		}
	}
}

func (a *arrayReader) Next() ([]byte, error) {
	if a.ended {
		return nil, io.EOF
	}
	c, err := a.skipSpace()
	if err != nil {
		return nil, err
	}
	if !a.started {
		if c != '[' {
			return nil, errArray
		}
		a.started = true
		if c, err = a.skipSpace(); err != nil {
			return nil, err
		}
	} else if c == ',' {
		if c, err = a.skipSpace(); err != nil {
			return nil, err
		}
	}
	if c == ']' {
		a.ended = true
		return nil, io.EOF
	}
	if c != '{' {
		return nil, errArray
	}
	a.buf = append(a.buf[:0], c)
	depth, inStr, esc := 1, false, false
	for depth > 0 {
		c, err := a.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		a.buf = append(a.buf, c)
		if len(a.buf) > sse.MaxEventSize {
			return nil, sse.ErrEventTooLarge
		}
		switch {
		case esc:
			esc = false
		case inStr:
			if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
	}
	return a.buf, nil
}
