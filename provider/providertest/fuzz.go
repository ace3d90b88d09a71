package providertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/provider"
)

// Bounds the fuzz helpers hold translators to: a stream of n input bytes may give at most
// n+MaxEventsSlack events and MaxOutputFactor*n+MaxOutputSlack output bytes, so no input
// makes a translator produce (or buffer) without limit.
const (
	MaxEventsSlack  = 64
	MaxOutputFactor = 64
	MaxOutputSlack  = 16 << 10
)

func (c Case) goldens(f *testing.F) []*Golden {
	dir := c.Dir
	if dir == "" {
		dir = "testdata"
	}
	gs, err := LoadGoldens(dir)
	if err != nil {
		f.Fatal(err)
	}
	return gs
}

// FuzzStream fuzzes NewStream with arbitrary upstream bytes, seeded with every golden's
// upstream-stream. Each run must not panic, must give JSON events, must stay within the
// bounds above, and must end (io.EOF or an error).
func FuzzStream(f *testing.F, c Case) {
	for _, g := range c.goldens(f) {
		if b, ok := g.Sections["upstream-stream"]; ok {
			raw, err := c.streamBytes(b)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(raw)
		}
	}
	r := &provider.Request{RouteType: provider.Chat, Model: c.Model, Stream: true,
		Body: []byte(`{"model":"m","messages":[{"role":"user","content":"Hi"}],"stream":true,"stream_options":{"include_usage":true}}`)}
	f.Fuzz(func(t *testing.T, body []byte) {
		s := c.Provider.NewStream(r, nil, bytes.NewReader(body))
		total := 0
		for n := 0; ; n++ {
			if n > len(body)+MaxEventsSlack {
				t.Fatalf("%d events from %d bytes", n, len(body))
			}
			ev, err := s.Next()
			if err != nil {
				var pe *provider.Error
				if errors.As(err, &pe) && pe.Status < 400 {
					t.Fatalf("stream error with status %d", pe.Status)
				}
				_ = s.Usage()
				return
			}
			if !json.Valid(ev) {
				t.Fatalf("event is not JSON: %q", ev)
			}
			total += len(ev)
			if total > MaxOutputFactor*len(body)+MaxOutputSlack {
				t.Fatalf("%d output bytes from %d input bytes", total, len(body))
			}
		}
	})
}

// FuzzResponse fuzzes ParseResponse (on the goldens' routes) and ParseError with arbitrary
// bodies, seeded with the goldens' upstream-response and upstream-error sections.
func FuzzResponse(f *testing.F, c Case) {
	for _, g := range c.goldens(f) {
		emb := strings.TrimSpace(string(g.Sections["route"])) == string(provider.Embeddings)
		if b, ok := g.Sections["upstream-response"]; ok {
			f.Add(b, emb)
		}
		if b, ok := g.Sections["upstream-error"]; ok {
			f.Add(b, emb)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, embeddings bool) {
		rt, reqBody := provider.Chat, []byte(`{"model":"m","messages":[{"role":"user","content":"Hi"}]}`)
		if embeddings {
			rt, reqBody = provider.Embeddings, []byte(`{"model":"m","input":["a","b"]}`)
		}
		r := &provider.Request{RouteType: rt, Model: c.Model, Body: reqBody}
		resp, err := c.Provider.ParseResponse(r, nil, body)
		if err == nil {
			if !json.Valid(resp.Body) {
				t.Fatalf("response is not JSON: %q", resp.Body)
			}
			if len(resp.Body) > MaxOutputFactor*len(body)+MaxOutputSlack {
				t.Fatalf("%d output bytes from %d input bytes", len(resp.Body), len(body))
			}
		}
		for _, status := range []int{400, 429, 500, 503, 529} {
			e := c.Provider.ParseError(r, status, nil, body)
			if e == nil || e.Status < 400 || e.Message == "" {
				t.Fatalf("ParseError(%d) = %+v", status, e)
			}
			if _, err := json.Marshal(e); err != nil {
				t.Fatal(err)
			}
		}
	})
}
