package pgvectorstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiproxy/aiproxy/secret"
	"github.com/aiproxy/aiproxy/vectorstore"
)

// Options configure a Store. The connection fields mirror Kong's vectordb.pgvector; their JSON
// names are Kong's, so a Kong configuration decodes into Options. Zero values mean Kong's
// defaults, stated on each field.
type Options struct {
	// Host is the server's host. Zero means "127.0.0.1".
	Host string `json:"host,omitempty" yaml:"host,omitempty"`
	// Port is the server's port. Zero means 5432.
	Port int `json:"port,omitempty" yaml:"port,omitempty"`
	// Database is the database name. Zero means "kong-pgvector" (Kong's default).
	Database string `json:"database,omitempty" yaml:"database,omitempty"`
	// User is the role to connect as. Zero means "postgres".
	User secret.Secret `json:"user,omitempty" yaml:"user,omitempty"`
	// Password is the role's password. Empty means none (e.g. trust authentication).
	Password secret.Secret `json:"password,omitempty" yaml:"password,omitempty"`

	// SSL asks the server for TLS. Without SSLRequired, a server that refuses TLS is used
	// without it (libpq's sslmode=prefer); with SSLRequired the connection fails instead.
	SSL         bool `json:"ssl,omitempty" yaml:"ssl,omitempty"`
	SSLRequired bool `json:"ssl_required,omitempty" yaml:"ssl_required,omitempty"`
	// SSLVerify verifies the server's certificate (system roots, host name). As in Kong it is
	// off unless set: with SSL and without SSLVerify the connection is encrypted but the
	// server is not authenticated. Set it (or TLSConfig) in production.
	SSLVerify bool `json:"ssl_verify,omitempty" yaml:"ssl_verify,omitempty"`
	// SSLVersion is the lowest TLS version accepted: "tlsv1_2" (the default), "tlsv1_3" or
	// "any" (Go's default minimum, TLS 1.2). Kong pins the version; Go negotiates the best
	// one the server offers above this floor.
	SSLVersion string `json:"ssl_version,omitempty" yaml:"ssl_version,omitempty"`
	// SSLCert and SSLCertKey are a client certificate and its key, as PEM text or as the
	// paths of PEM files.
	SSLCert    string `json:"ssl_cert,omitempty" yaml:"ssl_cert,omitempty"`
	SSLCertKey string `json:"ssl_cert_key,omitempty" yaml:"ssl_cert_key,omitempty"`

	// Timeout, in milliseconds, bounds connecting and each operation (when the caller's
	// context allows longer). Zero means 5000 (Kong's default).
	Timeout int `json:"timeout,omitempty" yaml:"timeout,omitempty"`

	// The fields below are aiproxy's, not part of Kong's vectordb.pgvector.

	// Dimensions is the length of every vector (Kong's vectordb.dimensions). Required.
	Dimensions int `json:"dimensions,omitempty" yaml:"dimensions,omitempty"`
	// Metric is the distance metric (Kong's vectordb.distance_metric). Empty means cosine.
	Metric vectorstore.Metric `json:"distance_metric,omitempty" yaml:"distance_metric,omitempty"`
	// Table is the base name of the table. Empty means "aiproxy_vectors". The table New
	// creates is "[<Namespace>_]<Table>_<Dimensions>", e.g. aiproxy_vectors_1536, so that
	// a change of embedding model starts a fresh table. Stores with the same table name share
	// their vectors, e.g. replicas of a service.
	Table string `json:"table,omitempty" yaml:"table,omitempty"`
	// Namespace, when set, prefixes the table name.
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`

	// Pool, when set, is used instead of connecting with the fields above; Close does not
	// close it.
	Pool *pgxpool.Pool `json:"-" yaml:"-"`
	// TLSConfig, when set, replaces the TLS settings derived from the SSL fields (and turns
	// TLS on, required).
	TLSConfig *tls.Config `json:"-" yaml:"-"`
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// String renders the options with their credentials redacted. Without it, fmt would print
// the fields of a *Options under a verb such as %s without the redaction of Secret.
func (o Options) String() string {
	type plain Options
	return fmt.Sprintf("%+v", plain(o))
}

func (o *Options) validate() error {
	if err := vectorstore.CheckShape("pgvectorstore", &o.Metric, o.Dimensions); err != nil {
		return err
	}
	if o.Dimensions > 16000 {
		return fmt.Errorf("pgvectorstore: dimensions %d is over pgvector's limit of 16000", o.Dimensions)
	}
	if o.Table == "" {
		o.Table = "aiproxy_vectors"
	}
	for _, name := range []string{o.Table, o.Namespace} {
		if name != "" && !identifier.MatchString(name) {
			return fmt.Errorf("pgvectorstore: %q: table and namespace may hold only letters, digits and _", name)
		}
	}
	if t := o.tableName(); len(t)+len("_cosine_hnsw") > 63 {
		return fmt.Errorf("pgvectorstore: table name %q is too long for PostgreSQL's 63-byte names", t)
	}
	return nil
}

func (o *Options) tableName() string {
	name := o.Table + "_" + strconv.Itoa(o.Dimensions)
	if o.Namespace != "" {
		name = o.Namespace + "_" + name
	}
	return strings.ToLower(name)
}

func (o *Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return 5 * time.Second
	}
	return time.Duration(o.Timeout) * time.Millisecond
}

// poolConfig turns the Kong fields into a pgxpool configuration.
func (o *Options) poolConfig() (*pgxpool.Config, error) {
	host, port, db, user := o.Host, o.Port, o.Database, string(o.User)
	if host == "" {
		host = "127.0.0.1"
	}
	if port == 0 {
		port = 5432
	}
	if db == "" {
		db = "kong-pgvector"
	}
	if user == "" {
		user = "postgres"
	}
	u := url.URL{
		Scheme: "postgres",
		User:   url.UserPassword(user, string(o.Password)),
		Host:   net.JoinHostPort(host, strconv.Itoa(port)),
		Path:   "/" + db,
	}
	if o.Password == "" {
		u.User = url.User(user)
	}
	u.RawQuery = url.Values{"sslmode": {"disable"}}.Encode()
	cfg, err := pgxpool.ParseConfig(u.String())
	if err != nil {
		return nil, fmt.Errorf("pgvectorstore: %w", err)
	}
	cfg.ConnConfig.ConnectTimeout = o.timeout()
	cfg.ConnConfig.Fallbacks = nil
	tlsConfig, required, err := o.tlsConfig(host)
	if err != nil {
		return nil, err
	}
	if tlsConfig != nil {
		cfg.ConnConfig.TLSConfig = tlsConfig
		if !required { // like sslmode=prefer: try TLS, then plain
			cfg.ConnConfig.Fallbacks = []*pgconn.FallbackConfig{{
				Host: cfg.ConnConfig.Host, Port: cfg.ConnConfig.Port, TLSConfig: nil,
			}}
		}
	}
	return cfg, nil
}

func (o *Options) tlsConfig(host string) (*tls.Config, bool, error) {
	if o.TLSConfig != nil {
		return o.TLSConfig, true, nil
	}
	if !o.SSL {
		return nil, false, nil
	}
	c := &tls.Config{ServerName: host, InsecureSkipVerify: !o.SSLVerify} //nolint:gosec // Kong's ssl_verify, documented
	switch o.SSLVersion {
	case "", "tlsv1_2":
		c.MinVersion = tls.VersionTLS12
	case "tlsv1_3":
		c.MinVersion = tls.VersionTLS13
	case "any":
	default:
		return nil, false, fmt.Errorf("pgvectorstore: unknown ssl_version %q (want tlsv1_2, tlsv1_3 or any)", o.SSLVersion)
	}
	if o.SSLCert != "" || o.SSLCertKey != "" {
		cert, err := pemOrFile(o.SSLCert)
		if err != nil {
			return nil, false, fmt.Errorf("pgvectorstore: ssl_cert: %w", err)
		}
		key, err := pemOrFile(o.SSLCertKey)
		if err != nil {
			return nil, false, fmt.Errorf("pgvectorstore: ssl_cert_key: %w", err)
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, false, errors.New("pgvectorstore: ssl_cert and ssl_cert_key do not form a certificate") // never echo key material
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, o.SSLRequired, nil
}

// pemOrFile returns s when it holds PEM text, else the contents of the file s names.
func pemOrFile(s string) ([]byte, error) {
	if strings.Contains(s, "-----BEGIN") {
		return []byte(s), nil
	}
	if s == "" {
		return nil, errors.New("missing")
	}
	b, err := os.ReadFile(s)
	if err != nil { // not wrapped: the error would repeat s, which may be key material
		return nil, errors.New("neither PEM text nor a readable file")
	}
	return b, nil
}

// Open connects a Store for vectors of dims values compared by metric (replacing Dimensions
// and Metric), with the credentials' secret references resolved through vaults: Options are
// the vectorstore.Opener of Kong's vectordb.strategy "pgvector".
func (o Options) Open(ctx context.Context, dims int, metric vectorstore.Metric, vaults *secret.Vaults) (vectorstore.Store, error) {
	o.Dimensions, o.Metric = dims, metric
	return vectorstore.OpenResolved(ctx, vaults, o.Secrets(), func() (*Store, error) { return New(ctx, o) })
}

// Secrets lists the credential fields, by their paths in Kong's configuration.
func (o *Options) Secrets() []secret.Field {
	return []secret.Field{{Path: "vectordb.pgvector.user", Value: &o.User}, {Path: "vectordb.pgvector.password", Value: &o.Password}}
}

var _ vectorstore.Opener = (*Options)(nil)
