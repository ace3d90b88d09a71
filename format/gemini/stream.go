package gemini

import (
	"strconv"

	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// Stream translates one chat-completion stream into streamGenerateContent's responses:
// server-sent events ("data: <GenerateContentResponse>\r\n\r\n", as Gemini sends with
// ?alt=sse), or Gemini's default framing, one JSON array whose elements arrive as they come
// ("[{...},\r\n{...}]"). Feed it every chunk's JSON in order (Chunk), then call End after
// the last one, or Fail if the upstream failed after the stream had begun.
//
// Each content (or refusal) delta becomes a GenerateContentResponse with one text part;
// reasoning deltas become thought parts when the request asked for thoughts. Gemini streams
// whole function calls, so tool-call deltas are gathered and sent, as functionCall parts,
// in the last response, which End sends with the finish reason and usageMetadata. Only choice
// 0 is streamed.
//
// A text delta costs no allocation: its JSON string is copied as it is. A Stream is not safe
// for concurrent use.
type Stream struct {
	r      *Request
	c      chat.Chunk
	sse    bool
	begun  bool   // the stream's id and model are known
	opened bool   // the JSON array is open
	ended  bool   // End or Fail was called
	id     []byte // responseId, a JSON string
	model  []byte // modelVersion, a JSON string
	calls  []call
	finish string
	usage  chat.Usage
}

// call is a tool call being gathered: the chat index, id, name and the arguments' JSON string
// without its quotes (still escaped).
type call struct {
	index    int
	id, name string
	args     []byte
}

// NewStream returns a Stream for one attempt's chat-completion stream: server-sent events if
// sse (the client asked for ?alt=sse), else a JSON array.
func (r *Request) NewStream(sse bool) *Stream {
	return &Stream{r: r, sse: sse}
}

// Chunk appends to dst the responses that one chat.completion.chunk (the JSON data of one
// "data:" event) gives, and returns the extended slice. "[DONE]" gives none. A chunk that is
// not a JSON object is an error; the stream should then be ended with Fail.
func (s *Stream) Chunk(dst, data []byte) ([]byte, error) {
	if ok, err := s.c.Next(api, data, s.ended); !ok {
		return dst, err
	}
	c := &s.c
	if !s.begun {
		s.begin(c.ID, c.Model, chat.Int64(c.Created))
	}
	c.ReadUsage(&s.usage)
	if !c.HasChoice {
		return dst, nil
	}
	if s.r.thoughts && chat.IsString(c.Reasoning) {
		dst = s.text(dst, c.Reasoning, true)
	}
	if chat.IsString(c.Content) {
		dst = s.text(dst, c.Content, false)
	}
	if chat.IsString(c.Refusal) {
		dst = s.text(dst, c.Refusal, false)
	}
	if c.ToolCalls != nil {
		if err := chat.ToolDeltas(c.ToolCalls, s.gather); err != nil {
			return dst, chat.BadGateway(api, "invalid tool call delta: "+err.Error())
		}
	}
	if chat.IsString(c.Finish) {
		s.finish = chat.String(c.Finish)
	}
	return dst, nil
}

// begin keeps the stream's responseId and modelVersion: the chunk's id and model, else the
// request's model and an id derived from it.
func (s *Stream) begin(id, model []byte, created int64) {
	s.begun = true
	if chat.IsString(model) {
		s.model = append([]byte(nil), model...)
	} else {
		s.model = jsonx.AppendString(nil, s.r.Model)
	}
	if chat.IsString(id) {
		s.id = append([]byte(nil), id...)
	} else {
		s.id = jsonx.AppendString(nil, chat.CompletionID("", chat.String(s.model), created))
	}
}

// open appends what precedes a response: "data: ", or the array's "[" or ",\r\n".
func (s *Stream) open(dst []byte) []byte {
	switch {
	case s.sse:
		return append(dst, "data: "...)
	case s.opened:
		return append(dst, ",\r\n"...)
	}
	s.opened = true
	return append(dst, '[')
}

// close appends what follows a response: the event's end, or nothing in an array.
func (s *Stream) close(dst []byte) []byte {
	if s.sse {
		return append(dst, "\r\n\r\n"...)
	}
	return dst
}

// tail appends the members that end every response: modelVersion, responseId.
func (s *Stream) tail(dst []byte) []byte {
	dst = append(dst, `,"modelVersion":`...)
	dst = append(dst, s.model...)
	dst = append(dst, `,"responseId":`...)
	dst = append(dst, s.id...)
	return append(dst, '}')
}

// text appends a response with one text part, raw its JSON string.
func (s *Stream) text(dst, raw []byte, thought bool) []byte {
	dst = s.open(dst)
	dst = append(dst, `{"candidates":[{"content":{"parts":[{"text":`...)
	dst = append(dst, raw...)
	if thought {
		dst = append(dst, `,"thought":true`...)
	}
	dst = append(dst, `}],"role":"model"},"index":0}]`...)
	return s.close(s.tail(dst))
}

// gather adds one tool-call delta to its call.
func (s *Stream) gather(d chat.ToolDelta) {
	t := -1
	for j := range s.calls {
		if s.calls[j].index == d.Index {
			t = j
		}
	}
	if t < 0 {
		id := chat.String(d.ID)
		if id == "" {
			id = chat.ID("call_", string(s.id), strconv.Itoa(d.Index))
		}
		s.calls = append(s.calls, call{index: d.Index, id: id})
		t = len(s.calls) - 1
	}
	if s.calls[t].name == "" {
		s.calls[t].name = chat.String(d.Name)
	}
	s.calls[t].args = append(s.calls[t].args, chat.Inner(d.Arguments)...)
}

// End appends the last response, with the gathered function calls, the finish reason and
// usageMetadata, and closes the array.
func (s *Stream) End(dst []byte) []byte {
	if s.ended {
		return dst
	}
	if !s.begun {
		s.begin(nil, nil, 0)
	}
	s.ended = true
	dst = s.open(dst)
	dst = append(dst, `{"candidates":[{"content":{"parts":[`...)
	for i, c := range s.calls {
		if i > 0 {
			dst = append(dst, ',')
		}
		args, _ := jsonx.String(append(append([]byte{'"'}, c.args...), '"'))
		dst = appendCall(dst, c.id, c.name, args)
	}
	if len(s.calls) == 0 {
		dst = append(dst, `{"text":""}`...)
	}
	dst = append(dst, `],"role":"model"},"finishReason":"`...)
	dst = append(dst, finishReason(s.finish)...)
	dst = append(dst, `","index":0}],"usageMetadata":`...)
	dst = appendUsage(dst, &s.usage)
	dst = s.close(s.tail(dst))
	if !s.sse {
		dst = append(dst, ']')
	}
	return dst
}

// Fail appends the error that ends a stream the upstream broke off, as Gemini sends one
// mid-stream: Google's error object (see Error) as an event or as the array's last element.
// body is the OpenAI-format error, status its HTTP status.
func (s *Stream) Fail(dst []byte, status int, body []byte) []byte {
	if s.ended {
		return dst
	}
	s.ended = true
	dst = s.close(appendError(s.open(dst), status, body))
	if !s.sse {
		dst = append(dst, ']')
	}
	return dst
}
