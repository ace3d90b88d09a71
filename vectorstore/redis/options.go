package redisstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/secret"
	"github.com/aiproxy/aiproxy/vectorstore"
)

// Options configure a Store. The connection fields mirror Kong's vectordb.redis (the shared
// Redis schema of Kong's plugins); their JSON names are Kong's, so a Kong configuration decodes
// into Options. Zero values mean Kong's defaults, stated on each field.
type Options struct {
	// Host is the Redis host. Zero means "127.0.0.1". Ignored when SentinelNodes or
	// ClusterNodes are set.
	Host string `json:"host,omitempty" yaml:"host,omitempty"`
	// Port is the Redis port. Zero means 6379.
	Port int `json:"port,omitempty" yaml:"port,omitempty"`
	// Database is the logical database (SELECT). Zero means 0; must be 0 with ClusterNodes.
	Database int `json:"database,omitempty" yaml:"database,omitempty"`
	// Username for Redis ACLs (AUTH username password). Empty means the default user.
	Username secret.Secret `json:"username,omitempty" yaml:"username,omitempty"`
	// Password for AUTH. Empty means no AUTH.
	Password secret.Secret `json:"password,omitempty" yaml:"password,omitempty"`

	// SSL connects with TLS.
	SSL bool `json:"ssl,omitempty" yaml:"ssl,omitempty"`
	// SSLVerify verifies the server's certificate against the system's roots. As in Kong, it
	// is off unless set: with SSL and without SSLVerify the connection is encrypted but the
	// server is not authenticated. Set it (or TLSConfig) in production.
	SSLVerify bool `json:"ssl_verify,omitempty" yaml:"ssl_verify,omitempty"`
	// ServerName is the TLS server name (SNI and verification). Empty means the host dialled.
	ServerName string `json:"server_name,omitempty" yaml:"server_name,omitempty"`

	// ConnectTimeout, SendTimeout and ReadTimeout are in milliseconds, as in Kong. Zero
	// means 2000 (Kong's default). They become go-redis's DialTimeout, WriteTimeout and
	// ReadTimeout.
	ConnectTimeout int `json:"connect_timeout,omitempty" yaml:"connect_timeout,omitempty"`
	SendTimeout    int `json:"send_timeout,omitempty" yaml:"send_timeout,omitempty"`
	ReadTimeout    int `json:"read_timeout,omitempty" yaml:"read_timeout,omitempty"`
	// Timeout is Kong's deprecated single timeout, in milliseconds: when set, it replaces
	// the default of ConnectTimeout, SendTimeout and ReadTimeout.
	Timeout int `json:"timeout,omitempty" yaml:"timeout,omitempty"`

	// KeepalivePoolSize is the connection pool size per node. Zero means go-redis's default
	// (10 per GOMAXPROCS).
	KeepalivePoolSize int `json:"keepalive_pool_size,omitempty" yaml:"keepalive_pool_size,omitempty"`
	// KeepaliveBacklog is accepted for compatibility with Kong's schema and ignored: go-redis
	// has no connection backlog (callers wait up to go-redis's PoolTimeout).
	KeepaliveBacklog int `json:"keepalive_backlog,omitempty" yaml:"keepalive_backlog,omitempty"`
	// ConnectionIsProxied is accepted for compatibility with Kong's schema and ignored.
	ConnectionIsProxied bool `json:"connection_is_proxied,omitempty" yaml:"connection_is_proxied,omitempty"`
	// CloudAuthentication is Kong's cloud_authentication: IAM authentication to managed Redis
	// on AWS, GCP or Azure, a fresh token as each connection's password (see
	// CloudAuthentication).
	CloudAuthentication *CloudAuthentication `json:"cloud_authentication,omitempty" yaml:"cloud_authentication,omitempty"`

	// SentinelMaster is the name of the master that the Sentinels watch. With SentinelNodes
	// it selects Redis Sentinel.
	SentinelMaster string `json:"sentinel_master,omitempty" yaml:"sentinel_master,omitempty"`
	// SentinelRole is which node to use: "master" (the default, needed for Upsert),
	// "slave" (replicas only: Upsert fails) or "any" (reads from any node, writes to the
	// master).
	SentinelRole string `json:"sentinel_role,omitempty" yaml:"sentinel_role,omitempty"`
	// SentinelNodes are the Sentinels' addresses.
	SentinelNodes []SentinelNode `json:"sentinel_nodes,omitempty" yaml:"sentinel_nodes,omitempty"`
	// SentinelUsername and SentinelPassword authenticate to the Sentinels themselves.
	SentinelUsername secret.Secret `json:"sentinel_username,omitempty" yaml:"sentinel_username,omitempty"`
	SentinelPassword secret.Secret `json:"sentinel_password,omitempty" yaml:"sentinel_password,omitempty"`

	// ClusterNodes, when set, select Redis Cluster; they are the seed nodes.
	ClusterNodes []ClusterNode `json:"cluster_nodes,omitempty" yaml:"cluster_nodes,omitempty"`
	// ClusterMaxRedirections is how many MOVED/ASK redirections a command follows. Zero
	// means 5 (Kong's default).
	ClusterMaxRedirections int `json:"cluster_max_redirections,omitempty" yaml:"cluster_max_redirections,omitempty"`

	// The fields below are aiproxy's, not part of Kong's vectordb.redis.

	// Dimensions is the length of every vector (Kong's vectordb.dimensions). Required.
	Dimensions int `json:"dimensions,omitempty" yaml:"dimensions,omitempty"`
	// Metric is the distance metric (Kong's vectordb.distance_metric). Empty means cosine.
	Metric vectorstore.Metric `json:"distance_metric,omitempty" yaml:"distance_metric,omitempty"`
	// Namespace prefixes every key the store writes: "<Namespace>:<dims>:hash" (client-side
	// search) or "<Namespace>:<dims>:vset" (Vector Sets). Empty means "aiproxy". Stores that
	// share a namespace (and dimensions) share their vectors, e.g. replicas of a service.
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	// Mode picks how vectors are kept: ModeAuto (the default) uses Vector Sets when the
	// server has them and the metric is cosine, else a hash searched client-side.
	Mode Mode `json:"mode,omitempty" yaml:"mode,omitempty"`
	// Approximate, with Vector Sets, searches the HNSW graph instead of scanning every vector
	// (VSIM without TRUTH) on a worker thread. The default, an exact scan on Redis's main
	// thread (TRUTH NOTHREAD), suits the few vectors a semantic balancer keeps and returns the
	// same matches as the other stores; with thousands of vectors, set Approximate.
	Approximate bool `json:"approximate,omitempty" yaml:"approximate,omitempty"`

	// Client, when set, is used instead of connecting with the fields above; Close does not
	// close it.
	Client redis.UniversalClient `json:"-" yaml:"-"`
	// TLSConfig, when set, replaces the TLS settings derived from SSL, SSLVerify and
	// ServerName (and turns TLS on).
	TLSConfig *tls.Config `json:"-" yaml:"-"`
	// AssumeRole gives the credentials of cloud_authentication.aws_assume_role_arn; set it to
	// awsrole.Assume (package kong does), so that only programs that assume roles link AWS
	// STS. HTTPClient sends the token requests of cloud authentication (nil means
	// http.DefaultClient); Now is its clock (nil means time.Now).
	AssumeRole func(o provider.BedrockOptions, base provider.CredentialsFunc, client *http.Client) provider.CredentialsFunc `json:"-" yaml:"-"`
	HTTPClient *http.Client                                                                                                 `json:"-" yaml:"-"`
	Now        func() time.Time                                                                                             `json:"-" yaml:"-"`
}

