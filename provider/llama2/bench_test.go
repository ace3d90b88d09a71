package llama2

import (
	"encoding/json"
	"io"
	"testing"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate/xlatetest"
)

// The raw format is not streamed upstream: the 4 KB benchmark covers both paths.
func BenchmarkParseResponse4KB(b *testing.B) {
	text, _ := json.Marshal("[INST] q [/INST] " + xlatetest.Filler(3900))
	body := []byte(`{"generated_text":` + string(text) + `,"details":{"finish_reason":"eos_token","generated_tokens":900}}`)
	r := req("raw", []byte(`{}`), false)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Provider{}).ParseResponse(r, date, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawStream4KB(b *testing.B) {
	text, _ := json.Marshal("[INST] q [/INST] " + xlatetest.Filler(3900))
	body := []byte(`{"generated_text":` + string(text) + `}`)
	r := req("raw", []byte(`{"stream":true}`), true)
	xlatetest.BenchStream(b, body, func(rd io.Reader) provider.Stream { return Provider{}.NewStream(r, date, rd) })
}
