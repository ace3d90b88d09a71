package entra

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secret = "s3cr3t~client-secret-value"

// clock is a settable fake time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// via sends every request to srv, keeping its path and query: IMDS's fixed address in tests.
func via(srv *httptest.Server) *http.Client {
	target, _ := url.Parse(srv.URL)
	return &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("X-Original-Host", r.URL.Host)
		r.URL.Scheme, r.URL.Host = target.Scheme, target.Host
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestClientCredentials: the token request is Entra ID's client-credentials form at the
// tenant's v2.0 endpoint; the token is cached until five minutes before expiry.
func TestClientCredentials(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "/tenant-1/oauth2/v2.0/token", r.URL.Path)
		assert.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
		require.NoError(t, r.ParseForm())
		assert.Equal(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {"app-1"},
			"client_secret": {secret}, "scope": {"https://cognitiveservices.azure.com/.default"}}, r.PostForm)
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"tok-%d"}`, n)
	}))
	defer srv.Close()
	clk := &clock{now: time.Unix(1700000000, 0)}
	s := New(Config{ClientID: "app-1", ClientSecret: secret, TenantID: "tenant-1", AuthorityHost: srv.URL + "/",
		HTTPClient: srv.Client(), Now: clk.Now})
	assert.Equal(t, ClientCredentials, s.Flow())
	ctx := context.Background()

	tok, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-1", tok)
	clk.Add(3599*time.Second - DefaultEarlyExpiry - time.Second)
	tok, err = s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-1", tok, "cached until five minutes before expiry")
	clk.Add(2 * time.Second)
	tok, err = s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-2", tok, "renewed within five minutes of expiry")
	assert.EqualValues(t, 2, calls.Load())
}

// TestShortLivedToken: a token living less than twice the early expiry is renewed at half
// its life; expires_in may be a string.
func TestShortLivedToken(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"access_token":"tok-%d","expires_in":"240","token_type":"Bearer"}`, calls.Add(1))
	}))
	defer srv.Close()
	clk := &clock{now: time.Unix(1700000000, 0)}
	s := New(Config{ClientID: "app-1", ClientSecret: secret, TenantID: "t", AuthorityHost: srv.URL, HTTPClient: srv.Client(), Now: clk.Now})
	for _, want := range []string{"tok-1", "tok-1", "tok-2"} {
		tok, err := s.Token(context.Background())
		require.NoError(t, err)
		assert.Equal(t, want, tok)
		clk.Add(70 * time.Second) // renewal is due at 120 s
	}
}

