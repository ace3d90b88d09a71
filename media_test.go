package aiproxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// mediaFake is an upstream that speaks OpenAI's audio, image, files, batches, assistants and
// videos APIs as its reference documents them: multipart uploads parsed by the server, binary
// audio, OpenAI error bodies. fail, when set, is the status of every answer.
type mediaFake struct {
	name string
	fail int

	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	method, path, query, auth, contentType string
	body                                   []byte
	model, file                            string // multipart fields, as the server parsed them
}

// audioBytes is a binary audio body: every byte value, NULs and CRLFs included.
var audioBytes = func() []byte {
	b := make([]byte, 100<<10)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}()

func (f *mediaFake) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

func (f *mediaFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	s := seenRequest{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, auth: r.Header.Get("Authorization") + r.Header.Get("Api-Key"),
		contentType: r.Header.Get("Content-Type"), body: raw}
	if strings.HasPrefix(s.contentType, "multipart/form-data") {
		r.Body = io.NopCloser(bytes.NewReader(raw))
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			http.Error(w, `{"error":{"message":"bad multipart: `+err.Error()+`","type":"invalid_request_error"}}`, 400)
			return
		}
		s.model = r.FormValue("model")
		for _, key := range []string{"file", "image"} {
			if fh := r.MultipartForm.File[key]; len(fh) > 0 {
				fd, _ := fh[0].Open()
				b, _ := io.ReadAll(fd)
				s.file = string(b)
			}
		}
	}
	f.mu.Lock()
	f.seen = append(f.seen, s)
	f.mu.Unlock()
	if f.fail != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.fail)
		fmt.Fprintf(w, `{"error":{"message":"%s is failing","type":"server_error","param":null,"code":null}}`, f.name)
		return
	}
	path := r.URL.Path
	path = strings.TrimPrefix(path, "/openai")
	if i := strings.Index(path, "/deployments/"); i >= 0 { // Azure: /openai/deployments/{id}/…
		rest := path[i+len("/deployments/"):]
		path = rest[strings.Index(rest, "/"):]
	}
	path = strings.TrimPrefix(path, "/v1")
	jsonOut := func(v string) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, v)
	}
	switch {
	case path == "/audio/speech":
		var req struct{ Model, Input, Voice string }
		if json.Unmarshal(raw, &req) != nil || req.Input == "" {
			w.WriteHeader(400)
			jsonOut(`{"error":{"message":"input is required","type":"invalid_request_error"}}`)
			return
		}
		w.Header().Set("Content-Type", "audio/mpeg")
		w.Header().Set("X-Model", req.Model)
		w.Write(audioBytes[:len(audioBytes)/2])
		w.(http.Flusher).Flush()
		w.Write(audioBytes[len(audioBytes)/2:])
	case path == "/audio/transcriptions" || path == "/audio/translations":
		if s.file == "" || s.model == "" {
			w.WriteHeader(400)
			jsonOut(`{"error":{"message":"file and model are required","type":"invalid_request_error"}}`)
			return
		}
		if r.FormValue("response_format") == "text" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintf(w, "%d bytes by %s\n", len(s.file), s.model)
			return
		}
		jsonOut(fmt.Sprintf(`{"text":"%d bytes by %s from %s","usage":{"type":"tokens","input_tokens":14,"output_tokens":6,"total_tokens":20}}`, len(s.file), s.model, f.name))
	case path == "/images/generations":
		jsonOut(fmt.Sprintf(`{"created":1700000000,"data":[{"b64_json":"aGVsbG8=","revised_prompt":"from %s"}],"usage":{"input_tokens":10,"output_tokens":100,"total_tokens":110}}`, f.name))
	case path == "/images/edits":
		jsonOut(fmt.Sprintf(`{"created":1700000000,"data":[{"b64_json":"ZWRpdA==","revised_prompt":"%d bytes by %s"}]}`, len(s.file), s.model))
	case path == "/files" && r.Method == http.MethodPost:
		jsonOut(fmt.Sprintf(`{"id":"file-%s","object":"file","bytes":%d,"created_at":1700000000,"filename":"in.jsonl","purpose":%q,"status":"processed"}`, f.name, len(s.file), r.FormValue("purpose")))
	case path == "/files" && r.Method == http.MethodGet:
		jsonOut(fmt.Sprintf(`{"object":"list","data":[{"id":"file-%s","object":"file","bytes":3,"created_at":1700000000,"filename":"in.jsonl","purpose":"batch"}],"has_more":false}`, f.name))
	case strings.HasSuffix(path, "/content") && strings.HasPrefix(path, "/files/"):
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(audioBytes[:1000])
	case strings.HasPrefix(path, "/batches"), strings.HasPrefix(path, "/assistants"), strings.HasPrefix(path, "/threads"), strings.HasPrefix(path, "/videos"):
		jsonOut(fmt.Sprintf(`{"id":"obj_1","object":"thing","method":%q,"path":%q,"from":%q}`, r.Method, r.URL.Path, f.name))
	default:
		w.WriteHeader(404)
		jsonOut(`{"error":{"message":"Invalid URL (` + r.Method + " " + r.URL.Path + `)","type":"invalid_request_error"}}`)
	}
}

