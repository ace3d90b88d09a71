package secret

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Resolver resolves references to one vault. Implementations are safe for concurrent use;
// they may cache, and they must never put a resolved value in an error or a log.
type Resolver interface {
	Resolve(ctx context.Context, ref Ref) (string, error)
}

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(ctx context.Context, ref Ref) (string, error)

// Resolve calls f.
func (f ResolverFunc) Resolve(ctx context.Context, ref Ref) (string, error) { return f(ctx, ref) }

// ErrNotFound is wrapped by resolvers when a referenced secret or key does not exist.
var ErrNotFound = errors.New("secret not found")

// Error is a failure to resolve one reference. It names the reference, never a value.
type Error struct {
	Ref Ref
	Err error
}

func (e *Error) Error() string { return "aiproxy: resolving " + e.Ref.String() + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// EnvResolver resolves {vault://env/<name>[/<key>]} from environment variables, with Kong's
// naming rule: the resource is upper-cased and "-" becomes "_", so {vault://env/openai-key}
// reads OPENAI_KEY. With a key, the variable holds a JSON object and the key selects a field.
type EnvResolver struct {
	// LookupEnv reads a variable; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// Resolve reads the variable named by ref.
func (e EnvResolver) Resolve(_ context.Context, ref Ref) (string, error) {
	lookup := e.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	name := strings.ToUpper(strings.ReplaceAll(ref.Resource, "-", "_"))
	v, ok := lookup(name)
	if !ok {
		return "", fmt.Errorf("environment variable %s is not set: %w", name, ErrNotFound)
	}
	if ref.Key == "" {
		return v, nil
	}
	return jsonField(v, ref.Key)
}

// jsonField returns field key of the JSON object doc, as a string.
func jsonField(doc, key string) (string, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		return "", errors.New("the secret is not a JSON object, so it has no key " + strconv.Quote(key))
	}
	v, ok := m[key]
	if !ok {
		return "", fmt.Errorf("the secret has no key %q: %w", key, ErrNotFound)
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// Vaults resolves references through the Resolver of the vault each names (Kong's vault
// prefix). Make one with NewVaults.
type Vaults struct {
	byName map[string]Resolver
}

// NewVaults returns the resolution of references through resolvers, with the built-in "env"
// vault (EnvResolver) unless resolvers replaces it.
func NewVaults(resolvers map[string]Resolver) *Vaults {
	v := &Vaults{byName: map[string]Resolver{"env": EnvResolver{}}}
	for name, r := range resolvers {
		v.byName[name] = r
	}
	return v
}

// Has reports whether a vault of that name is configured.
func (v *Vaults) Has(name string) bool {
	_, ok := v.byName[name]
	return ok
}

// Expand returns the value of s with every reference replaced by its resolved value.
// Failures are *Error values naming the reference.
func (v *Vaults) Expand(ctx context.Context, s Secret) (string, error) {
	return s.Expand(func(ref Ref) (string, error) { return v.Lookup(ctx, ref) })
}

// Lookup resolves one reference through the vault it names.
func (v *Vaults) Lookup(ctx context.Context, ref Ref) (string, error) {
	r, ok := v.byName[ref.Vault]
	if !ok {
		return "", &Error{Ref: ref, Err: fmt.Errorf("no vault named %q is configured", ref.Vault)}
	}
	val, err := r.Resolve(ctx, ref)
	if err != nil {
		if se := (*Error)(nil); errors.As(err, &se) {
			return "", err
		}
		return "", &Error{Ref: ref, Err: err}
	}
	return val, nil
}

// Field is a Secret of a configuration with the path where it stands, such as
// "vectordb.redis.password", for errors that name it.
type Field struct {
	Path  string
	Value *Secret
}

// ExpandFields replaces, in place, the references of each field's value with their resolved
// values through v, and returns the values that came from references, for ScrubError. An error
// names the field.
func ExpandFields(ctx context.Context, v *Vaults, fields []Field) ([]string, error) {
	var resolved []string
	for _, f := range fields {
		if f.Value.IsLiteral() {
			continue
		}
		val, err := v.Expand(ctx, *f.Value)
		if err != nil {
			return resolved, fmt.Errorf("%s: %w", f.Path, err)
		}
		*f.Value = Secret(val)
		resolved = append(resolved, val)
	}
	return resolved, nil
}
