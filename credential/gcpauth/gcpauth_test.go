package gcpauth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testKey(t *testing.T) (*rsa.PrivateKey, []byte) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// tokenServer checks the JWT bearer grant and answers tokens tok-1, tok-2, ...
func tokenServer(t *testing.T, pub *rsa.PublicKey, status *atomic.Int32) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if st := status.Load(); st != 0 {
			w.WriteHeader(int(st))
			fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`)
			return
		}
		assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
		require.NoError(t, r.ParseForm())
		assert.Equal(t, "urn:ietf:params:oauth:grant-type:jwt-bearer", r.PostForm.Get("grant_type"))
		parts := strings.Split(r.PostForm.Get("assertion"), ".")
		require.Len(t, parts, 3)
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		require.NoError(t, err)
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		assert.NoError(t, rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig), "JWT signature")
		var hdr, claims map[string]any
		hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
		cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
		require.NoError(t, json.Unmarshal(hb, &hdr))
		require.NoError(t, json.Unmarshal(cb, &claims))
		assert.Equal(t, "RS256", hdr["alg"])
		assert.Equal(t, "key-1", hdr["kid"])
		assert.Equal(t, "sa@p.iam.gserviceaccount.com", claims["iss"])
		assert.Equal(t, DefaultScope, claims["scope"])
		assert.Equal(t, "http://"+r.Host+"/token", claims["aud"])
		assert.Equal(t, claims["iat"].(float64)+3600, claims["exp"])
		fmt.Fprintf(w, `{"access_token":"tok-%d","expires_in":3599,"token_type":"Bearer"}`, n)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func credentials(pemKey []byte, tokenURI string) []byte {
	b, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "p", "private_key_id": "key-1",
		"private_key": string(pemKey), "client_email": "sa@p.iam.gserviceaccount.com", "token_uri": tokenURI})
	return b
}

func TestToken(t *testing.T) {
	key, pemKey := testKey(t)
	var status atomic.Int32
	srv, calls := tokenServer(t, &key.PublicKey, &status)
	now := time.Unix(1700000000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ts, err := New(Config{CredentialsJSON: credentials(pemKey, srv.URL+"/token"), Now: clock})
	require.NoError(t, err)
	assert.NotContains(t, fmt.Sprint(ts), "PRIVATE KEY")

	tok, err := ts.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok-1", tok)

	// Cached, also under concurrency.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := ts.Token(context.Background())
			assert.NoError(t, err)
			assert.Equal(t, "tok-1", tok)
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), calls.Load())

	// Renewed DefaultEarlyExpiry before expiry.
	mu.Lock()
	now = now.Add(3599*time.Second - DefaultEarlyExpiry)
	mu.Unlock()
	tok, err = ts.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok-2", tok)

	// A failed exchange is a TokenError without secrets, and nothing is cached.
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	status.Store(400)
	_, err = ts.Token(context.Background())
	var te *TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 400, te.Status)
	assert.Equal(t, "invalid_grant", te.Code)
	assert.NotContains(t, err.Error(), "tok-")
	status.Store(0)
	tok, err = ts.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok-4", tok)
}

func TestTokenURLOverride(t *testing.T) {
	key, pemKey := testKey(t)
	var status atomic.Int32
	srv, _ := tokenServer(t, &key.PublicKey, &status)
	ts, err := New(Config{CredentialsJSON: credentials(pemKey, "https://oauth2.googleapis.com/token"), TokenURL: srv.URL + "/token"})
	require.NoError(t, err)
	tok, err := ts.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok-1", tok)
}

func TestNewInvalid(t *testing.T) {
	_, pemKey := testKey(t)
	for name, c := range map[string][]byte{
		"not json":       []byte("nope"),
		"wrong type":     []byte(`{"type":"authorized_user","client_email":"a","private_key":"b"}`),
		"not pem":        []byte(`{"type":"service_account","client_email":"a","private_key":"b"}`),
		"garbage in pem": credentials(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("x")}), ""),
	} {
		_, err := New(Config{CredentialsJSON: c})
		assert.ErrorIs(t, err, ErrInvalidKey, name)
	}
	_, err := New(Config{CredentialsJSON: credentials(pemKey, "")})
	assert.NoError(t, err)
}

func TestTransportError(t *testing.T) {
	_, pemKey := testKey(t)
	ts, err := New(Config{CredentialsJSON: credentials(pemKey, "http://127.0.0.1:1/token")})
	require.NoError(t, err)
	_, err = ts.Token(context.Background())
	var te *TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 0, te.Status)
}

// FuzzNew: New parses any service-account JSON without panicking; what it refuses is
// ErrInvalidKey, and the error never quotes the key.
func FuzzNew(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(f, err)
	der := x509.MarshalPKCS1PrivateKey(key)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})
	f.Add(credentials(pemKey, "https://oauth2.googleapis.com/token"))
	f.Add(credentials(pemKey[:len(pemKey)/2], ""))
	f.Add([]byte(`{"type":"authorized_user","client_email":"a","private_key":"b"}`))
	f.Add([]byte(`{"type":"service_account"`))
	f.Fuzz(func(t *testing.T, creds []byte) {
		s, err := New(Config{CredentialsJSON: creds})
		if err != nil {
			assert.ErrorIs(t, err, ErrInvalidKey)
			assert.NotContains(t, err.Error(), "PRIVATE KEY")
			return
		}
		assert.NotContains(t, s.String(), "PRIVATE KEY")
	})
}
