package cohere

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/aiproxy/aiproxy/provider"
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
	s := &stream{r: sse.NewReader(body)}
	s.c.Model = xlate.Model(r)
	s.c.Created = xlate.Created(h, p.Now)
	if r != nil {
		s.includeUsage = xlate.IncludeUsage(r.Body)
		s.c.ID = xlate.ID("chatcmpl-", r.Body)
	}
	return s
}

type stream struct {
	r            *sse.Reader
	c            xlate.Chunker
	includeUsage bool
	usage        provider.Usage
	started      bool
	tools        int // tool calls started so far
	ev           streamEvent
	queue        [][]byte // chunks translated from one event, still to return
	qbuf         []byte
	done         bool
}

func (s *stream) Usage() provider.Usage { return s.usage }

// push queues a chunk, after the role chunk if the stream has not started.
func (s *stream) push(chunk func() []byte) {
	if !s.started {
		s.started = true
		s.pushBytes(s.c.Role())
	}
	if chunk != nil {
		s.pushBytes(chunk())
	}
}

func (s *stream) pushBytes(b []byte) {
	start := len(s.qbuf)
	s.qbuf = append(s.qbuf, b...)
	s.queue = append(s.queue, s.qbuf[start:len(s.qbuf):len(s.qbuf)])
}

func (s *stream) Next() ([]byte, error) {
	for {
		if len(s.queue) > 0 {
			out := s.queue[0]
			s.queue = s.queue[1:]
			return out, nil
		}
		if s.done {
			return nil, io.EOF
		}
		s.queue, s.qbuf = s.queue[:0], s.qbuf[:0]
		ev, err := s.r.Next()
		if err == io.EOF {
			s.done = true
			return nil, xlate.BadGateway("cohere: the stream ended before message-end")
		}
		if err != nil {
			s.done = true
			return nil, xlate.BadGateway("cohere: reading the stream: " + err.Error())
		}
		if err := s.event(ev.Data); err != nil {
			s.done = true
			return nil, err
		}
	}
}

func (s *stream) event(data []byte) error {
	// The hot path: text deltas, without a full decode.
	if typ, _ := xlate.JSONString(xlate.Lookup(data, "type")); typ == "content-delta" {
		content := xlate.Lookup(data, "delta", "message", "content")
		ctype, _ := xlate.JSONString(xlate.Lookup(content, "type"))
		if text, ok := xlate.JSONString(xlate.Lookup(content, "text")); ok && (ctype == "" || ctype == "text") {
			if text != "" {
				s.push(func() []byte { return s.c.Content(text) })
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
		if ev.ID != "" && !s.started {
			s.c.ID = "chatcmpl-" + ev.ID
		}
		s.push(nil)
	case "content-delta":
		var c contentDelta
		if !msg || json.Unmarshal(ev.Delta.Message.Content, &c) != nil || c.Text == "" {
			return nil
		}
		if c.Type != "" && c.Type != "text" {
			return nil // thinking
		}
		s.push(func() []byte { return s.c.Content(c.Text) })
	case "tool-call-start":
		var tc toolCallDelta
		if !msg || json.Unmarshal(ev.Delta.Message.ToolCalls, &tc) != nil {
			return nil
		}
		idx := s.tools
		s.tools++
		if tc.Function.Arguments != "" {
			s.push(func() []byte { return s.c.ToolCall(idx, tc.ID, tc.Function.Name, tc.Function.Arguments) })
		} else {
			s.push(func() []byte { return s.c.ToolStart(idx, tc.ID, tc.Function.Name) })
		}
	case "tool-call-delta":
		var tc toolCallDelta
		if !msg || s.tools == 0 || json.Unmarshal(ev.Delta.Message.ToolCalls, &tc) != nil {
			return nil
		}
		s.push(func() []byte { return s.c.ToolArgs(s.tools-1, tc.Function.Arguments) })
	case "message-end":
		s.done = true
		finish := ""
		if ev.Delta != nil {
			finish = ev.Delta.FinishReason
			s.usage = ev.Delta.Usage.toUsage()
			if e := finishError(finish, ev.Delta.Error); e != nil {
				return e
			}
		}
		s.push(func() []byte { return s.c.Finish(FinishReason(finish)) })
		if s.includeUsage {
			s.push(func() []byte { return s.c.Usage(s.usage) })
		}
	}
	return nil // content-start, content-end, tool-plan-delta, tool-call-end, citations, debug
}
