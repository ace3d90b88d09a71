package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aiproxy/aiproxy/secret"
)

// Config configures a Resolver. The fields with a JSON tag are Kong's HashiCorp Vault entity
// (`name: hcv`) config, under Kong's own names, so the `config:` object of a decK `vaults:`
// entry decodes into Config unchanged:
//
//	vaults:
//	- name: hcv
//	  prefix: hashicorp-vault
//	  config: {protocol: http, host: vault.internal, port: 8200, mount: secret, kv: v2, token: "..."}
//
// The fields tagged `json:"-"` exist only in Go. Every field documents its zero value.
type Config struct {
	// Protocol is "http" or "https". Zero means "http" (Kong's default).
	Protocol string `json:"protocol,omitempty"`
	// Host is Vault's host name. Zero means "127.0.0.1".
	Host string `json:"host,omitempty"`
	// Port is Vault's port. Zero means 8200.
	Port int `json:"port,omitempty"`
	// Mount is the KV secrets engine's mount path; single leading and trailing slashes are
	// trimmed. Zero means "secret".
	Mount string `json:"mount,omitempty"`
	// KV is the KV secrets engine version, "v1" or "v2". Zero means "v1" (Kong's default; the
	// mount of a Vault dev server, secret/, is v2).
	KV string `json:"kv,omitempty"`
	// Namespace is the Vault Enterprise namespace sent with every request. Zero means none.
	Namespace string `json:"namespace,omitempty"`

	// AuthMethod is "token", "approle" or "kubernetes". Zero means "token". Kong's other
	// methods (cert, jwt, oauth2, gcp_*, azure, aws_*) make New fail.
	AuthMethod string `json:"auth_method,omitempty"`
	// Token is the Vault token for AuthMethod "token". It may be a whole reference to the
	// environment vault, e.g. "{vault://env/vault-token}" reads VAULT_TOKEN. Zero is an error
	// for AuthMethod "token".
	Token secret.Secret `json:"token,omitempty"`

	// KubeRole is the Vault role for AuthMethod "kubernetes". Zero is an error for that method.
	KubeRole string `json:"kube_role,omitempty"`
	// KubeAuthPath is where the Kubernetes auth method is mounted (auth/<path>/login). Zero
	// means "kubernetes".
	KubeAuthPath string `json:"kube_auth_path,omitempty"`
	// KubeAPITokenFile is the service account token (JWT) file, read at every login. Zero means
	// "/run/secrets/kubernetes.io/serviceaccount/token".
	KubeAPITokenFile string `json:"kube_api_token_file,omitempty"`

	// ApproleAuthPath is where the AppRole auth method is mounted (auth/<path>/login). Zero
	// means "approle".
	ApproleAuthPath string `json:"approle_auth_path,omitempty"`
	// ApproleRoleID is the AppRole role_id. Zero is an error for AuthMethod "approle".
	ApproleRoleID string `json:"approle_role_id,omitempty"`
	// ApproleSecretID is the AppRole secret_id, or a whole reference to the environment vault
	// ("{vault://env/approle-secret-id}" reads APPROLE_SECRET_ID). Zero means read
	// ApproleSecretIDFile; one of the two is required for AuthMethod "approle".
	ApproleSecretID secret.Secret `json:"approle_secret_id,omitempty"`
	// ApproleSecretIDFile is a file holding the secret_id (surrounding white space is trimmed),
	// read at every login so that it can be rotated on disk. Zero means none.
	ApproleSecretIDFile string `json:"approle_secret_id_file,omitempty"`
	// ApproleResponseWrapping says the secret_id is a response-wrapping token that is
	// unwrapped (once) to get the secret_id. Zero means false.
	ApproleResponseWrapping bool `json:"approle_response_wrapping,omitempty"`

	// TTL is how long a resolved value is used before it is read again. Zero means the
	// rotation interval (Kong: zero disables rotation; aiproxy rotates by default, see
	// RotationInterval). The reference query ?ttl=N overrides it.
	TTL Seconds `json:"ttl,omitempty"`
	// NegTTL is how long a failed lookup is remembered, so a missing secret does not reach
	// Vault on every request. Zero disables negative caching. It also spaces the background
	// re-reads of a stale value while Vault fails (zero: the rotation interval, or 60 s when
	// rotation is off). ?neg_ttl=N overrides it.
	NegTTL Seconds `json:"neg_ttl,omitempty"`
	// ResurrectTTL is how long after its TTL a value is still served while Vault cannot be
	// read (unreachable, sealed, secret deleted). Nil means 1e8 s (~3 years, Kong's default);
	// a pointer to zero disables it. ?resurrect_ttl=N overrides it.
	ResurrectTTL *Seconds `json:"resurrect_ttl,omitempty"`
	// Base64Decode decodes every resolved value from standard base64. Zero means false.
	Base64Decode bool `json:"base64_decode,omitempty"`

	// Address is Vault's URL, e.g. "https://vault.internal:8200". Zero means it is built from
	// Protocol, Host and Port; when set, those three are ignored.
	Address string `json:"-"`
	// TLS configures the connection to an https Vault. The zero value verifies the server with
	// the system roots and presents no client certificate.
	TLS TLSConfig `json:"-"`
	// HTTPClient sends the requests to Vault. Nil means a pooled client built by the Vault API
	// (github.com/hashicorp/vault/api). New fails when both HTTPClient and TLS are set.
	HTTPClient *http.Client `json:"-"`
	// Timeout bounds each request to Vault. Zero means 60 s (the Vault API's default).
	Timeout time.Duration `json:"-"`
	// MaxRetries is how often a request that fails with a connection error or a 5xx is retried
	// (with backoff). Zero means 2 (the Vault API's default); a negative value disables retries.
	MaxRetries int `json:"-"`
	// RotationInterval is how often a background goroutine re-reads the cached values whose TTL
	// ends before the next round, so a key rotated in Vault is used without a restart. Zero
	// means 60 s; a negative value disables the goroutine (values are then read again only
	// when a request finds them expired, and TTL zero means they never expire).
	RotationInterval time.Duration `json:"-"`
	// CredentialResolver resolves references in Token and ApproleSecretID. Nil means
	// secret.EnvResolver for references to the "env" vault, and an error for any other.
	CredentialResolver secret.Resolver `json:"-"`
	// Clock is the time source of the cache and the rotation goroutine. Nil means the system
	// clock. (Token renewal uses the Vault API's own timers.)
	Clock Clock `json:"-"`
	// Logger receives the resolver's events: logins, renewals, rotation failures, resurrected
	// values. It never receives a secret value. Nil means no logging.
	Logger *slog.Logger `json:"-"`
}

