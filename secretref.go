package aiproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aiproxy/aiproxy/secret"
)

// Secret is a configuration value that is secret or holds {vault://...} references; see
// package secret.
type Secret = secret.Secret

// SecretRef is a parsed {vault://...} reference; see package secret.
type SecretRef = secret.Ref

const redacted = secret.Redacted

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

// resolve returns the value of s with every reference replaced by its resolved value.
func (r *secrets) resolve(ctx context.Context, s Secret) (string, error) {
	return s.Expand(func(ref SecretRef) (string, error) { return r.lookup(ctx, ref) })
}

// lookup resolves one reference through the vault it names.
func (r *secrets) lookup(ctx context.Context, ref SecretRef) (string, error) {
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
