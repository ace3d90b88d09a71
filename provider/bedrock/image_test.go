package bedrock

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
)

var imageProvider = Provider{Now: func() time.Time { return time.Unix(1700000000, 0) }}

func imageReq(route provider.RouteType, model, body string) *provider.Request {
	return &provider.Request{RouteType: route, Body: []byte(body),
		Model: provider.Model{Provider: "bedrock", Name: model, Options: provider.Options{Bedrock: &provider.BedrockOptions{AWSRegion: "us-east-1"}}}}
}

func newImageRequest(t *testing.T, r *provider.Request) (string, string) {
	t.Helper()
	req, err := imageProvider.NewRequest(context.Background(), r)
	require.NoError(t, err)
	b, _ := io.ReadAll(req.Body)
	require.NoError(t, imageProvider.Sign(req, provider.Credentials{AWSAccessKeyID: "AKID", AWSSecretAccessKey: "secret"}))
	assert.Regexp(t, `^AWS4-HMAC-SHA256 Credential=AKID/\d{8}/us-east-1/bedrock/aws4_request, SignedHeaders=.*, Signature=[0-9a-f]{64}$`, req.Header.Get("Authorization"))
	return req.URL.String(), string(b)
}

func TestTitanImageGeneration(t *testing.T) {
	u, body := newImageRequest(t, imageReq(provider.ImageGenerations, "amazon.titan-image-generator-v2:0",
		`{"model":"dall-e-3","prompt":"a red fox","n":2,"size":"1024x768","quality":"hd","negative_text":"blur","seed":42,"cfg_scale":"7.5"}`))
	assert.Equal(t, "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.titan-image-generator-v2%3A0/invoke", u)
	assert.JSONEq(t, `{"taskType":"TEXT_IMAGE","textToImageParams":{"text":"a red fox","negativeText":"blur"},
		"imageGenerationConfig":{"numberOfImages":2,"width":1024,"height":768,"quality":"premium","cfgScale":7.5,"seed":42}}`, body)

	_, body = newImageRequest(t, imageReq(provider.ImageGenerations, "us.amazon.nova-canvas-v1:0", `{"prompt":"a fox"}`))
	assert.JSONEq(t, `{"taskType":"TEXT_IMAGE","textToImageParams":{"text":"a fox"}}`, body)
}

func TestStabilityImageGeneration(t *testing.T) {
	_, body := newImageRequest(t, imageReq(provider.ImageGenerations, "stability.sd3-5-large-v1:0", `{"prompt":"a fox","size":"1536x1024","seed":"7"}`))
	assert.JSONEq(t, `{"prompt":"a fox","aspect_ratio":"3:2","output_format":"png","seed":7}`, body)
}

