package bedrock

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/internal/xlate"
)

// Converse request shapes (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html).
type (
	converseRequest struct {
		Messages                     []message          `json:"messages"`
		System                       []contentBlock     `json:"system,omitempty"`
		InferenceConfig              *inferenceConfig   `json:"inferenceConfig,omitempty"`
		ToolConfig                   *toolConfig        `json:"toolConfig,omitempty"`
		AdditionalModelRequestFields map[string]any     `json:"additionalModelRequestFields,omitempty"`
		PerformanceConfig            *performanceConfig `json:"performanceConfig,omitempty"`
	}
	message struct {
		Role    string         `json:"role"`
		Content []contentBlock `json:"content"`
	}
	contentBlock struct {
		Text       *string     `json:"text,omitempty"`
		Image      *imageBlock `json:"image,omitempty"`
		ToolUse    *toolUse    `json:"toolUse,omitempty"`
		ToolResult *toolResult `json:"toolResult,omitempty"`
	}
	imageBlock struct {
		Format string `json:"format"`
		Source struct {
			Bytes []byte `json:"bytes"` // base64 in JSON
		} `json:"source"`
	}
	toolUse struct {
		ToolUseID string          `json:"toolUseId"`
		Name      string          `json:"name"`
		Input     json.RawMessage `json:"input"`
	}
	toolResult struct {
		ToolUseID string         `json:"toolUseId"`
		Content   []contentBlock `json:"content"`
	}
	inferenceConfig struct {
		MaxTokens     *int     `json:"maxTokens,omitempty"`
		Temperature   *float64 `json:"temperature,omitempty"`
		TopP          *float64 `json:"topP,omitempty"`
		StopSequences []string `json:"stopSequences,omitempty"`
	}
	toolConfig struct {
		Tools      []toolSpecWrap `json:"tools"`
		ToolChoice map[string]any `json:"toolChoice,omitempty"`
	}
	toolSpecWrap struct {
		ToolSpec toolSpec `json:"toolSpec"`
	}
	toolSpec struct {
		Name        string `json:"name"`
		Description string `json:"description,omitempty"`
		InputSchema struct {
			JSON json.RawMessage `json:"json"`
		} `json:"inputSchema"`
	}
	performanceConfig struct {
		Latency string `json:"latency"`
	}
)

func text(s string) contentBlock { return contentBlock{Text: &s} }

// imageFormats maps media types to Converse's image formats.
var imageFormats = map[string]string{"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif", "image/webp": "webp"}

func userContent(c provider.Content) ([]contentBlock, error) {
	if c.Parts == nil {
		if c.Text == "" {
			return nil, nil
		}
		return []contentBlock{text(c.Text)}, nil
	}
	var out []contentBlock
	for _, p := range c.Parts {
		switch p.Type {
		case "text":
			if p.Text != "" {
				out = append(out, text(p.Text))
			}
		case "image_url":
			if p.ImageURL == nil {
				return nil, xlate.BadRequest("messages", "image_url part without a url")
			}
			mt, data, ok := xlate.DataURL(p.ImageURL.URL)
			if !ok {
				return nil, xlate.BadRequest("messages", "bedrock takes images only as base64 data: URLs")
			}
			f, ok := imageFormats[mt]
			if !ok {
				return nil, xlate.BadRequest("messages", "bedrock does not take images of type "+mt)
			}
			img := &imageBlock{Format: f}
			img.Source.Bytes = data
			out = append(out, contentBlock{Image: img})
		default:
			return nil, xlate.BadRequest("messages", "bedrock: content part type "+p.Type+" is not supported")
		}
	}
	return out, nil
}

