package aiproxy

import (
	"bytes"
	"io"
	"mime/multipart"
	"testing"

	"github.com/aiproxy/aiproxy/provider"
)

// FuzzMultipartField checks multipartField against mime/multipart: where it finds the model
// field, the standard reader reads the same value there, and replacing the value (as each
// attempt does) leaves a body the standard reader parses with the new value and every other
// part unchanged.
func FuzzMultipartField(f *testing.F) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.SetBoundary("XyZ")
	fw, _ := mw.CreateFormFile("file", "a.wav")
	_, _ = fw.Write([]byte("RIFF\r\n--XyZ-not\x00\xff"))
	_ = mw.WriteField("model", "whisper-1")
	_ = mw.WriteField("language", "en")
	_ = mw.Close()
	f.Add(buf.Bytes(), "XyZ")
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nm\r\n--b--\r\n"), "b")
	f.Add([]byte("preamble\r\n--b\r\n\r\nno headers\r\n--b--"), "b")
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		if boundary == "" || len(boundary) > 70 {
			return
		}
		start, end, err := multipartField(body, boundary, "model")
		if err != nil || start < 0 {
			return
		}
		std := func(b []byte) map[string]string {
			r := multipart.NewReader(bytes.NewReader(b), boundary)
			out := map[string]string{}
			for i := 0; ; i++ {
				p, err := r.NextRawPart()
				if err != nil {
					if err != io.EOF {
						return nil
					}
					return out
				}
				v, err := io.ReadAll(p)
				if err != nil {
					return nil
				}
				if _, ok := out[p.FormName()]; !ok {
					out[p.FormName()] = string(v)
				}
				out["#"+string(rune('a'+i%26))] = string(v)
			}
		}
		before := std(body)
		if before == nil {
			return // the standard reader is stricter (header syntax): nothing to compare
		}
		if got := string(body[start:end]); before["model"] != got {
			t.Fatalf("model %q, the standard reader reads %q", got, before["model"])
		}
		c := &call{body: body, model: string(body[start:end]), media: &mediaCall{kind: mediaMultipart, boundary: boundary, model: [2]int{start, end}}}
		out := c.mediaBodyFor(&target{cfg: Target{Model: provider.Model{Name: "gpt-4o-transcribe"}}})
		after := std(out)
		if after == nil {
			t.Fatalf("the rewritten body does not parse")
		}
		if after["model"] != "gpt-4o-transcribe" {
			t.Fatalf("the rewritten model is %q", after["model"])
		}
		for k, v := range before {
			if k != "model" && k[0] != '#' && after[k] != v {
				t.Fatalf("part %q changed: %q to %q", k, v, after[k])
			}
		}
	})
}