// TLSConfig is the TLS configuration of the connection to Vault.
type TLSConfig struct {
	// CACert is a PEM file of CA certificates that verify Vault. Zero means the system roots.
	CACert string
	// CACertPEM holds PEM CA certificates, used instead of CACert. Zero means none.
	CACertPEM []byte
	// ClientCert and ClientKey are PEM files of a client certificate and its key, presented to
	// Vault. Zero means none; set both or neither.
	ClientCert, ClientKey string
	// ServerName overrides the name the server certificate is verified against. Zero means the
	// host of the address.
	ServerName string
	// InsecureSkipVerify disables the verification of Vault's certificate. For tests only.
	InsecureSkipVerify bool
}

func (t TLSConfig) isZero() bool {
	return t.CACert == "" && len(t.CACertPEM) == 0 && t.ClientCert == "" && t.ClientKey == "" &&
		t.ServerName == "" && !t.InsecureSkipVerify
}

// Clock is a time source; tests inject a fake one.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Seconds is a duration in seconds, as Kong writes ttl, neg_ttl and resurrect_ttl. It decodes
// from a JSON number or a numeric string (as Kong's environment variables give it).
type Seconds float64

// Duration converts s to a time.Duration.
func (s Seconds) Duration() time.Duration {
	d := float64(s) * float64(time.Second)
	if d >= math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(d)
}

