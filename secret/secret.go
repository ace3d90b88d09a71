// Package secret holds the configuration values that are secret or that refer to secrets kept
// elsewhere, in Kong's reference syntax, and never print their secret text. Package aiproxy
// resolves the references (see aiproxy.SecretResolver); this package has no I/O.
package secret

import (
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
)

// Secret is a configuration value that is secret, or that holds references to secrets kept
// elsewhere, in Kong's syntax:
//
//	{vault://<vault>/<resource>[/<key>][?<query>][#<version>]}
//
// As in Kong, a reference may be the whole value ("{vault://hashicorp-vault/openai/key}",
// where the stored secret is the whole header value, "Bearer sk-…"). aiproxy also accepts
// references inside a string ("Bearer {vault://hashicorp-vault/openai/key}").
//
// A Secret never prints its literal text: String, every fmt verb, JSON, text and slog render
// the references it holds and "[redacted]" in place of any literal text.
type Secret string

// Redacted stands in for secret text wherever a Secret is printed.
const Redacted = "[redacted]"

// String renders s with its literal text redacted and its references shown.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	rest := string(s)
	for rest != "" {
		start, end, ok := nextRef(rest)
		if !ok {
			b.WriteString(Redacted)
			break
		}
		if start > 0 {
			b.WriteString(Redacted)
		}
		b.WriteString(rest[start:end])
		rest = rest[end:]
	}
	return b.String()
}

// GoString implements fmt.GoStringer (%#v) with the same redaction as String.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// Format implements fmt.Formatter so that every verb, %x and %d included, prints the redacted form.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	if verb == 'q' {
		fmt.Fprint(f, strconv.Quote(s.String()))
		return
	}
	fmt.Fprint(f, s.String())
}

// MarshalText implements encoding.TextMarshaler (and so JSON) with the redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue implements slog.LogValuer with the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// IsLiteral reports whether s holds no reference, so it is its own value.
func (s Secret) IsLiteral() bool {
	_, _, ok := nextRef(string(s))
	return !ok
}

// Refs returns the references s holds, in order. A malformed reference is an error that
// quotes it.
func (s Secret) Refs() ([]Ref, error) {
	var refs []Ref
	rest := string(s)
	for {
		start, end, ok := nextRef(rest)
		if !ok {
			return refs, nil
		}
		ref, err := ParseRef(rest[start:end])
		if err != nil {
			return nil, err
		}
		refs = append(refs, ref)
		rest = rest[end:]
	}
}

// Expand returns s with every reference replaced by what value returns for it. A malformed
// reference is an error that quotes it; an error from value is returned as it is.
func (s Secret) Expand(value func(Ref) (string, error)) (string, error) {
	var b strings.Builder
	rest := string(s)
	for {
		start, end, ok := nextRef(rest)
		if !ok {
			if b.Len() == 0 {
				return rest, nil // no reference at all
			}
			b.WriteString(rest)
			return b.String(), nil
		}
		ref, err := ParseRef(rest[start:end])
		if err != nil {
			return "", err
		}
		v, err := value(ref)
		if err != nil {
			return "", err
		}
		if start == 0 && end == len(s) {
			return v, nil // the common case: the whole value is one reference
		}
		b.WriteString(rest[:start])
		b.WriteString(v)
		rest = rest[end:]
	}
}

// nextRef finds the first "{vault://...}" in s.
func nextRef(s string) (start, end int, ok bool) {
	start = strings.Index(s, "{vault://")
	if start < 0 {
		return 0, 0, false
	}
	n := strings.IndexByte(s[start:], '}')
	if n < 0 {
		return 0, 0, false
	}
	return start, start + n + 1, true
}

// Ref is a parsed reference: {vault://<Vault>/<Resource>[/<Key>][?<Query>][#<Version>]}.
// A reference is not itself secret; its String is the reference text.
type Ref struct {
	// Vault names the vault that holds the secret (Kong's vault prefix): "env" is built in.
	Vault string
	// Resource is the secret's path within the vault, e.g. "openai".
	Resource string
	// Key selects one field of the secret, e.g. "key"; empty means the whole secret.
	Key string
	// Query holds per-reference overrides of the vault's configuration (Kong's ?ttl=60 and so on).
	Query url.Values
	// Version selects a version of a versioned secret (KV v2); 0 means the latest.
	Version int
}

// ParseRef parses a reference such as "{vault://hashicorp-vault/openai/key}".
func ParseRef(s string) (Ref, error) {
	bad := func(why string) (Ref, error) {
		return Ref{}, fmt.Errorf("invalid secret reference %q: %s", s, why)
	}
	body, ok := strings.CutPrefix(s, "{vault://")
	if !ok {
		return bad(`it must start with "{vault://"`)
	}
	body, ok = strings.CutSuffix(body, "}")
	if !ok {
		return bad(`it must end with "}"`)
	}
	var ref Ref
	if i := strings.IndexByte(body, '#'); i >= 0 {
		v, err := strconv.Atoi(body[i+1:])
		if err != nil || v < 1 {
			return bad("the version after # must be a positive integer")
		}
		ref.Version, body = v, body[:i]
	}
	if i := strings.IndexByte(body, '?'); i >= 0 {
		q, err := url.ParseQuery(body[i+1:])
		if err != nil {
			return bad("the query is malformed")
		}
		if len(q) > 0 {
			ref.Query = q
		}
		body = body[:i]
	}
	vault, path, _ := strings.Cut(body, "/")
	if vault == "" || path == "" || strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/") {
		return bad("it needs a vault name and a resource")
	}
	ref.Vault = vault
	ref.Resource = path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		ref.Resource, ref.Key = path[:i], path[i+1:]
	}
	return ref, nil
}

// String returns the reference in Kong's syntax.
func (r Ref) String() string {
	var b strings.Builder
	b.WriteString("{vault://")
	b.WriteString(r.Vault)
	b.WriteByte('/')
	b.WriteString(r.Resource)
	if r.Key != "" {
		b.WriteByte('/')
		b.WriteString(r.Key)
	}
	if len(r.Query) > 0 {
		b.WriteByte('?')
		b.WriteString(r.Query.Encode())
	}
	if r.Version > 0 {
		b.WriteByte('#')
		b.WriteString(strconv.Itoa(r.Version))
	}
	b.WriteByte('}')
	return b.String()
}
