package secret

import (
	"bytes"
	"errors"
	"strings"
	"unsafe"
)

// minScrubbed is the shortest value Scrub replaces: shorter values (a test's "k1") would
// redact ordinary words.
const minScrubbed = 8

// Scrub replaces in msg each of values (credentials that were sent or resolved), and the
// token after its scheme (the key of "Bearer sk-…"), with Redacted. An upstream or a database
// that quotes a credential in an error then passes it on to no client and no log.
func Scrub(msg string, values []string) string {
	for _, c := range values {
		forms := []string{c}
		if i := strings.LastIndexByte(c, ' '); i >= 0 {
			forms = append(forms, c[i+1:])
		}
		for _, v := range forms {
			if len(v) >= minScrubbed {
				msg = strings.ReplaceAll(msg, v, Redacted)
			}
		}
	}
	return msg
}

// Redact is Scrub for a response body: b itself when it holds none of values (no allocation),
// else a copy with each replaced by Redacted.
func Redact(b []byte, values []string) []byte {
	for _, c := range values {
		if len(c) < minScrubbed {
			continue
		}
		tok := c
		if i := strings.LastIndexByte(c, ' '); i >= 0 {
			tok = c[i+1:]
		}
		if len(tok) >= minScrubbed && bytes.Contains(b, unsafeBytes(tok)) || bytes.Contains(b, unsafeBytes(c)) {
			return []byte(Scrub(string(b), values))
		}
	}
	return b
}

// unsafeBytes views s as bytes, for reading only.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// ScrubError returns err with Scrub applied to its text. The result matches what err matched
// with errors.Is, but does not unwrap to it, so the values cannot leak through it.
func ScrubError(err error, values []string) error {
	if err == nil || len(values) == 0 {
		return err
	}
	return &scrubbedError{msg: Scrub(err.Error(), values), err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string        { return e.msg }
func (e *scrubbedError) Is(target error) bool { return errors.Is(e.err, target) }
