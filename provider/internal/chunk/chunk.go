// Package chunk writes OpenAI chat.completion.chunk events without reflection, for the
// stream translators of the native (non-OpenAI) providers: a Writer appends them, a Queue
// holds those one upstream event gives until Stream.Next returns them, and a Loop is that
// Next, around a translator of one upstream event at a time.
package chunk

import (
	"io"
	"strconv"

	"github.com/aiproxy/aiproxy/internal/jsonx"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
)

// Writer appends chunks that share one id, created time and model.
type Writer struct {
	prefix []byte // {"id":..,"object":..,"created":..,"model":..,"choices":[
}

// NewWriter returns a Writer for one stream.
func NewWriter(id, model string, created int64) *Writer {
	p := []byte(`{"id":`)
	p = jsonx.AppendString(p, id)
	p = append(p, `,"object":"chat.completion.chunk","created":`...)
	p = strconv.AppendInt(p, created, 10)
	p = append(p, `,"model":`...)
	p = jsonx.AppendString(p, model)
	p = append(p, `,"choices":[`...)
	return &Writer{prefix: p}
}

func (w *Writer) open(dst []byte) []byte {
	dst = append(dst, w.prefix...)
	return append(dst, `{"index":0,"delta":{`...)
}

func closeDelta(dst []byte) []byte {
	return append(dst, `},"finish_reason":null}]}`...)
}

// Role appends the first chunk: the assistant role with empty content.
func (w *Writer) Role(dst []byte) []byte {
	dst = w.open(dst)
	dst = append(dst, `"role":"assistant","content":""`...)
	return closeDelta(dst)
}

// TextRaw appends a content delta whose text is raw, an already-encoded JSON string.
func (w *Writer) TextRaw(dst, raw []byte) []byte {
	dst = w.open(dst)
	dst = append(dst, `"content":`...)
	dst = append(dst, raw...)
	return closeDelta(dst)
}

// Text appends a content delta.
func (w *Writer) Text(dst []byte, text string) []byte {
	dst = w.open(dst)
	dst = append(dst, `"content":`...)
	dst = jsonx.AppendString(dst, text)
	return closeDelta(dst)
}

// ToolStart appends the first delta of tool call index: its id, type, name, arguments (raw
// JSON string; nil means "") and extra_content (a raw JSON object; nil for none).
func (w *Writer) ToolStart(dst []byte, index int, id, name string, argsRaw, extra []byte) []byte {
	dst = w.open(dst)
	dst = append(dst, `"tool_calls":[{"index":`...)
	dst = strconv.AppendInt(dst, int64(index), 10)
	dst = append(dst, `,"id":`...)
	dst = jsonx.AppendString(dst, id)
	dst = append(dst, `,"type":"function","function":{"name":`...)
	dst = jsonx.AppendString(dst, name)
	dst = append(dst, `,"arguments":`...)
	if argsRaw == nil {
		argsRaw = []byte(`""`)
	}
	dst = append(dst, argsRaw...)
	dst = append(dst, '}')
	if extra != nil {
		dst = append(dst, `,"extra_content":`...)
		dst = append(dst, extra...)
	}
	dst = append(dst, `}]`...)
	return closeDelta(dst)
}

// ToolArgsRaw appends an arguments fragment (raw JSON string) of tool call index.
func (w *Writer) ToolArgsRaw(dst []byte, index int, raw []byte) []byte {
	dst = w.open(dst)
	dst = append(dst, `"tool_calls":[{"index":`...)
	dst = strconv.AppendInt(dst, int64(index), 10)
	dst = append(dst, `,"function":{"arguments":`...)
	dst = append(dst, raw...)
	dst = append(dst, `}}]`...)
	return closeDelta(dst)
}

// Finish appends the chunk with choice 0's finish_reason.
func (w *Writer) Finish(dst []byte, reason string) []byte {
	dst = append(dst, w.prefix...)
	dst = append(dst, `{"index":0,"delta":{},"finish_reason":`...)
	dst = jsonx.AppendString(dst, reason)
	return append(dst, `}]}`...)
}

// Usage appends the final usage chunk of include_usage, which has no choices.
func (w *Writer) Usage(dst []byte, u provider.Usage) []byte {
	dst = append(dst, w.prefix...)
	dst = append(dst, `],"usage":{"prompt_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.PromptTokens), 10)
	dst = append(dst, `,"completion_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.CompletionTokens), 10)
	dst = append(dst, `,"total_tokens":`...)
	dst = strconv.AppendInt(dst, int64(u.TotalTokens), 10)
	if u.CachedTokens > 0 {
		dst = append(dst, `,"prompt_tokens_details":{"cached_tokens":`...)
		dst = strconv.AppendInt(dst, int64(u.CachedTokens), 10)
		dst = append(dst, '}')
	}
	return append(dst, "}}"...)
}

// IncludeUsage reports whether an OpenAI request body asks stream_options.include_usage.
func IncludeUsage(body []byte) bool {
	include := false
	_ = jsonx.Object(body, func(m jsonx.Member) bool {
		if string(m.Key) != "stream_options" {
			return true
		}
		_ = jsonx.Object(m.Value, func(o jsonx.Member) bool {
			if string(o.Key) == "include_usage" {
				include = string(o.Value) == "true"
			}
			return true
		})
		return false
	})
	return include
}

// Queue holds the chunks one upstream event produced, in a buffer reused across events.
type Queue struct {
	buf  []byte
	ends []int
	next int
}

// Reset empties the queue; earlier chunks become invalid.
func (q *Queue) Reset() { q.buf, q.ends, q.next = q.buf[:0], q.ends[:0], 0 }

// Buf returns the buffer to append one chunk to; pass the result to Push.
func (q *Queue) Buf() []byte { return q.buf }

// Push records buf (Buf() with one chunk appended).
func (q *Queue) Push(buf []byte) { q.buf = buf; q.ends = append(q.ends, len(buf)) }

// Pop returns the next chunk, or nil when the queue is empty.
func (q *Queue) Pop() []byte {
	if q.next >= len(q.ends) {
		return nil
	}
	start := 0
	if q.next > 0 {
		start = q.ends[q.next-1]
	}
	end := q.ends[q.next]
	q.next++
	return q.buf[start:end:end]
}

// Translator reads a stream's upstream events and translates each into the chunks it gives,
// for a Loop.
type Translator interface {
	// Step reads the next upstream event and pushes its chunks (maybe none) on the Loop. It
	// returns io.EOF when the upstream ended before the stream's terminal event: a
	// translator calls Loop.Done at that event, or at the upstream's end after it if
	// events may follow it. Any other error ends the stream with that error.
	Step() error
}

// Loop is the Next method of a stream translator: it returns the chunks the last upstream
// event gave, one a call, then has the Translator read and translate the next event,
// until the stream is done. The translator pushes its chunks on the embedded Queue.
type Loop struct {
	Queue
	done bool
}

// Done ends the stream after the chunks queued so far: Next returns them, then io.EOF,
// and reads nothing more.
func (l *Loop) Done() { l.done = true }

// Next returns the next chunk, stepping t until an event gives one. When t's upstream
// ends before the terminal event it returns a 502 error with the message cut; once it has
// returned an error, it returns what is queued, then io.EOF.
func (l *Loop) Next(t Translator, cut string) ([]byte, error) {
	for {
		if c := l.Pop(); c != nil {
			return c, nil
		}
		if l.done {
			return nil, io.EOF
		}
		l.Reset()
		err := t.Step()
		if err == nil {
			continue
		}
		l.done = true
		if err == io.EOF {
			return nil, xlate.BadGateway(cut)
		}
		return nil, err
	}
}
