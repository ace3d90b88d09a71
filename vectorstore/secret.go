package vectorstore

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// Secret is a store credential (a password or a user name). It never prints its value:
// String, every fmt verb, JSON, text and slog render "[redacted]", or the value itself when
// it is a single secret reference such as "{vault://hashicorp-vault/redis/password}", which
// is not secret (aiproxy.New resolves such references before it opens the store).
type Secret string

// String renders s redacted.
func (s Secret) String() string {
	switch v := string(s); {
	case v == "":
		return ""
	case strings.HasPrefix(v, "{vault://") && strings.IndexByte(v, '}') == len(v)-1:
		return v
	default:
		return "[redacted]"
	}
}

// GoString implements fmt.GoStringer (%#v) with the same redaction as String.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// Format implements fmt.Formatter so that every verb prints the redacted form.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'), verb == 'q':
		fmt.Fprint(f, s.GoString())
	default:
		fmt.Fprint(f, s.String())
	}
}

// MarshalText implements encoding.TextMarshaler (and so JSON and YAML) with the redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue implements slog.LogValuer with the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