// mediaTarget is an OpenAI target of route at the fake srv (a bare host: the proxy adds
// OpenAI's path), with a key of its own.
func mediaTarget(route provider.RouteType, model string, srv *httptest.Server) aiproxy.Target {
	return aiproxy.Target{RouteType: route, Name: srv.URL,
		Auth:  aiproxy.Auth{HeaderName: "Authorization", HeaderValue: "Bearer sk-target"},
		Model: provider.Model{Provider: "openai", Name: model, Options: provider.Options{UpstreamURL: srv.URL}}}
}

func newMediaFake(t *testing.T, name string, fail int) (*mediaFake, *httptest.Server) {
	f := &mediaFake{name: name, fail: fail}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func TestAudioSpeechOpenAIGo(t *testing.T) {
	f, srv := newMediaFake(t, "a", 0)
	p, log := surfaceProxy(t, aiproxy.Config{GenAICategory: "audio/speech", Targets: []aiproxy.Target{mediaTarget("audio/v1/audio/speech", "gpt-4o-mini-tts", srv)}})
	client := openaiClient(p)
	resp, err := client.Audio.Speech.New(context.Background(), openai.AudioSpeechNewParams{
		Model: "tts-1", Input: "Hello there", Voice: openai.AudioSpeechNewParamsVoiceUnion{OfString: openai.String("alloy")}})
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, audioBytes, got)
	assert.Equal(t, "audio/mpeg", resp.Header.Get("Content-Type"))
	assert.Equal(t, "openai/gpt-4o-mini-tts", resp.Header.Get("X-Kong-Llm-Model"))
	seen := f.requests()
	require.Len(t, seen, 1)
	assert.Equal(t, "/v1/audio/speech", seen[0].path)
	assert.Equal(t, "Bearer sk-target", seen[0].auth)
	assert.JSONEq(t, `{"model":"gpt-4o-mini-tts","input":"Hello there","voice":"alloy"}`, string(seen[0].body))
	s := log.last(t)
	assert.Equal(t, provider.RouteType("audio/v1/audio/speech"), s.Route)
	assert.Equal(t, 200, s.Status)
	assert.Equal(t, "tts-1", s.RequestedModel)

	// Through the Handler, the audio is streamed with its Content-Type.
	h := httptest.NewServer(p)
	defer h.Close()
	hr, err := http.Post(h.URL+"/v1/audio/speech", "application/json", strings.NewReader(`{"model":"tts-1","input":"hi","voice":"echo"}`))
	require.NoError(t, err)
	defer hr.Body.Close()
	got, _ = io.ReadAll(hr.Body)
	assert.Equal(t, 200, hr.StatusCode)
	assert.Equal(t, "audio/mpeg", hr.Header.Get("Content-Type"))
	assert.Equal(t, audioBytes, got)

	// GET is not how speech is asked for.
	gr, err := http.Get(h.URL + "/v1/audio/speech")
	require.NoError(t, err)
	gr.Body.Close()
	assert.Equal(t, 405, gr.StatusCode)
}

// speechFile is an upload for the transcription tests.
var speechFile = "RIFF\x00\x00WAVEfmt \r\n--not-a-boundary\r\n" + strings.Repeat("\x00\xff\r\n", 500)