// converseBody translates an OpenAI chat request into a Converse request body.
func converseBody(req *provider.ChatRequest, r *provider.Request) ([]byte, error) {
	var out converseRequest
	out.Messages = make([]message, 0, len(req.Messages))
	choice, err := xlate.ParseToolChoice(req.ToolChoice)
	if err != nil {
		return nil, err
	}
	// Converse has no tool_choice "none", and takes toolUse and toolResult blocks only with a
	// toolConfig, which would let the model call tools. So without tools on offer (none, or
	// no tools), the tool history is sent as text and the model can call nothing.
	offer := len(req.Tools) > 0 && choice.Mode != "none"
	add := func(role string, blocks []contentBlock) {
		if len(blocks) == 0 {
			return
		}
		// Converse wants user and assistant turns to alternate: merge neighbours.
		if n := len(out.Messages); n > 0 && out.Messages[n-1].Role == role {
			out.Messages[n-1].Content = append(out.Messages[n-1].Content, blocks...)
			return
		}
		out.Messages = append(out.Messages, message{Role: role, Content: blocks})
	}
	for _, m := range req.Messages {
		switch m.Role {
		case "system", "developer":
			if s := m.Content.String(); s != "" {
				out.System = append(out.System, text(s))
			}
		case "user":
			blocks, err := userContent(m.Content)
			if err != nil {
				return nil, err
			}
			add("user", blocks)
		case "assistant":
			var blocks []contentBlock
			if s := m.Content.String(); s != "" {
				blocks = append(blocks, text(s))
			}
			for _, tc := range m.ToolCalls {
				args, err := xlate.Args(tc)
				if err != nil {
					return nil, err
				}
				if !offer {
					blocks = append(blocks, text("Called tool "+tc.Function.Name+" (call "+tc.ID+") with "+string(args)))
					continue
				}
				blocks = append(blocks, contentBlock{ToolUse: &toolUse{ToolUseID: tc.ID, Name: tc.Function.Name, Input: args}})
			}
			add("assistant", blocks)
		case "tool":
			s := m.Content.String()
			if !offer {
				add("user", []contentBlock{text("Result of tool call " + m.ToolCallID + ": " + s)})
				continue
			}
			res := &toolResult{ToolUseID: m.ToolCallID, Content: []contentBlock{text(s)}}
			add("user", []contentBlock{{ToolResult: res}})
		default:
			return nil, xlate.BadRequest("messages", "unknown message role "+strconv.Quote(m.Role))
		}
	}

	// Converse has no JSON mode: as for Anthropic, an instruction in the system prompt.
	if s := xlate.JSONInstruction(req.ResponseFormat); s != "" {
		out.System = append(out.System, text(s))
	}

	ic := inferenceConfig{MaxTokens: req.MaxCompletionTokens, Temperature: req.Temperature, TopP: req.TopP, StopSequences: req.Stop}
	if ic.MaxTokens == nil {
		ic.MaxTokens = req.MaxTokens
	}
	if ic.MaxTokens != nil || ic.Temperature != nil || ic.TopP != nil || len(ic.StopSequences) > 0 {
		out.InferenceConfig = &ic
	}
	if req.TopK != nil {
		out.AdditionalModelRequestFields = map[string]any{"top_k": *req.TopK}
	}
	if o := r.Model.Options.Bedrock; o != nil && o.PerformanceConfigLatency != "" {
		out.PerformanceConfig = &performanceConfig{Latency: o.PerformanceConfigLatency}
	}

	if offer {
		tc := &toolConfig{}
		for _, t := range req.Tools {
			spec := toolSpec{Name: t.Function.Name, Description: t.Function.Description}
			spec.InputSchema.JSON = t.Function.Parameters
			if len(spec.InputSchema.JSON) == 0 {
				spec.InputSchema.JSON = json.RawMessage(`{"type":"object","properties":{}}`)
			}
			tc.Tools = append(tc.Tools, toolSpecWrap{ToolSpec: spec})
		}
		switch choice.Mode {
		case "", "auto":
			tc.ToolChoice = map[string]any{"auto": struct{}{}}
		case "required":
			tc.ToolChoice = map[string]any{"any": struct{}{}}
		case "function":
			tc.ToolChoice = map[string]any{"tool": map[string]string{"name": choice.Name}}
		}
		out.ToolConfig = tc
	}
	return json.Marshal(out)
}

