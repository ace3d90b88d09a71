package llama2

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/chunk"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// Raw is llama2_format "raw": a Llama 2 prompt to a text-generation server.
type Raw struct {
	// Now is the clock for the created field; nil means time.Now.
	Now func() time.Time
}

var _ provider.Provider = Raw{}

// Prompt renders chat messages in Llama 2's chat template
// (https://huggingface.co/blog/llama2#how-to-prompt-llama-2): system messages go into the
// first instruction's <<SYS>> block; each user turn is an [INST] and each assistant answer
// closes its turn with </s>.
func Prompt(msgs []provider.Message) (string, error) {
	var system []string
	var b strings.Builder
	open := false // an [INST] is open, waiting for [/INST]
	for _, m := range msgs {
		if m.Content.Parts != nil {
			for _, p := range m.Content.Parts {
				if p.Type != "text" {
					return "", xlate.BadRequest("messages", "llama2 raw format takes text only")
				}
			}
		}
		text := strings.TrimSpace(m.Content.String())
		switch m.Role {
		case "system", "developer":
			system = append(system, text)
		case "user":
			if open { // two user turns in a row: one instruction
				b.WriteString("\n")
				b.WriteString(text)
				continue
			}
			b.WriteString("<s>[INST] ")
			if len(system) > 0 {
				b.WriteString("<<SYS>>\n" + strings.Join(system, "\n") + "\n<</SYS>>\n\n")
				system = nil
			}
			b.WriteString(text)
			open = true
		case "assistant":
			if len(m.ToolCalls) > 0 {
				return "", xlate.BadRequest("messages", "llama2 raw format has no tool calls")
			}
			if !open {
				return "", xlate.BadRequest("messages", "llama2 raw format: an assistant message must follow a user message")
			}
			b.WriteString(" [/INST] " + text + " </s>")
			open = false
		case "tool":
			return "", xlate.BadRequest("messages", "llama2 raw format has no tool results")
		default:
			return "", xlate.BadRequest("messages", "unknown message role "+m.Role)
		}
	}
	if !open {
		return "", xlate.BadRequest("messages", "llama2 raw format: the last message must be from the user")
	}
	b.WriteString(" [/INST]")
	return b.String(), nil
}

type rawRequest struct {
	Inputs     string        `json:"inputs"`
	Parameters rawParameters `json:"parameters"`
}

type rawParameters struct {
	MaxNewTokens *int     `json:"max_new_tokens,omitempty"`
	Temperature  *float64 `json:"temperature,omitempty"`
	TopP         *float64 `json:"top_p,omitempty"`
	TopK         *int     `json:"top_k,omitempty"`
	Stop         []string `json:"stop,omitempty"`
	Seed         *int     `json:"seed,omitempty"`
}

// NewRequest posts {"inputs": prompt, "parameters": {...}} to upstream_url. The upstream is
// never asked to stream; NewStream turns its one answer into chunks.
func (Raw) NewRequest(ctx context.Context, r *provider.Request) (*http.Request, error) {
	if r.RouteType != provider.Chat {
		return nil, xlate.BadRequest("", "llama2 raw format: route type "+string(r.RouteType)+" is not supported")
	}
	req, err := xlate.DecodeChat(r)
	if err != nil {
		return nil, err
	}
	if len(req.Tools) > 0 {
		return nil, xlate.BadRequest("tools", "llama2 raw format has no tools")
	}
	prompt, err := Prompt(req.Messages)
	if err != nil {
		return nil, err
	}
	out := rawRequest{Inputs: prompt, Parameters: rawParameters{MaxNewTokens: req.MaxCompletionTokens,
		Temperature: req.Temperature, TopP: req.TopP, TopK: req.TopK, Stop: req.Stop, Seed: req.Seed}}
	if out.Parameters.MaxNewTokens == nil {
		out.Parameters.MaxNewTokens = req.MaxTokens
	}
	body, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return openai.NewJSONRequest(ctx, r.Model.Options.UpstreamURL, body, false)
}

// rawAnswer is the union of the answers text-generation servers give.
type rawAnswer struct {
	GeneratedText *string `json:"generated_text"`
	Details       *struct {
		FinishReason    string `json:"finish_reason"`
		GeneratedTokens int    `json:"generated_tokens"`
	} `json:"details"`
	// llama.cpp's /completion.
	Content         *string `json:"content"`
	TokensPredicted int     `json:"tokens_predicted"`
	TokensEvaluated int     `json:"tokens_evaluated"`
	StoppedLimit    bool    `json:"stopped_limit"`
	// Kong's documented shape: {"data": [{"generated_text": ...}], "usage": {...}}.
	Data  []rawAnswer     `json:"data"`
	Usage *provider.Usage `json:"usage"`
}

