package aiproxy

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzParseTemplate: any configuration value parses without panicking; a value without "$("
// is no template; a template renders, with every variable given, to its literal text and the
// values, never to a value that unsafeValue refuses, and a parsed variable reproduces the
// text it was parsed from.
func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{
		"", "gpt-4o", "$(uri_captures.model)", `$(uri_captures["model"])`, "$(headers['x-model'])",
		"$(query_params.m)", "ft:$(headers.x-base):acme", "$('$(not.a.variable)')", `$("lit")`,
		"$(headers.x", "$(", "$()", "$(cookies.x)", `$(uri_captures["rest"] or "")`, "$$(headers.a)$",
		"https://h/$(headers.t)/v1", "$( headers . x )", "$(headers[ 'a' ] )",
	} {
		f.Add(s, "v")
	}
	f.Fuzz(func(t *testing.T, s, value string) {
		tt, err := parseTemplate(s)
		if !strings.Contains(s, "$(") {
			if tt != nil || err != nil {
				t.Fatalf("%q: a plain value parsed as %v, %v", s, tt, err)
			}
			return
		}
		if err != nil {
			return
		}
		if len(tt) == 0 {
			t.Fatalf("%q: an empty template", s)
		}
		req := httptest.NewRequest("POST", "/", nil)
		for _, p := range tt {
			switch p.src {
			case tmplLiteral:
			case tmplHeader:
				req.Header.Set(p.text, value)
			case tmplCapture:
				req.SetPathValue(p.text, value)
			}
			if p.src != tmplLiteral && !strings.HasPrefix(s[strings.Index(s, p.expr):], p.expr) {
				t.Fatalf("%q: variable %q is not in the text", s, p.expr)
			}
		}
		out, rerr := tt.render(&tmplRequest{r: req}, "model.name")
		if rerr != nil {
			return // a missing or unsafe value, or a header name net/http would not send
		}
		if tt.static() {
			if out != tt.literal() {
				t.Fatalf("%q: static template rendered %q", s, out)
			}
			return
		}
		if value != "" && unsafeValue(value) != "" {
			t.Fatalf("%q: unsafe value %q rendered into %q", s, value, out)
		}
	})
}
