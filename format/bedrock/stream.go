package bedrock

import (
	"github.com/aiproxy/aiproxy/format/internal/chat"
)

// Stream translates one chat-completion stream into ConverseStream's events, framed in AWS's
// binary event stream encoding as Bedrock sends them. Feed it every chunk's JSON in order
// (Chunk), then call End after the last one, or Fail if the upstream failed after the stream
// had begun.
//
// The first chunk gives messageStart. Content deltas become a text block (contentBlockDelta
// {"text"}, without a contentBlockStart, as Bedrock streams text), reasoning deltas a
// reasoning block ({"reasoningContent":{"text"}}), tool-call deltas toolUse blocks
// (contentBlockStart with toolUseId and name, then contentBlockDelta {"toolUse":{"input"}}
// fragments), one block after the other: a block stops (contentBlockStop) when the next one
// starts or the choice finishes. (Should an upstream interleave the argument deltas of
// parallel calls, a late fragment is still sent, with its block's index, which clients
// accumulate by.) End sends messageStop with the stop reason and metadata with the usage of
// the stream's usage chunk; its metrics.latencyMs is 0, as a pure translation has no clock.
// Bedrock's "p" padding member of delta events, which clients ignore, is not sent.
//
// A text delta costs no allocation: its JSON string is copied as it is. A Stream is not safe
// for concurrent use.
type Stream struct {
	r         *Request
	c         chat.Chunk
	id        string // the chat completion's id, for the ids of tool calls without one
	started   bool
	ended     bool
	blocks    int // content blocks started
	text      int // the open text block, -1 if none
	reasoning int // the open reasoning block, -1 if none
	tools     []tool
	finish    string
	usage     chat.Usage
}

// tool is a toolUse block: the chat tool call index it streams and its block index.
type tool struct {
	index, block int
	open         bool
}

// NewStream returns a Stream for one attempt's chat-completion stream.
func (r *Request) NewStream() *Stream {
	return &Stream{r: r, text: -1, reasoning: -1}
}

// Chunk appends to dst the event frames that one chat.completion.chunk (the JSON data of one
// "data:" event) gives, and returns the extended slice. "[DONE]" gives none. A chunk that is
// not a JSON object is an error; the stream should then be ended with Fail.
func (s *Stream) Chunk(dst, data []byte) ([]byte, error) {
	if ok, err := s.c.Next(api, data, s.ended); !ok {
		return dst, err
	}
	c := &s.c
	if !s.started {
		s.id = chat.String(c.ID)
		dst = s.start(dst)
	}
	c.ReadUsage(&s.usage)
	if !c.HasChoice {
		return dst, nil
	}
	if chat.IsString(c.Reasoning) {
		dst = s.reasoningDelta(dst, c.Reasoning)
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

// start appends messageStart.
func (s *Stream) start(dst []byte) []byte {
	s.started = true
	dst, f := begin(dst, messageStart)
	return f.end(append(dst, `{"role":"assistant"}`...))
}

// delta appends a contentBlockDelta of block i whose delta is head + raw + tail.
func delta(dst []byte, i int, head string, raw []byte, tail string) []byte {
	dst, f := begin(dst, contentBlockDelta)
	dst = append(dst, `{"contentBlockIndex":`...)
	dst = chat.AppendInt(dst, i)
	dst = append(dst, `,"delta":`...)
	dst = append(dst, head...)
	dst = append(dst, raw...)
	dst = append(dst, tail...)
	return f.end(append(dst, '}'))
}

// blockStop appends contentBlockStop of block i.
func blockStop(dst []byte, i int) []byte {
	dst, f := begin(dst, contentBlockStop)
	dst = append(dst, `{"contentBlockIndex":`...)
	dst = chat.AppendInt(dst, i)
	return f.end(append(dst, '}'))
}

// textDelta appends a text delta, in a new text block if none is open.
func (s *Stream) textDelta(dst, raw []byte) []byte {
	if s.text < 0 {
		dst = s.stopAll(dst)
		s.text = s.blocks
		s.blocks++
	}
	return delta(dst, s.text, `{"text":`, raw, "}")
}

// reasoningDelta appends a reasoning delta, in a new reasoning block if none is open.
func (s *Stream) reasoningDelta(dst, raw []byte) []byte {
	if s.reasoning < 0 {
		dst = s.stopAll(dst)
		s.reasoning = s.blocks
		s.blocks++
	}
	return delta(dst, s.reasoning, `{"reasoningContent":{"text":`, raw, "}}")
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
			block := s.blocks
			s.blocks++
			var f frame
			dst, f = begin(dst, contentBlockStart)
			dst = append(dst, `{"contentBlockIndex":`...)
			dst = chat.AppendInt(dst, block)
			dst = append(dst, `,"start":{"toolUse":{"toolUseId":`...)
			if chat.IsString(d.ID) {
				dst = append(dst, d.ID...)
			} else {
				dst = append(append(append(dst, '"'), toolUseID(s.id, block)...), '"')
			}
			dst = append(dst, `,"name":`...)
			if len(d.Name) >= 2 && d.Name[0] == '"' {
				dst = append(dst, d.Name...)
			} else {
				dst = append(dst, `""`...)
			}
			dst = f.end(append(dst, "}}}"...))
			s.tools = append(s.tools, tool{index: d.Index, block: block, open: true})
			t = len(s.tools) - 1
		}
		if chat.IsString(d.Arguments) {
			dst = delta(dst, s.tools[t].block, `{"toolUse":{"input":`, d.Arguments, "}}")
		}
	})
	return dst, err
}

// stopAll appends contentBlockStop for every open block.
func (s *Stream) stopAll(dst []byte) []byte {
	if s.reasoning >= 0 {
		dst = blockStop(dst, s.reasoning)
		s.reasoning = -1
	}
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

// End appends the events that end the stream after its last chunk: contentBlockStop of open
// blocks, messageStop with the stop reason, and metadata with the usage.
func (s *Stream) End(dst []byte) []byte {
	if s.ended {
		return dst
	}
	if !s.started {
		dst = s.start(dst)
	}
	s.ended = true
	dst = s.stopAll(dst)
	dst, f := begin(dst, messageStop)
	dst = append(dst, `{"stopReason":"`...)
	dst = append(dst, StopReason(s.finish)...)
	dst = f.end(append(dst, `"}`...))
	dst, f = begin(dst, metadata)
	dst = append(dst, `{"usage":`...)
	dst = appendUsage(dst, &s.usage)
	return f.end(append(dst, `,"metrics":{"latencyMs":0}}`...))
}

// Fail appends the exception message that ends a stream the upstream broke off, as
// ConverseStream sends one: body is the OpenAI-format error, status its HTTP status. The
// exception is the stream's for the status: 429 throttlingException, 503
// serviceUnavailableException, 424, 502 and 504 modelStreamErrorException, other 4xx
// validationException, anything else internalServerException.
func (s *Stream) Fail(dst []byte, status int, body []byte) []byte {
	if s.ended {
		return dst
	}
	s.ended = true
	dst, f := begin(dst, exceptionHeaders(streamException(status)))
	return f.end(appendMessage(dst, status, body))
}
