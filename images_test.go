package aiproxy_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy"
	"github.com/aiproxy/aiproxy/provider"
)

// imageUpstream fakes Gemini's generateContent (x-goog-api-key auth, inlineData images,
// Google errors) and Bedrock's InvokeModel of Titan Image Generator (SigV4 Authorization,
// {"images":[…]}, AWS exceptions), at their real hosts through imageTransport.
type imageUpstream struct {
	geminiFail string // a google.rpc status the Gemini fake answers with, e.g. RESOURCE_EXHAUSTED

	mu   sync.Mutex
	seen []seenImage
}

type seenImage struct {
	host, path, auth string
	body             map[string]any
}

func (u *imageUpstream) requests() []seenImage {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seenImage(nil), u.seen...)
}

var sigV4 = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=AKID/\d{8}/us-east-1/bedrock/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$`)

func (u *imageUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	s := seenImage{host: r.Host, path: r.URL.Path, auth: r.Header.Get("X-Goog-Api-Key") + r.Header.Get("Authorization"), body: body}
	u.mu.Lock()
	u.seen = append(u.seen, s)
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Host == "generativelanguage.googleapis.com" {
		u.gemini(w, r, body)
		return
	}
	u.bedrock(w, r, body)
}

func (u *imageUpstream) gemini(w http.ResponseWriter, r *http.Request, body map[string]any) {
	googleError := func(code int, status, msg string) {
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":{"code":%d,"message":%q,"status":%q}}`, code, msg, status)
	}
	switch {
	case r.Header.Get("X-Goog-Api-Key") != "gkey":
		googleError(403, "PERMISSION_DENIED", "API key not valid")
		return
	case u.geminiFail != "":
		googleError(429, u.geminiFail, "Resource has been exhausted (e.g. check quota).")
		return
	case !strings.HasPrefix(r.URL.Path, "/v1beta/models/") || !strings.HasSuffix(r.URL.Path, ":generateContent"):
		googleError(404, "NOT_FOUND", "no such method "+r.URL.Path)
		return
	}
	contents, _ := body["contents"].([]any)
	if len(contents) != 1 {
		googleError(400, "INVALID_ARGUMENT", "contents is required")
		return
	}
	parts, _ := contents[0].(map[string]any)["parts"].([]any)
	var prompt string
	inline := 0
	for _, p := range parts {
		pm := p.(map[string]any)
		if t, ok := pm["text"].(string); ok {
			prompt = t
		}
		if _, ok := pm["inlineData"]; ok {
			inline++
		}
	}
	img := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "PNG %s (%d inline)", prompt, inline))
	fmt.Fprintf(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":"Here you go"},{"inlineData":{"mimeType":"image/png","data":%q}}]},"finishReason":"STOP","index":0}],
		"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":1290,"totalTokenCount":1299},"modelVersion":"gemini-2.5-flash-image","responseId":"r1"}`, img)
}

func (u *imageUpstream) bedrock(w http.ResponseWriter, r *http.Request, body map[string]any) {
	awsError := func(code int, exc, msg string) {
		w.Header().Set("X-Amzn-Errortype", exc+":http://internal.amazon.com/coral/com.amazon.bedrock/")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"message":%q}`, msg)
	}
	if !sigV4.MatchString(r.Header.Get("Authorization")) || r.Header.Get("X-Amz-Date") == "" {
		awsError(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/model/amazon.titan-image-generator-v2:0/invoke") {
		awsError(404, "ResourceNotFoundException", "no such model "+r.URL.Path)
		return
	}
	cfg, _ := body["imageGenerationConfig"].(map[string]any)
	if w, ok := cfg["width"].(float64); ok && int(w)%64 != 0 {
		awsError(400, "ValidationException", fmt.Sprintf("Malformed input request: #/imageGenerationConfig/width: %v is not a valid enum value", w))
		return
	}
	n := 1
	if f, ok := cfg["numberOfImages"].(float64); ok {
		n = int(f)
	}
	var text string
	switch body["taskType"] {
	case "TEXT_IMAGE":
		text, _ = body["textToImageParams"].(map[string]any)["text"].(string)
	case "INPAINTING":
		p := body["inPaintingParams"].(map[string]any)
		if p["maskImage"] == nil && p["maskPrompt"] == nil {
			awsError(400, "ValidationException", "a mask is required")
			return
		}
		text, _ = p["text"].(string)
		text = "inpainted " + text
	case "IMAGE_VARIATION":
		text, _ = body["imageVariationParams"].(map[string]any)["text"].(string)
		text = "varied " + text
	default:
		awsError(400, "ValidationException", "taskType is required")
		return
	}
	if strings.Contains(text, "forbidden") {
		io.WriteString(w, `{"images":[],"error":"This request has been blocked by our content filters."}`)
		return
	}
	imgs := make([]string, n)
	for i := range imgs {
		imgs[i] = base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "titan %d: %s", i, text))
	}
	b, _ := json.Marshal(map[string]any{"images": imgs, "error": nil})
	w.Write(b)
}