// parseRaw reads the reply text, finish reason and usage of a text-generation answer:
// Kong's {"data":[{"generated_text"}]}, Hugging Face's [{"generated_text"}], TGI's
// {"generated_text","details"} or llama.cpp's {"content"}.
func parseRaw(body []byte) (text, finish string, u provider.Usage, err error) {
	body = bytes.TrimSpace(body)
	var a rawAnswer
	if len(body) > 0 && body[0] == '[' {
		var list []rawAnswer
		if err := json.Unmarshal(body, &list); err != nil || len(list) == 0 {
			return "", "", u, xlate.BadGateway("llama2: cannot decode the response")
		}
		a = list[0]
	} else if err := json.Unmarshal(body, &a); err != nil {
		return "", "", u, xlate.BadGateway("llama2: cannot decode the response: " + err.Error())
	}
	usage := a.Usage
	if len(a.Data) > 0 {
		a = a.Data[0]
	}
	finish = xlate.Stop
	switch {
	case a.GeneratedText != nil:
		text = *a.GeneratedText
		if a.Details != nil {
			u.CompletionTokens = a.Details.GeneratedTokens
			if a.Details.FinishReason == "length" {
				finish = xlate.Length
			}
		}
	case a.Content != nil:
		text = *a.Content
		u.PromptTokens, u.CompletionTokens = a.TokensEvaluated, a.TokensPredicted
		if a.StoppedLimit {
			finish = xlate.Length
		}
	default:
		return "", "", u, xlate.BadGateway("llama2: the response has no generated text")
	}
	// Servers that echo the prompt: the reply is what follows the last [/INST].
	if i := strings.LastIndex(text, "[/INST]"); i >= 0 {
		text = text[i+len("[/INST]"):]
	}
	text = strings.TrimSpace(text)
	if usage != nil {
		u = *usage
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return text, finish, u, nil
}

// ParseResponse translates a text-generation answer into a chat.completion.
func (p Raw) ParseResponse(r *provider.Request, h http.Header, body []byte) (*provider.Response, error) {
	text, finish, u, err := parseRaw(body)
	if err != nil {
		return nil, err
	}
	var reqBody []byte
	if r != nil {
		reqBody = r.Body
	}
	out, err := xlate.Completion(xlate.ID("chatcmpl-", reqBody, body), xlate.Model(r), xlate.Created(h, p.Now), &text, nil, finish, u)
	if err != nil {
		return nil, err
	}
	return &provider.Response{Body: out, Usage: u}, nil
}

// ParseError reads {"error": ...} bodies (TGI, Hugging Face: 503 while a model loads).
func (Raw) ParseError(_ *provider.Request, status int, h http.Header, body []byte) *provider.Error {
	return openai.ParseErrorBody(status, h, body)
}

// NewStream reads the whole (non-streamed) answer and yields it as a chunk stream.
func (p Raw) NewStream(r *provider.Request, h http.Header, body io.Reader) provider.Stream {
	s := &rawStream{}
	all, err := io.ReadAll(io.LimitReader(body, xlate.Limit+1))
	switch {
	case err != nil:
		s.err = xlate.BadGateway("llama2: reading the response: " + err.Error())
		return s
	case len(all) > xlate.Limit:
		s.err = xlate.BadGateway("llama2: the response exceeds the size limit")
		return s
	}
	text, finish, u, perr := parseRaw(all)
	if perr != nil {
		s.err = perr
		return s
	}
	var reqBody []byte
	if r != nil {
		reqBody = r.Body
	}
	w := chunk.NewWriter(xlate.ID("chatcmpl-", reqBody, all), xlate.Model(r), xlate.Created(h, p.Now))
	s.usage = u
	s.q.Push(w.Role(s.q.Buf()))
	if text != "" {
		s.q.Push(w.Text(s.q.Buf(), text))
	}
	s.q.Push(w.Finish(s.q.Buf(), finish))
	if r != nil && chunk.IncludeUsage(r.Body) {
		s.q.Push(w.Usage(s.q.Buf(), u))
	}
	return s
}

type rawStream struct {
	q     chunk.Queue
	usage provider.Usage
	err   error
}

func (s *rawStream) Next() ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	if c := s.q.Pop(); c != nil {
		return c, nil
	}
	return nil, io.EOF
}

func (s *rawStream) Usage() provider.Usage { return s.usage }