func TestAudioTranscriptionsOpenAIGo(t *testing.T) {
	f, srv := newMediaFake(t, "a", 0)
	p, log := surfaceProxy(t, aiproxy.Config{GenAICategory: "audio/transcription", Targets: []aiproxy.Target{
		mediaTarget("audio/v1/audio/transcriptions", "gpt-4o-transcribe", srv),
		mediaTarget("audio/v1/audio/translations", "whisper-1", srv)}})
	client := openaiClient(p)
	tr, err := client.Audio.Transcriptions.New(context.Background(), openai.AudioTranscriptionNewParams{
		Model: "whisper-1", File: openai.File(strings.NewReader(speechFile), "speech.wav", "audio/wav"), Language: openai.String("en")})
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("%d bytes by gpt-4o-transcribe from a", len(speechFile)), tr.Text)
	seen := f.requests()
	require.Len(t, seen, 1)
	assert.Equal(t, "/v1/audio/transcriptions", seen[0].path)
	assert.Equal(t, speechFile, seen[0].file, "the upload reaches the upstream byte for byte")
	assert.Equal(t, "gpt-4o-transcribe", seen[0].model)
	s := log.last(t)
	assert.Equal(t, 20, s.Usage.TotalTokens)
	assert.Equal(t, 14, s.Usage.PromptTokens)

	tl, err := client.Audio.Translations.New(context.Background(), openai.AudioTranslationNewParams{
		Model: "whisper-1", File: openai.File(strings.NewReader(speechFile), "speech.wav", "audio/wav")})
	require.NoError(t, err)
	assert.Contains(t, tl.Text, "bytes by whisper-1")
	assert.Equal(t, "/v1/audio/translations", f.requests()[1].path)
}

// multipartBody is a transcription upload as a client sends it.
func multipartBody(t *testing.T, model, format string) (body []byte, contentType string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", "speech.wav")
	require.NoError(t, err)
	io.WriteString(fw, speechFile)
	if model != "" {
		mw.WriteField("model", model)
	}
	if format != "" {
		mw.WriteField("response_format", format)
	}
	mw.WriteField("prompt", "names: Zoë, Ærø")
	require.NoError(t, mw.Close())
	return buf.Bytes(), mw.FormDataContentType()
}

// A failed attempt's multipart upload is replayed on the next target byte for byte (the same
// boundary, the same file bytes), with only the model field's value the target's.
func TestAudioTranscriptionRetryReplaysMultipart(t *testing.T) {
	fa, a := newMediaFake(t, "a", 503)
	fb, b := newMediaFake(t, "b", 0)
	fc, c := newMediaFake(t, "c", 0)
	ta := mediaTarget("audio/v1/audio/transcriptions", "", a)
	tb := mediaTarget("audio/v1/audio/transcriptions", "", b)
	tc := mediaTarget("audio/v1/audio/transcriptions", "gpt-4o-mini-transcribe", c)
	ta.Model.Alias, tb.Model.Alias, tc.Model.Alias = "stt", "stt", "stt"
	p, log := surfaceProxy(t, aiproxy.Config{
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Priority, FailoverCriteria: []string{"error", "http_503", "non_idempotent"}},
		Targets:  []aiproxy.Target{withPriority(ta, 3), withPriority(tb, 2), withPriority(tc, 1)}})
	body, ct := multipartBody(t, "stt", "text")
	req := httptest.NewRequest(http.MethodPost, "/v1/audio/transcriptions", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	resp, err := p.RoundTrip(req)
	require.NoError(t, err)
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, string(out))
	assert.Equal(t, fmt.Sprintf("%d bytes by stt\n", len(speechFile)), string(out))
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Len(t, fa.requests(), 1)
	require.Len(t, fb.requests(), 1)
	assert.Empty(t, fc.requests())
	assert.Equal(t, body, fa.requests()[0].body, "first attempt: the client's bytes")
	assert.Equal(t, body, fb.requests()[0].body, "the retry replays them byte for byte")
	assert.Equal(t, ct, fb.requests()[0].contentType)
	s := log.last(t)
	require.Len(t, s.Attempts, 1)
	assert.Equal(t, 503, s.Attempts[0].Status)

	// A target with a model name gets the same bytes with only the model's value replaced.
	fb.fail = 503
	resp, err = p.RoundTrip(withBody(req, body))
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	got := fc.requests()[0]
	assert.Equal(t, "gpt-4o-mini-transcribe", got.model)
	assert.Equal(t, speechFile, got.file)
	assert.Equal(t, string(bytes.Replace(body, []byte("\r\n\r\nstt\r\n"), []byte("\r\n\r\ngpt-4o-mini-transcribe\r\n"), 1)), string(got.body))

	// Through the Handler: the same, over a real connection (a chunked upload).
	h := httptest.NewServer(p)
	defer h.Close()
	hreq, _ := http.NewRequest(http.MethodPost, h.URL+"/v1/audio/transcriptions", io.MultiReader(bytes.NewReader(body[:100]), bytes.NewReader(body[100:])))
	hreq.Header.Set("Content-Type", ct)
	hresp, err := http.DefaultClient.Do(hreq)
	require.NoError(t, err)
	out, _ = io.ReadAll(hresp.Body)
	hresp.Body.Close()
	require.Equal(t, 200, hresp.StatusCode, string(out))
	assert.Equal(t, fmt.Sprintf("%d bytes by gpt-4o-mini-transcribe\n", len(speechFile)), string(out))
	last := func(f *mediaFake) []byte { s := f.requests(); return s[len(s)-1].body }
	assert.Equal(t, body, last(fa))
	assert.Equal(t, body, last(fb))
	assert.Len(t, fc.requests(), 2)
}

