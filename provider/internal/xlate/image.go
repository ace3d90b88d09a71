package xlate

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/aiproxy/aiproxy/provider"
)

// ImageRequest is an OpenAI Images API request (provider.ImageGenerations, or the JSON form
// of provider.ImageEdits) as the native translators take it, checked for what no native
// image API can express.
type ImageRequest struct {
	// Model is the target's model name, else the request's.
	Model  string
	Prompt string
	// N is the number of images asked for; 0 when n is not given.
	N int
	// Width and Height are size's ("1024x1536"); 0 when size is absent or "auto".
	Width, Height int
	// Quality is quality as given ("standard", "hd", "low", "medium", "high", "auto"), or "".
	Quality string
	// Images and Mask are an edit's input images (base64, with their media type).
	Images []Image
	Mask   *Image
	// Extra holds the members not read above, for a translator's own extensions
	// (Gemini's generationConfig, Bedrock's negative_text…).
	Extra map[string]json.RawMessage
}

// Image is an image given as a data: URL: its media type and base64 data.
type Image struct {
	MediaType string
	Data      string
}

// MaxImages is the most images an OpenAI request may ask for (n).
const MaxImages = 10

// DecodeImage decodes r's OpenAI Images request. It refuses with a 400 naming the field:
// a missing prompt, an n outside 1..10, a size that is not WIDTHxHEIGHT or auto,
// response_format url (the native APIs answer the image's bytes, never a URL: the answer
// is b64_json, which is also what an absent response_format gets), stream (no native image
// API streams partial images), and an edit's images or mask that are not base64 data: URLs.
func DecodeImage(r *provider.Request) (*ImageRequest, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &m); err != nil || m == nil {
		msg := "the request body is not a JSON object"
		if err != nil {
			msg += ": " + err.Error()
		}
		return nil, BadRequest("", msg)
	}
	out := &ImageRequest{Extra: map[string]json.RawMessage{}}
	str := func(key string) (string, error) {
		v, ok := m[key]
		if !ok || string(v) == "null" {
			return "", nil
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", BadRequest(key, key+" must be a string")
		}
		return s, nil
	}
	var err error
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys) // the same error, whichever fields are wrong, on every translation
	for _, key := range keys {
		v := m[key]
		switch key {
		case "model":
			out.Model, err = str(key)
		case "prompt":
			out.Prompt, err = str(key)
		case "quality":
			out.Quality, err = str(key)
		case "n":
			out.N, err = imageCount(v)
		case "size":
			var s string
			if s, err = str(key); err == nil {
				out.Width, out.Height, err = ParseImageSize(s)
			}
		case "response_format":
			var s string
			if s, err = str(key); err == nil && s != "" && s != "b64_json" {
				msg := "response_format " + strconv.Quote(s) + " is not supported: use b64_json"
				if s == "url" {
					msg = "response_format url is not supported on this target: its API returns the image's bytes, not a URL; use b64_json (the default here)"
				}
				err = BadRequest(key, msg)
			}
		case "stream":
			if b := strings.Trim(string(v), `"`); b == "true" {
				err = BadRequest(key, "streaming partial images is not supported on this target: leave stream out")
			}
		case "images", "image":
			err = decodeImages(v, key, &out.Images)
		case "mask":
			var imgs []Image
			if err = decodeImages(v, key, &imgs); err == nil && len(imgs) > 0 {
				out.Mask = &imgs[0]
			}
		default:
			out.Extra[key] = v
		}
		if err != nil {
			return nil, err
		}
	}
	if r.Model.Name != "" {
		out.Model = r.Model.Name
	}
	if strings.TrimSpace(out.Prompt) == "" {
		return nil, BadRequest("prompt", "prompt is required")
	}
	if r.RouteType == provider.ImageEdits && len(out.Images) == 0 {
		return nil, BadRequest("image", "an image edit needs an image")
	}
	return out, nil
}

