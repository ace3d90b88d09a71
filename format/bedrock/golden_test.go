package bedrock

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/aiproxy/aiproxy/format/internal/golden"
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/bedrock"
)

// TestGolden runs the archives in testdata. Input sections: path (/model/{modelId}/converse
// or /converse-stream, which give ParseRequest its model and stream), request.json (a Converse request), chat-response.json (a chat completion), chat-stream (a
// chat completion stream as "data:" lines), chat-stream-error (the status and OpenAI-format
// error that break the stream off) and openai-error (a status and an OpenAI-format error
// body). Output sections: chat-request.json (with "top_k: N" after it when the request had
// one) or error, response.json, stream (the event stream's messages decoded by the AWS SDK's
// decoder, one a line: message type, event or exception type, payload), bedrock-error (the
// X-Amzn-Errortype value and the body).
func TestGolden(t *testing.T) {
	golden.Run(t, "testdata", func(t *testing.T, a *golden.Archive) []golden.Section {
		var out []golden.Section
		if b, ok := a.Get("openai-error"); ok {
			body, exc := Error(golden.StatusAndBody(b))
			out = append(out, golden.Section{Name: "bedrock-error", Data: append([]byte(exc+" "), body...)})
		}
		body, ok := a.Get("request.json")
		if !ok {
			return out
		}
		path, _ := a.Get("path")
		model, op, _ := strings.Cut(strings.TrimPrefix(string(path), "/model/"), "/")
		req, err := ParseRequest(body, model, op == "converse-stream")
		if err != nil {
			return append(out, golden.Section{Name: "error", Data: []byte(golden.ErrorKind(err) + ": " + err.Error())})
		}
		chatReq := req.Chat
		if req.TopK != nil {
			chatReq = append(append(append([]byte(nil), chatReq...), "\ntop_k: "...), strconv.Itoa(*req.TopK)...)
		}
		out = append(out, golden.Section{Name: "chat-request.json", Data: chatReq})
		if b, ok := a.Get("chat-response.json"); ok {
			resp, err := req.Response(b)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, golden.Section{Name: "response.json", Data: resp})
		}
		if b, ok := a.Get("chat-stream"); ok {
			frames := golden.ReplayStream(t, a, b, req.NewStream())
			checkRoundTrip(t, req, b, frames)
			out = append(out, golden.Section{Name: "stream", Data: decodeFrames(t, frames)})
		}
		return out
	})
}

// decodeFrames decodes an event stream with the AWS SDK's decoder and renders its messages
// one a line; every message must have the JSON content type and a JSON payload.
func decodeFrames(t testing.TB, frames []byte) []byte {
	t.Helper()
	dec := eventstream.NewDecoder()
	r := bytes.NewReader(frames)
	var out []string
	for r.Len() > 0 {
		m, err := dec.Decode(r, nil)
		if err != nil {
			t.Fatalf("message %d: %v", len(out), err)
		}
		header := func(name string) string {
			if v := m.Headers.Get(name); v != nil {
				return v.String()
			}
			return ""
		}
		if ct := header(":content-type"); ct != "application/json" || !json.Valid(m.Payload) {
			t.Fatalf("message %d: content type %q, payload %q", len(out), ct, m.Payload)
		}
		typ := header(":event-type")
		if header(":message-type") == "exception" {
			typ = header(":exception-type")
		}
		out = append(out, header(":message-type")+" "+typ+" "+string(m.Payload))
	}
	return []byte(strings.Join(out, "\n"))
}

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
