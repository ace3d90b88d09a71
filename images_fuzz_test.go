package aiproxy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"strings"
	"testing"
)

// FuzzImageEditJSON checks the JSON form of an image edit upload: any body is refused or
// becomes a JSON object whose images and mask are base64 data: URLs of the files' bytes, and
// whose other fields are strings.
func FuzzImageEditJSON(f *testing.F) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.SetBoundary("XyZ")
	fw, _ := mw.CreateFormFile("image[]", "a.png")
	_, _ = fw.Write([]byte("\x89PNG\r\n\x1a\n--XyZ-not\x00\xff"))
	fw, _ = mw.CreateFormFile("mask", "m.png")
	_, _ = fw.Write([]byte("GIF89a"))
	_ = mw.WriteField("prompt", "add a hat")
	_ = mw.WriteField("n", "2")
	_ = mw.Close()
	f.Add(buf.Bytes(), "XyZ")
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nraw\r\n--b--\r\n"), "b")
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"x\"; filename=\"f\"\r\n\r\nraw\r\n--b--\r\n"), "b")
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"images\"\r\n\r\nraw\r\n--b--\r\n"), "b")
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		if boundary == "" || len(boundary) > 70 {
			return
		}
		out, err := imageEditJSON(body, boundary)
		if err != nil {
			return
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("not a JSON object: %v: %s", err, out)
		}
		check := func(raw json.RawMessage) {
			var img struct {
				ImageURL string `json:"image_url"`
			}
			if err := json.Unmarshal(raw, &img); err != nil || !strings.HasPrefix(img.ImageURL, "data:") {
				t.Fatalf("not an image: %s", raw)
			}
			if _, err := base64.StdEncoding.DecodeString(img.ImageURL[strings.Index(img.ImageURL, ",")+1:]); err != nil {
				t.Fatalf("not base64: %s", raw)
			}
		}
		for k, v := range doc {
			switch k {
			case "images":
				var imgs []json.RawMessage
				if err := json.Unmarshal(v, &imgs); err != nil {
					t.Fatalf("images: %v", err)
				}
				for _, img := range imgs {
					check(img)
				}
			case "mask":
				check(v)
			default:
				var s string
				if err := json.Unmarshal(v, &s); err != nil {
					t.Fatalf("field %s is not a string: %s", k, v)
				}
			}
		}
	})
}
