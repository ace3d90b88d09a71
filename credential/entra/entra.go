// Package entra gets Microsoft Entra ID access tokens for Azure OpenAI (Azure AI services)
// targets, the way Kong's auth.azure_use_managed_identity does through lua-resty-azure, and
// for other Azure resources such as Azure Managed Redis (Config.Resource):
//
//   - with a client ID, client secret and tenant ID, the OAuth 2.0 client-credentials flow:
//     POST {authority}/{tenant}/oauth2/v2.0/token with the form grant_type=client_credentials,
//     client_id, client_secret and scope={resource}/.default;
//   - otherwise the host's managed identity, user-assigned when a client ID is given, else
//     system-assigned: Azure IMDS (GET IMDSEndpoint?api-version=2018-02-01&resource={resource}
//     [&client_id=…], header "Metadata: true"), or, when Config.IdentityEndpoint is set (App
//     Service, Functions and Container Apps set IDENTITY_ENDPOINT and IDENTITY_HEADER), that
//     endpoint with api-version=2019-08-01 and the header X-IDENTITY-HEADER.
//
// Tokens are cached until shortly before they expire. New reads no environment: the caller
// passes what it found, or what FromEnvironment adds. Errors and String never contain the client
// secret or a token.
package entra

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aiproxy/aiproxy/credential/internal/tokencache"
)

// Endpoints and audience of the flows.
const (
	// Resource is the default audience: Azure OpenAI and the other Azure AI services.
	Resource = "https://cognitiveservices.azure.com/"
	// DefaultAuthorityHost is Microsoft Entra ID's public-cloud authority.
	DefaultAuthorityHost = "https://login.microsoftonline.com"
	// IMDSEndpoint is the managed-identity token endpoint of Azure VMs, scale sets and AKS nodes.
	IMDSEndpoint = "http://169.254.169.254/metadata/identity/oauth2/token"
	// DefaultEarlyExpiry is how long before its expiry a cached token is renewed; a token
	// that lives less than twice as long is renewed at half its life.
	DefaultEarlyExpiry = 5 * time.Minute
)

// Config configures a Source. Zero values mean the documented defaults.
type Config struct {
	// ClientID, ClientSecret and TenantID select the client-credentials flow when all three
	// are set. Otherwise the managed identity is used: ClientID names a user-assigned one,
	// empty means the system-assigned one; ClientSecret and TenantID are then ignored.
	ClientID, ClientSecret, TenantID string
	// AuthorityHost is the Entra ID authority of the client-credentials flow; empty means
	// DefaultAuthorityHost.
	AuthorityHost string
	// Resource is the audience of the tokens, in the managed-identity endpoints' form (the
	// client-credentials flow asks for its "/.default" scope); empty means Resource, Azure
	// OpenAI's. Azure Managed Redis, for one, takes "https://redis.azure.com/".
	Resource string
	// IdentityEndpoint and IdentityHeader are the App Service / Container Apps managed-identity
	// endpoint and its secret header. Empty IdentityEndpoint means IMDSEndpoint.
	IdentityEndpoint, IdentityHeader string
	// HTTPClient sends token requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// EarlyExpiry is how long before expiry a token is renewed; zero means DefaultEarlyExpiry.
	EarlyExpiry time.Duration
}

// FromEnvironment returns c with what Kong's lua-resty-azure reads from the environment
// filled in: an empty ClientID, ClientSecret or TenantID from AZURE_CLIENT_ID,
// AZURE_CLIENT_SECRET or AZURE_TENANT_ID, an empty AuthorityHost from AZURE_AUTHORITY_HOST, and
// the App Service / Container Apps identity endpoint from IDENTITY_ENDPOINT and
// IDENTITY_HEADER when both are set. (New itself reads no environment.)
func FromEnvironment(c Config) Config {
	c.ClientID = cmp.Or(c.ClientID, os.Getenv("AZURE_CLIENT_ID"))
	c.ClientSecret = cmp.Or(c.ClientSecret, os.Getenv("AZURE_CLIENT_SECRET"))
	c.TenantID = cmp.Or(c.TenantID, os.Getenv("AZURE_TENANT_ID"))
	c.AuthorityHost = cmp.Or(c.AuthorityHost, os.Getenv("AZURE_AUTHORITY_HOST"))
	if e, h := os.Getenv("IDENTITY_ENDPOINT"), os.Getenv("IDENTITY_HEADER"); e != "" && h != "" && c.IdentityEndpoint == "" {
		c.IdentityEndpoint, c.IdentityHeader = e, h
	}
	return c
}

// Flow names the way a Source gets its tokens.
type Flow string

// The flows.
const (
	ClientCredentials Flow = "client credentials"
	IMDS              Flow = "managed identity (IMDS)"
	AppService        Flow = "managed identity (App Service)"
)

// TokenError is a failed token request. It never contains the client secret or a token.
type TokenError struct {
	Flow        Flow
	Status      int    // HTTP status of the token endpoint, 0 if it was not reached
	Code        string // OAuth error, e.g. "invalid_client"
	Description string // the endpoint's error_description (or message)
	Err         error  // transport or decoding error, if any
}

