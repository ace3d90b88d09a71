// Package jsonx reads and edits the top level of a JSON object without decoding it: the
// proxy's hot path needs a request's model, stream flag and messages, and to set a few fields,
// and a full decode would cost more than the rest of the request.
package jsonx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"unicode/utf8"
)

// SyntaxError reports malformed JSON at a byte offset.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return "invalid JSON at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

func syntaxErr(off int, msg string) error { return &SyntaxError{Offset: off, Msg: msg} }

// Member is one member of an object: the raw key (without quotes, escapes untouched) and the
// raw value, both slices of the input. Start and End delimit the value in the input.
type Member struct {
	Key        []byte
	Value      []byte
	Start, End int
}

// Object calls fn for each member of the JSON object b, in order, after checking that b is
// exactly one well-formed object (surrounded by optional whitespace). fn may stop the walk
// early by returning false; the rest of b is still validated.
func Object(b []byte, fn func(m Member) bool) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return syntaxErr(i, "expected a JSON object")
	}
	i = skipSpace(b, i+1)
	more := true
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				return syntaxErr(i, "expected a member name")
			}
			ks := i + 1
			end, err := skipString(b, i)
			if err != nil {
				return err
			}
			key := b[ks : end-1]
			i = skipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return syntaxErr(i, "expected ':'")
			}
			vs := skipSpace(b, i+1)
			ve, err := Skip(b, vs)
			if err != nil {
				return err
			}
			if more {
				more = fn(Member{Key: key, Value: b[vs:ve], Start: vs, End: ve})
			}
			i = skipSpace(b, ve)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return syntaxErr(i, "expected ',' or '}'")
		}
	}
	if i = skipSpace(b, i); i != len(b) {
		return syntaxErr(i, "unexpected data after the object")
	}
	return nil
}

// Array calls fn for each element of the JSON array b (a slice of well-formed JSON, such as
// a Member's Value). It returns an error if b is not an array.
func Array(b []byte, fn func(elem []byte) bool) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return syntaxErr(i, "expected an array")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return nil
	}
	for {
		s := i
		e, err := Skip(b, s)
		if err != nil {
			return err
		}
		if !fn(b[s:e]) {
			return nil
		}
		i = skipSpace(b, e)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return nil
		}
		return syntaxErr(i, "expected ',' or ']'")
	}
}

// Skip returns the offset just past the JSON value starting at b[i], checking its syntax.
func Skip(b []byte, i int) (int, error) {
	return skip(b, i, 0)
}

const maxDepth = 10000

func skip(b []byte, i, depth int) (int, error) {
	if depth > maxDepth {
		return 0, syntaxErr(i, "nested too deeply")
	}
	if i >= len(b) {
		return 0, syntaxErr(i, "unexpected end of input")
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{':
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return 0, syntaxErr(i, "expected a member name")
			}
			e, err := skipString(b, i)
			if err != nil {
				return 0, err
			}
			i = skipSpace(b, e)
			if i >= len(b) || b[i] != ':' {
				return 0, syntaxErr(i, "expected ':'")
			}
			if i, err = skip(b, skipSpace(b, i+1), depth+1); err != nil {
				return 0, err
			}
			i = skipSpace(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				return i + 1, nil
			}
			return 0, syntaxErr(i, "expected ',' or '}'")
		}
	case c == '[':
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		for {
			var err error
			if i, err = skip(b, i, depth+1); err != nil {
				return 0, err
			}
			i = skipSpace(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == ']' {
				return i + 1, nil
			}
			return 0, syntaxErr(i, "expected ',' or ']'")
		}
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(b, i)
	}
	return 0, syntaxErr(i, "unexpected character")
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if !bytes.HasPrefix(b[i:], []byte(lit)) {
		return 0, syntaxErr(i, "invalid literal")
	}
	return i + len(lit), nil
}