func withPriority(t aiproxy.Target, w int) aiproxy.Target { t.Weight = w; return t }

func withBody(r *http.Request, body []byte) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	return r2
}

// Without non_idempotent, a POST that reached an upstream is not sent again (as in Kong).
func TestAudioNoFailoverWithoutNonIdempotent(t *testing.T) {
	_, a := newMediaFake(t, "a", 500)
	fb, b := newMediaFake(t, "b", 0)
	p, _ := surfaceProxy(t, aiproxy.Config{
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Priority, FailoverCriteria: []string{"error", "http_500"}},
		Targets: []aiproxy.Target{withPriority(mediaTarget("audio/v1/audio/transcriptions", "", a), 2),
			withPriority(mediaTarget("audio/v1/audio/transcriptions", "", b), 1)}})
	body, ct := multipartBody(t, "whisper-1", "")
	req := httptest.NewRequest(http.MethodPost, "/v1/audio/transcriptions", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	resp, err := p.RoundTrip(req)
	require.NoError(t, err)
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 500, resp.StatusCode)
	assert.Contains(t, string(out), "a is failing")
	assert.Empty(t, fb.requests())
}

func TestAudioMultipartRefusals(t *testing.T) {
	_, a := newMediaFake(t, "a", 0)
	p, _ := surfaceProxy(t, aiproxy.Config{MaxRequestBodySize: 4096, Targets: []aiproxy.Target{mediaTarget("audio/v1/audio/transcriptions", "", a)}})
	for _, tc := range []struct {
		name, ct, body string
		status         int
		msg            string
	}{
		{"json", "application/json", `{"model":"whisper-1"}`, 400, "multipart/form-data"},
		{"cut off", "multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1", 400, "malformed"},
		{"too large", "multipart/form-data; boundary=XX", strings.Repeat("x", 5000), 413, "max_request_body_size"},
	} {
		req := httptest.NewRequest(http.MethodPost, "/v1/audio/transcriptions", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.ct)
		resp, err := p.RoundTrip(req)
		require.NoError(t, err)
		out, _ := io.ReadAll(resp.Body)
		assert.Equal(t, tc.status, resp.StatusCode, tc.name)
		assert.Contains(t, string(out), tc.msg, tc.name)
	}
}

