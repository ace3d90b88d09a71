package aiproxy

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/sse"
)

// TestRelay: a passthrough stream keeps each event's name and data and meters the usage of
// the Responses API's final event and of Anthropic's message_start and message_delta.
func TestRelay(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     provider.Usage
	}{
		{"responses", "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"usage\":null}}\n\n" +
			": comment\nevent: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":30,\"input_tokens_details\":{\"cached_tokens\":20},\"output_tokens\":3,\"total_tokens\":33}}}\n\n",
			provider.Usage{PromptTokens: 30, CompletionTokens: 3, TotalTokens: 33, CachedTokens: 20}},
		{"anthropic", "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":12,\"cache_creation_input_tokens\":1,\"cache_read_input_tokens\":3,\"output_tokens\":1}}}\n\n" +
			"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":7}}\n\n",
			provider.Usage{PromptTokens: 16, CompletionTokens: 7, TotalTokens: 23, CachedTokens: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &relay{r: sse.NewReader(strings.NewReader(tc.in))}
			var out []byte
			for {
				ev, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, ev...)
			}
			if want := strings.ReplaceAll(tc.in, ": comment\n", ""); string(out) != want {
				t.Errorf("relayed\n%s\nwant\n%s", out, want)
			}
			if r.Usage() != tc.want {
				t.Errorf("usage %+v, want %+v", r.Usage(), tc.want)
			}
		})
	}
}

// FuzzRelay: any upstream bytes relay without a panic, as whole events, and meter usage
// that is never negative.
func FuzzRelay(f *testing.F) {
	f.Add("event: message_delta\ndata: {\"usage\":{\"output_tokens\":7}}\n\n")
	f.Add("data: {\"response\":{\"usage\":{\"input_tokens\":-1,\"total_tokens\":99999999999999999999}}}\n\ndata: x\ndata: y\n\n")
	f.Add("event: x\r\ndata: {\"message\":{\"usage\":[]}}\r\n\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		r := &relay{r: sse.NewReader(strings.NewReader(in))}
		for range 1000 {
			ev, err := r.Next()
			if err != nil {
				break
			}
			if !bytes.HasSuffix(ev, []byte("\n\n")) {
				t.Fatalf("event %q is not framed", ev)
			}
		}
		u := r.Usage()
		if u.PromptTokens < 0 || u.CompletionTokens < 0 || u.TotalTokens < 0 || u.CachedTokens < 0 {
			t.Fatalf("negative usage %+v", u)
		}
	})
}