// imageTransport sends requests for Google's and AWS's hosts to the fake, and others on.
func imageTransport(srv *httptest.Server) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r2 := r.Clone(r.Context())
		if r.URL.Host == "generativelanguage.googleapis.com" || r.URL.Host == "bedrock-runtime.us-east-1.amazonaws.com" {
			r2.URL.Scheme, r2.URL.Host = "http", strings.TrimPrefix(srv.URL, "http://")
			r2.Host = r.URL.Host
		}
		return http.DefaultTransport.RoundTrip(r2)
	})
}

func geminiImageTarget(route provider.RouteType) aiproxy.Target {
	return aiproxy.Target{RouteType: route, Name: "gemini-image", Auth: aiproxy.Auth{HeaderName: "x-goog-api-key", HeaderValue: "gkey"},
		Model: provider.Model{Provider: "gemini", Name: "gemini-2.5-flash-image"}}
}

func bedrockImageTarget(route provider.RouteType) aiproxy.Target {
	return aiproxy.Target{RouteType: route, Name: "titan-image", Auth: aiproxy.Auth{AWSAccessKeyID: "AKID", AWSSecretAccessKey: "secret"},
		Model: provider.Model{Provider: "bedrock", Name: "amazon.titan-image-generator-v2:0", Options: provider.Options{Bedrock: &provider.BedrockOptions{AWSRegion: "us-east-1"}}}}
}

func newImageUpstream(t *testing.T) (*imageUpstream, http.RoundTripper) {
	u := &imageUpstream{}
	srv := httptest.NewServer(u)
	t.Cleanup(srv.Close)
	return u, imageTransport(srv)
}

// imageClients are openai-go clients of p through its RoundTripper and through its Handler.
func imageClients(t *testing.T, p *aiproxy.Proxy) map[string]openai.Client {
	h := httptest.NewServer(p)
	t.Cleanup(h.Close)
	return map[string]openai.Client{
		"RoundTripper": openaiClient(p),
		"Handler":      openai.NewClient(option.WithBaseURL(h.URL+"/v1"), option.WithAPIKey("sk-client"), option.WithMaxRetries(0)),
	}
}

func decodeB64(t *testing.T, s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	require.NoError(t, err)
	return string(b)
}

// pngFile is a small PNG for uploads; transparentLeft makes its left half transparent
// (OpenAI's mask: edit there).
func pngFile(t *testing.T, transparentLeft bool) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			a := uint8(255)
			if transparentLeft && x < 4 {
				a = 0
			}
			img.SetNRGBA(x, y, color.NRGBA{R: 200, A: a})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

func TestImagesGeminiOpenAIGo(t *testing.T) {
	up, tr := newImageUpstream(t)
	p, log := surfaceProxy(t, aiproxy.Config{Transport: tr, Targets: []aiproxy.Target{
		geminiImageTarget("image/v1/images/generations"), geminiImageTarget("image/v1/images/edits")}})
	for name, client := range imageClients(t, p) {
		img, err := client.Images.Generate(context.Background(), openai.ImageGenerateParams{Prompt: "a red fox", Model: "dall-e-3",
			N: openai.Int(1), Size: "1536x1024", ResponseFormat: openai.ImageGenerateParamsResponseFormatB64JSON})
		require.NoError(t, err, name)
		require.Len(t, img.Data, 1, name)
		assert.Equal(t, "PNG a red fox (0 inline)", decodeB64(t, img.Data[0].B64JSON), name)
		assert.EqualValues(t, 1299, img.Usage.TotalTokens, name)
		assert.EqualValues(t, 9, img.Usage.InputTokens, name)
		s := log.last(t)
		assert.Equal(t, 1299, s.Usage.TotalTokens, name)
		assert.Equal(t, "gemini-image", s.Target, name)
		seen := up.requests()[len(up.requests())-1]
		assert.Equal(t, "/v1beta/models/gemini-2.5-flash-image:generateContent", seen.path, name)
		assert.Equal(t, "gkey", seen.auth, name)
		assert.Equal(t, map[string]any{"responseModalities": []any{"IMAGE"}, "imageConfig": map[string]any{"aspectRatio": "3:2", "imageSize": "2K"}},
			seen.body["generationConfig"], name)

		edit, err := client.Images.Edit(context.Background(), openai.ImageEditParams{Prompt: "add a hat", Model: "gpt-image-1",
			Image: openai.ImageEditParamsImageUnion{OfFileArray: []io.Reader{
				openai.File(bytes.NewReader(pngFile(t, false)), "cat.png", "image/png"),
				openai.File(bytes.NewReader(pngFile(t, false)), "hat.png", "application/octet-stream")}}})
		require.NoError(t, err, name)
		require.Len(t, edit.Data, 1, name)
		assert.Equal(t, "PNG add a hat (2 inline)", decodeB64(t, edit.Data[0].B64JSON), name)
		seen = up.requests()[len(up.requests())-1]
		parts := seen.body["contents"].([]any)[0].(map[string]any)["parts"].([]any)
		require.Len(t, parts, 3, name)
		for _, p := range parts[:2] {
			inline := p.(map[string]any)["inlineData"].(map[string]any)
			assert.Equal(t, "image/png", inline["mimeType"], name) // the octet-stream upload sniffed
			assert.Equal(t, base64.StdEncoding.EncodeToString(pngFile(t, false)), inline["data"], name)
		}
	}
}

