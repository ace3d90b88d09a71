package jsonx

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestObject(t *testing.T) {
	in := []byte(` {"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi \"x\" \u00e9"}],"n":-1.5e3} `)
	var keys, vals []string
	require.NoError(t, Object(in, func(m Member) bool {
		keys = append(keys, string(m.Key))
		vals = append(vals, string(m.Value))
		return true
	}))
	assert.Equal(t, []string{"model", "stream", "messages", "n"}, keys)
	assert.Equal(t, `"gpt-4o"`, vals[0])
	assert.Equal(t, `true`, vals[1])
	assert.Equal(t, `-1.5e3`, vals[3])

	for _, bad := range []string{``, `[]`, `{`, `{"a"}`, `{"a":1,}`, `{"a":01}`, `{"a":"\x"}`, `{"a":tru}`, `{} {}`, "{\"a\":\"\x01\"}", `{"a":[1,]}`, `{"a":1.}`} {
		assert.Error(t, Object([]byte(bad), func(Member) bool { return true }), bad)
	}
}

func TestArray(t *testing.T) {
	var got []string
	require.NoError(t, Array([]byte(`[ {"a":1} , "x", [2] ]`), func(e []byte) bool { got = append(got, string(e)); return true }))
	assert.Equal(t, []string{`{"a":1}`, `"x"`, `[2]`}, got)
	assert.Error(t, Array([]byte(`{}`), func([]byte) bool { return true }))
}

func TestString(t *testing.T) {
	s, err := String([]byte(`"a\nb\u00e9"`))
	require.NoError(t, err)
	assert.Equal(t, "a\nbé", s)
	_, err = String([]byte(`12`))
	assert.ErrorIs(t, err, ErrNotString)
}

func TestApply(t *testing.T) {
	edits := []Edit{
		{Key: "model", Value: []byte(`"gpt-4o"`)},
		{Key: "max_tokens", Value: []byte(`826`), OnlyIfAbsent: true},
		{Key: "temperature", Value: []byte(`0`), OnlyIfAbsent: true},
	}
	tests := map[string]string{
		`{"model":"fast","temperature":1,"messages":[]}`: `{"max_tokens":826,"model":"gpt-4o","temperature":1,"messages":[]}`,
		`{"messages":[]}`:  `{"model":"gpt-4o","max_tokens":826,"temperature":0,"messages":[]}`,
		`{}`:               `{"model":"gpt-4o","max_tokens":826,"temperature":0}`,
		` { "model" : 1 }`: ` {"max_tokens":826,"temperature":0, "model" : "gpt-4o" }`,
	}
	for in, want := range tests {
		assert.Equal(t, want, string(Apply(nil, []byte(in), edits)), in)
	}
}

func TestWithout(t *testing.T) {
	for in, want := range map[string]string{
		`{"model":"m","messages":[{"model":"inner"}],"stream":true}`: `{"messages":[{"model":"inner"}],"stream":true}`,
		`{ "a" : 1 , "model" : "m" }`:                                `{"a":1}`,
		`{"model":"m"}`:                                              `{}`,
		`{}`:                                                         `{}`,
		`{"a\"b":"x","model":1,"c":{}}`:                              `{"a\"b":"x","c":{}}`,
	} {
		got := Without(nil, []byte(in), "model")
		assert.Equal(t, want, string(got), in)
		assert.NoError(t, Object(got, func(Member) bool { return true }), "valid JSON")
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"plain", "quote\" back\\ nl\n tab\t ctl\x01 é 世", "bad\xffutf8"} {
		var got string
		require.NoError(t, json.Unmarshal(AppendString(nil, s), &got))
		want := string(bytes.ToValidUTF8([]byte(s), []byte("\uFFFD")))
		assert.Equal(t, want, got)
	}
}

func FuzzObject(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":[1,{"b":"c\u0041"}],"d":null}`, `{}`, `{"a":-0.5e+3}`, `[1]`, `{"a":"\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := Object(b, func(Member) bool { return true })
		isObj := json.Valid(b) && bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("{"))
		if (err == nil) != isObj {
			t.Fatalf("Object(%q) = %v, but json.Valid says object=%v", b, err, isObj)
		}
		if err != nil {
			return
		}
		out := Apply(nil, b, []Edit{{Key: "model", Value: []byte(`"m"`)}, {Key: "max_tokens", Value: []byte(`7`), OnlyIfAbsent: true}})
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("Apply produced invalid JSON %q from %q: %v", out, b, err)
		}
		if m["model"] != "m" || m["max_tokens"] == nil {
			t.Fatalf("Apply lost an edit: %q", out)
		}
	})
}

// BenchmarkObject1KB walks a 1 KB chat request, as the proxy does for each request.
func BenchmarkObject1KB(b *testing.B) {
	body := []byte(`{"model":"gpt-4o","temperature":0.2,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"` +
		strings.Repeat(`Explain the difference between a mutex and a channel.\n`, 18) + `"}]}`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := Object(body, func(Member) bool { return true }); err != nil {
			b.Fatal(err)
		}
	}
}

func TestIndexControl(t *testing.T) {
	for n := 0; n <= 20; n++ {
		for at := 0; at < n; at++ {
			for _, c := range []byte{0x00, 0x0a, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xff} {
				s := bytes.Repeat([]byte("a"), n)
				s[at] = c
				want := -1
				if c < 0x20 {
					want = at
				}
				assert.Equal(t, want, indexControl(s), "%q", s)
			}
		}
	}
}