// imdsServer answers like IMDS: expires_in and expires_on are strings.
func imdsServer(t *testing.T, check func(r *http.Request)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		check(r)
		fmt.Fprint(w, `{"access_token":"mi-token","refresh_token":"","expires_in":"86399","expires_on":"1700086399","not_before":"1700000000","resource":"https://cognitiveservices.azure.com/","token_type":"Bearer"}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestIMDS(t *testing.T) {
	for _, tc := range []struct {
		name, clientID string
		query          url.Values
	}{
		{"system-assigned", "", url.Values{"api-version": {"2018-02-01"}, "resource": {Resource}}},
		{"user-assigned", "mi-client-1", url.Values{"api-version": {"2018-02-01"}, "resource": {Resource}, "client_id": {"mi-client-1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen int
			srv := imdsServer(t, func(r *http.Request) {
				seen++
				assert.Equal(t, http.MethodGet, r.Method)
				assert.Equal(t, "169.254.169.254", r.Header.Get("X-Original-Host"))
				assert.Equal(t, "/metadata/identity/oauth2/token", r.URL.Path)
				assert.Equal(t, tc.query, r.URL.Query())
				assert.Equal(t, "true", r.Header.Get("Metadata"))
			})
			// A secret without a tenant is not the client-credentials flow.
			s := New(Config{ClientID: tc.clientID, ClientSecret: secret, HTTPClient: via(srv)})
			assert.Equal(t, IMDS, s.Flow())
			tok, err := s.Token(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "mi-token", tok)
			assert.Equal(t, 1, seen)
		})
	}
}

// TestAppService: with IDENTITY_ENDPOINT's value, the 2019-08-01 protocol; a response with
// only expires_on (Unix seconds) sets the expiry.
func TestAppService(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		assert.Equal(t, "/msi/token", r.URL.Path)
		assert.Equal(t, url.Values{"api-version": {"2019-08-01"}, "resource": {Resource}, "client_id": {"mi-client-1"}}, r.URL.Query())
		assert.Equal(t, "identity-header-value", r.Header.Get("X-IDENTITY-HEADER"))
		assert.Empty(t, r.Header.Get("Metadata"))
		fmt.Fprint(w, `{"access_token":"app-token","expires_on":"1700003600","resource":"https://cognitiveservices.azure.com/","token_type":"Bearer","client_id":"mi-client-1"}`)
	}))
	defer srv.Close()
	clk := &clock{now: time.Unix(1700000000, 0)}
	s := New(Config{ClientID: "mi-client-1", IdentityEndpoint: srv.URL + "/msi/token", IdentityHeader: "identity-header-value",
		HTTPClient: srv.Client(), Now: clk.Now})
	assert.Equal(t, AppService, s.Flow())
	for range 2 {
		tok, err := s.Token(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "app-token", tok)
	}
	clk.Add(56 * time.Minute)
	_, err := s.Token(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 2, calls.Load(), "renewed five minutes before expires_on")
}

// TestErrors: the endpoint's OAuth error is reported, without the client secret even when
// the endpoint quotes it.
func TestErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/bad/oauth2/v2.0/token":
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided (%s).","error_codes":[7000215],"timestamp":"2026-12-02 15:00:00Z","trace_id":"t","correlation_id":"c"}`, secret)
		case "/metadata/identity/oauth2/token":
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_request","error_description":"Identity not found"}`)
		case "/msi/token":
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"statusCode":500,"message":"An unexpected error occured while fetching the AAD Token.","correlationId":"c"}`)
		default:
			fmt.Fprint(w, `{"access_token":"tok","token_type":"Bearer"}`) // no expiry
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{ClientID: "app", ClientSecret: secret, TenantID: "bad", AuthorityHost: srv.URL},
			"entra: client credentials token endpoint answered 401 invalid_client: AADSTS7000215: Invalid client secret provided ([redacted])."},
		{Config{ClientID: "mi"}, "entra: managed identity (IMDS) token endpoint answered 400 invalid_request: Identity not found"},
		{Config{IdentityEndpoint: srv.URL + "/msi/token"},
			"entra: managed identity (App Service) token endpoint answered 500: An unexpected error occured while fetching the AAD Token."},
		{Config{ClientID: "app", ClientSecret: secret, TenantID: "ok", AuthorityHost: srv.URL},
			"entra: client credentials token endpoint answered 200: the response has no usable expires_in or expires_on"},
	} {
		tc.cfg.HTTPClient = via(srv)
		_, err := New(tc.cfg).Token(context.Background())
		var te *TokenError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, tc.want, err.Error())
		assert.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, te), secret)
	}

	// Unreachable: a transport error, also without the secret.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	_, err := New(Config{ClientID: "app", ClientSecret: secret, TenantID: "t", AuthorityHost: dead.URL}).Token(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "entra: client credentials token request failed: ")
	assert.NotContains(t, err.Error(), secret)
}

// TestRenewalFailureKeepsValidToken: when the renewal fails before the cached token expired,
// the cached token is still used; after its expiry the error is returned.
func TestRenewalFailureKeepsValidToken(t *testing.T) {
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"access_token":"tok","expires_in":3600}`)
	}))
	defer srv.Close()
	clk := &clock{now: time.Unix(1700000000, 0)}
	s := New(Config{ClientID: "a", ClientSecret: secret, TenantID: "t", AuthorityHost: srv.URL, HTTPClient: srv.Client(), Now: clk.Now})
	_, err := s.Token(context.Background())
	require.NoError(t, err)
	fail.Store(true)
	clk.Add(58 * time.Minute)
	tok, err := s.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok", tok)
	clk.Add(2 * time.Minute)
	_, err = s.Token(context.Background())
	assert.EqualError(t, err, "entra: client credentials token endpoint answered 503: Service Unavailable")
}

// TestConcurrentCallersShareOneRequest: callers arriving while a token is fetched wait for it.
func TestConcurrentCallersShareOneRequest(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		<-release
		fmt.Fprint(w, `{"access_token":"tok","expires_in":3600}`)
	}))
	defer srv.Close()
	s := New(Config{ClientID: "a", ClientSecret: secret, TenantID: "t", AuthorityHost: srv.URL, HTTPClient: srv.Client()})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := s.Token(context.Background())
			assert.NoError(t, err)
			assert.Equal(t, "tok", tok)
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the callers queue behind the first request
	close(release)
	wg.Wait()
	assert.EqualValues(t, 1, calls.Load())
}

func TestString(t *testing.T) {
	s := New(Config{ClientID: "app-1", ClientSecret: secret, TenantID: "t"})
	assert.Equal(t, "entra.Source(client credentials, client app-1)", s.String())
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", s, s, s), secret[8:], "not even through %#v's fields")
	assert.Equal(t, "entra.Source(managed identity (IMDS), system-assigned)", New(Config{}).String())
}

// FuzzTokenResponse: whatever the token endpoint answers, Token does not panic, a token it
// returns is the response's access_token, and an error never quotes the client secret.
func FuzzTokenResponse(f *testing.F) {
	f.Add(200, `{"access_token":"tok","expires_in":3599,"token_type":"Bearer"}`)
	f.Add(200, `{"access_token":"tok","expires_in":"3599","expires_on":"1700003599"}`)
	f.Add(200, `{"access_token":"tok","expires_on":"1700003599"}`)
	f.Add(200, `{"access_token":"tok"}`)
	f.Add(400, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided: s3cr3t~client-secret-value","error_codes":[7000215]}`)
	f.Add(500, `{"message":"no identity"}`)
	f.Add(200, `not json`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 100 || status > 999 {
			return
		}
		client := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
		})}
		s := New(Config{ClientID: "a", ClientSecret: secret, TenantID: "t", HTTPClient: client,
			Now: func() time.Time { return time.Unix(1_700_000_000, 0) }})
		tok, err := s.Token(context.Background())
		if err != nil {
			assert.NotContains(t, err.Error(), secret)
			return
		}
		assert.NotEmpty(t, tok)
		assert.Contains(t, body, tok)
	})
}
