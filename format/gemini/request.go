// Package gemini translates Google's Gemini API (generateContent and streamGenerateContent,
// POST /v1beta/models/{model}:generateContent), as the Google GenAI SDKs and other Gemini
// clients speak it, to and from OpenAI chat completions, so that any chat target can serve a
// Gemini-format client: its request becomes a chat-completions request (ParseRequest), the
// chat completion a GenerateContentResponse (Request.Response), the chat stream Gemini's
// streamed responses, as server-sent events (?alt=sse) or as one JSON array
// (Request.NewStream), and OpenAI-format errors Google's error objects (Error).
//
// This is the opposite direction of package provider/gemini, which serves OpenAI-format
// clients from Gemini's API.
//
// The translation is pure: no I/O, no state between calls, the same output for the same
// input (ids are derived from the request and the chat completion's), so it may run again on
// every retry. Cached content, uploaded files (gs:// and File API URIs), Google's built-in
// tools (Google Search, code execution, URL context…) and non-text output modalities have no
// chat equivalent: ParseRequest refuses them with a *format.UnsupportedError naming the
// field. README.md lists what each direction keeps and drops.
package gemini

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/aiproxy/aiproxy/format"
	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/provider"
)

// api names the translator in its errors.
const api = "gemini"

// Request is a parsed Gemini request and the chat request that serves it. It is immutable
// and may serve any number of attempts.
type Request struct {
	// Chat is the OpenAI chat-completions request body: the same bytes on every call.
	Chat []byte
	// Model is the model of the request's URL path, without "models/".
	Model string
	// Stream reports whether the client called streamGenerateContent. Chat then asks for a
	// stream with stream_options.include_usage, whose usage the last event reports.
	Stream bool
	// TopK is generationConfig.topK. It is not in Chat, since OpenAI's API and most
	// OpenAI-compatible ones refuse it: a proxy adds it for targets whose API takes one.
	TopK *int

	thoughts bool // thinkingConfig.includeThoughts: return reasoning as thought parts
}

type wireRequest struct {
	Contents          []wireContent   `json:"contents"`
	SystemInstruction *wireContent    `json:"systemInstruction"`
	Tools             []wireTool      `json:"tools"`
	ToolConfig        *wireToolConfig `json:"toolConfig"`
	GenerationConfig  *wireConfig     `json:"generationConfig"`
	CachedContent     string          `json:"cachedContent"`
}

type wireContent struct {
	Role  string     `json:"role"`
	Parts []wirePart `json:"parts"`
}

type wirePart struct {
	Text                *string           `json:"text"`
	Thought             bool              `json:"thought"`
	InlineData          *wireBlob         `json:"inlineData"`
	FileData            *wireFile         `json:"fileData"`
	FunctionCall        *wireCall         `json:"functionCall"`
	FunctionResponse    *wireCallResponse `json:"functionResponse"`
	ExecutableCode      json.RawMessage   `json:"executableCode"`
	CodeExecutionResult json.RawMessage   `json:"codeExecutionResult"`
}

type wireBlob struct {
	MimeType string `json:"mimeType"`
	Data     string `json:"data"`
}

type wireFile struct {
	MimeType string `json:"mimeType"`
	FileURI  string `json:"fileUri"`
}

type wireCall struct {
	ID   string          `json:"id"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args"`
}

type wireCallResponse struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

// wireTool is one element of tools: functionDeclarations, or one of Google's built-in tools
// (any other member).
type wireTool map[string]json.RawMessage

type wireFunction struct {
	Name                 string          `json:"name"`
	Description          string          `json:"description"`
	Parameters           json.RawMessage `json:"parameters"`
	ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema"`
}

type wireToolConfig struct {
	FunctionCallingConfig *struct {
		Mode                 string   `json:"mode"`
		AllowedFunctionNames []string `json:"allowedFunctionNames"`
	} `json:"functionCallingConfig"`
}

type wireConfig struct {
	Temperature        *float64        `json:"temperature"`
	TopP               *float64        `json:"topP"`
	TopK               *float64        `json:"topK"`
	MaxOutputTokens    *int            `json:"maxOutputTokens"`
	StopSequences      []string        `json:"stopSequences"`
	CandidateCount     *int            `json:"candidateCount"`
	PresencePenalty    *float64        `json:"presencePenalty"`
	FrequencyPenalty   *float64        `json:"frequencyPenalty"`
	Seed               *int64          `json:"seed"`
	ResponseMimeType   string          `json:"responseMimeType"`
	ResponseSchema     json.RawMessage `json:"responseSchema"`
	ResponseJSONSchema json.RawMessage `json:"responseJsonSchema"`
	ResponseModalities []string        `json:"responseModalities"`
	ThinkingConfig     *struct {
		ThinkingBudget  *int   `json:"thinkingBudget"`
		ThinkingLevel   string `json:"thinkingLevel"`
		IncludeThoughts bool   `json:"includeThoughts"`
	} `json:"thinkingConfig"`
}

