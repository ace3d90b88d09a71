package cohere

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

// streamEvent is the union of /v2/chat's stream events. content and tool_calls are arrays
// in message-start and objects in the delta events, so they are decoded per event type.
type streamEvent struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Index int    `json:"index"`
	Delta *struct {
		Message *struct {
			Content   json.RawMessage `json:"content"`
			ToolCalls json.RawMessage `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
		Usage        *usage `json:"usage"`
		Error        string `json:"error"`
	} `json:"delta"`
}

type contentDelta struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type toolCallDelta struct {
	ID       string `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// NewStream translates /v2/chat's server-sent events into chat.completion.chunk events.
func (p Provider) NewStream(r *provider.Request, h http.Header, body io.Reader) provider.Stream {
	s := &stream{r: sse.NewReader(body), model: xlate.Model(r), created: xlate.Created(h, p.Now)}
	if r != nil {
		s.includeUsage = chunk.IncludeUsage(r.Body)
		s.id = xlate.ID("chatcmpl-", r.Body)
	}
	return s
}

type stream struct {
	r            *sse.Reader
	w            *chunk.Writer // made at the first chunk, with message-start's id
	q            chunk.Loop
	id, model    string
	created      int64
	includeUsage bool
	usage        provider.Usage
	tools        int // tool calls started so far
	ev           streamEvent
}

func (s *stream) Usage() provider.Usage { return s.usage }

// start queues the role chunk, before any other.
func (s *stream) start() {
	if s.w == nil {
		s.w = chunk.NewWriter(s.id, s.model, s.created)
		s.q.Push(s.w.Role(s.q.Buf()))
	}
}

func (s *stream) Next() ([]byte, error) {
	return s.q.Next(s, "cohere: the stream ended before message-end")
}

// Step reads and translates one event.
func (s *stream) Step() error {
	ev, err := s.r.Next()
	if err == io.EOF {
		return err
	}
	if err != nil {
		return xlate.BadGateway("cohere: reading the stream: " + err.Error())
	}
	return s.event(ev.Data)
}

func (s *stream) event(data []byte) error {
	// The hot path: text deltas, without a decode.
	if string(xlate.Lookup(data, "type")) == `"content-delta"` {
		content := xlate.Lookup(data, "delta", "message", "content")
		ctype := string(xlate.Lookup(content, "type"))
		if text := xlate.Lookup(content, "text"); len(text) > 0 && text[0] == '"' && (ctype == "" || ctype == `"text"`) {
			if len(text) > 2 {
				s.start()
				s.q.Push(s.w.TextRaw(s.q.Buf(), text))
			}
			return nil
		}
	}
	s.ev = streamEvent{}
	if err := json.Unmarshal(data, &s.ev); err != nil {
		return xlate.BadGateway("cohere: cannot decode a stream event: " + err.Error())
	}
	ev := &s.ev
	msg := ev.Delta != nil && ev.Delta.Message != nil
	switch ev.Type {
	case "message-start":
		if ev.ID != "" && s.w == nil {
			s.id = "chatcmpl-" + ev.ID
		}
		s.start()
	case "content-delta":
		var c contentDelta
		if !msg || json.Unmarshal(ev.Delta.Message.Content, &c) != nil || c.Text == "" {
			return nil
		}
		if c.Type != "" && c.Type != "text" {
			return nil // thinking
		}
		s.start()
		s.q.Push(s.w.Text(s.q.Buf(), c.Text))
	case "tool-call-start":
		var tc toolCallDelta
		if !msg || json.Unmarshal(ev.Delta.Message.ToolCalls, &tc) != nil {
			return nil
		}
		s.start()
		s.q.Push(s.w.ToolStart(s.q.Buf(), s.tools, tc.ID, tc.Function.Name, jsonx.AppendString(nil, tc.Function.Arguments), nil))
		s.tools++
	case "tool-call-delta":
		var tc toolCallDelta
		if !msg || s.tools == 0 || json.Unmarshal(ev.Delta.Message.ToolCalls, &tc) != nil {
			return nil
		}
		s.start()
		s.q.Push(s.w.ToolArgsRaw(s.q.Buf(), s.tools-1, jsonx.AppendString(nil, tc.Function.Arguments)))
	case "message-end":
		s.q.Done()
		finish := ""
		if ev.Delta != nil {
			finish = ev.Delta.FinishReason
			s.usage = ev.Delta.Usage.toUsage()
			if e := finishError(finish, ev.Delta.Error); e != nil {
				return e
			}
		}
		s.start()
		s.q.Push(s.w.Finish(s.q.Buf(), FinishReason(finish)))
		if s.includeUsage {
			s.q.Push(s.w.Usage(s.q.Buf(), s.usage))
		}
	}
	return nil // content-start, content-end, tool-plan-delta, tool-call-end, citations, debug
}