func TestImagesGenerateOpenAIGoFailover(t *testing.T) {
	fa, a := newMediaFake(t, "a", 429)
	fb, b := newMediaFake(t, "b", 0)
	p, log := surfaceProxy(t, aiproxy.Config{GenAICategory: "image/generation",
		Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Priority, FailoverCriteria: []string{"error", "http_429", "non_idempotent"}},
		Targets: []aiproxy.Target{withPriority(mediaTarget("image/v1/images/generations", "gpt-image-1", a), 2),
			withPriority(mediaTarget("image/v1/images/generations", "dall-e-3", b), 1)}})
	client := openaiClient(p)
	img, err := client.Images.Generate(context.Background(), openai.ImageGenerateParams{Prompt: "a red fox", Model: "dall-e-2", N: openai.Int(1)})
	require.NoError(t, err)
	require.Len(t, img.Data, 1)
	assert.Equal(t, "aGVsbG8=", img.Data[0].B64JSON)
	assert.Equal(t, "from b", img.Data[0].RevisedPrompt)
	require.Len(t, fa.requests(), 1)
	assert.Contains(t, string(fa.requests()[0].body), `"model":"gpt-image-1"`)
	assert.Contains(t, string(fb.requests()[0].body), `"model":"dall-e-3"`)
	assert.Contains(t, string(fb.requests()[0].body), `"prompt":"a red fox"`)
	s := log.last(t)
	assert.Equal(t, 110, s.Usage.TotalTokens)
	require.Len(t, s.Attempts, 1)
	assert.Equal(t, 429, s.Attempts[0].Status)
}

func TestImageEditsMultipart(t *testing.T) {
	f, srv := newMediaFake(t, "a", 0)
	p, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{mediaTarget("image/v1/images/edits", "gpt-image-1", srv)}})
	client := openaiClient(p)
	img, err := client.Images.Edit(context.Background(), openai.ImageEditParams{Prompt: "add a hat", Model: "dall-e-2",
		Image: openai.ImageEditParamsImageUnion{OfFile: openai.File(strings.NewReader("\x89PNG\r\n\x1a\n"+speechFile), "cat.png", "image/png")}})
	require.NoError(t, err)
	require.Len(t, img.Data, 1)
	assert.Equal(t, fmt.Sprintf("%d bytes by gpt-image-1", len(speechFile)+8), img.Data[0].RevisedPrompt)
	assert.Equal(t, "/v1/images/edits", f.requests()[0].path)
}

func TestFilesOpenAIGo(t *testing.T) {
	f, srv := newMediaFake(t, "a", 0)
	p, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{mediaTarget("llm/v1/files", "", srv)}})
	client := openaiClient(p)
	fo, err := client.Files.New(context.Background(), openai.FileNewParams{File: openai.File(strings.NewReader(`{"a":1}`+"\n"), "in.jsonl", "application/jsonl"), Purpose: openai.FilePurposeBatch})
	require.NoError(t, err)
	assert.Equal(t, "file-a", fo.ID)
	assert.Equal(t, int64(8), fo.Bytes)
	page, err := client.Files.List(context.Background(), openai.FileListParams{Limit: openai.Int(5)})
	require.NoError(t, err)
	require.Len(t, page.Data, 1)
	assert.Equal(t, "file-a", page.Data[0].ID)
	content, err := client.Files.Content(context.Background(), "file-a")
	require.NoError(t, err)
	got, _ := io.ReadAll(content.Body)
	content.Body.Close()
	assert.Equal(t, audioBytes[:1000], got)
	seen := f.requests()
	require.Len(t, seen, 3)
	assert.Equal(t, "POST /v1/files", seen[0].method+" "+seen[0].path)
	assert.Equal(t, "GET /v1/files", seen[1].method+" "+seen[1].path)
	assert.Equal(t, "limit=5", seen[1].query)
	assert.Equal(t, "GET /v1/files/file-a/content", seen[2].method+" "+seen[2].path)
	for _, s := range seen {
		assert.Equal(t, "Bearer sk-target", s.auth)
	}
}

