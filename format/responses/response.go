package responses

import (
	"encoding/json"
	"strconv"

	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// echoOf renders the request parameters that a response object repeats, with OpenAI's
// defaults for those the request left out.
func echoOf(in *wireRequest, tools []json.RawMessage) ([]byte, error) {
	type reasoning struct {
		Effort  *string `json:"effort"`
		Summary *string `json:"summary"`
	}
	type text struct {
		Format json.RawMessage `json:"format"`
	}
	e := struct {
		Background         bool              `json:"background"`
		Instructions       *string           `json:"instructions"`
		MaxOutputTokens    *int              `json:"max_output_tokens"`
		Metadata           json.RawMessage   `json:"metadata"`
		ParallelToolCalls  bool              `json:"parallel_tool_calls"`
		PreviousResponseID *string           `json:"previous_response_id"`
		Reasoning          reasoning         `json:"reasoning"`
		Store              bool              `json:"store"`
		Temperature        float64           `json:"temperature"`
		Text               text              `json:"text"`
		ToolChoice         json.RawMessage   `json:"tool_choice"`
		Tools              []json.RawMessage `json:"tools"`
		TopP               float64           `json:"top_p"`
		Truncation         string            `json:"truncation"`
		User               *string           `json:"user"`
	}{
		Instructions: in.Instructions, MaxOutputTokens: in.MaxOutputTokens, Metadata: in.Metadata,
		ParallelToolCalls: in.ParallelToolCalls == nil || *in.ParallelToolCalls,
		Temperature:       1, TopP: 1, Text: text{Format: json.RawMessage(`{"type":"text"}`)},
		ToolChoice: in.ToolChoice, Tools: tools, Truncation: "disabled",
	}
	if chat.IsNull(e.Metadata) {
		e.Metadata = json.RawMessage(`{}`)
	}
	if in.Reasoning != nil {
		e.Reasoning.Effort = in.Reasoning.Effort
	}
	if in.Temperature != nil {
		e.Temperature = *in.Temperature
	}
	if in.TopP != nil {
		e.TopP = *in.TopP
	}
	if in.Text != nil && !chat.IsNull(in.Text.Format) {
		e.Text.Format = in.Text.Format
	}
	if chat.IsNull(e.ToolChoice) {
		e.ToolChoice = json.RawMessage(`"auto"`)
	}
	if e.Tools == nil {
		e.Tools = []json.RawMessage{}
	}
	if in.User != "" {
		e.User = &in.User
	}
	b, err := json.Marshal(e) // compacts the raw values: every event is one line
	if err != nil {
		return nil, err
	}
	b[0] = ',' // {"background":... → ,"background":...
	return b[:len(b)-1], nil
}

// Output item kinds.
const (
	kindMessage = iota
	kindRefusal // a message whose content is a refusal
	kindFunctionCall
	kindReasoning
)

// item is one output item. Text holds the inner part of a JSON string (escaped, without
// quotes): a message's text or refusal, a call's arguments, the reasoning text.
type item struct {
	kind   int
	id     string
	text   []byte
	callID []byte // raw JSON string
	name   []byte // raw JSON string
}

// appendItem appends it as an output item with the given status.
func appendItem(dst []byte, it *item, status string) []byte {
	dst = append(dst, `{"id":"`...)
	dst = append(dst, it.id...)
	switch it.kind {
	case kindMessage, kindRefusal:
		dst = append(dst, `","type":"message","status":"`...)
		dst = append(dst, status...)
		dst = append(dst, `","content":[`...)
		if status != "in_progress" {
			dst = appendPart(dst, it)
		}
		dst = append(dst, `],"role":"assistant"}`...)
	case kindFunctionCall:
		dst = append(dst, `","type":"function_call","status":"`...)
		dst = append(dst, status...)
		dst = append(dst, `","arguments":"`...)
		dst = append(dst, it.text...)
		dst = append(dst, `","call_id":`...)
		dst = append(dst, it.callID...)
		dst = append(dst, `,"name":`...)
		dst = append(dst, it.name...)
		dst = append(dst, '}')
	case kindReasoning:
		dst = append(dst, `","type":"reasoning","status":"`...)
		dst = append(dst, status...)
		dst = append(dst, `","summary":[],"content":[`...)
		if status != "in_progress" {
			dst = appendPart(dst, it)
		}
		dst = append(dst, `]}`...)
	}
	return dst
}

// appendPart appends the content part of a message or reasoning item.
func appendPart(dst []byte, it *item) []byte {
	switch it.kind {
	case kindRefusal:
		dst = append(dst, `{"type":"refusal","refusal":"`...)
	case kindReasoning:
		dst = append(dst, `{"type":"reasoning_text","text":"`...)
	default:
		dst = append(dst, `{"type":"output_text","annotations":[],"logprobs":[],"text":"`...)
	}
	dst = append(dst, it.text...)
	return append(dst, `"}`...)
}

// result is what a response object says besides its items.
type result struct {
	id      string
	created int64
	model   []byte // raw JSON string
	status  string // in_progress, completed, incomplete, failed
	reason  string // incomplete_details.reason
	err     []byte // the error object of a failed response
	usage   *chat.Usage
}

// appendResponse appends a response object.
func (r *Request) appendResponse(dst []byte, res *result, items []item) []byte {
	dst = append(dst, `{"id":"`...)
	dst = append(dst, res.id...)
	dst = append(dst, `","object":"response","created_at":`...)
	dst = strconv.AppendInt(dst, res.created, 10)
	dst = append(dst, `,"status":"`...)
	dst = append(dst, res.status...)
	dst = append(dst, `","error":`...)
	if res.err != nil {
		dst = append(dst, res.err...)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"incomplete_details":`...)
	if res.reason != "" {
		dst = append(dst, `{"reason":"`...)
		dst = append(dst, res.reason...)
		dst = append(dst, `"}`...)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"model":`...)
	dst = append(dst, res.model...)
	dst = append(dst, `,"output":[`...)
	status := "completed"
	if res.status != "completed" {
		status = "incomplete"
	}
	for i := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendItem(dst, &items[i], status)
	}
	dst = append(dst, `],"usage":`...)
	if u := res.usage; u != nil {
		dst = append(dst, `{"input_tokens":`...)
		dst = chat.AppendInt(dst, u.PromptTokens)
		dst = append(dst, `,"input_tokens_details":{"cached_tokens":`...)
		dst = chat.AppendInt(dst, u.PromptTokensDetails.CachedTokens)
		dst = append(dst, `},"output_tokens":`...)
		dst = chat.AppendInt(dst, u.CompletionTokens)
		dst = append(dst, `,"output_tokens_details":{"reasoning_tokens":`...)
		dst = chat.AppendInt(dst, u.CompletionTokensDetails.ReasoningTokens)
		dst = append(dst, `},"total_tokens":`...)
		dst = chat.AppendInt(dst, u.Total())
		dst = append(dst, '}')
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, r.echo...)
	return append(dst, '}')
}

// status maps a chat finish_reason onto a response status and incomplete_details.reason.
func status(finish string) (status, reason string) {
	switch finish {
	case "length":
		return "incomplete", "max_output_tokens"
	case "content_filter":
		return "incomplete", "content_filter"
	}
	return "completed", ""
}

// responseID derives the response id from the chat completion's id, model and time.
func responseID(chatID, model string, created int64) string {
	return chat.ID("resp_", chatID, model, strconv.FormatInt(created, 10))
}

func itemID(prefix, respID string, index int) string {
	return chat.ID(prefix, respID, strconv.Itoa(index))
}

// Response translates a chat.completion body into a Responses API response object: choice
// 0's reasoning_content (as a reasoning item), content (a message with output_text) or
// refusal (a message with a refusal part) and tool calls (function_call items), in that order;
// finish_reason length or content_filter makes the status incomplete; usage with cached and
// reasoning tokens. A body that is not a chat completion is a 502 *provider.Error.
func (r *Request) Response(chatBody []byte) ([]byte, error) {
	c, ch, err := chat.DecodeCompletion(api, chatBody)
	if err != nil {
		return nil, err
	}
	res := result{id: responseID(c.ID, c.Model, c.Created), created: c.Created,
		model: jsonx.AppendString(nil, c.Model), usage: &c.Usage}
	res.status, res.reason = status(ch.FinishReason)
	var items []item
	add := func(kind int, prefix string, text string) *item {
		items = append(items, item{kind: kind, id: itemID(prefix, res.id, len(items)), text: inner(text)})
		return &items[len(items)-1]
	}
	m := ch.Message
	if m.ReasoningContent != nil && *m.ReasoningContent != "" {
		add(kindReasoning, "rs_", *m.ReasoningContent)
	}
	switch {
	case m.Refusal != nil && *m.Refusal != "":
		add(kindRefusal, "msg_", *m.Refusal)
	case m.Content != nil && (*m.Content != "" || len(m.ToolCalls) == 0):
		add(kindMessage, "msg_", *m.Content)
	case m.Content == nil && len(m.ToolCalls) == 0:
		add(kindMessage, "msg_", "")
	}
	for i, tc := range m.ToolCalls {
		callID := tc.ID
		if callID == "" {
			callID = chat.ID("call_", res.id, strconv.Itoa(i))
		}
		it := add(kindFunctionCall, "fc_", tc.Function.Arguments)
		it.callID = jsonx.AppendString(nil, callID)
		it.name = jsonx.AppendString(nil, tc.Function.Name)
	}
	return r.appendResponse(make([]byte, 0, 512+len(chatBody)+len(r.echo)), &res, items), nil
}

// inner returns s as the inner part of a JSON string.
func inner(s string) []byte {
	b := jsonx.AppendString(make([]byte, 0, len(s)+2), s)
	return b[1 : len(b)-1]
}
