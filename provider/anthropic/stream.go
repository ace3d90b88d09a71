package anthropic

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/chunk"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
	"github.com/aiproxy/aiproxy/provider/sse"
)

// NewStream translates Anthropic's event stream (message_start, content_block_start/delta/
// stop, message_delta, message_stop, ping, error) into chat.completion.chunk events: the
// role chunk at message_start, content and tool-call deltas (the first with index, id and
// name, then argument fragments), the finish chunk at message_delta and, when the client
// asked stream_options.include_usage, a usage chunk at message_stop.
func (p Provider) NewStream(r *provider.Request, _ http.Header, body io.Reader) provider.Stream {
	s := &stream{r: sse.NewReader(body), created: xlate.Now(p.Now), blockTool: map[int]int{}}
	if r != nil {
		s.includeUsage = chunk.IncludeUsage(r.Body)
	}
	return s
}

type stream struct {
	r            *sse.Reader
	w            *chunk.Writer
	q            chunk.Loop
	created      int64
	usage        usage
	blockTool    map[int]int // content block index → tool call index
	tools        int
	includeUsage bool
	finished     bool // the finish chunk was queued
}

func (s *stream) Usage() provider.Usage { return s.usage.openai() }

func badStream(msg string) *provider.Error {
	return &provider.Error{Status: http.StatusBadGateway, Type: "server_error", Message: "anthropic: " + msg}
}

func (s *stream) Next() ([]byte, error) {
	return s.q.Next(s, "anthropic: the stream ended before message_stop")
}

// Step reads and translates one event; message_stop ends the stream before its reader does.
func (s *stream) Step() error {
	ev, err := s.r.Next()
	if err != nil {
		return err
	}
	return s.event(ev.Data)
}

// stop ends the stream, with the usage chunk if asked.
func (s *stream) stop() {
	s.q.Done()
	if s.includeUsage && s.w != nil {
		s.q.Push(s.w.Usage(s.q.Buf(), s.usage.openai()))
	}
}

func (s *stream) event(data []byte) error {
	var typ, index, delta, message, block, usageRaw, errRaw []byte
	err := jsonx.Object(data, func(m jsonx.Member) bool {
		switch string(m.Key) {
		case "type":
			typ = m.Value
		case "index":
			index = m.Value
		case "delta":
			delta = m.Value
		case "message":
			message = m.Value
		case "content_block":
			block = m.Value
		case "usage":
			usageRaw = m.Value
		case "error":
			errRaw = m.Value
		}
		return true
	})
	if err != nil {
		return badStream("invalid event: " + err.Error())
	}
	if s.w == nil && string(typ) != `"message_start"` && string(typ) != `"ping"` && string(typ) != `"error"` {
		return badStream("the stream did not begin with message_start")
	}
	switch string(typ) {
	case `"message_start"`:
		if s.w != nil {
			return nil
		}
		var m struct {
			ID    string `json:"id"`
			Model string `json:"model"`
			Usage usage  `json:"usage"`
		}
		if err := json.Unmarshal(message, &m); err != nil {
			return badStream("invalid message_start: " + err.Error())
		}
		s.usage.merge(m.Usage)
		s.w = chunk.NewWriter(m.ID, m.Model, s.created)
		s.q.Push(s.w.Role(s.q.Buf()))
	case `"content_block_start"`:
		var b struct {
			Type string `json:"type"`
			ID   string `json:"id"`
			Name string `json:"name"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(block, &b); err != nil {
			return badStream("invalid content_block_start: " + err.Error())
		}
		switch b.Type {
		case "tool_use":
			i, _ := xlate.Atoi(index)
			s.blockTool[i] = s.tools
			s.q.Push(s.w.ToolStart(s.q.Buf(), s.tools, b.ID, b.Name, nil, nil))
			s.tools++
		case "text":
			if b.Text != "" {
				s.q.Push(s.w.Text(s.q.Buf(), b.Text))
			}
		}
	case `"content_block_delta"`:
		var dtyp, text, partial []byte
		if err := jsonx.Object(delta, func(m jsonx.Member) bool {
			switch string(m.Key) {
			case "type":
				dtyp = m.Value
			case "text":
				text = m.Value
			case "partial_json":
				partial = m.Value
			}
			return true
		}); err != nil {
			return badStream("invalid content_block_delta: " + err.Error())
		}
		switch string(dtyp) {
		case `"text_delta"`:
			if len(text) > 2 && text[0] == '"' {
				s.q.Push(s.w.TextRaw(s.q.Buf(), text))
			}
		case `"input_json_delta"`:
			i, _ := xlate.Atoi(index)
			tool, ok := s.blockTool[i]
			if ok && len(partial) > 2 && partial[0] == '"' {
				s.q.Push(s.w.ToolArgsRaw(s.q.Buf(), tool, partial))
			}
		}
		// thinking_delta, signature_delta and citations_delta have no OpenAI counterpart.
	case `"message_delta"`:
		var d struct {
			StopReason string `json:"stop_reason"`
		}
		_ = json.Unmarshal(delta, &d)
		if len(usageRaw) > 0 {
			var u usage
			_ = json.Unmarshal(usageRaw, &u)
			s.usage.merge(u)
		}
		if d.StopReason != "" && !s.finished {
			s.finished = true
			s.q.Push(s.w.Finish(s.q.Buf(), FinishReason(d.StopReason)))
		}
	case `"message_stop"`:
		if !s.finished {
			s.finished = true
			s.q.Push(s.w.Finish(s.q.Buf(), "stop"))
		}
		s.stop()
	case `"error"`:
		return parseError(http.StatusOK, nil, []byte(`{"error":`+string(orNull(errRaw))+`}`))
	}
	// ping, content_block_stop and unknown events carry nothing to translate.
	return nil
}

func orNull(b []byte) []byte {
	if len(b) == 0 {
		return []byte("null")
	}
	return b
}