func unsupported(field, reason string) error {
	return &format.UnsupportedError{API: api, Field: field, Reason: reason}
}

func invalid(field, msg string) error {
	return &format.InvalidRequestError{API: api, Field: field, Message: msg}
}

// ParseRequest translates a generateContent request body; model and stream come from the
// URL path (models/{model}:generateContent or :streamGenerateContent). Member names may be
// camelCase or snake_case, as Gemini's API takes both. It returns a
// *format.InvalidRequestError for a body that is not a valid request, and a
// *format.UnsupportedError for a field the translation cannot express.
func ParseRequest(body []byte, model string, stream bool) (*Request, error) {
	model = strings.TrimPrefix(model, "models/")
	if model == "" {
		return nil, invalid("model", "the URL path names no model")
	}
	norm, err := camelKeys(body)
	if err != nil {
		return nil, invalid("", "the body is not a valid Gemini request: "+err.Error())
	}
	var in wireRequest
	if err := json.Unmarshal(norm, &in); err != nil {
		return nil, invalid("", "the body is not a valid Gemini request: "+err.Error())
	}
	switch {
	case len(in.Contents) == 0:
		return nil, invalid("contents", "contents is required")
	case in.CachedContent != "":
		return nil, unsupported("cachedContent", "cached content is kept only by Google")
	}
	out := chat.Request{Model: model, Stream: stream}
	if stream {
		out.StreamOptions = &chat.StreamOptions{IncludeUsage: true}
	}
	r := &Request{Model: model, Stream: stream}
	if err := config(&out, r, in.GenerationConfig); err != nil {
		return nil, err
	}
	if si := in.SystemInstruction; si != nil {
		text, err := texts("systemInstruction", si.Parts)
		if err != nil {
			return nil, err
		}
		out.Messages = append(out.Messages, chat.Message{Role: "system", Content: chat.Text(text)})
	}
	var calls pending
	for i, c := range in.Contents {
		if out.Messages, err = calls.content(out.Messages, format.Index("contents", i), c); err != nil {
			return nil, err
		}
	}
	if err := tools(&out, in.Tools, in.ToolConfig); err != nil {
		return nil, err
	}
	if r.Chat, err = json.Marshal(out); err != nil {
		return nil, invalid("", err.Error())
	}
	return r, nil
}

// config translates generationConfig.
func config(out *chat.Request, r *Request, g *wireConfig) error {
	if g == nil {
		return nil
	}
	out.Temperature, out.TopP = g.Temperature, g.TopP
	out.MaxCompletionTokens = g.MaxOutputTokens
	out.Stop = g.StopSequences
	out.PresencePenalty, out.FrequencyPenalty, out.Seed = g.PresencePenalty, g.FrequencyPenalty, g.Seed
	if g.CandidateCount != nil && *g.CandidateCount != 1 {
		out.N = g.CandidateCount
	}
	if g.TopK != nil {
		k := int(*g.TopK)
		r.TopK = &k
	}
	for i, m := range g.ResponseModalities {
		if !strings.EqualFold(m, "TEXT") {
			return unsupported(format.Index("generationConfig.responseModalities", i), "chat completions answer with text only")
		}
	}
	if t := g.ThinkingConfig; t != nil {
		r.thoughts = t.IncludeThoughts
		switch {
		case t.ThinkingLevel != "":
			out.ReasoningEffort = strings.ToLower(t.ThinkingLevel)
		case t.ThinkingBudget != nil && *t.ThinkingBudget > 0:
			out.ReasoningEffort = chat.Effort(*t.ThinkingBudget)
		}
	}
	switch g.ResponseMimeType {
	case "", "text/plain":
	case "application/json":
		schema := g.ResponseJSONSchema
		if chat.IsNull(schema) && !chat.IsNull(g.ResponseSchema) {
			schema = jsonSchema(g.ResponseSchema)
		}
		if chat.IsNull(schema) {
			out.ResponseFormat = json.RawMessage(`{"type":"json_object"}`)
			break
		}
		out.ResponseFormat, _ = json.Marshal(map[string]any{"type": "json_schema",
			"json_schema": map[string]any{"name": "response", "schema": schema}})
	default:
		return unsupported("generationConfig.responseMimeType", "chat completions answer with text or JSON, not "+g.ResponseMimeType)
	}
	return nil
}

