package aiproxy

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aiproxy/aiproxy/secret"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRealtimeFrameScrubber: the attempt's credentials are redacted from a realtime
// server's text frames, which are framed again with their new length (across the 7-bit and
// 16-bit length encodings), whatever the reads' boundaries; binary, control, compressed and
// over-long frames pass unchanged, and so does a stream cut off in the middle of a frame.
func TestRealtimeFrameScrubber(t *testing.T) {
	const key = "sk-proj-realtime-secret-0123456789"
	creds := []string{"", "", "Bearer " + key}
	echo := `{"type":"error","error":{"message":"Incorrect API key provided: ` + key + `"}}`
	redacted := strings.ReplaceAll(echo, key, secret.Redacted)
	long := strings.Repeat("x", 100) + key // 134 bytes (a 16-bit length); redacted, 110 (7 bits)
	huge := strings.Repeat("y", maxMeteredMessage) + key

	var in, want bytes.Buffer
	frames := []struct{ sent, got []byte }{
		{wsFrame(true, 1, false, `{"type":"session.created"}`, nil), nil},
		{wsFrame(true, 1, false, echo, nil), wsFrame(true, 1, false, redacted, nil)},
		{wsFrame(true, 1, false, long, nil), wsFrame(true, 1, false, strings.ReplaceAll(long, key, secret.Redacted), nil)},
		{wsFrame(true, 2, false, key, nil), nil},              // binary
		{wsFrame(true, 1, true, key+"-compressed", nil), nil}, // permessage-deflate
		{wsFrame(true, 1, false, huge, nil), nil},             // over maxMeteredMessage
		{wsFrame(false, 1, false, "part one "+key, nil), wsFrame(false, 1, false, "part one [redacted]", nil)},
		{wsFrame(true, 9, false, key[:20], nil), nil}, // a ping between a message's frames
		{wsFrame(true, 0, false, " part two "+key, nil), wsFrame(true, 0, false, " part two [redacted]", nil)},
		{wsFrame(true, 1, false, strings.Repeat("z", 200)+key, nil)[:50], nil}, // cut off
	}
	for _, f := range frames {
		in.Write(f.sent)
		if f.got == nil {
			f.got = f.sent
		}
		want.Write(f.got)
	}
	for name, r := range map[string]io.Reader{
		"whole":    bytes.NewReader(in.Bytes()),
		"one byte": iotest.OneByteReader(bytes.NewReader(in.Bytes())),
		"halves":   iotest.HalfReader(bytes.NewReader(in.Bytes())),
	} {
		t.Run(name, func(t *testing.T) {
			s := &frameScrubber{r: r, creds: creds}
			got, err := io.ReadAll(iotest.HalfReader(s))
			require.NoError(t, err)
			assert.Equal(t, want.Len(), len(got))
			assert.True(t, bytes.Equal(want.Bytes(), got), "the frames as the client should get them")
			assert.Equal(t, 1, bytes.Count(got, []byte(key+"-compressed")), "compressed frames are not read")
		})
	}
}

// FuzzFrameScrubber: whatever the server sends, the scrubber neither fails nor loses bytes:
// a stream that holds no credential comes out as it went in, read in any pieces.
func FuzzFrameScrubber(f *testing.F) {
	f.Add(wsFrame(true, 1, false, `{"type":"session.created"}`, nil))
	f.Add(append(wsFrame(false, 1, false, "part", nil), wsFrame(true, 0, false, " two", nil)...))
	f.Add(wsFrame(true, 2, false, strings.Repeat("a", 300), nil))
	f.Add(wsFrame(true, 1, false, "masked", []byte{1, 2, 3, 4}))
	f.Fuzz(func(t *testing.T, in []byte) {
		const key = "sk-fuzz-credential-never-in-the-input"
		if bytes.Contains(in, []byte(key)) {
			return
		}
		s := &frameScrubber{r: iotest.HalfReader(bytes.NewReader(in)), creds: []string{key}}
		got, err := io.ReadAll(s)
		if err != nil || !bytes.Equal(got, in) {
			t.Fatalf("got %q, %v; want the input unchanged", got, err)
		}
	})
}