// SentinelNode is the address of a Sentinel, as in Kong's sentinel_nodes.
type SentinelNode struct {
	Host string `json:"host" yaml:"host"`
	Port int    `json:"port,omitempty" yaml:"port,omitempty"` // zero means 26379
}

// ClusterNode is the address of a cluster node, as in Kong's cluster_nodes.
type ClusterNode struct {
	IP   string `json:"ip" yaml:"ip"`
	Port int    `json:"port,omitempty" yaml:"port,omitempty"` // zero means 6379
}

// Mode is how a Store keeps its vectors.
type Mode string

const (
	// ModeAuto uses Vector Sets when the server has them (Redis 8) and the metric is
	// cosine; otherwise ModeHash.
	ModeAuto Mode = ""
	// ModeHash keeps vectors in one hash (field: ID, value: little-endian float32s) and
	// searches client-side: works on every Redis (Redis 7, Redis Stack, Valkey, ...).
	ModeHash Mode = "hash"
	// ModeVectorSet keeps vectors in a Vector Set (VADD/VSIM, Redis 8). Cosine only: New
	// fails for another metric or on a server without Vector Sets.
	ModeVectorSet Mode = "vectorset"
)

// String renders the options with their credentials redacted. Without it, fmt would print
// the fields of a *Options under a verb such as %s without the redaction of Secret.
func (o Options) String() string {
	type plain Options
	return fmt.Sprintf("%+v", plain(o))
}