func skipString(b []byte, i int) (int, error) {
	i++        // opening quote
	quote := 0 // the next quote at or after i, once found; escapes may pass it
	for {
		// Jump to the next quote (bytes.IndexByte is vectorised), stopping at a backslash
		// before it; the bytes passed over must not be control characters.
		if quote < i {
			q := bytes.IndexByte(b[i:], '"')
			if q < 0 {
				return 0, syntaxErr(len(b), "unterminated string")
			}
			quote = i + q
		}
		plain := b[i:quote]
		if e := bytes.IndexByte(plain, '\\'); e >= 0 {
			plain = plain[:e]
		}
		// Like encoding/json, invalid UTF-8 is tolerated (it decodes as U+FFFD).
		if k := indexControl(plain); k >= 0 {
			return 0, syntaxErr(i+k, "control character in string")
		}
		i += len(plain)
		if b[i] == '"' {
			return i + 1, nil
		}
		if i+1 >= len(b) {
			return 0, syntaxErr(i, "unterminated escape")
		}
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
				return 0, syntaxErr(i, "invalid \\u escape")
			}
			i += 6
		default:
			return 0, syntaxErr(i, "invalid escape")
		}
	}
}

// indexControl returns the index of the first byte of s below 0x20, or -1. It tests eight
// bytes at a time: (x - 0x20 in each byte) &^ x has a byte's top bit set exactly when some
// byte of x is below 0x20.
func indexControl(s []byte) int {
	const ones, tops = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if x := binary.LittleEndian.Uint64(s[i:]); (x-0x20*ones)&^x&tops != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if s[i] < 0x20 {
			return i
		}
	}
	return -1
}

func isHex4(h []byte) bool {
	for _, c := range h {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func skipNumber(b []byte, i int) (int, error) {
	s := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, syntaxErr(s, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, syntaxErr(s, "invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, syntaxErr(s, "invalid number")
		}
	}
	return i, nil
}

// ErrNotString is returned by String for a value that is not a JSON string.
var ErrNotString = errors.New("not a JSON string")

// String decodes the JSON string value v. Without escapes it returns v's bytes as a string
// without further allocation beyond the conversion.
func String(v []byte) (string, error) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", ErrNotString
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), nil
	}
	s, err := strconv.Unquote(string(v))
	if err != nil {
		return "", ErrNotString
	}
	return s, nil
}

// Edit is one change to the top level of an object, applied by Apply.
type Edit struct {
	// Key is the member's name, which must need no escaping.
	Key string
	// Value is the raw JSON to set.
	Value []byte
	// OnlyIfAbsent keeps an existing member's value.
	OnlyIfAbsent bool
}

// Apply appends to dst the object src with edits applied: an existing member gets its value
// replaced (unless OnlyIfAbsent), a missing one is added after the opening brace. src must be
// an object that Object accepted. Order of other members is kept.
func Apply(dst, src []byte, edits []Edit) []byte {
	type span struct{ start, end, edit int }
	var found [8]span
	spans := found[:0]
	var present uint64 // bit i: edits[i] exists in src
	_ = Object(src, func(m Member) bool {
		for i := range edits {
			if string(m.Key) == edits[i].Key {
				present |= 1 << i
				if !edits[i].OnlyIfAbsent {
					spans = append(spans, span{m.Start, m.End, i})
				}
			}
		}
		return true
	})
	open := bytes.IndexByte(src, '{') + 1
	dst = append(dst, src[:open]...)
	added := false
	for i, e := range edits {
		if present&(1<<i) != 0 {
			continue
		}
		dst = append(dst, '"')
		dst = append(dst, e.Key...)
		dst = append(dst, '"', ':')
		dst = append(dst, e.Value...)
		dst = append(dst, ',')
		added = true
	}
	if added && bytes.TrimSpace(src[open:])[0] == '}' {
		dst = dst[:len(dst)-1] // the object was empty: no comma before '}'
	}
	pos := open
	for _, s := range spans {
		dst = append(dst, src[pos:s.start]...)
		dst = append(dst, edits[s.edit].Value...)
		pos = s.end
	}
	return append(dst, src[pos:]...)
}

// Without appends to dst the object src without its members named key (src must be an object
// that Object accepted); the others keep their order and raw values, without the whitespace
// between members.
func Without(dst, src []byte, key string) []byte {
	dst = append(dst, '{')
	first := true
	_ = Object(src, func(m Member) bool {
		if string(m.Key) == key {
			return true
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, '"')
		dst = append(dst, m.Key...)
		dst = append(dst, '"', ':')
		dst = append(dst, m.Value...)
		return true
	})
	return append(dst, '}')
}

// AppendString appends s to dst as a JSON string.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}

const hex = "0123456789abcdef"
