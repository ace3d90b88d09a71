package aiproxy

import (
	"net/http"

	"github.com/aiproxy/aiproxy/format/bedrock"
	"github.com/aiproxy/aiproxy/format/cohere"
	"github.com/aiproxy/aiproxy/format/gemini"
	"github.com/aiproxy/aiproxy/format/huggingface"
	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// nativeFail appends the event that ends a native stream passed through (relayed) that the
// upstream broke off: Gemini's error object as an event, Bedrock's exception frame, TGI's
// error event, and Cohere's message-end with finish_reason ERROR. (A stream translated from
// chat ends by its format's Stream.Fail.)
func nativeFail(api clientAPI, dst []byte, status int, body []byte) []byte {
	switch api {
	case geminiAPI:
		return new(gemini.Request).NewStream(true).Fail(dst, status, body)
	case bedrockAPI:
		return new(bedrock.Request).NewStream().Fail(dst, status, body)
	case huggingfaceAPI:
		return new(huggingface.Request).NewStream().Fail(dst, status, body)
	}
	_, msg := openaiErrorOf(body)
	dst = append(dst, "event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"ERROR\",\"error\":"...)
	dst = jsonx.AppendString(dst, msg)
	return append(dst, "}}\n\n"...)
}

// nativeError renders an OpenAI-format error body in the client's native API: Gemini's
// {"error":{"code","message","status"}}, Bedrock's {"message"} with its X-Amzn-Errortype,
// Cohere's {"message"}, TGI's {"error","error_type"}.
func nativeError(api clientAPI, status int, h http.Header, body []byte) []byte {
	switch api {
	case geminiAPI:
		return gemini.Error(status, body)
	case bedrockAPI:
		b, exception := bedrock.Error(status, body)
		h["X-Amzn-Errortype"] = []string{exception}
		return b
	case huggingfaceAPI:
		return huggingface.Error(status, body)
	}
	return cohere.Error(status, body)
}