func (o *Options) validate() error {
	if err := vectorstore.CheckShape("redisstore", &o.Metric, o.Dimensions); err != nil {
		return err
	}
	switch o.Mode {
	case ModeAuto, ModeHash:
	case ModeVectorSet:
		if o.Metric != vectorstore.Cosine {
			return fmt.Errorf("redisstore: mode vectorset needs the cosine metric, not %s (Vector Sets measure cosine similarity only)", o.Metric)
		}
	default:
		return fmt.Errorf("redisstore: unknown mode %q", o.Mode)
	}
	if o.Namespace == "" {
		o.Namespace = "aiproxy"
	}
	return nil
}

// NewClient returns a client for the connection fields of o (Host to
// ClusterMaxRedirections, and TLSConfig), connected as Kong would: Cluster when ClusterNodes
// are set, Sentinel when SentinelMaster or SentinelNodes are, else a single server. The
// vector fields and Client are ignored; package fleet/redisfleet connects through it too.
// The client honours its commands' context deadlines. It does no I/O: go-redis connects on
// the first command.
func (o *Options) NewClient() (redis.UniversalClient, error) {
	ms := func(v int) time.Duration {
		if v <= 0 {
			v = o.Timeout
		}
		if v <= 0 {
			v = 2000
		}
		return time.Duration(v) * time.Millisecond
	}
	creds, err := o.credentials()
	if err != nil {
		return nil, err
	}
	tlsConfig := o.TLSConfig
	if tlsConfig == nil && o.SSL {
		tlsConfig = &tls.Config{
			ServerName:         o.ServerName,
			InsecureSkipVerify: !o.SSLVerify, //nolint:gosec // Kong's ssl_verify, documented
			MinVersion:         tls.VersionTLS12,
		}
	}
	switch {
	case len(o.ClusterNodes) > 0:
		if o.Database != 0 {
			return nil, errors.New("redisstore: Redis Cluster has only database 0")
		}
		addrs := make([]string, len(o.ClusterNodes))
		for i, n := range o.ClusterNodes {
			addrs[i] = hostPort(n.IP, n.Port, 6379)
		}
		redirects := o.ClusterMaxRedirections
		if redirects == 0 {
			redirects = 5
		}
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: addrs, Username: string(o.Username), Password: string(o.Password), MaxRedirects: redirects,
			DialTimeout: ms(o.ConnectTimeout), ReadTimeout: ms(o.ReadTimeout), WriteTimeout: ms(o.SendTimeout),
			PoolSize: o.KeepalivePoolSize, TLSConfig: tlsConfig, ContextTimeoutEnabled: true, CredentialsProviderContext: creds,
		}), nil
	case o.SentinelMaster != "" || len(o.SentinelNodes) > 0:
		if o.SentinelMaster == "" || len(o.SentinelNodes) == 0 {
			return nil, errors.New("redisstore: Sentinel needs both sentinel_master and sentinel_nodes")
		}
		addrs := make([]string, len(o.SentinelNodes))
		for i, n := range o.SentinelNodes {
			addrs[i] = hostPort(n.Host, n.Port, 26379)
		}
		fo := &redis.FailoverOptions{
			MasterName: o.SentinelMaster, SentinelAddrs: addrs,
			SentinelUsername: string(o.SentinelUsername), SentinelPassword: string(o.SentinelPassword),
			Username: string(o.Username), Password: string(o.Password), DB: o.Database,
			DialTimeout: ms(o.ConnectTimeout), ReadTimeout: ms(o.ReadTimeout), WriteTimeout: ms(o.SendTimeout),
			PoolSize: o.KeepalivePoolSize, TLSConfig: tlsConfig, ContextTimeoutEnabled: true, CredentialsProviderContext: creds,
		}
		switch o.SentinelRole {
		case "", "master":
			return redis.NewFailoverClient(fo), nil
		case "slave":
			fo.ReplicaOnly = true
			return redis.NewFailoverClient(fo), nil
		case "any":
			fo.RouteRandomly = true
			return redis.NewFailoverClusterClient(fo), nil
		default:
			return nil, fmt.Errorf("redisstore: unknown sentinel_role %q (want master, slave or any)", o.SentinelRole)
		}
	default:
		host := o.Host
		if host == "" {
			host = "127.0.0.1"
		}
		return redis.NewClient(&redis.Options{
			Addr: hostPort(host, o.Port, 6379), Username: string(o.Username), Password: string(o.Password), DB: o.Database,
			DialTimeout: ms(o.ConnectTimeout), ReadTimeout: ms(o.ReadTimeout), WriteTimeout: ms(o.SendTimeout),
			PoolSize: o.KeepalivePoolSize, TLSConfig: tlsConfig, ContextTimeoutEnabled: true, CredentialsProviderContext: creds,
		}), nil
	}
}

