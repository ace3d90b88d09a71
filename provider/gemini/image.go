package gemini

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// OpenAI's Images API (generations and edits) on Gemini's image models
// (gemini-2.5-flash-image, gemini-3-pro-image-preview) is generateContent with
// responseModalities ["IMAGE"]: the prompt is the user turn's text, an edit's images come
// before it as inlineData parts, and size becomes imageConfig's aspectRatio (the nearest of
// Gemini's ratios, within 5%) and, for a side longer than 1024, imageSize 2K or 4K. The
// client's own generationConfig (Kong's way to pass imageConfig through) is merged over
// that, member by member, imageConfig's too. The answer's inlineData images (thought images
// left out) become data[].b64_json, usageMetadata the usage. n above 1 and masks are
// refused with a 400: generateContent gives one image and takes no mask.
//
// Imagen models (imagen-*) generate through predict: {"instances":[{"prompt"}],
// "parameters":{"sampleCount","aspectRatio","imageSize"}} → {"predictions":
// [{"bytesBase64Encoded","mimeType"}]}; they serve generations only.

// aspectRatios are the aspect ratios of Gemini's imageConfig.
var aspectRatios = []string{"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"}

// imagenRatios are Imagen's.
var imagenRatios = []string{"1:1", "3:4", "4:3", "9:16", "16:9"}

// aspectRatio returns the ratio of ratios nearest w:h, within 5%.
func aspectRatio(w, h int, ratios []string) (string, error) {
	best, ok := xlate.NearestRatio(w, h, ratios)
	if !ok {
		return "", xlate.BadRequest("size", "gemini: size "+strconv.Itoa(w)+"x"+strconv.Itoa(h)+
			" has no aspect ratio the model takes ("+strings.Join(ratios, ", ")+")")
	}
	return best, nil
}

// imageSize is the imageSize for a longest side of side pixels; "" for the default (1K).
func imageSize(side int) string {
	switch {
	case side > 2048:
		return "4K"
	case side > 1024:
		return "2K"
	}
	return ""
}

func isImagen(model string) bool { return strings.HasPrefix(model, "imagen-") }

// translateImage translates an OpenAI Images request (generation or edit).
func translateImage(r *provider.Request) (body []byte, model, method string, err error) {
	in, err := xlate.DecodeImage(r)
	if err != nil {
		return nil, "", "", err
	}
	model = modelName(r, in.Model)
	if model == "" {
		return nil, "", "", xlate.BadRequest("model", "gemini: no model")
	}
	if isImagen(model) {
		body, err = imagenBody(in, r.RouteType)
		return body, model, "predict", err
	}
	if in.N > 1 {
		return nil, "", "", xlate.BadRequest("n", "gemini: generateContent answers one image per request: n must be 1")
	}
	if in.Mask != nil {
		return nil, "", "", xlate.BadRequest("mask", "gemini: image edits take no mask; say in the prompt what to change")
	}
	parts := make([]part, 0, len(in.Images)+1)
	for _, img := range in.Images {
		parts = append(parts, part{InlineData: &blob{MimeType: img.MediaType, Data: img.Data}})
	}
	parts = append(parts, part{Text: strPtr(in.Prompt)})

	gc := map[string]json.RawMessage{"responseModalities": json.RawMessage(`["IMAGE"]`)}
	ic := map[string]json.RawMessage{}
	if in.Width > 0 {
		ar, err := aspectRatio(in.Width, in.Height, aspectRatios)
		if err != nil {
			return nil, "", "", err
		}
		ic["aspectRatio"], _ = json.Marshal(ar)
		if s := imageSize(max(in.Width, in.Height)); s != "" {
			ic["imageSize"], _ = json.Marshal(s)
		}
	}
	if raw, ok := in.Extra["generationConfig"]; ok && string(raw) != "null" {
		var own map[string]json.RawMessage
		if json.Unmarshal(raw, &own) != nil || own == nil {
			return nil, "", "", xlate.BadRequest("generationConfig", "gemini: generationConfig must be an object")
		}
		for k, v := range own {
			if k != "imageConfig" {
				gc[k] = v
				continue
			}
			var cfg map[string]json.RawMessage
			if json.Unmarshal(v, &cfg) != nil {
				return nil, "", "", xlate.BadRequest("generationConfig", "gemini: generationConfig.imageConfig must be an object")
			}
			for ck, cv := range cfg {
				if ck == "imageSize" { // Gemini takes 1K, 2K, 4K; Kong's guide writes 1k
					cv = json.RawMessage(strings.ToUpper(string(cv)))
				}
				ic[ck] = cv
			}
		}
	}
	if len(ic) > 0 {
		gc["imageConfig"], _ = json.Marshal(ic)
	}
	body, err = json.Marshal(struct {
		Contents         []contentT                 `json:"contents"`
		GenerationConfig map[string]json.RawMessage `json:"generationConfig"`
	}{[]contentT{{Role: "user", Parts: parts}}, gc})
	return body, model, "generateContent", err
}

