package responses

import (
	"strconv"

	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// Stream translates one chat-completion stream into the Responses API's streaming events,
// each framed as a server-sent event ("event: <type>\ndata: <json>\n\n") with its
// sequence_number. Feed it every chunk's JSON in order (Chunk), then call End after the last
// one, or Fail if the upstream failed after the stream had begun.
//
// The first chunk gives response.created and response.in_progress. Content deltas become a
// message item (response.output_item.added, response.content_part.added,
// response.output_text.delta...), refusal deltas a message with a refusal part
// (response.refusal.delta), reasoning_content deltas a reasoning item
// (response.reasoning_text.delta) and tool-call deltas function_call items
// (response.function_call_arguments.delta); an item is done (its .done events, then
// response.output_item.done) when the next item begins or the choice finishes, so items
// stream one after the other, as OpenAI sends them. (Should an upstream interleave the
// argument deltas of parallel calls, a late fragment is still sent for its item, and the
// final response has the whole arguments.) End
// sends response.completed, or response.incomplete for finish_reason length or
// content_filter, with the whole response and its usage.
//
// A text delta costs no allocation: its JSON string is copied as it is. A Stream is not safe
// for concurrent use.
type Stream struct {
	r       *Request
	c       chat.Chunk
	res     result
	started bool
	ended   bool
	seq     int
	items   []item
	done    []bool    // done[i]: items[i] has had its .done events
	text    int       // the open message, refusal or reasoning item; -1 if none
	tools   []toolRef // tool call index → item
	finish  string
	usage   chat.Usage
	hasUse  bool
}

type toolRef struct{ index, item int }

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
	if c.ReadUsage(&s.usage) {
		s.hasUse = true
	}
	if !c.HasChoice {
		return dst, nil
	}
	if chat.IsString(c.Reasoning) {
		dst = s.textDelta(dst, kindReasoning, c.Reasoning)
	}
	if chat.IsString(c.Content) {
		dst = s.textDelta(dst, kindMessage, c.Content)
	}
	if chat.IsString(c.Refusal) {
		dst = s.textDelta(dst, kindRefusal, c.Refusal)
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

// start appends response.created and response.in_progress.
func (s *Stream) start(dst []byte, id string, model []byte, created int64) []byte {
	s.started = true
	if len(model) < 2 || model[0] != '"' {
		model = jsonx.AppendString(nil, s.r.Model)
	}
	s.res = result{id: responseID(id, chat.String(model), created), created: created,
		model: append([]byte(nil), model...), status: "in_progress"}
	for _, typ := range [...]string{"response.created", "response.in_progress"} {
		dst = s.begin(dst, typ)
		dst = append(dst, `,"response":`...)
		dst = s.r.appendResponse(dst, &s.res, nil)
		dst = s.end(dst)
	}
	return dst
}

// begin appends an event's head up to its sequence_number.
func (s *Stream) begin(dst []byte, typ string) []byte {
	dst = chat.Event(dst, typ)
	dst = append(dst, `{"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","sequence_number":`...)
	dst = chat.AppendInt(dst, s.seq)
	s.seq++
	return dst
}

func (s *Stream) end(dst []byte) []byte { return chat.EndEvent(append(dst, '}')) }

// itemRef appends the item_id and output_index members of item i.
func (s *Stream) itemRef(dst []byte, i int) []byte {
	dst = append(dst, `,"item_id":"`...)
	dst = append(dst, s.items[i].id...)
	dst = append(dst, `","output_index":`...)
	return chat.AppendInt(dst, i)
}

// open adds an item and appends response.output_item.added (and, for items with a content
// part, response.content_part.added).
func (s *Stream) open(dst []byte, it item) ([]byte, int) {
	i := len(s.items)
	prefix := "msg_"
	switch it.kind {
	case kindFunctionCall:
		prefix = "fc_"
	case kindReasoning:
		prefix = "rs_"
	}
	it.id = itemID(prefix, s.res.id, i)
	s.items = append(s.items, it)
	s.done = append(s.done, false)
	dst = s.begin(dst, "response.output_item.added")
	dst = append(dst, `,"output_index":`...)
	dst = chat.AppendInt(dst, i)
	dst = append(dst, `,"item":`...)
	dst = appendItem(dst, &s.items[i], "in_progress")
	dst = s.end(dst)
	if it.kind != kindFunctionCall {
		dst = s.begin(dst, "response.content_part.added")
		dst = s.itemRef(dst, i)
		dst = append(dst, `,"content_index":0,"part":`...)
		dst = appendPart(dst, &s.items[i])
		dst = s.end(dst)
	}
	return dst, i
}

// textDelta appends a delta of a message, refusal or reasoning item, opening the item first
// if another one is open.
func (s *Stream) textDelta(dst []byte, kind int, raw []byte) []byte {
	if s.text < 0 || s.items[s.text].kind != kind {
		dst = s.closeAll(dst)
		dst, s.text = s.open(dst, item{kind: kind})
	}
	i := s.text
	typ := "response.output_text.delta"
	switch kind {
	case kindRefusal:
		typ = "response.refusal.delta"
	case kindReasoning:
		typ = "response.reasoning_text.delta"
	}
	dst = s.begin(dst, typ)
	dst = s.itemRef(dst, i)
	dst = append(dst, `,"content_index":0,"delta":`...)
	dst = append(dst, raw...)
	if kind == kindMessage {
		dst = append(dst, `,"logprobs":[]`...)
	}
	s.items[i].text = append(s.items[i].text, chat.Inner(raw)...)
	return s.end(dst)
}

// toolDeltas appends the events of delta.tool_calls.
func (s *Stream) toolDeltas(dst, raw []byte) ([]byte, error) {
	err := chat.ToolDeltas(raw, func(d chat.ToolDelta) {
		i := -1
		for _, t := range s.tools {
			if t.index == d.Index {
				i = t.item
			}
		}
		if i < 0 {
			dst = s.closeAll(dst)
			it := item{kind: kindFunctionCall, callID: []byte(`""`), name: []byte(`""`)}
			if chat.IsString(d.ID) {
				it.callID = append([]byte(nil), d.ID...)
			} else {
				it.callID = jsonx.AppendString(nil, chat.ID("call_", s.res.id, strconv.Itoa(len(s.items))))
			}
			if len(d.Name) >= 2 && d.Name[0] == '"' {
				it.name = append([]byte(nil), d.Name...)
			}
			dst, i = s.open(dst, it)
			s.tools = append(s.tools, toolRef{d.Index, i})
		}
		if chat.IsString(d.Arguments) {
			dst = s.begin(dst, "response.function_call_arguments.delta")
			dst = s.itemRef(dst, i)
			dst = append(dst, `,"delta":`...)
			dst = append(dst, d.Arguments...)
			dst = s.end(dst)
			s.items[i].text = append(s.items[i].text, chat.Inner(d.Arguments)...)
		}
	})
	return dst, err
}

// closeAll appends the .done events of every open item.
func (s *Stream) closeAll(dst []byte) []byte {
	for i := range s.items {
		if !s.done[i] {
			dst = s.closeItem(dst, i)
		}
	}
	s.text = -1
	return dst
}

// closeItem appends the .done events of item i.
func (s *Stream) closeItem(dst []byte, i int) []byte {
	s.done[i] = true
	it := &s.items[i]
	switch it.kind {
	case kindFunctionCall:
		dst = s.begin(dst, "response.function_call_arguments.done")
		dst = s.itemRef(dst, i)
		dst = append(dst, `,"name":`...)
		dst = append(dst, it.name...)
		dst = append(dst, `,"arguments":"`...)
		dst = append(dst, it.text...)
		dst = s.end(append(dst, '"'))
	default:
		typ, field := "response.output_text.done", `,"text":"`
		switch it.kind {
		case kindRefusal:
			typ, field = "response.refusal.done", `,"refusal":"`
		case kindReasoning:
			typ = "response.reasoning_text.done"
		}
		dst = s.begin(dst, typ)
		dst = s.itemRef(dst, i)
		dst = append(dst, `,"content_index":0`...)
		dst = append(dst, field...)
		dst = append(dst, it.text...)
		dst = append(dst, '"')
		if it.kind == kindMessage {
			dst = append(dst, `,"logprobs":[]`...)
		}
		dst = s.end(dst)
		dst = s.begin(dst, "response.content_part.done")
		dst = s.itemRef(dst, i)
		dst = append(dst, `,"content_index":0,"part":`...)
		dst = appendPart(dst, it)
		dst = s.end(dst)
	}
	dst = s.begin(dst, "response.output_item.done")
	dst = append(dst, `,"output_index":`...)
	dst = chat.AppendInt(dst, i)
	dst = append(dst, `,"item":`...)
	st, _ := status(s.finish)
	dst = appendItem(dst, it, st)
	return s.end(dst)
}

// End appends the events that end the stream after its last chunk: the .done events of open
// items and response.completed (or response.incomplete), with the usage of the stream's
// usage chunk.
func (s *Stream) End(dst []byte) []byte {
	if s.ended {
		return dst
	}
	if !s.started {
		dst = s.start(dst, "", nil, 0)
	}
	dst = s.closeAll(dst)
	s.ended = true
	s.res.status, s.res.reason = status(s.finish)
	if s.hasUse {
		s.res.usage = &s.usage
	}
	typ := "response.completed"
	if s.res.status == "incomplete" {
		typ = "response.incomplete"
	}
	dst = s.begin(dst, typ)
	dst = append(dst, `,"response":`...)
	dst = s.r.appendResponse(dst, &s.res, s.items)
	return s.end(dst)
}

// Fail appends response.failed, which ends a stream that the upstream broke off: body is the
// OpenAI-format error ({"error":{"message","type","code"}}), status its HTTP status. Its
// code (else its type, else server_error) and message become the response's error.
func (s *Stream) Fail(dst []byte, status int, body []byte) []byte {
	if s.ended {
		return dst
	}
	if !s.started {
		dst = s.start(dst, "", nil, 0)
	}
	s.ended = true
	code, msg := errorOf(status, body)
	e := append([]byte(`{"code":`), jsonx.AppendString(nil, code)...)
	e = append(e, `,"message":`...)
	e = jsonx.AppendString(e, msg)
	s.res.err = append(e, '}')
	s.res.status = "failed"
	if s.hasUse {
		s.res.usage = &s.usage
	}
	dst = s.begin(dst, "response.failed")
	dst = append(dst, `,"response":`...)
	dst = s.r.appendResponse(dst, &s.res, s.items)
	return s.end(dst)
}

// errorOf returns the code and message of a failed response from an OpenAI-format error.
func errorOf(status int, body []byte) (code, msg string) {
	typ, code, msg := chat.ParseError(body)
	if code == "" {
		code = typ
	}
	if code == "" {
		code = "server_error"
	}
	if msg == "" {
		msg = "upstream status " + strconv.Itoa(status)
	}
	return code, msg
}
