package huggingface

import (
	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// Stream translates one chat-completion stream into TGI's server-sent events ("data:
// <json>\n\n", no event names). Feed it every chunk's JSON in order (Chunk), then call End
// after the last one, or Fail if the upstream failed after the stream had begun.
//
// Each content (or refusal) delta is one token event, {"index":i,"token":{"id":0,"text":
// ...,"logprob":0,"special":false},"generated_text":null,"details":null}, indexes counting
// from 1 as TGI's do; chat streams give no token ids or log probabilities. End sends the
// final event: an empty special token (where TGI's is the end-of-sequence token, which
// clients skip), generated_text (all the text, after the prompt if
// parameters.return_full_text was true) and details (finish reason, generated and input
// token counts, seed) if parameters.details was true, else null. Reasoning deltas and tool
// calls are not returned.
//
// A text delta costs no allocation (its JSON string is copied as it is, and appended to the
// generated text kept for the final event, whose buffer grows by doubling). A Stream is not
// safe for concurrent use.
type Stream struct {
	r      *Request
	c      chat.Chunk
	index  int
	text   []byte // the generated text so far, its JSON string's inner part
	ended  bool
	finish string
	usage  chat.Usage
}

// NewStream returns a Stream for one attempt's chat-completion stream.
func (r *Request) NewStream() *Stream {
	return &Stream{r: r}
}

// Chunk appends to dst the events that one chat.completion.chunk (the JSON data of one
// "data:" event) gives, and returns the extended slice. "[DONE]" gives none. A chunk that is
// not a JSON object is an error; the stream should then be ended with Fail.
func (s *Stream) Chunk(dst, data []byte) ([]byte, error) {
	if ok, err := s.c.Next(api, data, s.ended); !ok {
		return dst, err
	}
	c := &s.c
	c.ReadUsage(&s.usage)
	if !c.HasChoice {
		return dst, nil
	}
	if chat.IsString(c.Content) {
		dst = s.token(dst, c.Content)
	}
	if chat.IsString(c.Refusal) {
		dst = s.token(dst, c.Refusal)
	}
	if chat.IsString(c.Finish) {
		s.finish = chat.String(c.Finish)
	}
	return dst, nil
}

// token appends the event of one text delta, raw a JSON string.
func (s *Stream) token(dst, raw []byte) []byte {
	s.text = append(s.text, chat.Inner(raw)...)
	s.index++
	dst = append(dst, `data: {"index":`...)
	dst = chat.AppendInt(dst, s.index)
	dst = append(dst, `,"token":{"id":0,"text":`...)
	dst = append(dst, raw...)
	return append(dst, `,"logprob":0,"special":false},"generated_text":null,"details":null}`+"\n\n"...)
}

// End appends the final event, with the generated text and details.
func (s *Stream) End(dst []byte) []byte {
	if s.ended {
		return dst
	}
	s.ended = true
	s.index++
	dst = append(dst, `data: {"index":`...)
	dst = chat.AppendInt(dst, s.index)
	dst = append(dst, `,"token":{"id":0,"text":"","logprob":0,"special":true},"generated_text":`...)
	if s.r.fullText {
		dst = jsonx.AppendString(dst, s.r.inputs)
		dst = dst[:len(dst)-1] // continue the prompt's string with the generated text
	} else {
		dst = append(dst, '"')
	}
	dst = append(dst, s.text...)
	dst = append(dst, `","details":`...)
	if s.r.details {
		dst = append(dst, `{"finish_reason":"`...)
		dst = append(dst, finishReason(s.finish)...)
		dst = append(dst, `","generated_tokens":`...)
		dst = chat.AppendInt(dst, s.usage.CompletionTokens)
		dst = append(dst, `,"input_length":`...)
		dst = chat.AppendInt(dst, s.usage.PromptTokens)
		dst = append(dst, `,"seed":`...)
		dst = s.r.appendSeed(dst)
		dst = append(dst, '}')
	} else {
		dst = append(dst, "null"...)
	}
	return append(dst, "}\n\n"...)
}

// Fail appends the error event that ends a stream the upstream broke off, as TGI sends one:
// body is the OpenAI-format error, status its HTTP status (see Error).
func (s *Stream) Fail(dst []byte, status int, body []byte) []byte {
	if s.ended {
		return dst
	}
	s.ended = true
	dst = append(dst, "data: "...)
	dst = appendError(dst, status, body)
	return append(dst, "\n\n"...)
}