// texts returns the text of parts that must all be text, joined by newlines.
func texts(field string, parts []wirePart) (string, error) {
	var b strings.Builder
	for j, p := range parts {
		if p.Text == nil {
			return "", invalid(format.Index(field+".parts", j), "only text parts are allowed here")
		}
		if j > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(*p.Text)
	}
	return b.String(), nil
}

// pending are the function calls of the last model turn, which the functionResponse parts
// of the next user turn answer: by id, else by name in order.
type pending []struct {
	id, name string
	answered bool
}

// callID returns the id of a function call: its own, else one derived from its place in
// the request (the same on every turn, as history only grows).
func callID(field string, c *wireCall) string {
	if c.ID != "" {
		return c.ID
	}
	return chat.ID("call_", field, c.Name)
}

// answer returns the tool_call_id for a functionResponse.
func (p pending) answer(field string, r *wireCallResponse) string {
	if r.ID != "" {
		for i := range p {
			if p[i].id == r.ID {
				p[i].answered = true
			}
		}
		return r.ID
	}
	for i := range p {
		if !p[i].answered && p[i].name == r.Name {
			p[i].answered = true
			return p[i].id
		}
	}
	return chat.ID("call_", field, r.Name)
}

// content appends the chat messages of one Gemini content. A user turn's functionResponse
// parts become tool messages, ahead of a user message with the rest of its parts; a model
// turn's functionCall parts become its tool_calls.
func (p *pending) content(msgs []chat.Message, field string, c wireContent) ([]chat.Message, error) {
	if len(c.Parts) == 0 {
		return nil, invalid(field+".parts", "a content needs parts")
	}
	switch c.Role {
	case "", "user", "function":
		var parts []chat.Part
		for j := range c.Parts {
			pf := format.Index(field+".parts", j)
			part := &c.Parts[j]
			if r := part.FunctionResponse; r != nil {
				if r.Name == "" {
					return nil, invalid(pf+".functionResponse.name", "a functionResponse needs a name")
				}
				out := "{}"
				if obj, ok := chat.Compact(string(r.Response)); ok {
					out = string(obj)
				}
				msgs = append(msgs, chat.Message{Role: "tool", ToolCallID: p.answer(pf, r), Content: chat.Text(out)})
				continue
			}
			cp, err := userPart(pf, part)
			if err != nil {
				return nil, err
			}
			parts = append(parts, cp)
		}
		return chat.AppendUser(msgs, parts), nil
	case "model":
		*p = (*p)[:0]
		var a chat.Assistant
		for j := range c.Parts {
			pf := format.Index(field+".parts", j)
			part := &c.Parts[j]
			switch {
			case part.FunctionCall != nil:
				fc := part.FunctionCall
				if fc.Name == "" {
					return nil, invalid(pf+".functionCall.name", "a functionCall needs a name")
				}
				args := "{}"
				if obj, ok := chat.Compact(string(fc.Args)); ok && !chat.IsNull(fc.Args) {
					args = string(obj)
				}
				id := callID(pf, fc)
				*p = append(*p, struct {
					id, name string
					answered bool
				}{id: id, name: fc.Name})
				a.AddCall(id, fc.Name, args)
			case part.Text != nil:
				if !part.Thought { // thoughts are the model's own: no other model reads them
					a.AddText(*part.Text)
				}
			case part.ExecutableCode != nil || part.CodeExecutionResult != nil:
				return nil, unsupported(pf, "code execution runs only on Google")
			default:
				return nil, unsupported(pf, "chat assistant messages carry only text and tool calls")
			}
		}
		return append(msgs, a.Message()), nil
	}
	return nil, invalid(field+".role", "role must be user or model")
}

