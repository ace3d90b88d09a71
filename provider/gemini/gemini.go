// Package gemini is the provider for Google's Gemini API (generativelanguage.googleapis.com)
// and for Gemini on Vertex AI, selected by model.options.gemini.project_id.
//
// Chat requests become generateContent (streamGenerateContent?alt=sse when streaming):
// system and developer messages become systemInstruction; user and assistant messages become
// contents with roles user and model; image parts become inlineData (data: URLs) or fileData
// (other URLs, with a MIME type guessed from the extension); assistant tool_calls become
// functionCall parts and tool messages functionResponse parts (consecutive ones in one turn,
// the function name found from the call's id); tools become functionDeclarations with
// parametersJsonSchema, tool_choice a functionCallingConfig (auto → AUTO, none → NONE,
// required → ANY, a named function → ANY with allowedFunctionNames). max_tokens (or
// max_completion_tokens), temperature, top_p, top_k, stop, n (non-streaming), seed and the
// penalties go to generationConfig; response_format json_object sets responseMimeType
// application/json and json_schema adds responseJsonSchema.
//
// Gemini does not give function calls ids; tool call ids are derived from responseId and the
// call's position, so they are the same on every translation of the same response, and short
// (OpenAI takes ids of at most 40 characters, Bedrock 64). Gemini 3 requires a function call's
// thoughtSignature back in the next turn: it travels as the tool call's
// extra_content.google.thought_signature, as in Google's own OpenAI-compatible API, and is
// sent back from there. A model turn whose calls carry none (a client that drops
// extra_content, or history from another provider) gets Google's documented
// skip_thought_signature_validator on its first call, so that Gemini 3 accepts it.
//
// Embeddings requests become embedContent (one input), batchEmbedContents (several), or, on
// Vertex AI, predict; dimensions (or model.options.embeddings_dimensions) is
// outputDimensionality.
//
// Images API requests (generations and edits) become generateContent of an image model, or
// predict of an Imagen model: see image.go.
package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
	"github.com/aiproxy/aiproxy/provider/openai"
)

const (
	// DefaultBaseURL is the Gemini API's root.
	DefaultBaseURL = "https://generativelanguage.googleapis.com"
	// DefaultLocation is the Vertex AI location used when options.gemini.location_id is empty.
	DefaultLocation = "us-central1"
)

// Provider speaks the Gemini API and Vertex AI. The zero value is ready to use.
type Provider struct {
	// BaseURL is the Gemini API root; empty means DefaultBaseURL. It is not used for Vertex AI,
	// whose host comes from options.gemini (api_endpoint, else <location>-aiplatform.googleapis.com).
	BaseURL string
	// Now gives the "created" time of translated responses; nil means time.Now.
	Now func() time.Time
}

var _ provider.Provider = Provider{}

func badRequest(msg string) *provider.Error {
	return &provider.Error{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: "gemini: " + msg}
}

// Vertex reports whether r goes to Vertex AI.
func Vertex(r *provider.Request) bool {
	g := r.Model.Options.Gemini
	return g != nil && g.ProjectID != ""
}

// URL returns the endpoint for model and method (generateContent, streamGenerateContent,
// embedContent, batchEmbedContents, predict).
func (p Provider) URL(r *provider.Request, model, method string) string {
	o := r.Model.Options
	var base, p0 string
	if g := o.Gemini; g != nil && g.ProjectID != "" {
		base, p0 = VertexLocation(g)
		p0 += "/publishers/google/models/" + url.PathEscape(model) + ":" + method
	} else {
		base = p.BaseURL
		if g := o.Gemini; g != nil && g.APIEndpoint != "" {
			base = withScheme(g.APIEndpoint)
		}
		if base == "" {
			base = DefaultBaseURL
		}
		p0 = "/v1beta/models/" + url.PathEscape(model) + ":" + method
	}
	u := openai.URL(base, p0, r)
	if method == "streamGenerateContent" && o.UpstreamURL == "" {
		u += "?alt=sse"
	}
	return u
}

// VertexLocation returns the Vertex AI root of g (api_endpoint, else the location's host) and
// the path of its project's location, /v1/projects/{project_id}/locations/{location_id}.
func VertexLocation(g *provider.GeminiOptions) (base, path string) {
	loc := g.LocationID
	if loc == "" {
		loc = DefaultLocation
	}
	host := g.APIEndpoint
	switch {
	case host != "":
	case loc == "global":
		host = "aiplatform.googleapis.com"
	default:
		host = loc + "-aiplatform.googleapis.com"
	}
	return withScheme(host), "/v1/projects/" + url.PathEscape(g.ProjectID) + "/locations/" + url.PathEscape(loc)
}

