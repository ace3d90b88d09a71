package huggingface

import (
	"strconv"

	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// finishReason maps a chat finish_reason onto TGI's: length stays length, anything else is
// eos_token (chat does not say whether a stop sequence ended the text).
func finishReason(finish string) string {
	if finish == "length" {
		return "length"
	}
	return "eos_token"
}

// appendSeed appends the request's seed, or null.
func (r *Request) appendSeed(dst []byte) []byte {
	if r.seed == nil {
		return append(dst, "null"...)
	}
	return strconv.AppendInt(dst, *r.seed, 10)
}

// Response translates a chat.completion body into TGI's answer: choice 0's content (or
// refusal) as generated_text, after the prompt if parameters.return_full_text was true, and
// details (finish reason, generated tokens, seed; no per-token prefill or tokens, which chat
// does not give) if parameters.details was. Reasoning text and tool calls are not returned.
// With Serverless set, the object is in a one-element array. A body that is not a chat
// completion is a 502 *provider.Error.
func (r *Request) Response(chatBody []byte) ([]byte, error) {
	c, ch, err := chat.DecodeCompletion(api, chatBody)
	if err != nil {
		return nil, err
	}
	text := ""
	switch m := ch.Message; {
	case m.Refusal != nil && *m.Refusal != "":
		text = *m.Refusal
	case m.Content != nil:
		text = *m.Content
	}
	if r.fullText {
		text = r.inputs + text
	}
	dst := make([]byte, 0, 128+len(text))
	if r.Serverless {
		dst = append(dst, '[')
	}
	dst = append(dst, `{"generated_text":`...)
	dst = jsonx.AppendString(dst, text)
	if r.details {
		dst = append(dst, `,"details":{"finish_reason":"`...)
		dst = append(dst, finishReason(ch.FinishReason)...)
		dst = append(dst, `","generated_tokens":`...)
		dst = chat.AppendInt(dst, c.Usage.CompletionTokens)
		dst = append(dst, `,"seed":`...)
		dst = r.appendSeed(dst)
		dst = append(dst, `,"prefill":[],"tokens":[]}`...)
	}
	dst = append(dst, '}')
	if r.Serverless {
		dst = append(dst, ']')
	}
	return dst, nil
}
