// Package huggingface translates Hugging Face's text-generation API, as Text Generation
// Inference (TGI) servers and Inference Endpoints serve it (POST /generate and
// /generate_stream) and the serverless Inference API serves it on a model's URL, to and from
// OpenAI chat completions, so that any chat target can serve a Hugging Face-format client:
// its request becomes a chat-completions request (ParseRequest), the chat completion TGI's
// generated text (Request.Response), the chat stream TGI's server-sent token events
// (Request.NewStream), and OpenAI-format errors TGI's error bodies (Error).
//
// TGI takes a raw prompt, which its model's chat template has not shaped: the translation
// sends it as one user message, so the target applies its own chat template around it.
//
// The translation is pure: no I/O, no state between calls, the same output for the same
// input, so it may run again on every retry. best_of, regex grammars and LoRA adapters have
// no chat equivalent: ParseRequest refuses them with a *format.UnsupportedError naming the
// field. README.md lists what each direction keeps and drops.
package huggingface

import (
	"encoding/json"

	"github.com/aiproxy/aiproxy/format"
	"github.com/aiproxy/aiproxy/format/internal/chat"
)

// api names the translator in its errors.
const api = "huggingface"

// Request is a parsed text-generation request and the chat request that serves it. Chat has
// no model (TGI's request names none: an endpoint serves one), which the proxy sets to the
// target's. The request is immutable once Serverless is set, and may serve any number of
// attempts.
type Request struct {
	// Chat is the OpenAI chat-completions request body: the same bytes on every call.
	Chat []byte
	// Stream reports whether the client asked for server-sent events: the path was
	// /generate_stream, or the body said "stream": true (as the serverless API takes it).
	// Chat then asks for a stream with stream_options.include_usage.
	Stream bool
	// TopK is parameters.top_k. It is not in Chat, since OpenAI's API and most
	// OpenAI-compatible ones refuse it: a proxy adds it for targets whose API takes one.
	TopK *int
	// Serverless makes Response answer as the serverless Inference API does on a model's URL,
	// a one-element array [{"generated_text":...}], rather than TGI's object: the caller
	// sets it from the request's path (a model URL, not /generate). Streams are the same.
	Serverless bool

	inputs   string // the prompt, for return_full_text
	fullText bool   // parameters.return_full_text
	details  bool   // parameters.details
	seed     *int64 // parameters.seed, which details repeat
}

type wireRequest struct {
	Inputs     *string         `json:"inputs"`
	Parameters *wireParameters `json:"parameters"`
	Stream     bool            `json:"stream"`
}

type wireParameters struct {
	MaxNewTokens     *int         `json:"max_new_tokens"`
	Temperature      *float64     `json:"temperature"`
	TopP             *float64     `json:"top_p"`
	TopK             *int         `json:"top_k"`
	Stop             []string     `json:"stop"`
	Seed             *int64       `json:"seed"`
	FrequencyPenalty *float64     `json:"frequency_penalty"`
	Details          bool         `json:"details"`
	ReturnFullText   bool         `json:"return_full_text"`
	BestOf           *int         `json:"best_of"`
	Grammar          *wireGrammar `json:"grammar"`
	AdapterID        string       `json:"adapter_id"`
}

// wireGrammar is TGI's guided generation: a JSON schema or a regular expression.
type wireGrammar struct {
	Type  string          `json:"type"` // json (alias json_object), json_schema, regex
	Value json.RawMessage `json:"value"`
}

func unsupported(field, reason string) error {
	return &format.UnsupportedError{API: api, Field: field, Reason: reason}
}

func invalid(field, msg string) error {
	return &format.InvalidRequestError{API: api, Field: field, Message: msg}
}

// ParseRequest translates a text-generation request body; stream reports whether its path
// was /generate_stream. It returns a *format.InvalidRequestError for a body that is not a
// valid request, and a *format.UnsupportedError for a field the translation cannot express.
func ParseRequest(body []byte, stream bool) (*Request, error) {
	var in wireRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalid("", "the body is not a valid text-generation request: "+err.Error())
	}
	if in.Inputs == nil || *in.Inputs == "" {
		return nil, invalid("inputs", "inputs is required")
	}
	stream = stream || in.Stream
	out := chat.Request{
		Messages: []chat.Message{{Role: "user", Content: chat.Text(*in.Inputs)}},
		Stream:   stream,
	}
	if stream {
		out.StreamOptions = &chat.StreamOptions{IncludeUsage: true}
	}
	r := &Request{Stream: stream, inputs: *in.Inputs}
	if p := in.Parameters; p != nil {
		switch {
		case p.BestOf != nil && *p.BestOf > 1:
			return nil, unsupported("parameters.best_of", "chat completions return no best-of sequences")
		case p.AdapterID != "":
			return nil, unsupported("parameters.adapter_id", "LoRA adapters are loaded only by a TGI server")
		}
		out.MaxCompletionTokens = p.MaxNewTokens
		out.Temperature = p.Temperature
		out.TopP = p.TopP
		out.Stop = p.Stop
		out.Seed = p.Seed
		out.FrequencyPenalty = p.FrequencyPenalty
		r.TopK, r.seed, r.details, r.fullText = p.TopK, p.Seed, p.Details, p.ReturnFullText
		if p.Grammar != nil {
			rf, err := responseFormat(p.Grammar)
			if err != nil {
				return nil, err
			}
			out.ResponseFormat = rf
		}
	}
	chatBody, err := json.Marshal(out)
	if err != nil {
		return nil, invalid("", err.Error())
	}
	r.Chat = chatBody
	return r, nil
}

// jsonSchema is a json_schema response_format.
type jsonSchema struct {
	Type       string `json:"type"` // json_schema
	JSONSchema struct {
		Name   string          `json:"name"`
		Schema json.RawMessage `json:"schema"`
	} `json:"json_schema"`
}

// responseFormat translates a JSON grammar into a json_schema response_format, named as
// the grammar names it, else "grammar".
func responseFormat(g *wireGrammar) (json.RawMessage, error) {
	rf := jsonSchema{Type: "json_schema"}
	s := &rf.JSONSchema
	switch g.Type {
	case "json", "json_object":
		s.Schema = g.Value
	case "json_schema":
		if json.Unmarshal(g.Value, s) != nil {
			return nil, invalid("parameters.grammar.value", "a json_schema grammar's value must be {name, schema}")
		}
	case "regex":
		return nil, unsupported("parameters.grammar", "chat completions take no regular expression grammar")
	default:
		return nil, invalid("parameters.grammar.type", "a grammar's type must be json, json_schema or regex")
	}
	if chat.IsNull(s.Schema) {
		return nil, invalid("parameters.grammar.value", "a grammar needs a JSON schema")
	}
	if s.Name == "" {
		s.Name = "grammar"
	}
	return json.Marshal(rf)
}
