package bedrock

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
	"strings"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
)

// OpenAI's Images API (generations and edits) goes through InvokeModel, whose body is the
// model family's own, chosen by the model id:
//
//   - Amazon Titan Image Generator (amazon.titan-image-*) and Nova Canvas
//     (amazon.nova-canvas-*): a generation is taskType TEXT_IMAGE; an edit with a mask (or
//     the form field mask_prompt) is INPAINTING, without one IMAGE_VARIATION. n, size and
//     quality (hd and high → premium, else standard) go to imageGenerationConfig, with
//     the extensions negative_text, cfg_scale, seed and similarity_strength. OpenAI's mask
//     marks the area to edit by transparency; Titan's by black pixels: a PNG mask with
//     transparent pixels is redrawn black (transparent) and white (the rest), any other
//     is sent as it is.
//   - Stability AI's (stability.sd3-*, stability.stable-image-*): generations only,
//     {"prompt","aspect_ratio","output_format":"png","seed"?,"negative_prompt"?}, one image.
//
// The answer's {"images":[base64…]} becomes data[].b64_json (PNG); its error (Titan's
// content filter) or Stability's finish_reasons a 400 content_policy_violation.

func isTitanImage(model string) bool {
	return strings.Contains(model, "amazon.titan-image") || strings.Contains(model, "amazon.nova-canvas")
}

func isStability(model string) bool {
	return strings.Contains(model, "stability.sd3") || strings.Contains(model, "stability.stable-image")
}

// stabilityRatios are the aspect ratios Stability's Bedrock models take.
var stabilityRatios = []string{"16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21"}

// extraNumber reads an extension member that is a JSON number or, from a multipart form, a
// numeric string; nil when absent.
func extraNumber(in *xlate.ImageRequest, key string) (*float64, error) {
	v, ok := in.Extra[key]
	if !ok || string(v) == "null" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(strings.Trim(string(v), `"`), 64)
	if err != nil {
		return nil, xlate.BadRequest(key, "bedrock: "+key+" must be a number")
	}
	return &f, nil
}

func extraString(in *xlate.ImageRequest, key string) (string, error) {
	v, ok := in.Extra[key]
	if !ok || string(v) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", xlate.BadRequest(key, "bedrock: "+key+" must be a string")
	}
	return s, nil
}

// imageBody translates an OpenAI Images request for the model's family.
func imageBody(r *provider.Request) (body []byte, model string, err error) {
	in, err := xlate.DecodeImage(r)
	if err != nil {
		return nil, "", err
	}
	model = in.Model
	switch {
	case model == "":
		return nil, "", xlate.BadRequest("model", "bedrock: no model id")
	case isTitanImage(model):
		body, err = titanBody(in, r.RouteType)
	case isStability(model):
		body, err = stabilityBody(in, r.RouteType)
	default:
		return nil, "", xlate.BadRequest("model", "bedrock: image generations and edits are supported for amazon.titan-image-*, amazon.nova-canvas-* and "+
			"stability.sd3-* / stability.stable-image-* models, not "+model)
	}
	return body, model, err
}

type titanConfig struct {
	NumberOfImages int      `json:"numberOfImages,omitempty"`
	Width          int      `json:"width,omitempty"`
	Height         int      `json:"height,omitempty"`
	Quality        string   `json:"quality,omitempty"`
	CfgScale       *float64 `json:"cfgScale,omitempty"`
	Seed           *int64   `json:"seed,omitempty"`
}

func titanBody(in *xlate.ImageRequest, route provider.RouteType) ([]byte, error) {
	negative, err := extraString(in, "negative_text")
	if err != nil {
		return nil, err
	}
	cfg := titanConfig{NumberOfImages: in.N, Width: in.Width, Height: in.Height}
	if in.N > 5 {
		return nil, xlate.BadRequest("n", "bedrock: Titan and Nova Canvas models make at most 5 images per request")
	}
	switch in.Quality {
	case "hd", "high":
		cfg.Quality = "premium"
	case "standard", "low", "medium":
		cfg.Quality = "standard"
	}
	if cfg.CfgScale, err = extraNumber(in, "cfg_scale"); err != nil {
		return nil, err
	}
	seed, err := extraNumber(in, "seed")
	if err != nil {
		return nil, err
	}
	if seed != nil {
		s := int64(*seed)
		cfg.Seed = &s
	}
	out := map[string]any{}
	if cfg != (titanConfig{}) {
		out["imageGenerationConfig"] = cfg
	}
	if route != provider.ImageEdits {
		out["taskType"] = "TEXT_IMAGE"
		params := map[string]string{"text": in.Prompt}
		if negative != "" {
			params["negativeText"] = negative
		}
		out["textToImageParams"] = params
		return json.Marshal(out)
	}
	maskPrompt, err := extraString(in, "mask_prompt")
	if err != nil {
		return nil, err
	}
	if in.Mask == nil && maskPrompt == "" {
		strength, err := extraNumber(in, "similarity_strength")
		if err != nil {
			return nil, err
		}
		if len(in.Images) > 5 {
			return nil, xlate.BadRequest("image", "bedrock: an image variation takes at most 5 images")
		}
		params := map[string]any{"text": in.Prompt}
		imgs := make([]string, len(in.Images))
		for i, img := range in.Images {
			imgs[i] = img.Data
		}
		params["images"] = imgs
		if negative != "" {
			params["negativeText"] = negative
		}
		if strength != nil {
			params["similarityStrength"] = *strength
		}
		out["taskType"], out["imageVariationParams"] = "IMAGE_VARIATION", params
		return json.Marshal(out)
	}
	if len(in.Images) != 1 {
		return nil, xlate.BadRequest("image", "bedrock: inpainting edits one image")
	}
	params := map[string]any{"text": in.Prompt, "image": in.Images[0].Data}
	if negative != "" {
		params["negativeText"] = negative
	}
	if in.Mask != nil {
		mask, err := titanMask(in.Mask.Data)
		if err != nil {
			return nil, err
		}
		params["maskImage"] = mask
	} else {
		params["maskPrompt"] = maskPrompt
	}
	cfg.Width, cfg.Height = 0, 0 // an inpainted image keeps its size
	delete(out, "imageGenerationConfig")
	if cfg != (titanConfig{}) {
		out["imageGenerationConfig"] = cfg
	}
	out["taskType"], out["inPaintingParams"] = "INPAINTING", params
	return json.Marshal(out)
}