func (e *TokenError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("entra: %s token request failed: %v", e.Flow, e.Err)
	}
	msg := fmt.Sprintf("entra: %s token endpoint answered %d", e.Flow, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

func (e *TokenError) Unwrap() error { return e.Err }

// Source gives access tokens for one identity. It is safe for concurrent use; concurrent
// callers share one token request.
type Source struct {
	cfg   Config
	flow  Flow
	cache tokencache.Cache
}

// New returns the Source of c; it does no I/O.
func New(c Config) *Source {
	s := &Source{cfg: c, flow: IMDS}
	switch {
	case c.ClientID != "" && c.ClientSecret != "" && c.TenantID != "":
		s.flow = ClientCredentials
	case c.IdentityEndpoint != "":
		s.flow = AppService
	}
	if s.cfg.AuthorityHost == "" {
		s.cfg.AuthorityHost = DefaultAuthorityHost
	}
	if s.cfg.Resource == "" {
		s.cfg.Resource = Resource
	}
	if s.cfg.HTTPClient == nil {
		s.cfg.HTTPClient = http.DefaultClient
	}
	if s.cfg.Now == nil {
		s.cfg.Now = time.Now
	}
	if s.cfg.EarlyExpiry == 0 {
		s.cfg.EarlyExpiry = DefaultEarlyExpiry
	}
	s.cache = tokencache.Cache{Now: s.cfg.Now, Early: s.cfg.EarlyExpiry}
	return s
}

// Flow reports how s gets its tokens.
func (s *Source) Flow() Flow { return s.flow }

// String names the flow and the client ID; it never shows the secret or a token.
func (s *Source) String() string {
	if s.cfg.ClientID == "" {
		return "entra.Source(" + string(s.flow) + ", system-assigned)"
	}
	return "entra.Source(" + string(s.flow) + ", client " + s.cfg.ClientID + ")"
}

// GoString is String, so that %#v shows no secret either.
func (s *Source) GoString() string { return s.String() }

// Token returns a valid access token, from the cache or from the token endpoint. When a
// renewal fails while the cached token is still valid, that token is returned.
func (s *Source) Token(ctx context.Context) (string, error) {
	return s.cache.Token(ctx, s.fetch)
}

// request builds the token request of s's flow.
func (s *Source) request(ctx context.Context) (*http.Request, error) {
	c := s.cfg
	switch s.flow {
	case ClientCredentials:
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID},
			"client_secret": {c.ClientSecret}, "scope": {strings.TrimSuffix(c.Resource, "/") + "/.default"}}
		u := strings.TrimRight(c.AuthorityHost, "/") + "/" + url.PathEscape(c.TenantID) + "/oauth2/v2.0/token"
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req, nil
	case AppService:
		req, err := s.get(ctx, c.IdentityEndpoint, "2019-08-01")
		if err != nil {
			return nil, err
		}
		req.Header.Set("X-IDENTITY-HEADER", c.IdentityHeader)
		return req, nil
	default:
		req, err := s.get(ctx, IMDSEndpoint, "2018-02-01")
		if err != nil {
			return nil, err
		}
		req.Header.Set("Metadata", "true")
		return req, nil
	}
}

// get builds a managed-identity GET to endpoint.
func (s *Source) get(ctx context.Context, endpoint, version string) (*http.Request, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("api-version", version)
	q.Set("resource", s.cfg.Resource)
	if s.cfg.ClientID != "" {
		q.Set("client_id", s.cfg.ClientID)
	}
	u.RawQuery = q.Encode()
	return http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
}

// tokenResponse is the answer of every flow. expires_in is a number from Entra ID and a
// string from the managed-identity endpoints, which also send expires_on (Unix seconds).
type tokenResponse struct {
	AccessToken      string          `json:"access_token"`
	ExpiresIn        json.RawMessage `json:"expires_in"`
	ExpiresOn        json.RawMessage `json:"expires_on"`
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
	Message          string          `json:"message"` // App Service's error form
}

func (s *Source) fetch(ctx context.Context, now time.Time) (string, time.Duration, error) {
	req, err := s.request(ctx)
	if err != nil {
		return "", 0, &TokenError{Flow: s.flow, Err: err}
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", 0, &TokenError{Flow: s.flow, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", 0, &TokenError{Flow: s.flow, Status: resp.StatusCode, Err: err}
	}
	var tr tokenResponse
	jsonErr := json.Unmarshal(body, &tr)
	if resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		e := &TokenError{Flow: s.flow, Status: resp.StatusCode, Code: tr.Error,
			Description: s.redact(cmp.Or(tr.ErrorDescription, tr.Message))}
		if e.Code == "" && e.Description == "" {
			e.Description = http.StatusText(resp.StatusCode)
			if resp.StatusCode == http.StatusOK {
				e.Description = "no access_token in the response"
			}
		}
		return "", 0, e
	}
	if jsonErr != nil {
		return "", 0, &TokenError{Flow: s.flow, Status: resp.StatusCode, Err: fmt.Errorf("decoding the response: %w", jsonErr)}
	}
	if n, ok := seconds(tr.ExpiresIn); ok && n > 0 {
		return tr.AccessToken, time.Duration(n) * time.Second, nil
	}
	if n, ok := seconds(tr.ExpiresOn); ok {
		if ttl := time.Unix(n, 0).Sub(now); ttl > 0 {
			return tr.AccessToken, ttl, nil
		}
	}
	return "", 0, &TokenError{Flow: s.flow, Status: resp.StatusCode, Description: "the response has no usable expires_in or expires_on"}
}

// redact removes the client secret from an endpoint's message, in case it is quoted.
func (s *Source) redact(msg string) string {
	if s.cfg.ClientSecret == "" {
		return msg
	}
	return strings.ReplaceAll(msg, s.cfg.ClientSecret, "[redacted]")
}

// seconds reads a whole number of seconds sent as a JSON number or string ("3599"); other
// forms (an old App Service date string) are not seconds.
func seconds(raw json.RawMessage) (int64, bool) {
	n, err := strconv.ParseInt(strings.Trim(string(raw), `"`), 10, 64)
	return n, err == nil
}
