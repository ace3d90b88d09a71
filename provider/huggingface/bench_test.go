package huggingface

import (
	"io"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate/xlatetest"
)

func BenchmarkEmbeddings(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[[")
	for i := range 384 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("0.0123456")
	}
	sb.WriteString("]]")
	body := []byte(sb.String())
	r := &provider.Request{RouteType: provider.Embeddings, Model: provider.Model{Name: "sentence-transformers/all-MiniLM-L6-v2"}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Provider{}).ParseResponse(r, nil, body); err != nil {
			b.Fatal(err)
		}
	}
}

// Chat streams are OpenAI's format, passed through by provider/openai.
func BenchmarkStream200(b *testing.B) {
	var sb strings.Builder
	for range 200 {
		sb.WriteString("data: {\"id\":\"1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" token\"},\"finish_reason\":null}]}\n\n")
	}
	sb.WriteString("data: [DONE]\n\n")
	r := &provider.Request{RouteType: provider.Chat, Stream: true}
	xlatetest.BenchStream(b, []byte(sb.String()), func(rd io.Reader) provider.Stream { return Provider{}.NewStream(r, nil, rd) })
}