// imagenBody is an Imagen predict request.
func imagenBody(in *xlate.ImageRequest, route provider.RouteType) ([]byte, error) {
	if route == provider.ImageEdits {
		return nil, xlate.BadRequest("image", "gemini: Imagen models serve image generations only; edit with a Gemini image model")
	}
	params := map[string]any{"sampleCount": max(in.N, 1)}
	if in.Width > 0 {
		ar, err := aspectRatio(in.Width, in.Height, imagenRatios)
		if err != nil {
			return nil, err
		}
		params["aspectRatio"] = ar
		if s := imageSize(max(in.Width, in.Height)); s != "" {
			params["imageSize"] = "2K" // Imagen's largest
		}
	}
	return json.Marshal(map[string]any{"instances": []map[string]string{{"prompt": in.Prompt}}, "parameters": params})
}

// contentPolicy is the error of an answer withheld by a safety filter: OpenAI's 400
// content_policy_violation.
func contentPolicy(why string) *provider.Error {
	return &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Code: "content_policy_violation",
		Message: "gemini: the request was rejected by the safety system (" + why + ")"}
}

// parseImages translates a generateContent (or Imagen predict) answer into OpenAI's Images
// response.
func (p Provider) parseImages(r *provider.Request, h http.Header, body []byte) (*provider.Response, error) {
	model := modelName(r, "")
	if model == "" {
		model = xlate.Model(r)
	}
	var g struct {
		generateResponse
		Predictions []struct {
			Bytes             string `json:"bytesBase64Encoded"`
			MimeType          string `json:"mimeType"`
			RAIFilteredReason string `json:"raiFilteredReason"`
		} `json:"predictions"`
	}
	if err := json.Unmarshal(body, &g); err != nil {
		return nil, invalid(err)
	}
	if len(g.Error) > 0 && string(g.Error) != "null" {
		return nil, p.ParseError(r, http.StatusBadGateway, h, body)
	}
	var data []xlate.ImageData
	mediaType := ""
	add := func(mt, b64 string) {
		data = append(data, xlate.ImageData{B64JSON: b64})
		if mediaType == "" || mediaType == mt {
			mediaType = mt
		} else {
			mediaType = "mixed"
		}
	}
	filtered, text := "", ""
	for _, pr := range g.Predictions {
		if pr.Bytes != "" {
			add(pr.MimeType, pr.Bytes)
		} else if pr.RAIFilteredReason != "" {
			filtered = pr.RAIFilteredReason
		}
	}
	for _, c := range g.Candidates {
		for _, pt := range c.Content.Parts {
			switch {
			case pt.Thought:
			case pt.InlineData != nil && strings.HasPrefix(pt.InlineData.MimeType, "image/") && pt.InlineData.Data != "":
				add(pt.InlineData.MimeType, pt.InlineData.Data)
			case pt.Text != nil && text == "":
				text = *pt.Text
			}
		}
		if e := finishError(c.FinishReason); e != nil && len(data) == 0 {
			return nil, e
		}
		if FinishReason(c.FinishReason, false) == "content_filter" {
			filtered = c.FinishReason
		}
	}
	if g.PromptFeedback != nil && g.PromptFeedback.BlockReason != "" {
		filtered = g.PromptFeedback.BlockReason
	}
	if len(data) == 0 {
		if filtered != "" {
			return nil, contentPolicy(filtered)
		}
		msg := "gemini: the model answered no image"
		if text != "" {
			msg += ": " + openai.Snippet([]byte(text))
		}
		return nil, xlate.BadGateway(msg)
	}
	var usage *xlate.ImagesUsage
	u := g.UsageMetadata.openai()
	if g.UsageMetadata != nil {
		usage = &xlate.ImagesUsage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	}
	if g.ModelVersion != "" {
		model = g.ModelVersion
	}
	out, err := xlate.ImagesResponse(xlate.Now(p.Now), data, mediaType, usage)
	if err != nil {
		return nil, err
	}
	return &provider.Response{Body: out, Model: model, Usage: u}, nil
}