// maskPNG is a 4×2 PNG mask, transparent in its left half: OpenAI's "edit here".
func maskPNG(t *testing.T) string {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 2))
	for y := range 2 {
		for x := range 4 {
			a := uint8(255)
			if x < 2 {
				a = 0
			}
			img.SetNRGBA(x, y, color.NRGBA{R: 10, G: 20, B: 30, A: a})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func TestTitanImageEdits(t *testing.T) {
	mask := maskPNG(t)
	_, body := newImageRequest(t, imageReq(provider.ImageEdits, "amazon.titan-image-generator-v1",
		`{"prompt":"add a hat","images":[{"image_url":"data:image/png;base64,SU1H"}],"mask":{"image_url":"data:image/png;base64,`+mask+`"},"size":"512x512","n":"1"}`))
	var doc struct {
		TaskType         string
		InPaintingParams struct {
			Text, Image, MaskImage string
		}
		ImageGenerationConfig map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	assert.Equal(t, "INPAINTING", doc.TaskType)
	assert.Equal(t, "add a hat", doc.InPaintingParams.Text)
	assert.Equal(t, "SU1H", doc.InPaintingParams.Image)
	assert.Equal(t, map[string]any{"numberOfImages": 1.0}, doc.ImageGenerationConfig)
	raw, err := base64.StdEncoding.DecodeString(doc.InPaintingParams.MaskImage)
	require.NoError(t, err)
	m, err := png.Decode(bytes.NewReader(raw))
	require.NoError(t, err)
	for x := range 4 {
		want := uint32(0xffff)
		if x < 2 {
			want = 0
		}
		r, g, b, _ := m.At(x, 1).RGBA()
		assert.Equal(t, []uint32{want, want, want}, []uint32{r, g, b}, "x=%d", x)
	}

	_, body = newImageRequest(t, imageReq(provider.ImageEdits, "amazon.nova-canvas-v1:0",
		`{"prompt":"a hat","images":["data:image/png;base64,SU1H"],"mask_prompt":"the head"}`))
	assert.JSONEq(t, `{"taskType":"INPAINTING","inPaintingParams":{"text":"a hat","image":"SU1H","maskPrompt":"the head"}}`, body)

	_, body = newImageRequest(t, imageReq(provider.ImageEdits, "amazon.nova-canvas-v1:0",
		`{"prompt":"in watercolor","images":[{"image_url":"data:image/png;base64,SU1H"},{"image_url":"data:image/jpeg;base64,SlBH"}],"similarity_strength":"0.7","size":"1024x1024"}`))
	assert.JSONEq(t, `{"taskType":"IMAGE_VARIATION","imageVariationParams":{"text":"in watercolor","images":["SU1H","SlBH"],"similarityStrength":0.7},
		"imageGenerationConfig":{"width":1024,"height":1024}}`, body)
}

func TestImageRequestRefusals(t *testing.T) {
	img := `"images":["data:image/png;base64,AA=="]`
	for name, tc := range map[string]struct {
		route       provider.RouteType
		model, body string
		param       string
	}{
		"unknown model":  {provider.ImageGenerations, "meta.llama3", `{"prompt":"p"}`, "model"},
		"titan n":        {provider.ImageGenerations, "amazon.titan-image-generator-v2:0", `{"prompt":"p","n":6}`, "n"},
		"stability n":    {provider.ImageGenerations, "stability.stable-image-ultra-v1:1", `{"prompt":"p","n":2}`, "n"},
		"stability size": {provider.ImageGenerations, "stability.stable-image-core-v1:1", `{"prompt":"p","size":"4000x1000"}`, "size"},
		"stability edit": {provider.ImageEdits, "stability.sd3-5-large-v1:0", `{"prompt":"p",` + img + `}`, "image"},
		"url":            {provider.ImageGenerations, "amazon.titan-image-generator-v2:0", `{"prompt":"p","response_format":"url"}`, "response_format"},
		"seed":           {provider.ImageGenerations, "amazon.titan-image-generator-v2:0", `{"prompt":"p","seed":"x"}`, "seed"},
		"inpaint two":    {provider.ImageEdits, "amazon.titan-image-generator-v2:0", `{"prompt":"p","images":["data:image/png;base64,AA==","data:image/png;base64,AA=="],"mask_prompt":"m"}`, "image"},
		"bad mask":       {provider.ImageEdits, "amazon.titan-image-generator-v2:0", `{"prompt":"p",` + img + `,"mask":"data:image/png;base64,%%"}`, "mask"},
	} {
		_, err := imageProvider.NewRequest(context.Background(), imageReq(tc.route, tc.model, tc.body))
		var pe *provider.Error
		if assert.ErrorAs(t, err, &pe, name) {
			assert.Equal(t, 400, pe.Status, name)
			assert.Equal(t, tc.param, pe.Param, name)
		}
	}
}

func TestImageResponse(t *testing.T) {
	r := imageReq(provider.ImageGenerations, "amazon.titan-image-generator-v2:0", `{"prompt":"p"}`)
	h := http.Header{"Date": {"Tue, 14 Nov 2023 22:13:20 GMT"}}
	resp, err := imageProvider.ParseResponse(r, h, []byte(`{"images":["iVBORw0KGgo=","iVBORw0KGgp="],"error":null}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"created":1700000000,"data":[{"b64_json":"iVBORw0KGgo="},{"b64_json":"iVBORw0KGgp="}],"output_format":"png"}`, string(resp.Body))
	assert.Equal(t, "amazon.titan-image-generator-v2:0", resp.Model)

	for body, status := range map[string]int{
		`{"images":[],"error":"This request has been blocked by our content filters."}`: 400,
		`{"seeds":[1],"finish_reasons":["Filter reason: prompt"],"images":[]}`:          400,
		`{"images":[]}`: 502,
		`[`:             502,
	} {
		_, err := imageProvider.ParseResponse(r, h, []byte(body))
		var pe *provider.Error
		if assert.ErrorAs(t, err, &pe, body) {
			assert.Equal(t, status, pe.Status, body)
		}
	}
	e := imageProvider.ParseError(r, 400, http.Header{"X-Amzn-Errortype": {"ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"}},
		[]byte(`{"message":"Malformed input request: #/imageGenerationConfig/width: 100 is not a valid enum value"}`))
	assert.Equal(t, 400, e.Status)
	assert.Contains(t, e.Message, "width")
}

// FuzzImageRequest: any Images request translates to a JSON InvokeModel body or is refused
// with a 400.
func FuzzImageRequest(f *testing.F) {
	for _, s := range []string{`{"prompt":"a fox","n":2,"size":"1024x1024","quality":"hd","seed":"3"}`,
		`{"prompt":"x","images":["data:image/png;base64,AA=="],"mask":"data:image/png;base64,iVBORw0KGgo="}`,
		`{"prompt":"x","images":["data:image/png;base64,AA=="],"mask_prompt":"cat"}`, `{}`} {
		f.Add(s, "amazon.nova-canvas-v1:0", true)
		f.Add(s, "stability.sd3-5-large-v1:0", false)
	}
	f.Fuzz(func(t *testing.T, body, model string, edit bool) {
		route := provider.ImageGenerations
		if edit {
			route = provider.ImageEdits
		}
		req, err := imageProvider.NewRequest(context.Background(), imageReq(route, model, body))
		if err != nil {
			var pe *provider.Error
			if assert.ErrorAs(t, err, &pe) {
				assert.Equal(t, 400, pe.Status)
			}
			return
		}
		b, _ := io.ReadAll(req.Body)
		assert.True(t, json.Valid(b), string(b))
	})
}

// FuzzImageResponse: any answer gives an OpenAI Images body with an image, or an error.
func FuzzImageResponse(f *testing.F) {
	f.Add(`{"images":["AA=="],"error":null}`)
	f.Add(`{"images":[],"error":"blocked"}`)
	f.Add(`{"images":["AA=="],"finish_reasons":[null]}`)
	f.Fuzz(func(t *testing.T, body string) {
		resp, err := imageProvider.ParseResponse(imageReq(provider.ImageGenerations, "amazon.nova-canvas-v1:0", `{}`), http.Header{}, []byte(body))
		if err != nil {
			var pe *provider.Error
			if assert.ErrorAs(t, err, &pe) {
				assert.GreaterOrEqual(t, pe.Status, 400)
			}
			return
		}
		var out struct {
			Data []struct {
				B64JSON string `json:"b64_json"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(resp.Body, &out))
		assert.NotEmpty(t, out.Data)
	})
}