func TestImagesBedrockOpenAIGo(t *testing.T) {
	up, tr := newImageUpstream(t)
	p, _ := surfaceProxy(t, aiproxy.Config{Transport: tr, Targets: []aiproxy.Target{
		bedrockImageTarget("image/v1/images/generations"), bedrockImageTarget("image/v1/images/edits")}})
	for name, client := range imageClients(t, p) {
		img, err := client.Images.Generate(context.Background(), openai.ImageGenerateParams{Prompt: "a red fox", Model: "dall-e-3",
			N: openai.Int(2), Size: "1024x1024", Quality: "hd"})
		require.NoError(t, err, name)
		require.Len(t, img.Data, 2, name)
		assert.Equal(t, "titan 1: a red fox", decodeB64(t, img.Data[1].B64JSON), name)
		assert.Equal(t, openai.ImagesResponseOutputFormat("png"), img.OutputFormat, name)
		seen := up.requests()[len(up.requests())-1]
		assert.Equal(t, "bedrock-runtime.us-east-1.amazonaws.com", seen.host, name)
		assert.Equal(t, "/model/amazon.titan-image-generator-v2:0/invoke", seen.path, name)
		assert.Regexp(t, sigV4, seen.auth, name)
		assert.Equal(t, map[string]any{"numberOfImages": 2.0, "width": 1024.0, "height": 1024.0, "quality": "premium"}, seen.body["imageGenerationConfig"], name)

		// With a mask: inpainting, the mask redrawn black where it was transparent.
		edit, err := client.Images.Edit(context.Background(), openai.ImageEditParams{Prompt: "add a hat",
			Image: openai.ImageEditParamsImageUnion{OfFile: openai.File(bytes.NewReader(pngFile(t, false)), "cat.png", "image/png")},
			Mask:  openai.File(bytes.NewReader(pngFile(t, true)), "mask.png", "image/png")})
		require.NoError(t, err, name)
		assert.Equal(t, "titan 0: inpainted add a hat", decodeB64(t, edit.Data[0].B64JSON), name)
		seen = up.requests()[len(up.requests())-1]
		assert.Equal(t, "INPAINTING", seen.body["taskType"], name)
		mask, err := png.Decode(base64.NewDecoder(base64.StdEncoding, strings.NewReader(seen.body["inPaintingParams"].(map[string]any)["maskImage"].(string))))
		require.NoError(t, err, name)
		r0, _, _, _ := mask.At(0, 0).RGBA()
		r7, _, _, _ := mask.At(7, 0).RGBA()
		assert.Equal(t, []uint32{0, 0xffff}, []uint32{r0, r7}, name)

		// Without one: a variation.
		edit, err = client.Images.Edit(context.Background(), openai.ImageEditParams{Prompt: "in watercolor",
			Image: openai.ImageEditParamsImageUnion{OfFile: openai.File(bytes.NewReader(pngFile(t, false)), "cat.png", "image/png")}})
		require.NoError(t, err, name)
		assert.Equal(t, "titan 0: varied in watercolor", decodeB64(t, edit.Data[0].B64JSON), name)
	}
}

// An OpenAI target failing with a 500 fails over to a Gemini target, whose answer the
// client gets in OpenAI's format.
func TestImagesFailoverOpenAIToGemini(t *testing.T) {
	fa, a := newMediaFake(t, "a", 500)
	_, tr := newImageUpstream(t)
	p, log := surfaceProxy(t, aiproxy.Config{Transport: tr,
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Priority, FailoverCriteria: []string{"error", "http_500", "non_idempotent"}},
		Targets: []aiproxy.Target{withPriority(mediaTarget("image/v1/images/generations", "gpt-image-1", a), 2),
			withPriority(geminiImageTarget("image/v1/images/generations"), 1)}})
	client := openaiClient(p)
	img, err := client.Images.Generate(context.Background(), openai.ImageGenerateParams{Prompt: "a red fox", Model: "dall-e-2"})
	require.NoError(t, err, fmt.Sprint(log.last(t).Attempts))
	require.Len(t, img.Data, 1)
	assert.Equal(t, "PNG a red fox (0 inline)", decodeB64(t, img.Data[0].B64JSON))
	require.Len(t, fa.requests(), 1)
	s := log.last(t)
	assert.Equal(t, "gemini-image", s.Target)
	require.Len(t, s.Attempts, 1)
	assert.Equal(t, 500, s.Attempts[0].Status)
	assert.Equal(t, 1299, s.Usage.TotalTokens)
}