// UnmarshalJSON accepts a number or a string holding a number.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	text := strings.TrimSpace(string(b))
	if uq, err := strconv.Unquote(text); err == nil {
		text = strings.TrimSpace(uq)
	}
	if text == "null" || text == "" {
		return nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("vault: %s is not a number of seconds >= 0", strconv.Quote(string(b)))
	}
	*s = Seconds(f)
	return nil
}

// defaults

const (
	defaultResurrectTTL     = 1e8 * time.Second
	defaultRotationInterval = 60 * time.Second
	defaultKubeTokenFile    = "/run/secrets/kubernetes.io/serviceaccount/token"
)

// settings is a validated Config with every default applied.
type settings struct {
	address          string
	mount            string
	kv               int
	namespace        string
	authMethod       string
	authPath         string // approle or kubernetes mount
	ttl              time.Duration
	negTTL           time.Duration
	resurrectTTL     time.Duration
	rotationInterval time.Duration // <0: disabled
}

func trimSlashes(s string) string {
	s = strings.TrimPrefix(s, "/")
	return strings.TrimSuffix(s, "/")
}

func parseKV(s string) (int, error) {
	switch s {
	case "", "v1", "1":
		return 1, nil
	case "v2", "2":
		return 2, nil
	}
	return 0, fmt.Errorf("kv must be v1 or v2, not %q", s)
}

func (c *Config) settings() (settings, error) {
	var s settings
	if c.Address != "" {
		u, err := url.Parse(c.Address)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return s, fmt.Errorf("vault: address %q must be an http or https URL", c.Address)
		}
		s.address = strings.TrimSuffix(c.Address, "/")
	} else {
		proto, host, port := c.Protocol, c.Host, c.Port
		if proto == "" {
			proto = "http"
		}
		if proto != "http" && proto != "https" {
			return s, fmt.Errorf("vault: protocol must be http or https, not %q", proto)
		}
		if host == "" {
			host = "127.0.0.1"
		}
		if port == 0 {
			port = 8200
		}
		if port < 0 || port > 65535 {
			return s, fmt.Errorf("vault: port %d is out of range", port)
		}
		s.address = proto + "://" + joinHostPort(host, port)
	}
	s.mount = trimSlashes(c.Mount)
	if s.mount == "" {
		s.mount = "secret"
	}
	kv, err := parseKV(c.KV)
	if err != nil {
		return s, errors.New("vault: " + err.Error())
	}
	s.kv = kv
	s.namespace = trimSlashes(c.Namespace)

	s.authMethod = c.AuthMethod
	switch s.authMethod {
	case "", "token":
		s.authMethod = "token"
		if c.Token == "" {
			return s, errors.New("vault: auth_method token needs a token")
		}
	case "approle":
		s.authPath = trimSlashes(c.ApproleAuthPath)
		if s.authPath == "" {
			s.authPath = "approle"
		}
		if c.ApproleRoleID == "" {
			return s, errors.New("vault: auth_method approle needs approle_role_id")
		}
		if c.ApproleSecretID == "" && c.ApproleSecretIDFile == "" {
			return s, errors.New("vault: auth_method approle needs approle_secret_id or approle_secret_id_file")
		}
	case "kubernetes":
		s.authPath = trimSlashes(c.KubeAuthPath)
		if s.authPath == "" {
			s.authPath = "kubernetes"
		}
		if c.KubeRole == "" {
			return s, errors.New("vault: auth_method kubernetes needs kube_role")
		}
	default:
		return s, fmt.Errorf("vault: auth_method %q is not supported (token, approle or kubernetes)", c.AuthMethod)
	}

	s.ttl = c.TTL.Duration()
	s.negTTL = c.NegTTL.Duration()
	s.resurrectTTL = defaultResurrectTTL
	if c.ResurrectTTL != nil {
		s.resurrectTTL = c.ResurrectTTL.Duration()
	}
	s.rotationInterval = c.RotationInterval
	if s.rotationInterval == 0 {
		s.rotationInterval = defaultRotationInterval
	}
	if c.HTTPClient != nil && !c.TLS.isZero() {
		return s, errors.New("vault: set TLS on your HTTPClient's transport, or leave HTTPClient nil")
	}
	if (c.TLS.ClientCert == "") != (c.TLS.ClientKey == "") {
		return s, errors.New("vault: TLS.ClientCert and TLS.ClientKey go together")
	}
	return s, nil
}

