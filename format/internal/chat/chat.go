// Package chat holds what the client-format translators share about the OpenAI
// chat-completions side: the request they build, the completion and stream chunks they read,
// deterministic ids, server-sent event framing, the OpenAI-format errors they read and the
// 502 errors they give.
package chat

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"strconv"

	"github.com/aiproxy/aiproxy/provider"
)

// Request is the OpenAI chat-completions request a client format is translated into. It has
// the fields of provider.ChatRequest that translations set, and a few that it lacks
// (reasoning_effort, verbosity, metadata, file and audio parts).
type Request struct {
	Model               string          `json:"model,omitempty"`
	Messages            []Message       `json:"messages"`
	MaxCompletionTokens *int            `json:"max_completion_tokens,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	FrequencyPenalty    *float64        `json:"frequency_penalty,omitempty"`
	Seed                *int64          `json:"seed,omitempty"`
	Stop                []string        `json:"stop,omitempty"`
	N                   *int            `json:"n,omitempty"`
	PresencePenalty     *float64        `json:"presence_penalty,omitempty"`
	Stream              bool            `json:"stream,omitempty"`
	StreamOptions       *StreamOptions  `json:"stream_options,omitempty"`
	Tools               []provider.Tool `json:"tools,omitempty"`
	ToolChoice          json.RawMessage `json:"tool_choice,omitempty"`
	ParallelToolCalls   *bool           `json:"parallel_tool_calls,omitempty"`
	ResponseFormat      json.RawMessage `json:"response_format,omitempty"`
	ReasoningEffort     string          `json:"reasoning_effort,omitempty"`
	Verbosity           string          `json:"verbosity,omitempty"`
	Logprobs            bool            `json:"logprobs,omitempty"`
	TopLogprobs         *int            `json:"top_logprobs,omitempty"`
	Metadata            json.RawMessage `json:"metadata,omitempty"`
	User                string          `json:"user,omitempty"`
}

// StreamOptions is stream_options; translations always ask for the usage chunk, which the
// client formats report at the end of their streams.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// Message is one chat message. Content nil is null (an assistant message with only tool
// calls).
type Message struct {
	Role       string              `json:"role"`
	Content    *Content            `json:"content"`
	ToolCalls  []provider.ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string              `json:"tool_call_id,omitempty"`
}

// Content is a string (Parts nil) or an array of parts.
type Content struct {
	Text  string
	Parts []Part
}

// MarshalJSON writes a string, or an array when c has parts.
func (c Content) MarshalJSON() ([]byte, error) {
	if c.Parts != nil {
		return json.Marshal(c.Parts)
	}
	return json.Marshal(c.Text)
}

// Text returns string content.
func Text(s string) *Content { return &Content{Text: s} }

// Part is one content part: text, image_url, file or input_audio.
type Part struct {
	Type       string             `json:"type"`
	Text       *string            `json:"text,omitempty"`
	ImageURL   *provider.ImageURL `json:"image_url,omitempty"`
	File       *File              `json:"file,omitempty"`
	InputAudio *Audio             `json:"input_audio,omitempty"`
}

// TextPart returns a text part.
func TextPart(s string) Part { return Part{Type: "text", Text: &s} }

// File is a file part's file: the file's bytes as a data: URL, and its name.
type File struct {
	FileData string `json:"file_data,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// Audio is an input_audio part's audio: base64 data and its format (wav, mp3).
type Audio struct {
	Data   string `json:"data"`
	Format string `json:"format"`
}

// Completion is the part of a chat.completion that translations read.
type Completion struct {
	ID      string   `json:"id"`
	Created int64    `json:"created"`
	Model   string   `json:"model"`
	Choices []Choice `json:"choices"`
	Usage   Usage    `json:"usage"`
}

// Choice is one choice of a Completion.
type Choice struct {
	Index        int           `json:"index"`
	Message      ChoiceMessage `json:"message"`
	FinishReason string        `json:"finish_reason"`
}

// ChoiceMessage is a choice's assistant message. ReasoningContent is the reasoning text that
// DeepSeek, vLLM and other OpenAI-compatible servers return beside the content.
type ChoiceMessage struct {
	Content          *string             `json:"content"`
	ReasoningContent *string             `json:"reasoning_content"`
	Refusal          *string             `json:"refusal"`
	ToolCalls        []provider.ToolCall `json:"tool_calls"`
}

// Usage is OpenAI's usage object with the details translations report.
type Usage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

// Total returns total_tokens, or prompt + completion tokens where the upstream left it out.
func (u *Usage) Total() int {
	if u.TotalTokens > 0 {
		return u.TotalTokens
	}
	return u.PromptTokens + u.CompletionTokens
}

// DecodeCompletion decodes a chat.completion body and returns it with its choice 0 (the one
// with index 0, else the first). A body that is not a chat completion, or one without
// choices, is a 502 *provider.Error of the translator named api (BadGateway).
func DecodeCompletion(api string, body []byte) (*Completion, *Choice, error) {
	var c Completion
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, nil, notCompletion(api, err)
	}
	if len(c.Choices) == 0 {
		return nil, nil, notCompletion(api, errNoChoices)
	}
	ch := &c.Choices[0]
	for i := range c.Choices {
		if c.Choices[i].Index == 0 {
			ch = &c.Choices[i]
			break
		}
	}
	return &c, ch, nil
}

type constError string

func (e constError) Error() string { return string(e) }

const errNoChoices = constError("the chat completion has no choices")

// ID returns prefix followed by 24 hex digits derived from parts: an id that is the same on
// every retry of the same input.
func ID(prefix string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	b := h.Sum(sum[:0])
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 0, len(prefix)+24)
	out = append(out, prefix...)
	for _, c := range b[:12] {
		out = append(out, hexdigits[c>>4], hexdigits[c&0xf])
	}
	return string(out)
}

// CompletionID returns the id of a chat completion's translation for the APIs whose ids
// have no prefix of their own (Cohere's, Gemini's): the completion's id, else a digest of its
// model and creation time.
func CompletionID(chatID, model string, created int64) string {
	if chatID != "" {
		return chatID
	}
	return ID("", model, strconv.FormatInt(created, 10))
}

// IsNull reports whether raw is absent or JSON null.
func IsNull(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// Effort maps a thinking-token budget onto OpenAI's reasoning_effort: < 4096 low, < 16384
// medium, else high.
func Effort(budget int) string {
	switch {
	case budget < 4096:
		return "low"
	case budget < 16384:
		return "medium"
	}
	return "high"
}

// FunctionChoice is a tool_choice that names a function.
type FunctionChoice string

// MarshalJSON writes {"type":"function","function":{"name":...}}.
func (f FunctionChoice) MarshalJSON() ([]byte, error) {
	type fn struct {
		Name string `json:"name"`
	}
	return json.Marshal(struct {
		Type     string `json:"type"`
		Function fn     `json:"function"`
	}{"function", fn{string(f)}})
}

// Event appends the head of a server-sent event named name: "event: <name>\ndata: ". The
// caller appends the data (one line of JSON) and then EndEvent.
func Event(dst []byte, name string) []byte {
	dst = append(dst, "event: "...)
	dst = append(dst, name...)
	return append(dst, "\ndata: "...)
}

// EndEvent ends an event begun by Event.
func EndEvent(dst []byte) []byte { return append(dst, '\n', '\n') }

// AppendInt appends n in decimal.
func AppendInt(dst []byte, n int) []byte { return strconv.AppendInt(dst, int64(n), 10) }
