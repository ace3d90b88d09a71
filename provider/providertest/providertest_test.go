package providertest

import (
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseGolden(t *testing.T) {
	g, err := ParseGolden("x.txtar", []byte("comment\n-- a --\none\ntwo\n\n-- upstream-stream --\ndata: x\n\n-- b --\nlast"))
	require.NoError(t, err)
	assert.Equal(t, "one\ntwo\n", string(g.Sections["a"]))
	assert.Equal(t, "data: x\n\n", string(g.Sections["upstream-stream"]), "stream bytes are exact")
	assert.Equal(t, "last", string(g.Sections["b"]))
	_, err = ParseGolden("x.txtar", []byte("-- a --\n-- a --\n"))
	assert.Error(t, err)
}

func TestSplitsGiveSameBytes(t *testing.T) {
	src := []byte("data: {\"a\":1}\n\ndata: {\"b\":2}\n\n")
	for name, r := range Splits(src) {
		b, err := io.ReadAll(r)
		require.NoError(t, err, name)
		assert.Equal(t, src, b, name)
	}
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()           {}
func (r *recorder) Error(args ...any) { r.errs = append(r.errs, fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, a ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, a...))
}

func TestCheckChunks(t *testing.T) {
	role := `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}`
	call := `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\""}}]},"finish_reason":null}]}`
	args := `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]},"finish_reason":null}]}`
	fin := `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`
	usage := `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`
	text := `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}`
	evs := func(s ...string) [][]byte {
		var out [][]byte
		for _, e := range s {
			out = append(out, []byte(e))
		}
		return out
	}

	r := &recorder{TB: t}
	calls := CheckChunks(r, evs(role, call, args, fin, usage), true, true)
	assert.Empty(t, r.errs)
	require.Len(t, calls, 1)
	assert.Equal(t, `{"a":1}`, calls[0].Function.Arguments)

	for name, tc := range map[string]struct {
		evs          [][]byte
		includeUsage bool
	}{
		"usage not asked":      {evs(role, fin, usage), false},
		"usage asked, missing": {evs(role, fin), true},
		"no role first":        {evs(text, fin), false},
		"content after finish": {evs(role, fin, text), false},
		"no finish":            {evs(role, text), false},
		"args before the call": {evs(role, args, fin), false},
		"usage not last":       {evs(role, usage, fin), true},
	} {
		r := &recorder{TB: t}
		CheckChunks(r, tc.evs, tc.includeUsage, true)
		assert.NotEmpty(t, r.errs, name)
	}
}
