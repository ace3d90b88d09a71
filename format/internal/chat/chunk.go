package chat

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// Chunk is what a stream translator reads from one chat.completion.chunk, as raw JSON slices
// of the event's data (valid until the data changes): nothing is decoded, so that a text
// delta costs no allocation. A field absent from the chunk is nil.
type Chunk struct {
	ID      []byte // raw JSON string
	Model   []byte // raw JSON string
	Created []byte // raw JSON number
	// The fields of choice 0 (the choice with index 0, else the first); HasChoice reports
	// whether the chunk had one.
	HasChoice bool
	Content   []byte // delta.content: a raw JSON string or null
	Reasoning []byte // delta.reasoning_content (else delta.reasoning): a raw JSON string or null
	Refusal   []byte // delta.refusal: a raw JSON string or null
	ToolCalls []byte // delta.tool_calls: a raw JSON array
	Finish    []byte // finish_reason: a raw JSON string or null
	Usage     []byte // usage: a raw JSON object or null
}

// Next reads data, the JSON of one "data:" event of a chat stream, into c for the stream
// translator named api. It reports false for data that gives no events: "[DONE]", or any
// chunk once the stream has ended; a chunk that is not a JSON object is also false, with a
// 502 error (BadGateway), after which the stream should be ended with Fail.
func (c *Chunk) Next(api string, data []byte, ended bool) (bool, error) {
	if ended || string(data) == "[DONE]" {
		return false, nil
	}
	if err := c.Parse(data); err != nil {
		return false, BadGateway(api, "invalid chat completion chunk: "+err.Error())
	}
	return true, nil
}

// ReadUsage decodes the chunk's usage into u and reports whether the chunk had one (not
// null). An invalid usage object reads as the zero Usage.
func (c *Chunk) ReadUsage(u *Usage) bool {
	if c.Usage == nil || string(c.Usage) == "null" {
		return false
	}
	*u = DecodeUsage(c.Usage)
	return true
}

// Parse reads data, one chat.completion.chunk, into c.
func (c *Chunk) Parse(data []byte) error {
	*c = Chunk{}
	var choices []byte
	err := jsonx.Object(data, func(m jsonx.Member) bool {
		switch string(m.Key) {
		case "id":
			c.ID = m.Value
		case "model":
			c.Model = m.Value
		case "created":
			c.Created = m.Value
		case "choices":
			choices = m.Value
		case "usage":
			c.Usage = m.Value
		}
		return true
	})
	if err != nil || choices == nil || string(choices) == "null" {
		return err
	}
	var first, zero []byte
	err = jsonx.Array(choices, func(elem []byte) bool {
		if first == nil {
			first = elem
		}
		if string(lookup(elem, "index")) == "0" {
			zero = elem
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	choice := zero
	if choice == nil {
		choice = first
	}
	if choice == nil {
		return nil
	}
	c.HasChoice = true
	var delta []byte
	if err := jsonx.Object(choice, func(m jsonx.Member) bool {
		switch string(m.Key) {
		case "delta":
			delta = m.Value
		case "finish_reason":
			c.Finish = m.Value
		}
		return true
	}); err != nil {
		return err
	}
	if delta == nil || string(delta) == "null" {
		return nil
	}
	return jsonx.Object(delta, func(m jsonx.Member) bool {
		switch string(m.Key) {
		case "content":
			c.Content = m.Value
		case "reasoning_content":
			c.Reasoning = m.Value
		case "reasoning":
			if c.Reasoning == nil {
				c.Reasoning = m.Value
			}
		case "refusal":
			c.Refusal = m.Value
		case "tool_calls":
			c.ToolCalls = m.Value
		}
		return true
	})
}

// lookup returns the raw value of member key of the object b, or nil.
func lookup(b []byte, key string) []byte {
	var v []byte
	_ = jsonx.Object(b, func(m jsonx.Member) bool {
		if string(m.Key) == key {
			v = m.Value
			return false
		}
		return true
	})
	return v
}

// IsString reports whether raw is a non-empty JSON string ("" is not).
func IsString(raw []byte) bool {
	return len(raw) > 2 && raw[0] == '"'
}

// Inner returns the JSON string raw without its quotes: still escaped, so that the inner
// parts of several strings concatenate into the inner part of their concatenation.
func Inner(raw []byte) []byte {
	if len(raw) < 2 || raw[0] != '"' {
		return nil
	}
	return raw[1 : len(raw)-1]
}

// ToolDelta is one element of delta.tool_calls, raw.
type ToolDelta struct {
	Index     int
	ID        []byte // raw JSON string or nil
	Name      []byte // raw JSON string or nil
	Arguments []byte // raw JSON string or nil
}

// ToolDeltas calls fn for each element of the raw delta.tool_calls array. An element
// without an index takes its position in the array.
func ToolDeltas(raw []byte, fn func(d ToolDelta)) error {
	if raw == nil || string(raw) == "null" {
		return nil
	}
	pos := 0
	var ferr error
	err := jsonx.Array(raw, func(elem []byte) bool {
		d := ToolDelta{Index: pos}
		pos++
		ferr = jsonx.Object(elem, func(m jsonx.Member) bool {
			switch string(m.Key) {
			case "index":
				if n, ok := atoi(m.Value); ok {
					d.Index = n
				}
			case "id":
				d.ID = m.Value
			case "function":
				_ = jsonx.Object(m.Value, func(f jsonx.Member) bool {
					switch string(f.Key) {
					case "name":
						d.Name = f.Value
					case "arguments":
						d.Arguments = f.Value
					}
					return true
				})
			}
			return true
		})
		if ferr != nil {
			return false
		}
		fn(d)
		return true
	})
	if err == nil {
		err = ferr
	}
	return err
}

// atoi parses a non-negative integer of at most 6 digits (a tool call index).
func atoi(raw []byte) (int, bool) {
	if len(raw) == 0 || len(raw) > 6 {
		return 0, false
	}
	n := 0
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// String decodes a raw JSON string; anything else gives "".
func String(raw []byte) string {
	s, err := jsonx.String(raw)
	if err != nil {
		return ""
	}
	return s
}

// Int64 decodes a raw JSON integer; anything else gives 0.
func Int64(raw []byte) int64 {
	var n int64
	if json.Unmarshal(raw, &n) != nil {
		return 0
	}
	return n
}

// DecodeUsage decodes a raw usage object; null or an invalid one gives the zero Usage.
func DecodeUsage(raw []byte) Usage {
	var u Usage
	if raw == nil || json.Unmarshal(raw, &u) != nil {
		return Usage{}
	}
	return u
}

// Compact returns s, a tool call's arguments, as a JSON object in compact form, for the APIs
// that take a call's input as an object: "" is {}; ok is false when s is not a JSON object.
func Compact(s string) (obj json.RawMessage, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return json.RawMessage("{}"), true
	}
	if s[0] != '{' {
		return nil, false
	}
	var b bytes.Buffer
	if json.Compact(&b, []byte(s)) != nil {
		return nil, false
	}
	return b.Bytes(), true
}
