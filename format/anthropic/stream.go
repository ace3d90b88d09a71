package anthropic

import (
	"strconv"

	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// Stream translates one chat-completion stream into the server-sent events of Anthropic's
// streaming Messages API, framed as Anthropic sends them ("event: <type>\ndata: <json>\n\n").
// Feed it every chunk's JSON in order (Chunk), then call End after the last one, or Fail if
// the upstream failed after the stream had begun.
//
// The first chunk gives message_start and a ping. Content deltas become a text block
// (content_block_start, content_block_delta text_delta..., content_block_stop), tool-call
// deltas tool_use blocks (input_json_delta), one block after the other as Anthropic streams
// them: a block stops when the next one starts or the choice finishes. (Should an upstream
// interleave the argument deltas of parallel calls, a late fragment is still sent, with its
// block's index, which clients accumulate by.) End sends message_delta (stop_reason and the usage of the
// stream's usage chunk) and message_stop. Reasoning deltas are not returned.
//
// A text delta costs no allocation: its JSON string is copied as it is. A Stream is not safe
// for concurrent use.
type Stream struct {
	r       *Request
	c       chat.Chunk
	id      string // the message id
	started bool
	ended   bool
	blocks  int // content blocks started
	text    int // the open text block, -1 if none
	tools   []tool
	finish  string
	usage   chat.Usage
}

// tool is a tool_use block: the chat tool call index it streams and its block index.
type tool struct {
	index, block int
	open         bool
}

// NewStream returns a Stream for one attempt's chat-completion stream.
func (r *Request) NewStream() *Stream {
	return &Stream{r: r, text: -1}
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
		dst = s.start(dst, chat.String(c.ID), c.Model, chat.Int64(c.Created))
	}
	c.ReadUsage(&s.usage)
	if !c.HasChoice {
		return dst, nil
	}
	if chat.IsString(c.Content) {
		dst = s.textDelta(dst, c.Content)
	}
	if chat.IsString(c.Refusal) {
		dst = s.textDelta(dst, c.Refusal)
	}
	if c.ToolCalls != nil {
		var err error
		if dst, err = s.toolDeltas(dst, c.ToolCalls); err != nil {
			return dst, chat.BadGateway(api, "invalid tool call delta: "+err.Error())
		}
	}
	if chat.IsString(c.Finish) {
		s.finish = chat.String(c.Finish)
		dst = s.stopAll(dst)
	}
	return dst, nil
}