// userPart translates a part of a user turn.
func userPart(field string, part *wirePart) (chat.Part, error) {
	switch {
	case part.Text != nil:
		return chat.TextPart(*part.Text), nil
	case part.InlineData != nil:
		d := part.InlineData
		url := "data:" + d.MimeType + ";base64," + d.Data
		if strings.HasPrefix(d.MimeType, "image/") {
			return chat.Part{Type: "image_url", ImageURL: &provider.ImageURL{URL: url}}, nil
		}
		return chat.Part{Type: "file", File: &chat.File{FileData: url}}, nil
	case part.FileData != nil:
		f := part.FileData
		switch {
		case strings.HasPrefix(f.FileURI, "gs://"), strings.Contains(f.FileURI, "generativelanguage.googleapis.com/"):
			return chat.Part{}, unsupported(field+".fileData", "uploaded files are kept only by Google")
		case (strings.HasPrefix(f.FileURI, "https://") || strings.HasPrefix(f.FileURI, "http://")) &&
			(f.MimeType == "" || strings.HasPrefix(f.MimeType, "image/")):
			return chat.Part{Type: "image_url", ImageURL: &provider.ImageURL{URL: f.FileURI}}, nil
		}
		return chat.Part{}, unsupported(field+".fileData", "chat completions take an image by URL, other files only by their data")
	case part.FunctionCall != nil:
		return chat.Part{}, invalid(field+".functionCall", "functionCall parts belong to model turns")
	case part.ExecutableCode != nil || part.CodeExecutionResult != nil:
		return chat.Part{}, unsupported(field, "code execution runs only on Google")
	}
	return chat.Part{}, invalid(field, "a part needs text, inlineData, fileData or functionResponse")
}

// tools translates tools and toolConfig: function declarations become function tools (only
// the allowed ones when allowedFunctionNames is set); Google's built-in tools are refused.
func tools(out *chat.Request, ts []wireTool, tc *wireToolConfig) error {
	var allowed []string
	mode := ""
	if tc != nil && tc.FunctionCallingConfig != nil {
		mode = strings.ToUpper(tc.FunctionCallingConfig.Mode)
		allowed = tc.FunctionCallingConfig.AllowedFunctionNames
	}
	for i, t := range ts {
		field := format.Index("tools", i)
		keys := slices.Sorted(maps.Keys(t))
		for _, key := range keys {
			raw := t[key]
			if key != "functionDeclarations" {
				return unsupported(field+"."+key, "Google's built-in tools run only on Google (function declarations are translated)")
			}
			var fns []wireFunction
			if err := json.Unmarshal(raw, &fns); err != nil {
				return invalid(field+".functionDeclarations", "functionDeclarations must be an array of function declarations")
			}
			for j, f := range fns {
				if f.Name == "" {
					return invalid(format.Index(field+".functionDeclarations", j)+".name", "a function declaration needs a name")
				}
				if len(allowed) > 0 && !slices.Contains(allowed, f.Name) {
					continue
				}
				schema := f.ParametersJSONSchema
				if chat.IsNull(schema) && !chat.IsNull(f.Parameters) {
					schema = jsonSchema(f.Parameters)
				}
				if chat.IsNull(schema) {
					schema = json.RawMessage(`{"type":"object","properties":{}}`)
				}
				out.Tools = append(out.Tools, provider.Tool{Type: "function",
					Function: provider.FunctionDecl{Name: f.Name, Description: f.Description, Parameters: schema}})
			}
		}
	}
	switch mode {
	case "", "MODE_UNSPECIFIED", "AUTO", "VALIDATED":
	case "ANY":
		if len(out.Tools) == 1 && len(allowed) > 0 {
			out.ToolChoice, _ = json.Marshal(chat.FunctionChoice(out.Tools[0].Function.Name))
		} else {
			out.ToolChoice = json.RawMessage(`"required"`)
		}
	case "NONE":
		out.ToolChoice = json.RawMessage(`"none"`)
	default:
		return invalid("toolConfig.functionCallingConfig.mode", "mode must be AUTO, ANY, NONE or VALIDATED")
	}
	if len(out.Tools) == 0 {
		out.ToolChoice = nil
	}
	return nil
}

// jsonSchema turns a Gemini Schema (OpenAPI's subset, with upper-case types such as OBJECT)
// into JSON Schema: types in lower case; the rest is kept.
func jsonSchema(raw json.RawMessage) json.RawMessage {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return raw
	}
	lowerTypes(v)
	out, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return out
}

func lowerTypes(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			switch k {
			case "type":
				if s, ok := x.(string); ok {
					v[k] = strings.ToLower(s)
				} else {
					lowerTypes(x)
				}
			case "enum", "default", "example", "const":
			default:
				lowerTypes(x)
			}
		}
	case []any:
		for _, x := range v {
			lowerTypes(x)
		}
	}
}