func joinHostPort(host string, port int) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// refOptions are the settings for one reference: the vault's, with the reference's query
// overrides (Kong's ?ttl=, ?neg_ttl=, ?resurrect_ttl=; aiproxy also takes ?mount=, ?kv= and
// ?namespace=).
type refOptions struct {
	mount        string
	kv           int
	namespace    string
	ttl          time.Duration // 0: never expires
	negTTL       time.Duration
	resurrectTTL time.Duration
	// retry is how long after a failed read a stale value is served before it is read again in
	// the background: neg_ttl, or the rotation interval (60 s when rotation is off) when
	// neg_ttl is 0.
	retry time.Duration
}

// usable is how long after it was read a value may be served: ttl, then resurrect_ttl more
// while it cannot be read again; capped, so that a huge ttl does not overflow.
func (o refOptions) usable() time.Duration {
	if o.resurrectTTL > math.MaxInt64-o.ttl {
		return math.MaxInt64
	}
	return o.ttl + o.resurrectTTL
}

func (s *settings) forRef(q url.Values) (refOptions, error) {
	o := refOptions{mount: s.mount, kv: s.kv, namespace: s.namespace, ttl: s.ttl,
		negTTL: s.negTTL, resurrectTTL: s.resurrectTTL}
	for name, vals := range q {
		v := ""
		if len(vals) > 0 {
			v = vals[len(vals)-1]
		}
		switch name {
		case "ttl", "neg_ttl", "resurrect_ttl":
			var sec Seconds
			if err := sec.UnmarshalJSON([]byte(strconv.Quote(v))); err != nil {
				return o, fmt.Errorf("query %s: %q is not a number of seconds", name, v)
			}
			switch name {
			case "ttl":
				o.ttl = sec.Duration()
			case "neg_ttl":
				o.negTTL = sec.Duration()
			default:
				o.resurrectTTL = sec.Duration()
			}
		case "mount":
			o.mount = trimSlashes(v)
			if o.mount == "" {
				return o, errors.New("query mount is empty")
			}
		case "kv":
			kv, err := parseKV(v)
			if err != nil {
				return o, errors.New("query " + err.Error())
			}
			o.kv = kv
		case "namespace":
			o.namespace = trimSlashes(v)
		default:
			return o, fmt.Errorf("query option %q is not known (ttl, neg_ttl, resurrect_ttl, mount, kv, namespace)", name)
		}
	}
	if o.ttl == 0 && s.rotationInterval > 0 {
		o.ttl = s.rotationInterval
	}
	switch {
	case o.negTTL > 0:
		o.retry = o.negTTL
	case s.rotationInterval > 0:
		o.retry = s.rotationInterval
	default: // rotation is off
		o.retry = defaultRotationInterval
	}
	return o, nil
}

// credential returns the value of a credential field, resolving a whole {vault://...} reference.
func (c *Config) credential(ctx context.Context, field string, s secret.Secret) (string, error) {
	if s.IsLiteral() {
		return string(s), nil
	}
	ref, err := secret.ParseRef(string(s))
	if err != nil {
		return "", fmt.Errorf("vault: %s must be a literal or one whole reference: %w", field, err)
	}
	if c.CredentialResolver != nil {
		return c.CredentialResolver.Resolve(ctx, ref)
	}
	if ref.Vault != "env" {
		return "", fmt.Errorf("vault: %s refers to vault %q; only env references resolve here (set CredentialResolver)", field, ref.Vault)
	}
	v, err := secret.EnvResolver{}.Resolve(ctx, ref)
	if err != nil {
		return "", &secret.Error{Ref: ref, Err: err}
	}
	return v, nil
}

var _ json.Unmarshaler = (*Seconds)(nil)
