package aiproxy_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/provider"
)

// recordingUpstream is memoryUpstream that keeps the body of the last request forwarded.
type recordingUpstream struct {
	mu        sync.Mutex
	forwarded []byte // nil: nothing forwarded since take
}

func (u *recordingUpstream) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body) // not nil, even when empty
	u.mu.Lock()
	u.forwarded = b
	u.mu.Unlock()
	return memoryUpstream{}.RoundTrip(r) // reads the rest (nothing) and closes the body
}

// take returns what was forwarded since the last take (nil: nothing).
func (u *recordingUpstream) take() []byte {
	u.mu.Lock()
	defer u.mu.Unlock()
	b := u.forwarded
	u.forwarded = nil
	return b
}

// invalidHeaderValue reports whether v cannot be sent as an HTTP header value: it holds a
// control character other than a tab (CR and LF among them).
func invalidHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// FuzzRequestBody: whatever a client sends through the RoundTripper (a body, and a value for
// one of its headers), the proxy answers without panicking, with either the upstream's
// answer or an OpenAI-format error; a client error (4xx, e.g. a header with CR or LF, a body
// that is not UTF-8, "stream" that is not a boolean) is answered before anything is
// forwarded, and what is forwarded is a UTF-8 JSON object whose stream, if any, is a
// boolean or null. (The in-memory upstream answers JSON even to a streaming request, which
// the proxy reports as a 502.)
func FuzzRequestBody(f *testing.F) {
	for _, s := range []struct{ body, header string }{
		{`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, "trace-1"},
		{`{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stream":true}`, ""},
		{`{"messages":"nope"}`, ""}, {`{"messages":[]}`, ""}, {`[]`, ""}, {`{`, ""}, {``, ""}, {`{"model":7}`, ""},
		{`{"messages":[{"role":"user","content":"\ud800"}],"max_tokens":-1}`, ""},
		{`{"stream":"yes","messages":[{"role":"user","content":"hi"}]}`, ""},
		{"{\"messages\":[{\"role\":\"user\",\"content\":\"bad \xff\"}]}", ""},
		{`{"messages":[{"role":"user","content":"hi"}]}`, "abc\r\nX-Injected: 1"},
	} {
		f.Add(s.body, s.header)
	}
	up := &recordingUpstream{}
	p, err := aiproxy.New(aiproxy.Config{Transport: up, Targets: []aiproxy.Target{{
		Model: provider.Model{Provider: "openai", Name: "gpt-4o", Options: provider.Options{UpstreamURL: "http://upstream/v1/chat/completions"}},
	}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { p.Close() })
	f.Fuzz(func(t *testing.T, body, header string) {
		req, err := http.NewRequest(http.MethodPost, "http://proxy/v1/chat/completions", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header["X-Client-Trace"] = []string{header}
		resp, err := p.RoundTrip(req)
		if err != nil {
			t.Fatalf("RoundTrip(%q, header %q): %v", body, header, err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		forwarded := up.take()
		switch {
		case invalidHeaderValue(header) && resp.StatusCode != http.StatusBadRequest:
			t.Fatalf("header %q: status %d, want 400", header, resp.StatusCode)
		case !utf8.ValidString(body) && resp.StatusCode != http.StatusBadRequest:
			t.Fatalf("body %q is not UTF-8: status %d, want 400", body, resp.StatusCode)
		case resp.StatusCode >= 400 && resp.StatusCode < 500 && forwarded != nil:
			t.Fatalf("status %d for %q, but %q was forwarded", resp.StatusCode, body, forwarded)
		}
		if forwarded != nil {
			var v map[string]any
			d := json.NewDecoder(bytes.NewReader(forwarded))
			d.UseNumber() // 1e309 is JSON, though not a float64
			if !utf8.Valid(forwarded) || d.Decode(&v) != nil {
				t.Fatalf("forwarded %q for %q: not a UTF-8 JSON object", forwarded, body)
			}
			switch s := v["stream"].(type) {
			case nil, bool: // absent or null (OpenAI's default), or a boolean
			default:
				t.Fatalf("forwarded stream %v for %q", s, body)
			}
		}
		if resp.StatusCode == http.StatusOK {
			return
		}
		var e struct {
			Error struct{ Message, Type string } `json:"error"`
		}
		if err := json.Unmarshal(out, &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
			t.Fatalf("status %d for %q without an OpenAI-format error: %s", resp.StatusCode, body, out)
		}
	})
}
