// Package core is the offline embedder itself, shared by package offline and by its data
// generator so that both tokenize, hash and embed text the same way.
package core

import (
	"unicode"
	"unicode/utf8"
)

// maxTokenBytes caps the length of one token; longer runs of letters (base64 blobs, minified
// code) are cut so that hashing and n-gram work stay bounded.
const maxTokenBytes = 40

// Tokenize splits text into the lower-case tokens the embedder looks up: maximal runs of
// letters and digits, with Latin accents folded away ("Gödel" → "godel") and everything else
// (punctuation, symbols, spaces, apostrophes) a separator, so "What's" gives "what", "s" and
// "sin(x)" gives "sin", "x". Tokens longer than 40 bytes are cut. The data generator uses the
// same code on its corpus, so training and lookup agree. Invalid UTF-8 bytes are separators.
func Tokenize(text string) []string {
	var out []string
	t := Tokens{Text: text}
	for tok, ok := t.Next(); ok; tok, ok = t.Next() {
		out = append(out, string(tok))
	}
	return out
}

// Tokens iterates over the tokens of Text without allocating.
type Tokens struct {
	Text string
	i    int
	buf  [maxTokenBytes + 4]byte
}

// Next returns the next token, valid until the following call, or false at the end.
func (t *Tokens) Next() ([]byte, bool) {
	n := 0
	text := t.Text
	for t.i < len(text) {
		c := text[t.i]
		if c < utf8.RuneSelf {
			t.i++
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
				if n < maxTokenBytes {
					t.buf[n] = c
					n++
				}
			case c >= 'A' && c <= 'Z':
				if n < maxTokenBytes {
					t.buf[n] = c + ('a' - 'A')
					n++
				}
			default:
				if n > 0 {
					return t.buf[:n], true
				}
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(text[t.i:])
		t.i += size
		if r == utf8.RuneError && size == 1 {
			if n > 0 {
				return t.buf[:n], true
			}
			continue
		}
		if f, ok := fold[r]; ok {
			if n+len(f) <= maxTokenBytes {
				n += copy(t.buf[n:], f)
			}
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			r = unicode.ToLower(r)
			if l := utf8.RuneLen(r); l > 0 && n+l <= maxTokenBytes {
				n += utf8.EncodeRune(t.buf[n:], r)
			}
			continue
		}
		if unicode.Is(unicode.Mn, r) { // a combining accent: "o" + U+0308 reads as "o"
			continue
		}
		if n > 0 {
			return t.buf[:n], true
		}
	}
	if n > 0 {
		return t.buf[:n], true
	}
	return nil, false
}

// fold maps accented Latin letters (both cases) to plain ASCII.
var fold = func() map[rune]string {
	m := map[rune]string{}
	add := func(to string, from string) {
		for _, r := range from {
			m[r] = to
		}
	}
	add("a", "àáâãäåāăąǎȁȃȧạảấầẩẫậắằẳẵặÀÁÂÃÄÅĀĂĄǍȀȂȦẠẢẤẦẨẪẬẮẰẲẴẶ")
	add("c", "çćĉċčÇĆĈĊČ")
	add("d", "ďđðĎĐÐ")
	add("e", "èéêëēĕėęěȅȇẹẻẽếềểễệÈÉÊËĒĔĖĘĚȄȆẸẺẼẾỀỂỄỆ")
	add("g", "ĝğġģǧĜĞĠĢǦ")
	add("h", "ĥħĤĦ")
	add("i", "ìíîïĩīĭįıǐȉȋịỉÌÍÎÏĨĪĬĮİǏȈȊỊỈ")
	add("j", "ĵĴ")
	add("k", "ķǩĶǨ")
	add("l", "ĺļľŀłĹĻĽĿŁ")
	add("n", "ñńņňǹÑŃŅŇǸ")
	add("o", "òóôõöøōŏőǒȍȏọỏốồổỗộớờởỡợơÒÓÔÕÖØŌŎŐǑȌȎỌỎỐỒỔỖỘỚỜỞỠỢƠ")
	add("r", "ŕŗřȑȓŔŖŘȐȒ")
	add("s", "śŝşšșŚŜŞŠȘ")
	add("t", "ţťŧțŢŤŦȚ")
	add("u", "ùúûüũūŭůűųǔȕȗụủứừửữựưÙÚÛÜŨŪŬŮŰŲǓȔȖỤỦỨỪỬỮỰƯ")
	add("w", "ŵŴ")
	add("y", "ýÿŷỳỹỷỵÝŸŶỲỸỶỴ")
	add("z", "źżžŹŻŽ")
	add("ss", "ß")
	add("ae", "æÆ")
	add("oe", "œŒ")
	add("th", "þÞ")
	return m
}()