// imageCount reads n: a JSON number or, from a multipart form, a numeric string, in 1..10.
func imageCount(v []byte) (int, error) {
	s := strings.Trim(string(v), `"`)
	if s == "null" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxImages {
		return 0, BadRequest("n", "n must be an integer from 1 to 10")
	}
	return n, nil
}

// ParseImageSize reads an OpenAI size: "WIDTHxHEIGHT" (each 1..16384), or "auto" or empty
// for none (0, 0).
func ParseImageSize(s string) (w, h int, err error) {
	if s == "" || s == "auto" {
		return 0, 0, nil
	}
	ws, hs, ok := strings.Cut(s, "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil || w < 1 || h < 1 || w > 16384 || h > 16384 {
		return 0, 0, BadRequest("size", "size "+strconv.Quote(s)+" is not WIDTHxHEIGHT (for example 1024x1024) or auto")
	}
	return w, h, nil
}

// decodeImages reads an edit's images: an array of {"image_url": "data:…"} (or of data:
// URL strings), or one of them; file ids and http URLs are refused, since a translator
// cannot fetch them.
func decodeImages(v json.RawMessage, key string, dst *[]Image) error {
	if string(v) == "null" {
		return nil
	}
	var items []json.RawMessage
	if len(v) > 0 && v[0] == '[' {
		if err := json.Unmarshal(v, &items); err != nil {
			return BadRequest(key, key+" must be an array of images: "+err.Error())
		}
	} else {
		items = []json.RawMessage{v}
	}
	for _, it := range items {
		var u string
		if json.Unmarshal(it, &u) != nil {
			var ref struct {
				ImageURL string `json:"image_url"`
				FileID   string `json:"file_id"`
			}
			if json.Unmarshal(it, &ref) != nil {
				return BadRequest(key, key+" must be an image: {\"image_url\": \"data:…\"}")
			}
			if ref.FileID != "" {
				return BadRequest(key, key+": file ids are not supported on this target; upload the image")
			}
			u = ref.ImageURL
		}
		mt, data, ok := DataURLBase64(u)
		if !ok || mt == "" || data == "" {
			return BadRequest(key, key+" must be a base64 data: URL (data:image/png;base64,…) on this target")
		}
		*dst = append(*dst, Image{MediaType: mt, Data: data})
	}
	return nil
}

// ImageData is one image of an OpenAI Images response.
type ImageData struct {
	B64JSON       string `json:"b64_json"`
	RevisedPrompt string `json:"revised_prompt,omitempty"`
}

// ImagesUsage is the usage of an OpenAI Images response (gpt-image-1's).
type ImagesUsage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// ImagesResponse renders OpenAI's Images response: {"created","data":[…],"usage"?}, with
// output_format when the images' media type says it (png, jpeg, webp).
func ImagesResponse(created int64, data []ImageData, mediaType string, usage *ImagesUsage) ([]byte, error) {
	if data == nil {
		data = []ImageData{}
	}
	format := ""
	switch mediaType {
	case "image/png":
		format = "png"
	case "image/jpeg":
		format = "jpeg"
	case "image/webp":
		format = "webp"
	}
	return json.Marshal(struct {
		Created      int64        `json:"created"`
		Data         []ImageData  `json:"data"`
		OutputFormat string       `json:"output_format,omitempty"`
		Usage        *ImagesUsage `json:"usage,omitempty"`
	}{created, data, format, usage})
}

// NearestRatio returns the aspect ratio of ratios ("16:9") nearest w:h, and whether it is
// within 5% of it.
func NearestRatio(w, h int, ratios []string) (string, bool) {
	want := math.Log(float64(w) / float64(h))
	best, diff := "", math.Inf(1)
	for _, r := range ratios {
		a, b, _ := strings.Cut(r, ":")
		x, _ := strconv.ParseFloat(a, 64)
		y, _ := strconv.ParseFloat(b, 64)
		if d := math.Abs(math.Log(x/y) - want); d < diff {
			best, diff = r, d
		}
	}
	return best, diff <= 0.05
}
