package chat

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/aiproxy/aiproxy/provider"
)

// BadGateway returns the 502 error of the translator named api (its package's name) for an
// upstream answer it cannot translate: "<api>: <msg>", type server_error.
func BadGateway(api, msg string) *provider.Error {
	return &provider.Error{Status: http.StatusBadGateway, Type: "server_error", Message: api + ": " + msg}
}

func notCompletion(api string, err error) *provider.Error {
	return BadGateway(api, "the upstream answer is not a chat completion: "+err.Error())
}

// ParseError reads an OpenAI-format error body, {"error":{"message","type","code"}}; a body
// of another shape gives empty strings. A numeric code is returned as its digits.
func ParseError(body []byte) (typ, code, message string) {
	var doc struct {
		Error struct {
			Message string          `json:"message"`
			Type    string          `json:"type"`
			Code    json.RawMessage `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return "", "", ""
	}
	e := doc.Error
	code = String(e.Code)
	if code == "" && len(e.Code) > 0 && e.Code[0] >= '0' && e.Code[0] <= '9' {
		code = string(e.Code)
	}
	return e.Type, code, e.Message
}

// ErrorMessage returns the message of an OpenAI-format error body (ParseError), else the
// status text, else "upstream status <status>".
func ErrorMessage(status int, body []byte) string {
	_, _, msg := ParseError(body)
	if msg == "" {
		msg = http.StatusText(status)
	}
	if msg == "" {
		msg = "upstream status " + strconv.Itoa(status)
	}
	return msg
}
