package cohere

import (
	"strconv"

	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// Stream translates one chat-completion stream into the server-sent events of Cohere's
// streaming chat, framed as Cohere sends them ("event: <type>\ndata: <json>\n\n"). Feed it
// every chunk's JSON in order (Chunk), then call End after the last one, or Fail if the
// upstream failed after the stream had begun.
//
// The first chunk gives message-start. Reasoning deltas become a thinking content block and
// content deltas a text block (content-start, content-delta…, content-end); tool-call
// deltas become tool calls (tool-call-start, tool-call-delta with argument fragments,
// tool-call-end), one after the other: a block ends when the next one starts or the choice
// finishes. Text before tool calls streams as content, not as tool-plan-delta: it is sent
// before the calls are known. End sends message-end with the finish reason and usage.
//
// A text delta costs no allocation: its JSON string is copied as it is. A Stream is not safe
// for concurrent use.
type Stream struct {
	r        *Request
	c        chat.Chunk
	id       string // the message id
	started  bool
	ended    bool
	contents int  // content blocks started
	open     int  // the open content block's index, -1 if none
	thinking bool // the open content block is a thinking block
	calls    []call
	finish   string
	usage    chat.Usage
}

// call is a streamed tool call: its chat index, and whether it is still open. Its Cohere
// index is its place in calls.
type call struct {
	index int
	open  bool
}

// NewStream returns a Stream for one attempt's chat-completion stream.
func (r *Request) NewStream() *Stream {
	return &Stream{r: r, open: -1}
}

// Chunk appends to dst the events that one chat.completion.chunk (the JSON data of one
// "data:" event) gives, and returns the extended slice. "[DONE]" gives none. A chunk that is
// not a JSON object is an error; the stream should then be ended with Fail.
func (s *Stream) Chunk(dst, data []byte) ([]byte, error) {
	if ok, err := s.c.Next(api, data, s.ended); !ok {
		return dst, err
	}
	c := &s.c
	if !s.started {
		dst = s.start(dst, chat.String(c.ID), chat.String(c.Model), chat.Int64(c.Created))
	}
	c.ReadUsage(&s.usage)
	if !c.HasChoice {
		return dst, nil
	}
	if chat.IsString(c.Reasoning) {
		dst = s.content(dst, c.Reasoning, true)
	}
	if chat.IsString(c.Content) {
		dst = s.content(dst, c.Content, false)
	}
	if chat.IsString(c.Refusal) {
		dst = s.content(dst, c.Refusal, false)
	}
	if c.ToolCalls != nil {
		var err error
		if dst, err = s.toolDeltas(dst, c.ToolCalls); err != nil {
			return dst, chat.BadGateway(api, "invalid tool call delta: "+err.Error())
		}
	}
	if chat.IsString(c.Finish) {
		s.finish = chat.String(c.Finish)
		dst = s.closeAll(dst)
	}
	return dst, nil
}

// event appends the head of an event of type typ: its event line and the data's type.
func event(dst []byte, typ string) []byte {
	dst = chat.Event(dst, typ)
	dst = append(dst, `{"type":"`...)
	dst = append(dst, typ...)
	return append(dst, '"')
}

// indexed appends the head of an event of type typ with an index.
func indexed(dst []byte, typ string, i int) []byte {
	dst = append(event(dst, typ), `,"index":`...)
	return chat.AppendInt(dst, i)
}

// start appends message-start.
func (s *Stream) start(dst []byte, id, model string, created int64) []byte {
	s.started = true
	if model == "" {
		model = s.r.Model
	}
	s.id = chat.CompletionID(id, model, created)
	dst = append(event(dst, "message-start"), `,"id":`...)
	dst = jsonx.AppendString(dst, s.id)
	dst = append(dst, `,"delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}`...)
	return chat.EndEvent(dst)
}

// content appends a content-delta of a text (or thinking) block, starting the block first
// if it is not the open one.
func (s *Stream) content(dst, raw []byte, thinking bool) []byte {
	if s.open < 0 || s.thinking != thinking {
		dst = s.closeAll(dst)
		s.open, s.thinking = s.contents, thinking
		s.contents++
		dst = append(indexed(dst, "content-start", s.open), `,"delta":{"message":{"content":`...)
		if thinking {
			dst = append(dst, `{"type":"thinking","thinking":""}}}}`...)
		} else {
			dst = append(dst, `{"type":"text","text":""}}}}`...)
		}
		dst = chat.EndEvent(dst)
	}
	dst = append(indexed(dst, "content-delta", s.open), `,"delta":{"message":{"content":{"`...)
	if thinking {
		dst = append(dst, `thinking":`...)
	} else {
		dst = append(dst, `text":`...)
	}
	dst = append(dst, raw...)
	return chat.EndEvent(append(dst, "}}}}"...))
}

// toolDeltas appends the events of delta.tool_calls.
func (s *Stream) toolDeltas(dst, raw []byte) ([]byte, error) {
	err := chat.ToolDeltas(raw, func(d chat.ToolDelta) {
		t := -1
		for j := range s.calls {
			if s.calls[j].index == d.Index {
				t = j
			}
		}
		if t < 0 {
			dst = s.closeAll(dst)
			t = len(s.calls)
			s.calls = append(s.calls, call{index: d.Index, open: true})
			dst = append(indexed(dst, "tool-call-start", t), `,"delta":{"message":{"tool_calls":{"id":`...)
			if chat.IsString(d.ID) {
				dst = append(dst, d.ID...)
			} else {
				dst = jsonx.AppendString(dst, chat.ID("call_", s.id, strconv.Itoa(t)))
			}
			dst = append(dst, `,"type":"function","function":{"name":`...)
			if len(d.Name) >= 2 && d.Name[0] == '"' {
				dst = append(dst, d.Name...)
			} else {
				dst = append(dst, `""`...)
			}
			dst = chat.EndEvent(append(dst, `,"arguments":""}}}}}`...))
		}
		if chat.IsString(d.Arguments) {
			dst = append(indexed(dst, "tool-call-delta", t), `,"delta":{"message":{"tool_calls":{"function":{"arguments":`...)
			dst = append(dst, d.Arguments...)
			dst = chat.EndEvent(append(dst, "}}}}}"...))
		}
	})
	return dst, err
}

// closeAll appends content-end or tool-call-end for every open block.
func (s *Stream) closeAll(dst []byte) []byte {
	if s.open >= 0 {
		dst = chat.EndEvent(append(indexed(dst, "content-end", s.open), '}'))
		s.open = -1
	}
	for j := range s.calls {
		if s.calls[j].open {
			s.calls[j].open = false
			dst = chat.EndEvent(append(indexed(dst, "tool-call-end", j), '}'))
		}
	}
	return dst
}

// messageEnd appends message-end with finish_reason, the error message if any, and usage.
func (s *Stream) messageEnd(dst []byte, finish, errMsg string) []byte {
	dst = append(event(dst, "message-end"), `,"delta":{"finish_reason":"`...)
	dst = append(dst, finish...)
	dst = append(dst, '"')
	if errMsg != "" {
		dst = append(dst, `,"error":`...)
		dst = jsonx.AppendString(dst, errMsg)
	}
	dst = append(dst, `,"usage":`...)
	dst = appendUsage(dst, &s.usage)
	return chat.EndEvent(append(dst, "}}"...))
}

// End appends the events that end the stream after its last chunk: the end of open blocks
// and message-end with the finish reason and usage.
func (s *Stream) End(dst []byte) []byte {
	if s.ended {
		return dst
	}
	if !s.started {
		dst = s.start(dst, "", "", 0)
	}
	s.ended = true
	return s.messageEnd(s.closeAll(dst), finishReason(s.finish), "")
}

// Fail appends the events that end a stream the upstream broke off, as Cohere ends a
// failed generation: the end of open blocks, and message-end with finish_reason ERROR and
// the error's message. body is the OpenAI-format error, status its HTTP status.
func (s *Stream) Fail(dst []byte, status int, body []byte) []byte {
	if s.ended {
		return dst
	}
	if !s.started {
		dst = s.start(dst, "", "", 0)
	}
	s.ended = true
	return s.messageEnd(s.closeAll(dst), "ERROR", chat.ErrorMessage(status, body))
}
