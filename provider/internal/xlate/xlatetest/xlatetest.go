// Package xlatetest has the golden-file helpers of the native translators' tests.
package xlatetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/providertest"
)

// Read returns testdata/name.
func Read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// splitReader returns at most n bytes per Read.
type splitReader struct {
	b []byte
	n int
}

func (r *splitReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := min(r.n, len(p), len(r.b))
	copy(p, r.b[:n])
	r.b = r.b[n:]
	return n, nil
}

// Split returns a reader of b that yields at most n bytes per Read.
func Split(b []byte, n int) io.Reader { return &splitReader{b: b, n: n} }

// Splits are the read sizes every stream is replayed with.
var Splits = []int{1, 2, 3, 7, 13, 61, 4096, 1 << 30}

// Drain reads s to its end. It returns the chunks (copied) and the error that ended the
// stream, nil for io.EOF.
func Drain(s provider.Stream) ([][]byte, error) {
	var out [][]byte
	for range 100000 {
		b, err := s.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, append([]byte(nil), b...))
	}
	return out, errors.New("stream did not end")
}

// Replay runs newStream over raw in every split size and checks that the chunks, usage and
// final error are identical; it returns those of the unsplit run.
func Replay(t *testing.T, raw []byte, newStream func(io.Reader) provider.Stream) ([][]byte, provider.Usage, error) {
	t.Helper()
	s := newStream(bytes.NewReader(raw))
	want, wantErr := Drain(s)
	wantUsage := s.Usage()
	for _, n := range Splits {
		s := newStream(Split(raw, n))
		got, err := Drain(s)
		require.Equal(t, want, got, "split %d", n)
		require.Equal(t, wantErr, err, "split %d", n)
		require.Equal(t, wantUsage, s.Usage(), "split %d", n)
	}
	return want, wantUsage, wantErr
}

// JSONLinesEqual compares chunks with a file of one JSON document per line, semantically.
func JSONLinesEqual(t *testing.T, want []byte, got [][]byte) {
	t.Helper()
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(want))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			lines = append(lines, append([]byte(nil), l...))
		}
	}
	require.Len(t, got, len(lines), "chunks:\n%s", bytes.Join(got, []byte("\n")))
	for i := range lines {
		assert.JSONEq(t, string(lines[i]), string(got[i]), "chunk %d", i)
	}
}

// MaskID replaces the "id" of a JSON object with "IGNORED", for upstreams whose responses
// carry no id (the translator derives one).
func MaskID(t testing.TB, b []byte) []byte {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	id, _ := m["id"].(string)
	require.NotEmpty(t, id)
	m["id"] = "IGNORED"
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}

// MaskIDs is MaskID over chunks, checking that they all share one id.
func MaskIDs(t testing.TB, chunks [][]byte) [][]byte {
	t.Helper()
	out := make([][]byte, len(chunks))
	var first string
	for i, c := range chunks {
		var m struct {
			ID string `json:"id"`
		}
		require.NoError(t, json.Unmarshal(c, &m))
		if i == 0 {
			first = m.ID
		}
		require.Equal(t, first, m.ID, "chunk %d", i)
		out[i] = MaskID(t, c)
	}
	return out
}

// Filler returns n bytes of prose-like text, for sizing benchmark bodies.
func Filler(n int) string {
	const s = "The quick brown fox jumps over the lazy dog. "
	return strings.Repeat(s, n/len(s)+1)[:n]
}

// Section returns one section of the conformance golden testdata/file (see
// providertest.Golden), for the tests that reuse a golden's bytes.
func Section(t testing.TB, file, section string) []byte {
	t.Helper()
	g, err := providertest.ParseGolden(file, Read(t, file))
	require.NoError(t, err)
	b, ok := g.Sections[section]
	require.True(t, ok, "%s has no %s section", file, section)
	return b
}