func withScheme(host string) string {
	if strings.Contains(host, "://") {
		return host
	}
	return "https://" + host
}

// NewRequest translates an OpenAI chat, embeddings or Images request.
func (p Provider) NewRequest(ctx context.Context, r *provider.Request) (*http.Request, error) {
	var (
		body          []byte
		model, method string
		err           error
	)
	switch r.RouteType {
	case provider.Chat:
		body, model, err = translateChat(r)
		method = "generateContent"
		if r.Stream {
			method = "streamGenerateContent"
		}
	case provider.Embeddings:
		body, model, method, err = translateEmbeddings(r)
	case provider.ImageGenerations, provider.ImageEdits:
		body, model, method, err = translateImage(r)
	default:
		return nil, badRequest("route type " + string(r.RouteType) + " is not supported")
	}
	if err != nil {
		return nil, err
	}
	return openai.NewJSONRequest(ctx, p.URL(r, model, method), body, r.Stream && r.RouteType == provider.Chat)
}

// modelName is the target's model, else the request's, without a "models/" prefix.
func modelName(r *provider.Request, fromBody string) string {
	m := r.Model.Name
	if m == "" {
		m = fromBody
	}
	return strings.TrimPrefix(m, "models/")
}

// --- chat request wire types -----------------------------------------------------------

type generateRequest struct {
	Contents          []contentT        `json:"contents"`
	SystemInstruction *contentT         `json:"systemInstruction,omitempty"`
	Tools             []toolT           `json:"tools,omitempty"`
	ToolConfig        *toolConfig       `json:"toolConfig,omitempty"`
	GenerationConfig  *generationConfig `json:"generationConfig,omitempty"`
}

type contentT struct {
	Role  string `json:"role,omitempty"`
	Parts []part `json:"parts"`
}

type part struct {
	Text             *string           `json:"text,omitempty"`
	Thought          bool              `json:"thought,omitempty"`
	InlineData       *blob             `json:"inlineData,omitempty"`
	FileData         *fileData         `json:"fileData,omitempty"`
	FunctionCall     *functionCall     `json:"functionCall,omitempty"`
	FunctionResponse *functionResponse `json:"functionResponse,omitempty"`
	ThoughtSignature string            `json:"thoughtSignature,omitempty"`
}

type blob struct {
	MimeType string `json:"mimeType"`
	Data     string `json:"data"`
}

type fileData struct {
	MimeType string `json:"mimeType,omitempty"`
	FileURI  string `json:"fileUri"`
}

type functionCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

