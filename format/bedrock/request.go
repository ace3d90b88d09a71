// Package bedrock translates Amazon Bedrock's Converse API (POST /model/{modelId}/converse and
// /converse-stream), as AWS SDK clients speak it, to and from OpenAI chat completions, so that
// any chat target can serve a Bedrock-format client: its request becomes a chat-completions
// request (ParseRequest), the chat completion a Converse response (Request.Response), the chat
// stream ConverseStream's binary AWS event stream (Request.NewStream), and OpenAI-format errors
// Bedrock's error bodies and exception types (Error).
//
// This is the opposite direction of package provider/bedrock, which serves OpenAI-format
// clients from Bedrock.
//
// The translation is pure: no I/O, no state between calls, the same output for the same
// input (tool use ids are derived from the chat completion's), so it may run again on every
// retry. The model and whether to stream come from the request's path, not its body.
// Guardrails, prompt-management variables, S3 sources and video have no chat equivalent:
// ParseRequest refuses them with a *format.UnsupportedError naming the field. README.md lists
// what each direction keeps and drops.
package bedrock

import (
	"encoding/json"
	"strings"

	"github.com/aiproxy/aiproxy/format"
	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/provider"
)

// api names the translator in its errors.
const api = "bedrock"

// Request is a parsed Converse request and the chat request that serves it. It is immutable
// and may serve any number of attempts.
type Request struct {
	// Chat is the OpenAI chat-completions request body: the same bytes on every call.
	Chat []byte
	// Model is the model id of the request's path.
	Model string
	// Stream reports whether the path was /converse-stream. Chat then asks for a stream with
	// stream_options.include_usage, whose usage the metadata event reports.
	Stream bool
	// TopK is additionalModelRequestFields.top_k. It is not in Chat, since OpenAI's API and
	// most OpenAI-compatible ones refuse it: a proxy adds it for targets whose API takes one.
	TopK *int
}

type wireRequest struct {
	Messages                     []wireMessage   `json:"messages"`
	System                       []wireBlock     `json:"system"`
	InferenceConfig              *wireInference  `json:"inferenceConfig"`
	ToolConfig                   *wireToolConfig `json:"toolConfig"`
	AdditionalModelRequestFields *wireAdditional `json:"additionalModelRequestFields"`
	GuardrailConfig              json.RawMessage `json:"guardrailConfig"`
	PromptVariables              json.RawMessage `json:"promptVariables"`
}

type wireMessage struct {
	Role    string      `json:"role"`
	Content []wireBlock `json:"content"`
}

// wireBlock is the union of Converse's content blocks (ContentBlock, SystemContentBlock,
// ToolResultContentBlock): exactly one member is set.
type wireBlock struct {
	Text             *string          `json:"text"`
	Image            *wireMedia       `json:"image"`
	Document         *wireMedia       `json:"document"`
	Video            json.RawMessage  `json:"video"`
	ToolUse          *wireToolUse     `json:"toolUse"`
	ToolResult       *wireToolResult  `json:"toolResult"`
	GuardContent     *wireGuard       `json:"guardContent"`
	CachePoint       json.RawMessage  `json:"cachePoint"`
	ReasoningContent json.RawMessage  `json:"reasoningContent"`
	CitationsContent *wireCitations   `json:"citationsContent"`
	JSON             *json.RawMessage `json:"json"`
}

// wireMedia is an image or document block.
type wireMedia struct {
	Format string     `json:"format"`
	Name   string     `json:"name"`
	Source wireSource `json:"source"`
}

type wireSource struct {
	Bytes      *string         `json:"bytes"` // base64
	Text       *string         `json:"text"`
	Content    []wireBlock     `json:"content"`
	S3Location json.RawMessage `json:"s3Location"`
}

