package aiproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSecretRef(t *testing.T) {
	tests := []struct {
		in   string
		want SecretRef
	}{
		{"{vault://hashicorp-vault/openai/key}", SecretRef{Vault: "hashicorp-vault", Resource: "openai", Key: "key"}},
		{"{vault://env/openai-key}", SecretRef{Vault: "env", Resource: "openai-key"}},
		{"{vault://hcv/team/llm/openai/key?ttl=60#3}", SecretRef{Vault: "hcv", Resource: "team/llm/openai", Key: "key", Query: url.Values{"ttl": {"60"}}, Version: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSecretRef(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.in, got.String())
		})
	}
	for _, bad := range []string{"vault://x/y", "{vault://x}", "{vault:///y}", "{vault://x/y#zero}", "{vault://x/y/}"} {
		_, err := ParseSecretRef(bad)
		assert.Error(t, err, bad)
	}
}

func TestSecretNeverPrintsItsValue(t *testing.T) {
	const value = "sk-live-1234567890"
	for _, s := range []Secret{value, "Bearer " + value, "Bearer " + value + " {vault://env/x}"} {
		var logs bytes.Buffer
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("cfg", "secret", s, "struct", struct{ S Secret }{s})
		j, err := json.Marshal(map[string]Secret{"s": s})
		require.NoError(t, err)
		outputs := []string{
			s.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x %X %d", s, s, s, s, s, s, s, s),
			fmt.Sprintf("%v %+v %#v", struct{ S Secret }{s}, &struct{ S Secret }{s}, []Secret{s}),
			string(j), logs.String(), fmt.Errorf("wrapped: %v", s).Error(),
		}
		for _, out := range outputs {
			assert.NotContains(t, out, value)
			assert.NotContains(t, out, fmt.Sprintf("%x", value))
		}
	}
	assert.Equal(t, "[redacted]{vault://env/x}", Secret("Bearer {vault://env/x}").String())
	assert.Equal(t, "{vault://hashicorp-vault/openai/key}", Secret("{vault://hashicorp-vault/openai/key}").String())
}

func TestSecretsResolve(t *testing.T) {
	env := map[string]string{"OPENAI_KEY": "sk-1", "CREDS": `{"user":"u","n":3}`}
	r := &secrets{vaults: map[string]SecretResolver{
		"env": EnvResolver{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }},
	}}
	ctx := context.Background()
	for in, want := range map[Secret]string{
		"plain":                           "plain",
		"{vault://env/openai-key}":        "sk-1",
		"Bearer {vault://env/openai-key}": "Bearer sk-1",
		"{vault://env/creds/user}:{vault://env/creds/n}": "u:3",
	} {
		got, err := r.resolve(ctx, in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	_, err := r.resolve(ctx, "{vault://env/missing-key}")
	require.ErrorIs(t, err, ErrSecretNotFound)
	var se *SecretError
	require.True(t, errors.As(err, &se))
	assert.Equal(t, "missing-key", se.Ref.Resource)
	assert.Contains(t, err.Error(), "{vault://env/missing-key}")

	_, err = r.resolve(ctx, "{vault://nope/x}")
	assert.ErrorContains(t, err, `no vault named "nope"`)
}
