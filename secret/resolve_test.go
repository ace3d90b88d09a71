package secret

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVaultsExpand(t *testing.T) {
	env := map[string]string{"OPENAI_KEY": "sk-1", "CREDS": `{"user":"u","n":3}`}
	r := NewVaults(map[string]Resolver{
		"env": EnvResolver{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }},
	})
	ctx := context.Background()
	for in, want := range map[Secret]string{
		"plain":                           "plain",
		"{vault://env/openai-key}":        "sk-1",
		"Bearer {vault://env/openai-key}": "Bearer sk-1",
		"{vault://env/creds/user}:{vault://env/creds/n}": "u:3",
	} {
		got, err := r.Expand(ctx, in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	_, err := r.Expand(ctx, "{vault://env/missing-key}")
	require.ErrorIs(t, err, ErrNotFound)
	var se *Error
	require.True(t, errors.As(err, &se))
	assert.Equal(t, "missing-key", se.Ref.Resource)
	assert.Contains(t, err.Error(), "{vault://env/missing-key}")

	_, err = r.Expand(ctx, "{vault://nope/x}")
	assert.ErrorContains(t, err, `no vault named "nope"`)
}
