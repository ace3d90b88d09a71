package bedrock

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/format/internal/golden"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/bedrock"
)

// streamText is what a stream says: its text, each tool call's id, name and arguments, its
// finish reason and usage.
type streamText struct {
	Text, Finish string
	Tools        []string
	Usage        string
}

// chatStreamText reads a chat completion stream, "data:" lines or chunks one a line.
func chatStreamText(t testing.TB, stream []byte) streamText {
	t.Helper()
	var st streamText
	for _, line := range bytes.Split(stream, []byte("\n")) {
		line = bytes.TrimPrefix(line, []byte("data: "))
		if len(bytes.TrimSpace(line)) == 0 || string(line) == "[DONE]" {
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct {
					Content   string `json:"content"`
					Refusal   string `json:"refusal"`
					ToolCalls []struct {
						Index    int    `json:"index"`
						ID       string `json:"id"`
						Function struct {
							Name      string `json:"name"`
							Arguments string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
				Finish *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *struct {
				Prompt     int `json:"prompt_tokens"`
				Completion int `json:"completion_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal(line, &c); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if c.Usage != nil {
			st.Usage = strconv.Itoa(c.Usage.Prompt) + "+" + strconv.Itoa(c.Usage.Completion)
		}
		for _, ch := range c.Choices {
			st.Text += ch.Delta.Content + ch.Delta.Refusal
			for _, tc := range ch.Delta.ToolCalls {
				for len(st.Tools) <= tc.Index {
					st.Tools = append(st.Tools, "")
				}
				if tc.ID != "" {
					st.Tools[tc.Index] += tc.ID + " " + tc.Function.Name + " "
				}
				st.Tools[tc.Index] += tc.Function.Arguments
			}
			if ch.Finish != nil && *ch.Finish != "" {
				st.Finish = *ch.Finish
			}
		}
	}
	return st
}

// checkRoundTrip decodes the translated stream with provider/bedrock, which serves chat
// clients from ConverseStream, and checks that it says what the chat stream said (up to the
// failure, for a stream broken off).
func checkRoundTrip(t *testing.T, req *Request, chatStream, frames []byte) {
	t.Helper()
	s := bedrock.Provider{}.NewStream(&provider.Request{Body: req.Chat}, nil, bytes.NewReader(frames))
	var chunks []byte
	failed := false
	for {
		c, err := s.Next()
		if err == io.EOF {
			break
		}
		if pe := (*provider.Error)(nil); errors.As(err, &pe) {
			failed = true
			break
		}
		if err != nil {
			t.Fatalf("provider/bedrock cannot decode the stream: %v", err)
		}
		chunks = append(append(chunks, c...), '\n')
	}
	want, got := chatStreamText(t, chatStream), chatStreamText(t, chunks)
	if failed {
		want.Finish, want.Usage = "", ""
		got.Finish, got.Usage = "", ""
	}
	if got.Text != want.Text || got.Finish != want.Finish || got.Usage != want.Usage || strings.Join(got.Tools, "|") != strings.Join(want.Tools, "|") {
		t.Errorf("provider/bedrock reads the stream as\n%+v\nnot\n%+v", got, want)
	}
}

// TestResponseRoundTrip reads every golden's translated response with provider/bedrock,
// which serves chat clients from Converse, and checks that it gives the chat completion's
// text, tool calls, finish reason and usage back.
func TestResponseRoundTrip(t *testing.T) {
	for _, path := range golden.Files(t, "testdata") {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		a := golden.Parse(data)
		body, ok := a.Get("chat-response.json")
		if !ok {
			continue
		}
		resp, err := (&Request{}).Response(body)
		if err != nil {
			t.Fatal(err)
		}
		back, err := bedrock.Provider{}.ParseResponse(&provider.Request{}, http.Header{}, resp)
		if err != nil {
			t.Fatalf("%s: provider/bedrock cannot read %s: %v", path, resp, err)
		}
		if got, want := completionText(t, back.Body), completionText(t, body); got != want {
			t.Errorf("%s: provider/bedrock reads the response as\n%s\nnot\n%s", path, got, want)
		}
	}
}

// completionText is what a chat completion says: its text (or refusal), tool calls (name
// and arguments as a JSON object), finish reason and usage.
func completionText(t *testing.T, body []byte) string {
	c, ch, err := chat.DecodeCompletion(api, body)
	if err != nil {
		t.Fatal(err)
	}
	m := ch.Message
	var b strings.Builder
	switch {
	case m.Refusal != nil && *m.Refusal != "":
		b.WriteString(*m.Refusal)
	case m.Content != nil:
		b.WriteString(*m.Content)
	}
	for _, tc := range m.ToolCalls {
		args, ok := chat.Compact(tc.Function.Arguments)
		if !ok {
			args = []byte("{}")
		}
		b.WriteString("\n" + tc.Function.Name + " " + string(args))
	}
	b.WriteString("\n" + ch.FinishReason + " " + strconv.Itoa(c.Usage.PromptTokens) + "+" + strconv.Itoa(c.Usage.CompletionTokens))
	return b.String()
}