func hostPort(host string, port, def int) string {
	if port == 0 {
		port = def
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// Open connects a Store for vectors of dims values compared by metric (replacing Dimensions
// and Metric), with the credentials' secret references resolved through vaults: Options are
// the vectorstore.Opener of Kong's vectordb.strategy "redis".
func (o Options) Open(ctx context.Context, dims int, metric vectorstore.Metric, vaults *secret.Vaults) (vectorstore.Store, error) {
	o.Dimensions, o.Metric = dims, metric
	if c := o.CloudAuthentication; c != nil {
		copied := *c // resolved in o's copy, not in the caller's block
		o.CloudAuthentication = &copied
	}
	return vectorstore.OpenResolved(ctx, vaults, o.Secrets(), func() (*Store, error) { return New(ctx, o) })
}

// Secrets lists the credential fields, by their paths in Kong's configuration.
func (o *Options) Secrets() []secret.Field {
	fields := []secret.Field{
		{Path: "vectordb.redis.username", Value: &o.Username}, {Path: "vectordb.redis.password", Value: &o.Password},
		{Path: "vectordb.redis.sentinel_username", Value: &o.SentinelUsername},
		{Path: "vectordb.redis.sentinel_password", Value: &o.SentinelPassword},
	}
	if c := o.CloudAuthentication; c != nil {
		fields = append(fields,
			secret.Field{Path: "vectordb.redis.cloud_authentication.aws_access_key_id", Value: &c.AWSAccessKeyID},
			secret.Field{Path: "vectordb.redis.cloud_authentication.aws_secret_access_key", Value: &c.AWSSecretAccessKey},
			secret.Field{Path: "vectordb.redis.cloud_authentication.gcp_service_account_json", Value: &c.GCPServiceAccountJSON},
			secret.Field{Path: "vectordb.redis.cloud_authentication.azure_client_secret", Value: &c.AzureClientSecret})
	}
	return fields
}

var _ vectorstore.Opener = (*Options)(nil)