type wireToolUse struct {
	ToolUseID string          `json:"toolUseId"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

type wireToolResult struct {
	ToolUseID string      `json:"toolUseId"`
	Content   []wireBlock `json:"content"`
	Status    string      `json:"status"`
}

type wireGuard struct {
	Text *struct {
		Text string `json:"text"`
	} `json:"text"`
	Image *wireMedia `json:"image"`
}

type wireCitations struct {
	Content []struct {
		Text string `json:"text"`
	} `json:"content"`
}

type wireInference struct {
	MaxTokens     *int     `json:"maxTokens"`
	Temperature   *float64 `json:"temperature"`
	TopP          *float64 `json:"topP"`
	StopSequences []string `json:"stopSequences"`
}

type wireToolConfig struct {
	Tools []struct {
		ToolSpec *struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			InputSchema struct {
				JSON json.RawMessage `json:"json"`
			} `json:"inputSchema"`
		} `json:"toolSpec"`
		SystemTool json.RawMessage `json:"systemTool"`
	} `json:"tools"`
	ToolChoice *struct {
		Auto json.RawMessage `json:"auto"`
		Any  json.RawMessage `json:"any"`
		Tool *struct {
			Name string `json:"name"`
		} `json:"tool"`
	} `json:"toolChoice"`
}

type wireAdditional struct {
	TopK *int `json:"top_k"`
}

func unsupported(field, reason string) error {
	return &format.UnsupportedError{API: api, Field: field, Reason: reason}
}

func invalid(field, msg string) error {
	return &format.InvalidRequestError{API: api, Field: field, Message: msg}
}

// ParseRequest translates a Converse request body for model, the modelId of its path;
// stream reports whether the path was /converse-stream. It returns a
// *format.InvalidRequestError for a body that is not a valid request, and a
// *format.UnsupportedError for a field the translation cannot express.
func ParseRequest(body []byte, model string, stream bool) (*Request, error) {
	var in wireRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalid("", "the body is not a valid Converse request: "+err.Error())
	}
	switch {
	case model == "":
		return nil, invalid("modelId", "the path names no model")
	case len(in.Messages) == 0:
		return nil, invalid("messages", "messages is required")
	case !chat.IsNull(in.GuardrailConfig):
		return nil, unsupported("guardrailConfig", "guardrails run only on Bedrock")
	case !chat.IsNull(in.PromptVariables):
		return nil, unsupported("promptVariables", "prompts are kept only by Bedrock's prompt management")
	}
	out := chat.Request{Model: model, Stream: stream}
	if stream {
		out.StreamOptions = &chat.StreamOptions{IncludeUsage: true}
	}
	if c := in.InferenceConfig; c != nil {
		out.MaxCompletionTokens = c.MaxTokens
		out.Temperature = c.Temperature
		out.TopP = c.TopP
		out.Stop = c.StopSequences
	}
	sys, err := system(in.System)
	if err != nil {
		return nil, err
	}
	if sys != "" {
		out.Messages = append(out.Messages, chat.Message{Role: "system", Content: chat.Text(sys)})
	}
	for i, m := range in.Messages {
		if out.Messages, err = messages(out.Messages, format.Index("messages", i), m); err != nil {
			return nil, err
		}
	}
	if err := tools(&out, in.ToolConfig); err != nil {
		return nil, err
	}
	chatBody, err := json.Marshal(out)
	if err != nil {
		return nil, invalid("", err.Error())
	}
	r := &Request{Chat: chatBody, Model: model, Stream: stream}
	if a := in.AdditionalModelRequestFields; a != nil {
		r.TopK = a.TopK
	}
	return r, nil
}

// system returns the system prompt: the text of the system blocks joined by newlines.
func system(bs []wireBlock) (string, error) {
	texts := make([]string, 0, len(bs))
	for i, b := range bs {
		field := format.Index("system", i)
		switch {
		case b.Text != nil:
			texts = append(texts, *b.Text)
		case b.GuardContent != nil && b.GuardContent.Text != nil:
			texts = append(texts, b.GuardContent.Text.Text)
		case !chat.IsNull(b.CachePoint):
		default:
			return "", unsupported(field, "system blocks other than text have no chat equivalent")
		}
	}
	return strings.Join(texts, "\n"), nil
}

// messages appends the chat messages of one Converse message to msgs. A user message's
// toolResult blocks become tool messages, ahead of a user message with the rest of its
// content; an assistant message's toolUse blocks become its tool_calls.
func messages(msgs []chat.Message, field string, m wireMessage) ([]chat.Message, error) {
	if len(m.Content) == 0 {
		return nil, invalid(field+".content", "content is required")
	}
	switch m.Role {
	case "user":
		var parts []chat.Part
		for j, b := range m.Content {
			bf := format.Index(field+".content", j)
			if b.ToolResult != nil {
				content, media, err := toolResult(bf+".toolResult", b.ToolResult)
				if err != nil {
					return nil, err
				}
				msgs = append(msgs, chat.Message{Role: "tool", ToolCallID: b.ToolResult.ToolUseID, Content: content})
				parts = append(parts, media...)
				continue
			}
			p, err := userPart(bf, &b)
			if err != nil {
				return nil, err
			}
			parts = append(parts, p...)
		}
		return chat.AppendUser(msgs, parts), nil
	case "assistant":
		var a chat.Assistant
		for j, b := range m.Content {
			bf := format.Index(field+".content", j)
			switch {
			case b.Text != nil:
				a.AddText(*b.Text)
			case b.CitationsContent != nil:
				a.AddText("")
				for _, c := range b.CitationsContent.Content {
					a.AddText(c.Text)
				}
			case b.ToolUse != nil:
				if b.ToolUse.ToolUseID == "" || b.ToolUse.Name == "" {
					return nil, invalid(bf+".toolUse", "a toolUse block needs toolUseId and name")
				}
				a.AddCall(b.ToolUse.ToolUseID, b.ToolUse.Name, chat.InputArguments(b.ToolUse.Input))
			case !chat.IsNull(b.ReasoningContent), !chat.IsNull(b.CachePoint):
				// Reasoning is signed for the model that made it; cache points are Bedrock's.
			default:
				return nil, unsupported(bf, "assistant blocks other than text, toolUse and reasoningContent have no chat equivalent")
			}
		}
		return append(msgs, a.Message()), nil
	}
	return nil, invalid(field+".role", "role must be user or assistant")
}

// tools translates toolConfig into function tools and tool_choice.
func tools(out *chat.Request, tc *wireToolConfig) error {
	if tc == nil {
		return nil
	}
	for i, t := range tc.Tools {
		field := format.Index("toolConfig.tools", i)
		switch {
		case t.ToolSpec != nil:
			s := t.ToolSpec
			if s.Name == "" {
				return invalid(field+".toolSpec.name", "a tool needs a name")
			}
			schema := s.InputSchema.JSON
			if chat.IsNull(schema) {
				schema = json.RawMessage(`{"type":"object","properties":{}}`)
			}
			out.Tools = append(out.Tools, provider.Tool{Type: "function",
				Function: provider.FunctionDecl{Name: s.Name, Description: s.Description, Parameters: schema}})
		case !chat.IsNull(t.SystemTool):
			return unsupported(field+".systemTool", "system tools are run by Bedrock")
		}
		// A cachePoint among the tools has no chat equivalent: dropped.
	}
	c := tc.ToolChoice
	switch {
	case c == nil:
	case !chat.IsNull(c.Auto):
		out.ToolChoice = json.RawMessage(`"auto"`)
	case !chat.IsNull(c.Any):
		out.ToolChoice = json.RawMessage(`"required"`)
	case c.Tool != nil:
		if c.Tool.Name == "" {
			return invalid("toolConfig.toolChoice.tool.name", "a tool toolChoice needs a name")
		}
		out.ToolChoice, _ = json.Marshal(chat.FunctionChoice(c.Tool.Name))
	default:
		return invalid("toolConfig.toolChoice", "toolChoice must be auto, any or tool")
	}
	return nil
}
