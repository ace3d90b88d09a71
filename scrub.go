package aiproxy

import "strings"

// minScrubbed is the shortest credential scrub replaces: shorter values (a test's "k1") would
// redact ordinary words.
const minScrubbed = 8

// scrub replaces in msg, an upstream's error message, the credentials an attempt sent: each
// whole value and the token after its scheme (the key of "Bearer sk-…"). An upstream that
// echoes a key it refuses then passes it on neither to the client nor to the logs.
func scrub(msg string, creds []string) string {
	for _, c := range creds {
		forms := []string{c}
		if i := strings.LastIndexByte(c, ' '); i >= 0 {
			forms = append(forms, c[i+1:])
		}
		for _, v := range forms {
			if len(v) >= minScrubbed {
				msg = strings.ReplaceAll(msg, v, redacted)
			}
		}
	}
	return msg
}
