// Package gcpauth gets OAuth 2.0 access tokens for a Google Cloud service account, for Vertex
// AI targets: the service-account key signs a JWT (RS256), which the token endpoint exchanges
// for an access token (RFC 7523, the jwt-bearer grant). Tokens are cached until shortly
// before they expire. This package does I/O; providers stay pure and the proxy calls Token
// in its auth step, sending "Authorization: Bearer <token>".
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
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aiproxy/aiproxy/credential/internal/tokencache"
)

// Defaults of Config.
const (
	DefaultScope    = "https://www.googleapis.com/auth/cloud-platform"
	DefaultTokenURL = "https://oauth2.googleapis.com/token"
	// DefaultEarlyExpiry is how long before its expiry a cached token is renewed.
	DefaultEarlyExpiry = 5 * time.Minute
)

// Config configures a TokenSource. Zero values mean the documented defaults.
type Config struct {
	// CredentialsJSON is the content of a service-account key file. Required.
	CredentialsJSON []byte
	// Scopes are the OAuth scopes asked; nil means DefaultScope.
	Scopes []string
	// TokenURL is the token endpoint; empty means the key's token_uri, else DefaultTokenURL.
	TokenURL string
	// HTTPClient sends token requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// EarlyExpiry is how long before expiry a token is renewed; zero means DefaultEarlyExpiry.
	EarlyExpiry time.Duration
}

// ErrInvalidKey is returned by New for credentials that are not a usable service-account key.
var ErrInvalidKey = errors.New("gcpauth: invalid service-account key")

// TokenError is a failed token exchange. It never contains the key or a token.
type TokenError struct {
	Status      int    // HTTP status of the token endpoint, 0 if it was not reached
	Code        string // OAuth error, e.g. "invalid_grant"
	Description string
	Err         error // transport error, if any
}

func (e *TokenError) Error() string {
	if e.Err != nil {
		return "gcpauth: token request failed: " + e.Err.Error()
	}
	return fmt.Sprintf("gcpauth: token endpoint answered %d %s: %s", e.Status, e.Code, e.Description)
}

func (e *TokenError) Unwrap() error { return e.Err }

// TokenSource gives access tokens for one service account. It is safe for concurrent use;
// concurrent callers share one token request.
type TokenSource struct {
	email, keyID, tokenURL, scope string
	key                           *rsa.PrivateKey
	client                        *http.Client
	cache                         tokencache.Cache
}

// New parses the key and returns its TokenSource; it does no I/O.
func New(c Config) (*TokenSource, error) {
	var f struct {
		Type         string `json:"type"`
		ClientEmail  string `json:"client_email"`
		PrivateKey   string `json:"private_key"`
		PrivateKeyID string `json:"private_key_id"`
		TokenURI     string `json:"token_uri"`
	}
	if err := json.Unmarshal(c.CredentialsJSON, &f); err != nil {
		return nil, fmt.Errorf("%w: not JSON", ErrInvalidKey)
	}
	if f.Type != "service_account" || f.ClientEmail == "" || f.PrivateKey == "" {
		return nil, fmt.Errorf("%w: need type service_account, client_email and private_key", ErrInvalidKey)
	}
	block, _ := pem.Decode([]byte(f.PrivateKey))
	if block == nil {
		return nil, fmt.Errorf("%w: private_key is not PEM", ErrInvalidKey)
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: private_key is not RSA", ErrInvalidKey)
		}
		key = rk
	} else if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		key = k
	} else {
		return nil, fmt.Errorf("%w: private_key does not parse", ErrInvalidKey)
	}
	s := &TokenSource{email: f.ClientEmail, keyID: f.PrivateKeyID, key: key, tokenURL: c.TokenURL,
		scope: strings.Join(c.Scopes, " "), client: c.HTTPClient,
		cache: tokencache.Cache{Now: c.Now, Early: c.EarlyExpiry}}
	if s.tokenURL == "" {
		s.tokenURL = f.TokenURI
	}
	if s.tokenURL == "" {
		s.tokenURL = DefaultTokenURL
	}
	if s.scope == "" {
		s.scope = DefaultScope
	}
	if s.client == nil {
		s.client = http.DefaultClient
	}
	if s.cache.Now == nil {
		s.cache.Now = time.Now
	}
	if s.cache.Early == 0 {
		s.cache.Early = DefaultEarlyExpiry
	}
	return s, nil
}

// String names the service account; it never shows the key or a token.
func (s *TokenSource) String() string { return "gcpauth.TokenSource(" + s.email + ")" }

// Token returns a valid access token, from the cache or from the token endpoint. When a
// renewal fails while the cached token is still valid, that token is returned.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	return s.cache.Token(ctx, s.fetch)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// assertion signs the JWT that the token endpoint exchanges.
func (s *TokenSource) assertion(now time.Time) (string, error) {
	hdr := map[string]string{"alg": "RS256", "typ": "JWT"}
	if s.keyID != "" {
		hdr["kid"] = s.keyID
	}
	h, _ := json.Marshal(hdr)
	claims, _ := json.Marshal(map[string]any{"iss": s.email, "scope": s.scope, "aud": s.tokenURL,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	signing := b64(h) + "." + b64(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + b64(sig), nil
}

func (s *TokenSource) fetch(ctx context.Context, now time.Time) (string, time.Duration, error) {
	jwt, err := s.assertion(now)
	if err != nil {
		return "", 0, &TokenError{Err: err}
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jwt}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, &TokenError{Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", 0, &TokenError{Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", 0, &TokenError{Status: resp.StatusCode, Err: err}
	}
	var tr struct {
		AccessToken      string `json:"access_token"`
		ExpiresIn        int64  `json:"expires_in"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &tr)
	if resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		e := &TokenError{Status: resp.StatusCode, Code: tr.Error, Description: tr.ErrorDescription}
		if e.Code == "" && e.Description == "" {
			e.Description = http.StatusText(resp.StatusCode)
		}
		return "", 0, e
	}
	ttl := time.Duration(tr.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = time.Hour
	}
	return tr.AccessToken, ttl, nil
}
