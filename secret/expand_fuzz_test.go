package secret_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/secret"
)

// FuzzSecretExpand: for any configuration value, Refs, Expand and IsLiteral agree. A literal
// is its own value and asks no vault; otherwise Expand asks for exactly the references Refs
// lists, in order, once each (a value that looks like a reference is not expanded again),
// and fails, as Refs does, on a malformed one; an error from a vault is returned as it is.
func FuzzSecretExpand(f *testing.F) {
	for _, s := range []string{"sk-live-1234567890", "{vault://env/openai-key}", "Bearer {vault://hcv/openai/key}",
		"{vault://a/b}{vault://c/d}tail", "{vault://a/b?ttl=60#2}", "x {vault://v} y", "{vault://", "{vault://a/b",
		"}{vault://a/b}}", "{vault://a{vault://b/c}"} {
		f.Add(s)
	}
	vaultDown := errors.New("vault down")
	f.Fuzz(func(t *testing.T, s string) {
		sec := secret.Secret(s)
		refs, refsErr := sec.Refs()
		if sec.IsLiteral() {
			require.NoError(t, refsErr)
			require.Empty(t, refs)
		}

		const injected = "{vault://injected/value}" // a value that looks like a reference
		var asked []secret.Ref
		out, err := sec.Expand(func(r secret.Ref) (string, error) {
			asked = append(asked, r)
			return injected, nil
		})
		if refsErr != nil {
			require.Error(t, err, "Refs refused %q, Expand did not", s)
			assert.Equal(t, refsErr.Error(), err.Error())
			return
		}
		require.NoError(t, err)
		assert.Equal(t, refs, asked, "the references asked for")
		switch {
		case len(refs) == 0:
			assert.Equal(t, s, out, "a literal is its own value")
		case !strings.Contains(s, injected):
			assert.Equal(t, len(refs), strings.Count(out, injected), "each reference is replaced by its value once")
		}

		_, err = sec.Expand(func(secret.Ref) (string, error) { return "", vaultDown })
		if len(refs) > 0 {
			assert.ErrorIs(t, err, vaultDown)
		} else {
			assert.NoError(t, err)
		}
	})
}
