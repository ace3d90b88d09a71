package aiproxy

import (
	"encoding/binary"
	"hash/crc32"
	"net/http"
	"strings"

	"github.com/aiproxy/aiproxy/format/cohere"
	"github.com/aiproxy/aiproxy/format/gemini"
	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// nativeFail appends the event that ends a native stream the upstream broke off: Gemini's
// error object as an event, Cohere's and Hugging Face's error events, Bedrock's exception
// frame.
func nativeFail(api clientAPI, dst []byte, status int, body []byte) []byte {
	_, msg := openaiErrorOf(body)
	switch api {
	case geminiAPI:
		return append(append(append(dst, "data: "...), gemini.Error(status, body)...), "\n\n"...)
	case bedrockAPI:
		return appendBedrockException(dst, bedrockException(status), msg)
	case huggingfaceAPI:
		dst = append(dst, `data: {"error":`...)
		dst = jsonx.AppendString(dst, msg)
		return append(dst, ",\"error_type\":\"generation\"}\n\n"...)
	}
	// Cohere ends a failed generation with message-end, finish_reason ERROR.
	dst = append(dst, "event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"ERROR\",\"error\":"...)
	dst = jsonx.AppendString(dst, msg)
	return append(dst, "}}\n\n"...)
}

// nativeError renders an OpenAI-format error body in the client's native API: Gemini's
// {"error":{"code","message","status"}}, Bedrock's {"message"} with its X-Amzn-Errortype,
// Cohere's {"message"}, Hugging Face's {"error","error_type"}.
func nativeError(api clientAPI, status int, h http.Header, body []byte) []byte {
	_, msg := openaiErrorOf(body)
	switch api {
	case geminiAPI:
		return gemini.Error(status, body)
	case bedrockAPI:
		h["X-Amzn-Errortype"] = []string{bedrockException(status)}
		return append(jsonx.AppendString([]byte(`{"message":`), msg), '}')
	case huggingfaceAPI:
		b := jsonx.AppendString([]byte(`{"error":`), msg)
		return append(b, `,"error_type":"`+strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "_")+`"}`...)
	}
	return cohere.Error(status, body)
}

// bedrockException names Bedrock's exception for an HTTP status.
func bedrockException(status int) string {
	switch status {
	case 400, 413:
		return "ValidationException"
	case 403, 401:
		return "AccessDeniedException"
	case 404:
		return "ResourceNotFoundException"
	case 429:
		return "ThrottlingException"
	case 503:
		return "ServiceUnavailableException"
	case 504:
		return "ModelTimeoutException"
	}
	return "InternalServerException"
}

// appendBedrockException appends an event-stream exception frame: the prelude (total and
// headers length, CRC32), string headers :message-type, :exception-type and :content-type,
// the JSON payload {"message"}, and the message's CRC32.
func appendBedrockException(dst []byte, exception, msg string) []byte {
	var headers []byte
	for _, h := range [][2]string{{":message-type", "exception"}, {":exception-type", exception}, {":content-type", "application/json"}} {
		headers = append(headers, byte(len(h[0])))
		headers = append(headers, h[0]...)
		headers = append(headers, 7) // string
		headers = binary.BigEndian.AppendUint16(headers, uint16(len(h[1])))
		headers = append(headers, h[1]...)
	}
	payload := append(jsonx.AppendString([]byte(`{"message":`), msg), '}')
	total := 12 + len(headers) + len(payload) + 4
	start := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, uint32(total))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(headers)))
	dst = binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:start+8]))
	dst = append(append(dst, headers...), payload...)
	return binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
}
