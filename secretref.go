package aiproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
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

const redacted = "[redacted]"

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
			b.WriteString(redacted)
			break
		}
		if start > 0 {
			b.WriteString(redacted)
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
func (s Secret) Refs() ([]SecretRef, error) {
	var refs []SecretRef
	rest := string(s)
	for {
		start, end, ok := nextRef(rest)
		if !ok {
			return refs, nil
		}
		ref, err := ParseSecretRef(rest[start:end])
		if err != nil {
			return nil, err
		}
		refs = append(refs, ref)
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

// SecretRef is a parsed reference: {vault://<Vault>/<Resource>[/<Key>][?<Query>][#<Version>]}.
// A reference is not itself secret; its String is the reference text.
type SecretRef struct {
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

// ParseSecretRef parses a reference such as "{vault://hashicorp-vault/openai/key}".
func ParseSecretRef(s string) (SecretRef, error) {
	bad := func(why string) (SecretRef, error) {
		return SecretRef{}, fmt.Errorf("aiproxy: invalid secret reference %q: %s", s, why)
	}
	body, ok := strings.CutPrefix(s, "{vault://")
	if !ok {
		return bad(`it must start with "{vault://"`)
	}
	body, ok = strings.CutSuffix(body, "}")
	if !ok {
		return bad(`it must end with "}"`)
	}
	var ref SecretRef
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
		ref.Query, body = q, body[:i]
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
func (r SecretRef) String() string {
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

// SecretResolver resolves references to one vault. Implementations are safe for concurrent
// use; they may cache, and they must never put a resolved value in an error or a log.
type SecretResolver interface {
	Resolve(ctx context.Context, ref SecretRef) (string, error)
}

// SecretResolverFunc adapts a function to SecretResolver.
type SecretResolverFunc func(ctx context.Context, ref SecretRef) (string, error)

// Resolve calls f.
func (f SecretResolverFunc) Resolve(ctx context.Context, ref SecretRef) (string, error) {
	return f(ctx, ref)
}

// ErrSecretNotFound is wrapped by resolvers when a referenced secret or key does not exist.
var ErrSecretNotFound = errors.New("secret not found")

// SecretError is a failure to resolve one reference. It names the reference, never a value.
type SecretError struct {
	Ref SecretRef
	Err error
}

func (e *SecretError) Error() string {
	return "aiproxy: resolving " + e.Ref.String() + ": " + e.Err.Error()
}

func (e *SecretError) Unwrap() error { return e.Err }

// EnvResolver resolves {vault://env/<name>[/<key>]} from environment variables, with Kong's
// naming rule: the resource is upper-cased and "-" becomes "_", so {vault://env/openai-key}
// reads OPENAI_KEY. With a key, the variable holds a JSON object and the key selects a field.
type EnvResolver struct {
	// LookupEnv reads a variable; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// Resolve reads the variable named by ref.
func (e EnvResolver) Resolve(_ context.Context, ref SecretRef) (string, error) {
	lookup := e.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	name := strings.ToUpper(strings.ReplaceAll(ref.Resource, "-", "_"))
	v, ok := lookup(name)
	if !ok {
		return "", fmt.Errorf("environment variable %s is not set: %w", name, ErrSecretNotFound)
	}
	if ref.Key == "" {
		return v, nil
	}
	return jsonField(v, ref.Key)
}

// secrets resolves the references of Secret values through the configured vaults.
type secrets struct {
	vaults map[string]SecretResolver
}

// newSecrets returns the resolution of references through vaults, with the built-in "env"
// vault unless vaults replaces it.
func newSecrets(vaults map[string]SecretResolver) *secrets {
	s := &secrets{vaults: map[string]SecretResolver{"env": EnvResolver{}}}
	for name, v := range vaults {
		s.vaults[name] = v
	}
	return s
}

// ResolveSecret returns the value of s, its references resolved through vaults (as
// Config.Vaults: keyed by vault name, "env" built in). It is for code that builds what a
// configuration names outside the proxy, such as a vector store whose password is a
// reference. Errors name the reference, never a value.
func ResolveSecret(ctx context.Context, vaults map[string]SecretResolver, s Secret) (string, error) {
	return newSecrets(vaults).resolve(ctx, s)
}

// resolve returns the value of s with every reference replaced by its resolved value.
func (r *secrets) resolve(ctx context.Context, s Secret) (string, error) {
	start, end, ok := nextRef(string(s))
	if !ok {
		return string(s), nil
	}
	if start == 0 && end == len(s) { // the common case: the whole value is one reference
		return r.resolveRef(ctx, string(s))
	}
	var b strings.Builder
	rest := string(s)
	for ok {
		v, err := r.resolveRef(ctx, rest[start:end])
		if err != nil {
			return "", err
		}
		b.WriteString(rest[:start])
		b.WriteString(v)
		rest = rest[end:]
		start, end, ok = nextRef(rest)
	}
	b.WriteString(rest)
	return b.String(), nil
}

func (r *secrets) resolveRef(ctx context.Context, text string) (string, error) {
	ref, err := ParseSecretRef(text)
	if err != nil {
		return "", err
	}
	v, ok := r.vaults[ref.Vault]
	if !ok {
		return "", &SecretError{Ref: ref, Err: fmt.Errorf("no vault named %q is configured", ref.Vault)}
	}
	val, err := v.Resolve(ctx, ref)
	if err != nil {
		var se *SecretError
		if errors.As(err, &se) {
			return "", err
		}
		return "", &SecretError{Ref: ref, Err: err}
	}
	return val, nil
}

// jsonField returns field key of the JSON object doc, as a string.
func jsonField(doc, key string) (string, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		return "", errors.New("the secret is not a JSON object, so it has no key " + strconv.Quote(key))
	}
	v, ok := m[key]
	if !ok {
		return "", fmt.Errorf("the secret has no key %q: %w", key, ErrSecretNotFound)
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}
