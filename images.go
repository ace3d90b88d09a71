package aiproxy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
)

// The image route types on Gemini and Bedrock targets: unlike OpenAI's and Azure's, which
// get the client's request as it is, they are translated by the target's provider
// (provider/gemini, provider/bedrock), as Kong 3.13+ serves them: a generation's JSON body
// as it came, an edit's multipart upload as OpenAI's JSON edit body (imageEditJSON), each
// answer translated to OpenAI's Images response.

// imageTranslated reports whether t serves its image route type through its provider's
// translation.
func imageTranslated(t *target) bool {
	if t.cfg.Provider != nil || t.cfg.RouteType != routeImageGenerations && t.cfg.RouteType != routeImageEdits {
		return false
	}
	switch t.cfg.Model.Provider {
	case "gemini", "bedrock":
		return true
	}
	return false
}

// tryImage makes one attempt of an image request on a target that translates it: the
// provider builds (and signs) the upstream request and reads its answer, as for chat.
func (p *Proxy) tryImage(c *call, t *target) (*http.Response, *failed) {
	stats := &c.stats
	t.inflight.Add(1)
	sent := p.now()
	c.attemptStart = sent
	body, f := c.imageBody(t)
	var u upstream
	if f == nil {
		u, f = t.requestModel(c.ctx, c.route, body, false, c.req, c.mediaModel(t))
	}
	if f != nil {
		t.inflight.Add(-1)
		return nil, f
	}
	resp, f := p.send(c, t, t.prov, u, false)
	if f != nil {
		return nil, f
	}
	raw, err := readAll(resp.Body, resp.ContentLength, maxResponse)
	resp.Body.Close()
	t.inflight.Add(-1)
	if errors.Is(err, errTooLarge) {
		return nil, invalidResponse(fmt.Errorf("the upstream response is larger than %d MiB", maxResponse>>20))
	}
	if err != nil {
		return nil, readFailure(err)
	}
	out, err := t.prov.ParseResponse(u.preq, resp.Header, raw)
	if err != nil {
		// An answer that cannot be read (502) is an invalid response; one the upstream
		// refused in its body (a content filter: 400) keeps its status.
		return nil, streamFailure(err)
	}
	out.Body = secret.Redact(out.Body, c.creds[:])
	c.servedBy(t)
	p.succeeded(t, stats, out.Usage, out.Model, p.now().Sub(sent))
	c.keepResponse(t, out.Body)
	return jsonResponse(c.req, http.StatusOK, p.clientHeader(resp.Header, t, stats), out.Body), nil
}

// imageBody is the OpenAI request t's provider translates: a generation's JSON with t's
// model name, an edit's JSON form (made once per request).
func (c *call) imageBody(t *target) ([]byte, *failed) {
	m := c.media
	if m.kind != mediaMultipart {
		return c.mediaBodyFor(t), nil
	}
	if m.editJSON == nil {
		b, err := imageEditJSON(c.body, m.boundary)
		if err != nil {
			return nil, &failed{err: &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: err.Error()}}
		}
		m.editJSON = b
	}
	return m.editJSON, nil
}

// imageEditJSON turns an image edit's multipart/form-data upload into the JSON body that
// OpenAI's API also takes: image (or image[]) files become "images": [{"image_url":
// "data:<type>;base64,…"}] and mask "mask": {"image_url": …}, each file's type its part's
// Content-Type (sniffed when that is absent or application/octet-stream); every other field
// is a JSON string ("n": "2"), the last of a repeated one. A file in any other field, and a
// field named images, are refused.
func imageEditJSON(body []byte, boundary string) ([]byte, error) {
	fields := map[string]any{}
	var images []map[string]string
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the multipart/form-data body is malformed: %v", err)
		}
		name := part.FormName()
		data, err := io.ReadAll(part)
		if err != nil {
			return nil, fmt.Errorf("the multipart/form-data body is malformed: %v", err)
		}
		switch {
		case name == "image" || name == "image[]" || name == "mask":
			ct := part.Header.Get("Content-Type")
			if ct == "" || ct == "application/octet-stream" {
				ct = http.DetectContentType(data)
			}
			img := map[string]string{"image_url": "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(data)}
			if name == "mask" {
				fields["mask"] = img
			} else {
				images = append(images, img)
			}
		case name == "images":
			return nil, errors.New("the form field images is not an image edit's: send the files as image (or image[])")
		case part.FileName() != "":
			return nil, fmt.Errorf("the form field %s is a file, which image edits on this target do not take", name)
		case name != "":
			fields[name] = string(data)
		}
	}
	if images != nil {
		fields["images"] = images
	}
	return json.Marshal(fields)
}