// start appends message_start and ping.
func (s *Stream) start(dst []byte, id string, model []byte, created int64) []byte {
	s.started = true
	if len(model) < 2 || model[0] != '"' {
		model = jsonx.AppendString(nil, s.r.Model)
	}
	dst = chat.Event(dst, "message_start")
	dst = append(dst, `{"type":"message_start","message":{"id":`...)
	s.id = messageID(id, chat.String(model), created)
	dst = jsonx.AppendString(dst, s.id)
	dst = append(dst, `,"type":"message","role":"assistant","model":`...)
	dst = append(dst, model...)
	dst = append(dst, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}`...)
	dst = chat.EndEvent(dst)
	dst = chat.Event(dst, "ping")
	return chat.EndEvent(append(dst, `{"type":"ping"}`...))
}

// blockStart appends the head of content_block_start for a new block and returns its index.
func (s *Stream) blockStart(dst []byte) ([]byte, int) {
	i := s.blocks
	s.blocks++
	dst = chat.Event(dst, "content_block_start")
	dst = append(dst, `{"type":"content_block_start","index":`...)
	dst = chat.AppendInt(dst, i)
	return append(dst, `,"content_block":`...), i
}

// delta appends the head of a content_block_delta of block i.
func delta(dst []byte, i int) []byte {
	dst = chat.Event(dst, "content_block_delta")
	dst = append(dst, `{"type":"content_block_delta","index":`...)
	dst = chat.AppendInt(dst, i)
	return append(dst, `,"delta":`...)
}

// blockStop appends content_block_stop of block i.
func blockStop(dst []byte, i int) []byte {
	dst = chat.Event(dst, "content_block_stop")
	dst = append(dst, `{"type":"content_block_stop","index":`...)
	dst = chat.AppendInt(dst, i)
	return chat.EndEvent(append(dst, '}'))
}

// textDelta appends a text_delta, starting a text block first if none is open.
func (s *Stream) textDelta(dst, raw []byte) []byte {
	if s.text < 0 {
		dst = s.stopAll(dst)
		dst, s.text = s.blockStart(dst)
		dst = chat.EndEvent(append(dst, `{"type":"text","text":""}}`...))
	}
	dst = delta(dst, s.text)
	dst = append(dst, `{"type":"text_delta","text":`...)
	dst = append(dst, raw...)
	return chat.EndEvent(append(dst, "}}"...))
}

// toolDeltas appends the events of delta.tool_calls.
func (s *Stream) toolDeltas(dst, raw []byte) ([]byte, error) {
	err := chat.ToolDeltas(raw, func(d chat.ToolDelta) {
		t := -1
		for j := range s.tools {
			if s.tools[j].index == d.Index {
				t = j
			}
		}
		if t < 0 {
			dst = s.stopAll(dst)
			var block int
			dst, block = s.blockStart(dst)
			dst = append(dst, `{"type":"tool_use","id":`...)
			if chat.IsString(d.ID) {
				dst = append(dst, d.ID...)
			} else {
				dst = jsonx.AppendString(dst, chat.ID("toolu_", s.id, strconv.Itoa(block)))
			}
			dst = append(dst, `,"name":`...)
			if len(d.Name) >= 2 && d.Name[0] == '"' {
				dst = append(dst, d.Name...)
			} else {
				dst = append(dst, `""`...)
			}
			dst = chat.EndEvent(append(dst, `,"input":{}}}`...))
			s.tools = append(s.tools, tool{index: d.Index, block: block, open: true})
			t = len(s.tools) - 1
		}
		if chat.IsString(d.Arguments) {
			dst = delta(dst, s.tools[t].block)
			dst = append(dst, `{"type":"input_json_delta","partial_json":`...)
			dst = append(dst, d.Arguments...)
			dst = chat.EndEvent(append(dst, "}}"...))
		}
	})
	return dst, err
}

// stopAll appends content_block_stop for every open block.
func (s *Stream) stopAll(dst []byte) []byte {
	if s.text >= 0 {
		dst = blockStop(dst, s.text)
		s.text = -1
	}
	for j := range s.tools {
		if s.tools[j].open {
			s.tools[j].open = false
			dst = blockStop(dst, s.tools[j].block)
		}
	}
	return dst
}

// End appends the events that end the stream after its last chunk: content_block_stop of
// open blocks, message_delta with the stop reason and usage, and message_stop.
func (s *Stream) End(dst []byte) []byte {
	if s.ended {
		return dst
	}
	if !s.started {
		dst = s.start(dst, "", nil, 0)
	}
	s.ended = true
	dst = s.stopAll(dst)
	dst = chat.Event(dst, "message_delta")
	dst = append(dst, `{"type":"message_delta","delta":{"stop_reason":"`...)
	dst = append(dst, StopReason(s.finish)...)
	dst = append(dst, `","stop_sequence":null},"usage":`...)
	dst = appendUsage(dst, &s.usage)
	dst = chat.EndEvent(append(dst, '}'))
	dst = chat.Event(dst, "message_stop")
	return chat.EndEvent(append(dst, `{"type":"message_stop"}`...))
}

// Fail appends the error event that ends a stream the upstream broke off, as Anthropic sends
// one mid-stream: body is the OpenAI-format error, status its HTTP status (see Error).
func (s *Stream) Fail(dst []byte, status int, body []byte) []byte {
	if s.ended {
		return dst
	}
	s.ended = true
	dst = chat.Event(dst, "error")
	dst = appendError(dst, status, body)
	return chat.EndEvent(dst)
}
