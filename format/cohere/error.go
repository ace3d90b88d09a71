package cohere

import (
	"github.com/aiproxy/aiproxy/format/internal/chat"
	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// Error translates an OpenAI-format error body ({"error":{"message","type","code"}}) with
// its HTTP status into Cohere's error body, {"message":...}, which Cohere sends with the same
// status. A body without a message gets the status text.
func Error(status int, openaiErr []byte) []byte {
	dst := append([]byte(nil), `{"message":`...)
	dst = jsonx.AppendString(dst, chat.ErrorMessage(status, openaiErr))
	return append(dst, '}')
}
