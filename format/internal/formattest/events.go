package formattest

import (
	"bytes"
	"encoding/json"
	"testing"
)

// NamedEvents checks the framing of a stream of named server-sent events (Anthropic's,
// Cohere's), and returns the stream: every event has an event: line naming its data's type
// and one line of JSON data.
func NamedEvents(t *testing.T, stream []byte) []byte {
	t.Helper()
	for i, ev := range bytes.Split(bytes.TrimSuffix(stream, []byte("\n\n")), []byte("\n\n")) {
		lines := bytes.Split(ev, []byte("\n"))
		if len(lines) != 2 {
			t.Fatalf("event %d has %d lines: %q", i, len(lines), ev)
		}
		name, ok1 := bytes.CutPrefix(lines[0], []byte("event: "))
		data, ok2 := bytes.CutPrefix(lines[1], []byte("data: "))
		if !ok1 || !ok2 {
			t.Fatalf("event %d is not framed as event: + data: %q", i, ev)
		}
		var d struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(data, &d); err != nil || d.Type != string(name) {
			t.Fatalf("event %d (event: %s): type %q, %v: %s", i, name, d.Type, err, data)
		}
	}
	return stream
}