// Batches and assistants pass through with any method and sub-path; a GET (idempotent) fails
// over after it reached an upstream, a POST does not without non_idempotent.
func TestBatchesAssistantsPassthrough(t *testing.T) {
	fa, a := newMediaFake(t, "a", 500)
	fb, b := newMediaFake(t, "b", 0)
	targets := []aiproxy.Target{}
	for _, rt := range []provider.RouteType{"llm/v1/batches", "llm/v1/assistants"} {
		targets = append(targets, withPriority(mediaTarget(rt, "", a), 2), withPriority(mediaTarget(rt, "", b), 1))
	}
	p, _ := surfaceProxy(t, aiproxy.Config{Balancer: aiproxy.BalancerConfig{Algorithm: aiproxy.Priority, FailoverCriteria: []string{"error", "http_500"}}, Targets: targets})
	h := httptest.NewServer(p)
	defer h.Close()
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, h.URL+path, strings.NewReader(body))
		if body == "" {
			req.Body = nil
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("OpenAI-Beta", "assistants=v2")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	st, out := do(http.MethodGet, "/v1/batches/batch_1", "")
	assert.Equal(t, 200, st)
	assert.JSONEq(t, `{"id":"obj_1","object":"thing","method":"GET","path":"/v1/batches/batch_1","from":"b"}`, out)
	st, out = do(http.MethodPost, "/v1/threads/thread_1/messages", `{"role":"user","content":"hi"}`)
	assert.Equal(t, 500, st, "a POST that reached the upstream is not retried")
	assert.Contains(t, out, "a is failing")
	fa.fail = 0
	st, out = do(http.MethodPost, "/v1/threads/thread_1/runs/run_1/cancel", "")
	assert.Equal(t, 200, st)
	assert.Contains(t, out, `"path":"/v1/threads/thread_1/runs/run_1/cancel"`)
	st, _ = do(http.MethodDelete, "/v1/assistants/asst_1", "")
	assert.Equal(t, 200, st)
	last := fa.requests()[len(fa.requests())-1]
	assert.Equal(t, "DELETE /v1/assistants/asst_1", last.method+" "+last.path)
	assert.Len(t, fb.requests(), 1)
	// A route type no target serves here is still 404.
	st, out = do(http.MethodGet, "/v1/files", "")
	assert.Equal(t, 404, st)
	assert.Contains(t, out, "/v1/batches/… (llm/v1/batches)")
}

func TestVideoAndPreserve(t *testing.T) {
	f, srv := newMediaFake(t, "a", 0)
	p, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{mediaTarget("video/v1/videos/generations", "sora-2", srv)}})
	client := openaiClient(p)
	var out map[string]any
	require.NoError(t, client.Post(context.Background(), "videos", map[string]any{"model": "sora-2", "prompt": "waves"}, &out))
	assert.Equal(t, "/v1/videos", out["path"])
	require.NoError(t, client.Get(context.Background(), "videos/video_1", nil, &out))
	assert.Equal(t, "/v1/videos/video_1", out["path"])

	// preserve: the request as it is, any path, to the target's host, with its auth.
	fp, ps := newMediaFake(t, "p", 0)
	pp, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{mediaTarget("preserve", "", ps)}})
	req := httptest.NewRequest(http.MethodPost, "/v1/assistants/x?limit=2", strings.NewReader(`{"a":1}`))
	req.Header.Set("Authorization", "Bearer sk-client")
	resp, err := pp.RoundTrip(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, 200, resp.StatusCode, string(body))
	got := fp.requests()[0]
	assert.Equal(t, "/v1/assistants/x", got.path)
	assert.Equal(t, "limit=2", got.query)
	assert.Equal(t, `{"a":1}`, string(got.body))
	assert.Equal(t, "Bearer sk-target", got.auth)
	_ = f
}

