package aiproxy

import (
	"strings"

	"github.com/aiproxy/aiproxy/format/anthropic"
	"github.com/aiproxy/aiproxy/format/bedrock"
	"github.com/aiproxy/aiproxy/format/cohere"
	"github.com/aiproxy/aiproxy/format/gemini"
	"github.com/aiproxy/aiproxy/format/huggingface"
	"github.com/aiproxy/aiproxy/format/responses"
)

// translation is a client request in an API other than OpenAI chat, translated to chat by
// its package of format/: it turns the chat answers back into the client's API.
type translation interface {
	// Response translates a chat completion.
	Response(chat []byte) ([]byte, error)
	// stream returns the framer of one attempt's chat stream.
	stream() framer
}

// translate parses c's body (in c's client API) and translates it to chat: the translation,
// the chat body, and the request's top_k (which chat has not). Its errors are the format
// packages': *format.UnsupportedError, *format.InvalidRequestError.
func (c *call) translate() (translation, []byte, *int, error) {
	switch c.x.api {
	case responsesAPI:
		r, err := responses.ParseRequest(c.body)
		if err != nil {
			return nil, nil, nil, err
		}
		return responsesRequest{r}, r.Chat, nil, nil
	case anthropicAPI:
		r, err := anthropic.ParseRequest(c.body)
		if err != nil {
			return nil, nil, nil, err
		}
		return anthropicRequest{r}, r.Chat, r.TopK, nil
	case geminiAPI:
		r, err := gemini.ParseRequest(c.body, c.model, c.stream)
		if err != nil {
			return nil, nil, nil, err
		}
		return geminiRequest{r, c.req.URL.Query().Get("alt") == "sse"}, r.Chat, r.TopK, nil
	case bedrockAPI:
		r, err := bedrock.ParseRequest(c.body, c.model, c.stream)
		if err != nil {
			return nil, nil, nil, err
		}
		return bedrockRequest{r}, r.Chat, r.TopK, nil
	case huggingfaceAPI:
		r, err := huggingface.ParseRequest(c.body, c.stream)
		if err != nil {
			return nil, nil, nil, err
		}
		path := c.req.URL.Path // TGI's /generate(_stream), else the serverless API's model URL
		r.Serverless = !strings.HasSuffix(path, "/generate") && !strings.HasSuffix(path, "/generate_stream")
		return huggingfaceRequest{r}, r.Chat, r.TopK, nil
	default: // cohereAPI
		r, err := cohere.ParseRequest(c.body)
		if err != nil {
			return nil, nil, nil, err
		}
		return cohereRequest{r}, r.Chat, r.TopK, nil
	}
}

type responsesRequest struct{ *responses.Request }

func (r responsesRequest) stream() framer { return r.NewStream() }

type anthropicRequest struct{ *anthropic.Request }

func (r anthropicRequest) stream() framer { return r.NewStream() }

// geminiRequest streams in server-sent events when the client asked for them (alt=sse), else
// in Gemini's default framing, a JSON array.
type geminiRequest struct {
	*gemini.Request
	sse bool
}

func (r geminiRequest) stream() framer { return r.NewStream(r.sse) }

type cohereRequest struct{ *cohere.Request }

func (r cohereRequest) stream() framer { return r.NewStream() }

type bedrockRequest struct{ *bedrock.Request }

func (r bedrockRequest) stream() framer { return r.NewStream() }

type huggingfaceRequest struct{ *huggingface.Request }

func (r huggingfaceRequest) stream() framer { return r.NewStream() }
