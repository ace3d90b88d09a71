package gemini

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
)

func imageReq(route provider.RouteType, model, body string) *provider.Request {
	return &provider.Request{RouteType: route, Model: provider.Model{Provider: "gemini", Name: model}, Body: []byte(body)}
}

func newImageRequest(t *testing.T, r *provider.Request) (string, string) {
	t.Helper()
	req, err := testCase.Provider.NewRequest(context.Background(), r)
	require.NoError(t, err)
	b, _ := io.ReadAll(req.Body)
	return req.URL.String(), string(b)
}

func TestImageGenerationRequest(t *testing.T) {
	u, body := newImageRequest(t, imageReq(provider.ImageGenerations, "gemini-3-pro-image-preview",
		`{"model":"dall-e-3","prompt":"a red fox","n":1,"size":"1792x1024","quality":"hd","response_format":"b64_json"}`))
	assert.Equal(t, "https://generativelanguage.googleapis.com/v1beta/models/gemini-3-pro-image-preview:generateContent", u)
	assert.JSONEq(t, `{"contents":[{"role":"user","parts":[{"text":"a red fox"}]}],
		"generationConfig":{"responseModalities":["IMAGE"],"imageConfig":{"aspectRatio":"16:9","imageSize":"2K"}}}`, body)

	// The client's generationConfig (Kong's pass-through) is merged over the size's.
	_, body = newImageRequest(t, imageReq(provider.ImageGenerations, "gemini-2.5-flash-image",
		`{"prompt":"a circle","size":"1024x1024","generationConfig":{"temperature":0.5,"imageConfig":{"imageSize":"1k"}}}`))
	assert.JSONEq(t, `{"contents":[{"role":"user","parts":[{"text":"a circle"}]}],
		"generationConfig":{"responseModalities":["IMAGE"],"temperature":0.5,"imageConfig":{"aspectRatio":"1:1","imageSize":"1K"}}}`, body)

	// Vertex AI, and the client's model when the target names none.
	r := imageReq(provider.ImageGenerations, "", `{"model":"gemini-2.5-flash-image","prompt":"p"}`)
	r.Model.Options.Gemini = &provider.GeminiOptions{ProjectID: "proj", LocationID: "global"}
	u, _ = newImageRequest(t, r)
	assert.Equal(t, "https://aiplatform.googleapis.com/v1/projects/proj/locations/global/publishers/google/models/gemini-2.5-flash-image:generateContent", u)
}