// Azure: the deployment URL of each API, api-version, the api-key header.
func TestAudioImageFilesAzureURLs(t *testing.T) {
	f, srv := newMediaFake(t, "az", 0)
	var urls []string
	var mu sync.Mutex
	tr := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		urls = append(urls, r.Method+" "+r.URL.String())
		mu.Unlock()
		r2 := r.Clone(r.Context())
		r2.URL.Scheme, r2.URL.Host = "http", strings.TrimPrefix(srv.URL, "http://")
		return http.DefaultTransport.RoundTrip(r2)
	})
	az := func(rt provider.RouteType, dep, ver string) aiproxy.Target {
		return aiproxy.Target{RouteType: rt, Auth: aiproxy.Auth{HeaderName: "api-key", HeaderValue: "az-key"},
			Model: provider.Model{Provider: "azure", Name: "m-" + dep, Options: provider.Options{AzureInstance: "acme", AzureDeploymentID: dep, AzureAPIVersion: ver}}}
	}
	p, _ := surfaceProxy(t, aiproxy.Config{Transport: tr, Targets: []aiproxy.Target{
		az("audio/v1/audio/speech", "tts", ""), az("audio/v1/audio/transcriptions", "whisper", "2025-03-01-preview"),
		az("image/v1/images/generations", "dalle", ""), az("llm/v1/files", "", ""), az("llm/v1/assistants", "", ""),
	}})
	client := openaiClient(p)
	resp, err := client.Audio.Speech.New(context.Background(), openai.AudioSpeechNewParams{Model: "tts-1", Input: "hi", Voice: openai.AudioSpeechNewParamsVoiceUnion{OfString: openai.String("alloy")}})
	require.NoError(t, err)
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, audioBytes, got)
	_, err = client.Audio.Transcriptions.New(context.Background(), openai.AudioTranscriptionNewParams{Model: "whisper-1", File: openai.File(strings.NewReader(speechFile), "a.wav", "audio/wav")})
	require.NoError(t, err)
	_, err = client.Images.Generate(context.Background(), openai.ImageGenerateParams{Prompt: "x", Model: "dall-e-3"})
	require.NoError(t, err)
	_, err = client.Files.List(context.Background(), openai.FileListParams{})
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, client.Get(context.Background(), "threads/t1/runs", nil, &out, option.WithHeader("OpenAI-Beta", "assistants=v2")))
	assert.Equal(t, []string{
		"POST https://acme.openai.azure.com/openai/deployments/tts/audio/speech?api-version=2024-10-21",
		"POST https://acme.openai.azure.com/openai/deployments/whisper/audio/transcriptions?api-version=2025-03-01-preview",
		"POST https://acme.openai.azure.com/openai/deployments/dalle/images/generations?api-version=2024-10-21",
		"GET https://acme.openai.azure.com/openai/files?api-version=2024-10-21",
		"GET https://acme.openai.azure.com/openai/threads/t1/runs?api-version=2024-05-01-preview",
	}, urls)
	for _, s := range f.requests() {
		assert.Equal(t, "az-key", s.auth)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Other providers do not serve these route types: a 400 naming the route type and provider.
func TestAudioRouteUnsupportedProvider(t *testing.T) {
	p, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{{RouteType: "audio/v1/audio/speech",
		Auth: aiproxy.Auth{HeaderName: "x-api-key", HeaderValue: "k"}, Model: provider.Model{Provider: "anthropic", Name: "claude"}}}})
	req := httptest.NewRequest(http.MethodPost, "/v1/audio/speech", strings.NewReader(`{"model":"tts-1","input":"hi","voice":"alloy"}`))
	resp, err := p.RoundTrip(req)
	require.NoError(t, err)
	out, _ := io.ReadAll(resp.Body)
	assert.Equal(t, 400, resp.StatusCode)
	assert.Contains(t, string(out), "route type audio/v1/audio/speech is served on providers openai and azure only")
	assert.Contains(t, string(out), "provider anthropic")
}

// An upstream's error on a media route is answered in OpenAI's format with its status.
func TestAudioUpstreamError(t *testing.T) {
	_, srv := newMediaFake(t, "a", 0)
	p, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{mediaTarget("audio/v1/audio/speech", "", srv)}})
	client := openaiClient(p)
	_, err := client.Audio.Speech.New(context.Background(), openai.AudioSpeechNewParams{Model: "tts-1", Voice: openai.AudioSpeechNewParamsVoiceUnion{OfString: openai.String("alloy")}})
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.StatusCode)
	assert.Contains(t, apiErr.Message, "input is required")
}

