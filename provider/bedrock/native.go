package bedrock

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// NativeRequest builds a Converse ("converse") or ConverseStream ("converse-stream")
// request on model whose body, r.Body, is already in Bedrock's format (a client of Bedrock's
// own API, passed through): the URL and headers NewRequest gives, ready for Sign.
func (p Provider) NativeRequest(ctx context.Context, r *provider.Request, model, op string) (*http.Request, error) {
	if model == "" {
		return nil, xlate.BadRequest("model", "bedrock: no model id")
	}
	var u *url.URL
	var err error
	if up := r.Model.Options.UpstreamURL; up != "" {
		// A host-only upstream_url gets the operation's path; a whole URL is used as it is,
		// its "/converse" made "/converse-stream" for a stream.
		raw := openai.URL("", "/model/"+escapePath(model)+"/"+op, r)
		if op == "converse-stream" && strings.HasSuffix(raw, "/converse") {
			raw += "-stream"
		}
		u, err = url.Parse(raw)
	} else {
		u, err = operationURL(r, model, op)
	}
	if err != nil {
		return nil, err
	}
	if reg := region(r); reg != "" {
		ctx = context.WithValue(ctx, regionKey{}, reg)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(string(r.Body)))
	if err != nil {
		return nil, err
	}
	req.Header["Content-Type"] = []string{"application/json"}
	if op == "converse-stream" {
		req.Header["Accept"] = []string{"application/vnd.amazon.eventstream"}
	} else {
		req.Header["Accept"] = []string{"application/json"}
	}
	return req, nil
}

// NativeUsage reads the usage of a Converse response body (or of a ConverseStream metadata
// event) as OpenAI's counts; zero when it has none.
func NativeUsage(body []byte) provider.Usage {
	var doc struct {
		Usage *usage `json:"usage"`
	}
	_ = json.Unmarshal(body, &doc)
	return doc.Usage.toUsage()
}

// NewRawStream relays a ConverseStream event stream as it came: each Next returns one
// whole frame's bytes (valid until the next call), checked for length and CRCs; an exception
// or error frame is returned as the error it carries; Usage is the metadata event's.
func NewRawStream(body io.Reader) provider.Stream {
	return &rawStream{fr: newFrameReader(body)}
}

type rawStream struct {
	fr    *frameReader
	usage provider.Usage
}

func (s *rawStream) Usage() provider.Usage { return s.usage }

func (s *rawStream) Next() ([]byte, error) {
	m, err := s.fr.next()
	switch {
	case err == io.EOF:
		return nil, err
	case err != nil:
		return nil, xlate.BadGateway("bedrock: reading the event stream: " + err.Error())
	}
	switch string(m.messageType) {
	case "exception":
		var doc struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(m.payload, &doc)
		return nil, newError(0, string(m.exceptionType), doc.Message)
	case "error":
		return nil, newError(0, string(m.errorCode), string(m.errorMessage))
	}
	if string(m.eventType) == "metadata" {
		s.usage = NativeUsage(m.payload)
	}
	return s.fr.raw, nil
}