func TestImagenRequest(t *testing.T) {
	u, body := newImageRequest(t, imageReq(provider.ImageGenerations, "imagen-4.0-generate-001", `{"prompt":"a fox","n":3,"size":"1024x1792"}`))
	assert.Equal(t, "https://generativelanguage.googleapis.com/v1beta/models/imagen-4.0-generate-001:predict", u)
	assert.JSONEq(t, `{"instances":[{"prompt":"a fox"}],"parameters":{"sampleCount":3,"aspectRatio":"9:16","imageSize":"2K"}}`, body)

	resp, err := testCase.Provider.ParseResponse(imageReq(provider.ImageGenerations, "imagen-4.0-generate-001", `{"prompt":"a fox"}`), nil,
		[]byte(`{"predictions":[{"bytesBase64Encoded":"AAA=","mimeType":"image/png"},{"raiFilteredReason":"filtered"},{"bytesBase64Encoded":"BBB=","mimeType":"image/png"}]}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"created":1700000000,"data":[{"b64_json":"AAA="},{"b64_json":"BBB="}],"output_format":"png"}`, string(resp.Body))
}

func TestImageEditRequest(t *testing.T) {
	_, body := newImageRequest(t, imageReq(provider.ImageEdits, "gemini-2.5-flash-image",
		`{"prompt":"add a hat","images":[{"image_url":"data:image/png;base64,iVBORw0K"}],"n":"1","size":"1536x1024"}`))
	assert.JSONEq(t, `{"contents":[{"role":"user","parts":[{"inlineData":{"mimeType":"image/png","data":"iVBORw0K"}},{"text":"add a hat"}]}],
		"generationConfig":{"responseModalities":["IMAGE"],"imageConfig":{"aspectRatio":"3:2","imageSize":"2K"}}}`, body)
}

func TestImageRequestRefusals(t *testing.T) {
	for name, tc := range map[string]struct {
		route       provider.RouteType
		model, body string
		param       string
	}{
		"no prompt":    {provider.ImageGenerations, "gemini-2.5-flash-image", `{"n":1}`, "prompt"},
		"bad size":     {provider.ImageGenerations, "gemini-2.5-flash-image", `{"prompt":"p","size":"big"}`, "size"},
		"odd ratio":    {provider.ImageGenerations, "gemini-2.5-flash-image", `{"prompt":"p","size":"4000x1000"}`, "size"},
		"n":            {provider.ImageGenerations, "gemini-2.5-flash-image", `{"prompt":"p","n":2}`, "n"},
		"n range":      {provider.ImageGenerations, "imagen-4.0-generate-001", `{"prompt":"p","n":11}`, "n"},
		"url":          {provider.ImageGenerations, "gemini-2.5-flash-image", `{"prompt":"p","response_format":"url"}`, "response_format"},
		"stream":       {provider.ImageGenerations, "gemini-2.5-flash-image", `{"prompt":"p","stream":true}`, "stream"},
		"config":       {provider.ImageGenerations, "gemini-2.5-flash-image", `{"prompt":"p","generationConfig":[1]}`, "generationConfig"},
		"mask":         {provider.ImageEdits, "gemini-2.5-flash-image", `{"prompt":"p","images":["data:image/png;base64,AA=="],"mask":{"image_url":"data:image/png;base64,AA=="}}`, "mask"},
		"no image":     {provider.ImageEdits, "gemini-2.5-flash-image", `{"prompt":"p"}`, "image"},
		"http image":   {provider.ImageEdits, "gemini-2.5-flash-image", `{"prompt":"p","images":[{"image_url":"https://x/y.png"}]}`, "images"},
		"file id":      {provider.ImageEdits, "gemini-2.5-flash-image", `{"prompt":"p","images":[{"file_id":"file-1"}]}`, "images"},
		"imagen edits": {provider.ImageEdits, "imagen-4.0-generate-001", `{"prompt":"p","images":["data:image/png;base64,AA=="]}`, "image"},
	} {
		_, err := testCase.Provider.NewRequest(context.Background(), imageReq(tc.route, tc.model, tc.body))
		var pe *provider.Error
		if assert.ErrorAs(t, err, &pe, name) {
			assert.Equal(t, 400, pe.Status, name)
			assert.Equal(t, tc.param, pe.Param, name)
		}
	}
}

func TestImageResponse(t *testing.T) {
	r := imageReq(provider.ImageGenerations, "gemini-2.5-flash-image", `{"prompt":"p"}`)
	resp, err := testCase.Provider.ParseResponse(r, nil, []byte(`{"candidates":[{"content":{"role":"model","parts":[
		{"text":"thinking","thought":true},{"inlineData":{"mimeType":"image/png","data":"draft"},"thought":true},
		{"text":"Here is your fox"},{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}]},"finishReason":"STOP","index":0}],
		"usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":1290,"totalTokenCount":1297},"modelVersion":"gemini-2.5-flash-image"}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"created":1700000000,"data":[{"b64_json":"iVBORw0KGgo="}],"output_format":"png",
		"usage":{"input_tokens":7,"output_tokens":1290,"total_tokens":1297}}`, string(resp.Body))
	assert.Equal(t, provider.Usage{PromptTokens: 7, CompletionTokens: 1290, TotalTokens: 1297}, resp.Usage)
	assert.Equal(t, "gemini-2.5-flash-image", resp.Model)

	for body, want := range map[string]struct {
		status int
		code   string
	}{
		`{"promptFeedback":{"blockReason":"SAFETY"}}`:                                                              {400, "content_policy_violation"},
		`{"candidates":[{"content":{"parts":[]},"finishReason":"IMAGE_SAFETY"}]}`:                                  {400, "content_policy_violation"},
		`{"candidates":[{"content":{"parts":[{"text":"I cannot draw that"}]},"finishReason":"STOP"}]}`:             {502, ""},
		`{"candidates":[{"content":{"parts":[]},"finishReason":"MALFORMED_RESPONSE"}]}`:                            {502, "MALFORMED_RESPONSE"},
		`{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}`:                                   {429, "RESOURCE_EXHAUSTED"},
		`{"predictions":[{"raiFilteredReason":"Unable to show generated images. All images were filtered out."}]}`: {400, "content_policy_violation"},
		`not json`: {502, ""},
	} {
		_, err := testCase.Provider.ParseResponse(r, http.Header{}, []byte(body))
		var pe *provider.Error
		if assert.ErrorAs(t, err, &pe, body) {
			assert.Equal(t, want.status, pe.Status, body)
			assert.Equal(t, want.code, pe.Code, body)
		}
	}
}

// FuzzImageRequest: any Images request either translates to a JSON generateContent or
// predict body or is refused with a 400.
func FuzzImageRequest(f *testing.F) {
	for _, s := range []string{`{"prompt":"a fox","n":1,"size":"1024x1024","generationConfig":{"imageConfig":{"imageSize":"2k"}}}`,
		`{"prompt":"x","images":[{"image_url":"data:image/png;base64,AA=="}],"size":"auto"}`, `{"prompt":"x","size":"0x5"}`, `[]`, `null`} {
		f.Add(s, "gemini-2.5-flash-image", false)
		f.Add(s, "imagen-4.0-generate-001", true)
	}
	f.Fuzz(func(t *testing.T, body, model string, edit bool) {
		route := provider.ImageGenerations
		if edit {
			route = provider.ImageEdits
		}
		req, err := testCase.Provider.NewRequest(context.Background(), imageReq(route, model, body))
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

// FuzzImageResponse: any answer gives an OpenAI Images body with at least one image, or an
// error with an error status.
func FuzzImageResponse(f *testing.F) {
	f.Add(`{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"AA=="}}]}}],"usageMetadata":{"promptTokenCount":1}}`)
	f.Add(`{"predictions":[{"bytesBase64Encoded":"AA==","mimeType":"image/jpeg"}]}`)
	f.Add(`{"promptFeedback":{"blockReason":"OTHER"}}`)
	f.Fuzz(func(t *testing.T, body string) {
		resp, err := testCase.Provider.ParseResponse(imageReq(provider.ImageGenerations, "m", `{"prompt":"p"}`), http.Header{}, []byte(body))
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
