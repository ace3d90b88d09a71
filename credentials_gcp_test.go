package aiproxy

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aiproxy/aiproxy/secret"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serviceAccount is a new service-account key file (JSON) of key ID kid, whose tokens come from
// tokenURI.
func serviceAccount(t *testing.T, kid, tokenURI string) string {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	b, _ := json.Marshal(map[string]string{"type": "service_account", "private_key_id": kid,
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "sa@p.iam.gserviceaccount.com", "token_uri": tokenURI})
	return string(b)
}

// TestGCPKeyRotation: the service-account key of gcp_service_account_json is resolved on each
// use, so a key rotated in the vault signs the next token request without a restart.
func TestGCPKeyRotation(t *testing.T) {
	var kids []string
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		hdr, err := base64.RawURLEncoding.DecodeString(strings.Split(r.PostForm.Get("assertion"), ".")[0])
		require.NoError(t, err)
		var h struct{ Kid string }
		require.NoError(t, json.Unmarshal(hdr, &h))
		kids = append(kids, h.Kid)
		fmt.Fprintf(w, `{"access_token":"token-of-%s","expires_in":3599,"token_type":"Bearer"}`, h.Kid)
	}))
	defer tokens.Close()
	account := func(kid string) string { return serviceAccount(t, kid, tokens.URL) }
	v := &memVault{values: map[string]string{"gcp/json": account("key-1")}}
	s := secret.NewVaults(map[string]secret.Resolver{"mem": v})
	a := &Auth{GCPUseServiceAccount: true, GCPServiceAccountJSON: "{vault://mem/gcp/json}"}
	g := gcpTokens(a, s, http.DefaultClient, time.Now)
	ctx := context.Background()

	for range 2 {
		tok, err := g.token(ctx)
		require.NoError(t, err)
		assert.Equal(t, "token-of-key-1", tok)
	}
	assert.Equal(t, []string{"key-1"}, kids, "the token is cached while the key is the same")

	v.mu.Lock()
	v.values["gcp/json"] = account("key-2")
	v.mu.Unlock()
	tok, err := g.token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "token-of-key-2", tok, "the rotated key is used")
	assert.Equal(t, []string{"key-1", "key-2"}, kids)
}
