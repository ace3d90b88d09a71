package gemini

import (
	"bytes"

	"github.com/aiproxy/aiproxy/internal/jsonx"
)

// opaque are the members whose values are the client's own data (a function call's
// arguments and response, schemas): their keys are never renamed.
var opaque = map[string]bool{
	"args": true, "response": true, "parameters": true, "parametersJsonSchema": true,
	"responseSchema": true, "responseJsonSchema": true,
}

// camelKeys returns body with its snake_case member names in camelCase: Gemini's REST API
// takes both spellings (system_instruction, inline_data, mime_type…), and its own
// documentation uses both. Opaque values are copied as they are.
func camelKeys(body []byte) ([]byte, error) {
	if bytes.IndexByte(body, '_') < 0 {
		return body, nil
	}
	return appendCamel(make([]byte, 0, len(body)), body)
}

func appendCamel(dst, v []byte) ([]byte, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return dst, nil
	}
	var err error
	switch v[0] {
	case '{':
		dst = append(dst, '{')
		n := 0
		ferr := jsonx.Object(v, func(m jsonx.Member) bool {
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			key := camel(m.Key)
			dst = append(append(append(dst, '"'), key...), '"', ':')
			if opaque[string(key)] {
				dst = append(dst, m.Value...)
				return true
			}
			dst, err = appendCamel(dst, m.Value)
			return err == nil
		})
		if ferr != nil {
			return nil, ferr
		}
		return append(dst, '}'), err
	case '[':
		dst = append(dst, '[')
		n := 0
		ferr := jsonx.Array(v, func(elem []byte) bool {
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			dst, err = appendCamel(dst, elem)
			return err == nil
		})
		if ferr != nil {
			return nil, ferr
		}
		return append(dst, ']'), err
	}
	return append(dst, v...), nil
}

// camel turns a_bc into aBc; a key without underscores is returned as it is.
func camel(key []byte) []byte {
	if bytes.IndexByte(key, '_') <= 0 || bytes.IndexByte(key, '\\') >= 0 {
		return key
	}
	out := make([]byte, 0, len(key))
	up := false
	for _, c := range key {
		switch {
		case c == '_':
			up = true
		case up && c >= 'a' && c <= 'z':
			out = append(out, c-'a'+'A')
			up = false
		default:
			out = append(out, c)
			up = false
		}
	}
	return out
}