// Converse response shapes.
type (
	converseResponse struct {
		Output struct {
			Message *struct {
				Role    string          `json:"role"`
				Content []responseBlock `json:"content"`
			} `json:"message"`
		} `json:"output"`
		StopReason string `json:"stopReason"`
		Usage      *usage `json:"usage"`
	}
	responseBlock struct {
		Text    *string  `json:"text"`
		ToolUse *toolUse `json:"toolUse"`
	}
	usage struct {
		InputTokens           int `json:"inputTokens"`
		OutputTokens          int `json:"outputTokens"`
		TotalTokens           int `json:"totalTokens"`
		CacheReadInputTokens  int `json:"cacheReadInputTokens"`
		CacheWriteInputTokens int `json:"cacheWriteInputTokens"`
	}
)

// toUsage converts Bedrock's usage: its inputTokens leave out prompt-cache reads and writes,
// which OpenAI's prompt_tokens include.
func (u *usage) toUsage() provider.Usage {
	if u == nil {
		return provider.Usage{}
	}
	prompt := u.InputTokens + u.CacheReadInputTokens + u.CacheWriteInputTokens
	return provider.Usage{PromptTokens: prompt, CompletionTokens: u.OutputTokens,
		TotalTokens: prompt + u.OutputTokens, CachedTokens: u.CacheReadInputTokens}
}

// FinishReason maps a Converse stopReason onto OpenAI's finish_reason.
func FinishReason(stop string) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return xlate.Length
	case "tool_use":
		return xlate.ToolCalls
	case "content_filtered", "guardrail_intervened":
		return xlate.ContentFilter
	default: // end_turn, stop_sequence
		return xlate.Stop
	}
}

func responseID(h http.Header, body []byte) string {
	if id := h.Get("X-Amzn-Requestid"); id != "" {
		return "chatcmpl-" + id
	}
	return xlate.ID("chatcmpl-", body)
}

// ParseResponse translates a Converse response into a chat.completion, or an InvokeModel
// embeddings response into an embeddings list.
func (p Provider) ParseResponse(r *provider.Request, header http.Header, body []byte) (*provider.Response, error) {
	if r != nil && (r.RouteType == provider.ImageGenerations || r.RouteType == provider.ImageEdits) {
		return p.parseImages(r, header, body)
	}
	if r != nil && r.RouteType == provider.Embeddings {
		return parseEmbeddings(r, header, body)
	}
	var resp converseResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, xlate.BadGateway("bedrock: cannot decode the Converse response: " + err.Error())
	}
	if resp.Output.Message == nil {
		return nil, xlate.BadGateway("bedrock: the Converse response has no output message")
	}
	var (
		sb    strings.Builder
		calls []provider.ToolCall
		has   bool
	)
	for _, b := range resp.Output.Message.Content {
		switch {
		case b.Text != nil:
			sb.WriteString(*b.Text)
			has = true
		case b.ToolUse != nil:
			args := xlate.ArgsString(b.ToolUse.Input)
			calls = append(calls, provider.ToolCall{ID: b.ToolUse.ToolUseID, Type: "function",
				Function: provider.FunctionCall{Name: b.ToolUse.Name, Arguments: args}})
		}
	}
	var content *string
	if has || len(calls) == 0 {
		s := sb.String()
		content = &s
	}
	model := xlate.Model(r)
	u := resp.Usage.toUsage()
	out, err := xlate.Completion(responseID(header, body), model, xlate.Created(header, p.Now), content, calls, FinishReason(resp.StopReason), u)
	if err != nil {
		return nil, err
	}
	return &provider.Response{Body: out, Usage: u}, nil
}