type functionResponse struct {
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type toolT struct {
	FunctionDeclarations []functionDecl `json:"functionDeclarations"`
}

type functionDecl struct {
	Name                 string          `json:"name"`
	Description          string          `json:"description,omitempty"`
	ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema,omitempty"`
}

type toolConfig struct {
	FunctionCallingConfig functionCallingConfig `json:"functionCallingConfig"`
}

type functionCallingConfig struct {
	Mode                 string   `json:"mode"`
	AllowedFunctionNames []string `json:"allowedFunctionNames,omitempty"`
}

type generationConfig struct {
	MaxOutputTokens    *int            `json:"maxOutputTokens,omitempty"`
	Temperature        *float64        `json:"temperature,omitempty"`
	TopP               *float64        `json:"topP,omitempty"`
	TopK               *int            `json:"topK,omitempty"`
	StopSequences      []string        `json:"stopSequences,omitempty"`
	CandidateCount     *int            `json:"candidateCount,omitempty"`
	Seed               *int            `json:"seed,omitempty"`
	PresencePenalty    *float64        `json:"presencePenalty,omitempty"`
	FrequencyPenalty   *float64        `json:"frequencyPenalty,omitempty"`
	ResponseMimeType   string          `json:"responseMimeType,omitempty"`
	ResponseJSONSchema json.RawMessage `json:"responseJsonSchema,omitempty"`
}

// --- chat request translation ----------------------------------------------------------

func strPtr(s string) *string { return &s }

func translateChat(r *provider.Request) ([]byte, string, error) {
	in, err := xlate.DecodeChat(r)
	if err != nil {
		return nil, "", err
	}
	model := modelName(r, in.Model)
	out := generateRequest{Contents: []contentT{}}

	// Tool call id → function name, for tool messages.
	names := map[string]string{}
	var system []part
	for _, m := range in.Messages {
		switch m.Role {
		case "system", "developer":
			if s := m.Content.String(); s != "" {
				system = append(system, part{Text: strPtr(s)})
			}
		case "user":
			parts, err := userParts(m.Content)
			if err != nil {
				return nil, "", err
			}
			out.Contents = append(out.Contents, contentT{Role: "user", Parts: parts})
		case "assistant":
			var parts []part
			if s := m.Content.String(); s != "" {
				parts = append(parts, part{Text: strPtr(s)})
			}
			signed := false
			for _, tc := range m.ToolCalls {
				names[tc.ID] = tc.Function.Name
				args, err := xlate.Args(tc)
				if err != nil {
					return nil, "", err
				}
				p := part{FunctionCall: &functionCall{Name: tc.Function.Name, Args: args}}
				if tc.ExtraContent != nil {
					p.ThoughtSignature = tc.ExtraContent.Google.ThoughtSignature
				}
				signed = signed || p.ThoughtSignature != ""
				parts = append(parts, p)
			}
			if !signed && len(m.ToolCalls) > 0 {
				// Only a step's first call carries a signature (parallel calls share it).
				parts[len(parts)-len(m.ToolCalls)].ThoughtSignature = SkipSignature
			}
			if len(parts) == 0 {
				parts = append(parts, part{Text: strPtr("")})
			}
			out.Contents = append(out.Contents, contentT{Role: "model", Parts: parts})
		case "tool":
			name, ok := names[m.ToolCallID]
			if !ok {
				name = m.Name
			}
			if name == "" {
				return nil, "", badRequest("tool message " + m.ToolCallID + " answers no earlier tool call")
			}
			p := part{FunctionResponse: &functionResponse{Name: name, Response: toolResponse(m.Content.String())}}
			if n := len(out.Contents); n > 0 && out.Contents[n-1].Role == "user" && out.Contents[n-1].Parts[0].FunctionResponse != nil {
				out.Contents[n-1].Parts = append(out.Contents[n-1].Parts, p)
				continue
			}
			out.Contents = append(out.Contents, contentT{Role: "user", Parts: []part{p}})
		default:
			return nil, "", badRequest("message role " + m.Role + " is not supported")
		}
	}
	if len(system) > 0 {
		out.SystemInstruction = &contentT{Parts: system}
	}

	if len(in.Tools) > 0 {
		var decls []functionDecl
		for _, t := range in.Tools {
			if t.Type != "" && t.Type != "function" {
				return nil, "", badRequest("tool type " + t.Type + " is not supported")
			}
			d := functionDecl{Name: t.Function.Name, Description: t.Function.Description}
			if len(t.Function.Parameters) > 0 && string(t.Function.Parameters) != "null" {
				d.ParametersJSONSchema = t.Function.Parameters
			}
			decls = append(decls, d)
		}
		out.Tools = []toolT{{FunctionDeclarations: decls}}
	}
	tc, err := translateToolChoice(in.ToolChoice)
	if err != nil {
		return nil, "", err
	}
	if tc != nil && (len(out.Tools) > 0 || tc.FunctionCallingConfig.Mode == "NONE") {
		out.ToolConfig = tc
	}

	gc := generationConfig{Temperature: in.Temperature, TopP: in.TopP, TopK: in.TopK, Seed: in.Seed,
		PresencePenalty: in.PresencePenalty, FrequencyPenalty: in.FrequencyPenalty}
	o := r.Model.Options
	switch {
	case in.MaxCompletionTokens != nil:
		gc.MaxOutputTokens = in.MaxCompletionTokens
	case in.MaxTokens != nil:
		gc.MaxOutputTokens = in.MaxTokens
	default:
		gc.MaxOutputTokens = o.MaxTokens
	}
	if gc.Temperature == nil {
		gc.Temperature = o.Temperature
	}
	if gc.TopP == nil {
		gc.TopP = o.TopP
	}
	if len(in.Stop) > 0 {
		gc.StopSequences = in.Stop
	}
	if in.N != nil && *in.N > 1 && !r.Stream {
		gc.CandidateCount = in.N
	}
	if rf := in.ResponseFormat; rf != nil {
		switch rf.Type {
		case "json_object":
			gc.ResponseMimeType = "application/json"
		case "json_schema":
			gc.ResponseMimeType = "application/json"
			var js struct {
				Schema json.RawMessage `json:"schema"`
			}
			if json.Unmarshal(rf.JSONSchema, &js) == nil && len(js.Schema) > 0 {
				gc.ResponseJSONSchema = js.Schema
			}
		}
	}
	if b, _ := json.Marshal(gc); string(b) != "{}" {
		out.GenerationConfig = &gc
	}
	b, err := json.Marshal(out)
	return b, model, err
}

// toolResponse wraps a tool's output as the JSON object functionResponse.response needs:
// the output itself when it is a JSON object, else {"content": output}.
func toolResponse(s string) json.RawMessage {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{") && json.Valid([]byte(t)) {
		var buf bytes.Buffer
		_ = json.Compact(&buf, []byte(t))
		return buf.Bytes()
	}
	b, _ := json.Marshal(map[string]string{"content": s})
	return b
}

// translateToolChoice maps tool_choice onto a functionCallingConfig: auto, none and
// required are AUTO, NONE and ANY; a named function is ANY with allowedFunctionNames.
func translateToolChoice(raw json.RawMessage) (*toolConfig, error) {
	c, err := xlate.ParseToolChoice(raw)
	if err != nil {
		return nil, err
	}
	switch c.Mode {
	case "":
		return nil, nil
	case "auto":
		return &toolConfig{functionCallingConfig{Mode: "AUTO"}}, nil
	case "none":
		return &toolConfig{functionCallingConfig{Mode: "NONE"}}, nil
	case "required":
		return &toolConfig{functionCallingConfig{Mode: "ANY"}}, nil
	}
	return &toolConfig{functionCallingConfig{Mode: "ANY", AllowedFunctionNames: []string{c.Name}}}, nil
}

func userParts(c provider.Content) ([]part, error) {
	if c.Parts == nil {
		return []part{{Text: strPtr(c.Text)}}, nil
	}
	var parts []part
	for _, p := range c.Parts {
		switch p.Type {
		case "text":
			parts = append(parts, part{Text: strPtr(p.Text)})
		case "image_url":
			if p.ImageURL == nil {
				return nil, badRequest("image_url part without a url")
			}
			u := p.ImageURL.URL
			if strings.HasPrefix(u, "data:") {
				mt, data, ok := xlate.DataURLBase64(u)
				if !ok || mt == "" {
					return nil, badRequest("image data URLs must be data:<media type>;base64,<data>")
				}
				parts = append(parts, part{InlineData: &blob{MimeType: mt, Data: data}})
				continue
			}
			parts = append(parts, part{FileData: &fileData{MimeType: mimeFromURL(u), FileURI: u}})
		default:
			return nil, badRequest("content part type " + p.Type + " is not supported")
		}
	}
	if len(parts) == 0 {
		parts = []part{{Text: strPtr("")}}
	}
	return parts, nil
}

// mimeFromURL guesses an image's MIME type from its URL's extension; JPEG by default.
func mimeFromURL(u string) string {
	p := u
	if pu, err := url.Parse(u); err == nil {
		p = pu.Path
	}
	switch strings.ToLower(path.Ext(p)) {
	case ".png":
		return "image/png"
	case ".webp":
		return "image/webp"
	case ".gif":
		return "image/gif"
	case ".heic":
		return "image/heic"
	case ".heif":
		return "image/heif"
	default:
		return "image/jpeg"
	}
}

// --- tool call ids and thought signatures ----------------------------------------------

// SkipSignature is the thoughtSignature Google documents for function calls that have none
// (history from another model, or injected calls): Gemini 3 then skips its validation.
const SkipSignature = "skip_thought_signature_validator"

// ToolCallID is the id of the n-th function call of the response responseID: "call_" and 16
// hex digits.
func ToolCallID(responseID string, n int) string {
	h := fnv.New64a()
	h.Write([]byte(responseID))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(n)))
	return "call_" + strconv.FormatUint(h.Sum64(), 16)
}

// extraContent carries a function call's thought signature to the client; nil without one.
func extraContent(signature string) *provider.ExtraContent {
	if signature == "" {
		return nil
	}
	return &provider.ExtraContent{Google: provider.GoogleExtra{ThoughtSignature: signature}}
}