// Speech audio reaches the Handler's client as the upstream sends it, not when it ends.
func TestAudioSpeechStreamsUnbuffered(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/opus")
		w.Write(audioBytes[:4096])
		w.(http.Flusher).Flush()
		<-release
		w.Write(audioBytes[4096:8192])
	}))
	defer srv.Close()
	defer close(release)
	p, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{mediaTarget("audio/v1/audio/speech", "tts-1", srv)}})
	h := httptest.NewServer(p)
	defer h.Close()
	resp, err := http.Post(h.URL+"/v1/audio/speech", "application/json", strings.NewReader(`{"model":"tts-1","input":"hi","voice":"alloy","response_format":"opus"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "audio/opus", resp.Header.Get("Content-Type"))
	first := make([]byte, 4096)
	_, err = io.ReadFull(resp.Body, first) // before the upstream has sent the rest
	require.NoError(t, err)
	assert.Equal(t, audioBytes[:4096], first)
	release <- struct{}{}
	rest, _ := io.ReadAll(resp.Body)
	assert.Equal(t, audioBytes[4096:8192], rest)
}

// An upload without a model field gets the target's model name as a last field.
func TestAudioMultipartModelAdded(t *testing.T) {
	f, srv := newMediaFake(t, "a", 0)
	p, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{mediaTarget("audio/v1/audio/translations", "whisper-1", srv)}})
	body, ct := multipartBody(t, "", "")
	req := httptest.NewRequest(http.MethodPost, "/v1/audio/translations", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	resp, err := p.RoundTrip(req)
	require.NoError(t, err)
	out, _ := io.ReadAll(resp.Body)
	require.Equal(t, 200, resp.StatusCode, string(out))
	got := f.requests()[0]
	assert.Equal(t, "whisper-1", got.model)
	assert.Equal(t, speechFile, got.file)
}

// A path of the host's choosing serves the route type all targets share; preserve takes the
// paths that no other route type served takes.
func TestAudioHostPathAndPreserveBeside(t *testing.T) {
	fs, s := newMediaFake(t, "speech", 0)
	fp, ps := newMediaFake(t, "p", 0)
	only, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{mediaTarget("audio/v1/audio/speech", "tts-1", s)}})
	resp, err := only.RoundTrip(httptest.NewRequest(http.MethodPost, "/tts", strings.NewReader(`{"model":"x","input":"hi","voice":"alloy"}`)))
	require.NoError(t, err)
	got, _ := io.ReadAll(resp.Body)
	assert.Equal(t, audioBytes, got)
	assert.Equal(t, "/v1/audio/speech", fs.requests()[0].path)

	mixed, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{mediaTarget("audio/v1/audio/speech", "tts-1", s), mediaTarget("preserve", "", ps)}})
	resp, err = mixed.RoundTrip(httptest.NewRequest(http.MethodPost, "/v1/audio/speech", strings.NewReader(`{"model":"x","input":"hi","voice":"alloy"}`)))
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	assert.Len(t, fs.requests(), 2)
	resp, err = mixed.RoundTrip(httptest.NewRequest(http.MethodGet, "/v1/threads/t1", nil))
	require.NoError(t, err)
	out, _ := io.ReadAll(resp.Body)
	assert.Equal(t, 200, resp.StatusCode, string(out))
	assert.Equal(t, "GET /v1/threads/t1", fp.requests()[0].method+" "+fp.requests()[0].path)
}

// A resource's sub-path is sent as it came, escapes kept; dot segments are refused.
func TestFilesPathEscapes(t *testing.T) {
	f, srv := newMediaFake(t, "a", 0)
	p, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{mediaTarget("llm/v1/files", "", srv)}})
	h := httptest.NewServer(p)
	defer h.Close()
	resp, err := http.Get(h.URL + "/v1/files/file%3Fx%2Fy/content?limit=1")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	got := f.requests()[0]
	assert.Equal(t, "/v1/files/file?x/y/content", got.path)
	assert.Equal(t, "limit=1", got.query)
	for _, path := range []string{"/v1/files/../chat/completions", "/v1/files/%2e%2e/chat/completions"} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL, err = url.Parse("https://api.openai.com" + path)
		require.NoError(t, err)
		resp, err := p.RoundTrip(req)
		require.NoError(t, err)
		out, _ := io.ReadAll(resp.Body)
		assert.Equal(t, 400, resp.StatusCode, path)
		assert.Contains(t, string(out), "invalid_path", path)
	}
	assert.Len(t, f.requests(), 1)
}

// preserve sends the client's escaped path as it came.
func TestPreserveEscapedPath(t *testing.T) {
	f, srv := newMediaFake(t, "p", 0)
	p, _ := surfaceProxy(t, aiproxy.Config{Targets: []aiproxy.Target{mediaTarget("preserve", "", srv)}})
	h := httptest.NewServer(p)
	defer h.Close()
	resp, err := http.Get(h.URL + "/v1/videos/a%3Fb")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "/v1/videos/a?b", f.requests()[0].path)
	assert.Empty(t, f.requests()[0].query)
}