// What the target's API cannot express is refused with a 400 naming the field, before any
// upstream call; the upstreams' errors come back in OpenAI's format with their status.
func TestImagesTranslatedErrors(t *testing.T) {
	up, tr := newImageUpstream(t)
	p, _ := surfaceProxy(t, aiproxy.Config{Transport: tr, Targets: []aiproxy.Target{geminiImageTarget("image/v1/images/generations"),
		bedrockImageTarget("image/v1/images/edits")}})
	client := openaiClient(p)
	for _, tc := range []struct {
		params openai.ImageGenerateParams
		param  string
	}{
		{openai.ImageGenerateParams{Prompt: "p", Size: "huge"}, "size"},
		{openai.ImageGenerateParams{Prompt: "p", Size: "1000x250"}, "size"},
		{openai.ImageGenerateParams{Prompt: "p", ResponseFormat: "url"}, "response_format"},
		{openai.ImageGenerateParams{Prompt: "p", N: openai.Int(2)}, "n"},
		{openai.ImageGenerateParams{Prompt: ""}, "prompt"},
	} {
		_, err := client.Images.Generate(context.Background(), tc.params)
		var apiErr *openai.Error
		if assert.ErrorAs(t, err, &apiErr, tc.param) {
			assert.Equal(t, 400, apiErr.StatusCode, tc.param)
			assert.Contains(t, apiErr.Message, tc.param)
		}
	}
	assert.Empty(t, up.requests())

	up.geminiFail = "RESOURCE_EXHAUSTED"
	_, err := client.Images.Generate(context.Background(), openai.ImageGenerateParams{Prompt: "p"})
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 429, apiErr.StatusCode)
	assert.Equal(t, "RESOURCE_EXHAUSTED", apiErr.Code)
	assert.Contains(t, apiErr.Message, "Resource has been exhausted")

	// Bedrock's ValidationException, and Titan's content filter.
	_, err = client.Images.Edit(context.Background(), openai.ImageEditParams{Prompt: "in watercolor", Size: "1000x1000",
		Image: openai.ImageEditParamsImageUnion{OfFile: openai.File(bytes.NewReader(pngFile(t, false)), "cat.png", "image/png")}})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.StatusCode)
	assert.Contains(t, apiErr.Message, "imageGenerationConfig/width")
	_, err = client.Images.Edit(context.Background(), openai.ImageEditParams{Prompt: "forbidden thing",
		Image: openai.ImageEditParamsImageUnion{OfFile: openai.File(bytes.NewReader(pngFile(t, false)), "cat.png", "image/png")}})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.StatusCode)
	assert.Equal(t, "content_policy_violation", apiErr.Code)

	// A Bedrock model of no image family the translator knows.
	other := bedrockImageTarget("image/v1/images/generations")
	other.Model.Name = "meta.llama3-70b-instruct-v1:0"
	p2, _ := surfaceProxy(t, aiproxy.Config{Transport: tr, Targets: []aiproxy.Target{other}})
	client2 := openaiClient(p2)
	_, err = client2.Images.Generate(context.Background(), openai.ImageGenerateParams{Prompt: "p"})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.StatusCode)
	assert.Contains(t, apiErr.Message, "amazon.titan-image")
}

// Image route types on a provider that serves none of them: a 400 naming the route type,
// the providers that serve it and the targets' provider.
func TestImagesUnsupportedProvider(t *testing.T) {
	p, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{{RouteType: "image/v1/images/generations",
		Auth: aiproxy.Auth{HeaderName: "x-api-key", HeaderValue: "k"}, Model: provider.Model{Provider: "anthropic", Name: "claude"}}}})
	resp, err := p.RoundTrip(httptest.NewRequest(http.MethodPost, "/v1/images/generations", strings.NewReader(`{"prompt":"p"}`)))
	require.NoError(t, err)
	out, _ := io.ReadAll(resp.Body)
	assert.Equal(t, 400, resp.StatusCode)
	assert.Contains(t, string(out), "route type image/v1/images/generations is served on providers openai, azure, gemini and bedrock only")
	assert.Contains(t, string(out), "provider anthropic")
}
