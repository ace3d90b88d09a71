package secret_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/secret"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		in   string
		want secret.Ref
	}{
		{"{vault://hashicorp-vault/openai/key}", secret.Ref{Vault: "hashicorp-vault", Resource: "openai", Key: "key"}},
		{"{vault://env/openai-key}", secret.Ref{Vault: "env", Resource: "openai-key"}},
		{"{vault://hcv/team/llm/openai/key?ttl=60#3}", secret.Ref{Vault: "hcv", Resource: "team/llm/openai", Key: "key", Query: url.Values{"ttl": {"60"}}, Version: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := secret.ParseRef(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.in, got.String())
		})
	}
	for _, bad := range []string{"vault://x/y", "{vault://x}", "{vault:///y}", "{vault://x/y#zero}", "{vault://x/y/}"} {
		_, err := secret.ParseRef(bad)
		assert.Error(t, err, bad)
	}
}

func TestSecretNeverPrintsItsValue(t *testing.T) {
	const value = "sk-live-1234567890"
	for _, s := range []secret.Secret{value, "Bearer " + value, "Bearer " + value + " {vault://env/x}"} {
		var logs bytes.Buffer
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("cfg", "secret", s, "struct", struct{ S secret.Secret }{s})
		j, err := json.Marshal(map[string]secret.Secret{"s": s})
		require.NoError(t, err)
		outputs := []string{
			s.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x %X %d", s, s, s, s, s, s, s, s),
			fmt.Sprintf("%v %+v %#v %s %d %10s", struct{ S secret.Secret }{s}, &struct{ S secret.Secret }{s}, []secret.Secret{s}, &struct{ S secret.Secret }{s}, &struct{ S secret.Secret }{s}, s),
			string(j), logs.String(), fmt.Errorf("wrapped: %v", s).Error(),
		}
		for _, out := range outputs {
			assert.NotContains(t, out, value)
			assert.NotContains(t, out, fmt.Sprintf("%x", value))
		}
	}
	assert.Equal(t, "[redacted]{vault://env/x}", secret.Secret("Bearer {vault://env/x}").String())
	assert.Equal(t, "{vault://hashicorp-vault/openai/key}", secret.Secret("{vault://hashicorp-vault/openai/key}").String())
}

func TestExpand(t *testing.T) {
	values := map[string]string{"{vault://v/openai/key}": "sk-1", "{vault://v/user}": "u"}
	lookup := func(ref secret.Ref) (string, error) {
		if v, ok := values[ref.String()]; ok {
			return v, nil
		}
		return "", errors.New("missing " + ref.String())
	}
	for in, want := range map[secret.Secret]string{
		"plain":                                    "plain",
		"{vault://v/openai/key}":                   "sk-1",
		"Bearer {vault://v/openai/key}":            "Bearer sk-1",
		"{vault://v/user}:{vault://v/openai/key}!": "u:sk-1!",
	} {
		got, err := in.Expand(lookup)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	_, err := secret.Secret("x {vault://v/nope}").Expand(lookup)
	assert.EqualError(t, err, "missing {vault://v/nope}")
	_, err = secret.Secret("{vault://v}").Expand(lookup)
	assert.ErrorContains(t, err, "invalid secret reference")
}

// FuzzParseRef: any input parses or is refused without panicking, and what parses prints
// back as a reference that parses to the same thing.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"{vault://hashicorp-vault/openai/key}", "{vault://env/openai-key}",
		"{vault://hcv/team/llm/openai/key?ttl=60&neg_ttl=5#3}", "{vault://x}", "vault://x/y", "{vault://a/b?%zz}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := secret.ParseRef(s)
		if err != nil {
			return
		}
		again, err := secret.ParseRef(ref.String())
		require.NoError(t, err, "%q printed as %q", s, ref.String())
		assert.Equal(t, ref, again)
	})
}

// FuzzSecretString: a Secret prints no text outside its references.
func FuzzSecretString(f *testing.F) {
	f.Add("sk-live-1234567890")
	f.Add("Bearer {vault://env/openai-key}")
	f.Add("{vault://a/b}{vault://c/d}tail")
	f.Fuzz(func(t *testing.T, s string) {
		out := secret.Secret(s).String()
		rest := out
		for _, part := range strings.Split(rest, secret.Redacted) {
			if part != "" {
				assert.True(t, strings.HasPrefix(part, "{vault://") && strings.HasSuffix(part, "}"),
					"%q printed %q: %q is neither redacted nor a reference", s, out, part)
			}
		}
	})
}