// titanMask turns OpenAI's mask (a PNG whose transparent pixels mark the area to edit) into
// Titan's (black: the area to edit; white: the rest). A mask without transparent pixels
// (not a PNG, or already black and white) is sent as it is.
func titanMask(b64 string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", xlate.BadRequest("mask", "bedrock: the mask is not valid base64")
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return b64, nil
	}
	if cfg.Width > 4096 || cfg.Height > 4096 { // Titan's and Nova Canvas's largest
		return "", xlate.BadRequest("mask", "bedrock: the mask is too large")
	}
	src, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		return "", xlate.BadRequest("mask", "bedrock: the mask is not a valid PNG: "+err.Error())
	}
	bounds := src.Bounds()
	dst := image.NewGray(bounds)
	transparent := false
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			if _, _, _, a := src.At(x, y).RGBA(); a == 0 {
				transparent = true
				dst.SetGray(x, y, color.Gray{Y: 0})
			} else {
				dst.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	if !transparent {
		return b64, nil
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, dst); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

func stabilityBody(in *xlate.ImageRequest, route provider.RouteType) ([]byte, error) {
	if route == provider.ImageEdits {
		return nil, xlate.BadRequest("image", "bedrock: Stability models serve image generations only here; edit with amazon.titan-image-* or amazon.nova-canvas-*")
	}
	if in.N > 1 {
		return nil, xlate.BadRequest("n", "bedrock: Stability models make one image per request: n must be 1")
	}
	out := map[string]any{"prompt": in.Prompt, "output_format": "png"}
	if in.Width > 0 {
		ar, ok := xlate.NearestRatio(in.Width, in.Height, stabilityRatios)
		if !ok {
			return nil, xlate.BadRequest("size", "bedrock: size "+strconv.Itoa(in.Width)+"x"+strconv.Itoa(in.Height)+
				" has no aspect ratio Stability models take ("+strings.Join(stabilityRatios, ", ")+")")
		}
		out["aspect_ratio"] = ar
	}
	negative, err := extraString(in, "negative_text")
	if err != nil {
		return nil, err
	}
	if negative != "" {
		out["negative_prompt"] = negative
	}
	seed, err := extraNumber(in, "seed")
	if err != nil {
		return nil, err
	}
	if seed != nil {
		out["seed"] = int64(*seed)
	}
	return json.Marshal(out)
}

// parseImages reads an InvokeModel answer of an image model.
func (p Provider) parseImages(r *provider.Request, header http.Header, body []byte) (*provider.Response, error) {
	var doc struct {
		Images        []string  `json:"images"`
		Error         *string   `json:"error"`
		FinishReasons []*string `json:"finish_reasons"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, xlate.BadGateway("bedrock: cannot decode the image response: " + err.Error())
	}
	if doc.Error != nil && *doc.Error != "" {
		return nil, &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Code: "content_policy_violation",
			Message: "bedrock: " + *doc.Error}
	}
	for _, f := range doc.FinishReasons {
		if f != nil && *f != "" {
			return nil, &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Code: "content_policy_violation",
				Message: "bedrock: " + *f}
		}
	}
	data := make([]xlate.ImageData, 0, len(doc.Images))
	for _, img := range doc.Images {
		if img != "" {
			data = append(data, xlate.ImageData{B64JSON: img})
		}
	}
	if len(data) == 0 {
		return nil, xlate.BadGateway("bedrock: the model answered no image")
	}
	out, err := xlate.ImagesResponse(xlate.Created(header, p.Now), data, "image/png", nil)
	if err != nil {
		return nil, err
	}
	return &provider.Response{Body: out, Model: xlate.Model(r)}, nil
}
