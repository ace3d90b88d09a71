package kong

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/fleet/redisfleet"
	"github.com/aiproxy/aiproxy/secret"
	pgvectorstore "github.com/aiproxy/aiproxy/vectorstore/pgvector"
	redisstore "github.com/aiproxy/aiproxy/vectorstore/redis"
)

// Kong's vectordb.redis and vectordb.pgvector blocks load into the store packages' Options,
// secret references kept for aiproxy.New to resolve.
func TestVectorDBBlocks(t *testing.T) {
	f, err := Parse([]byte(`
targets: [{route_type: llm/v1/chat, model: {provider: openai, name: gpt-4o}, description: CATCHALL}]
balancer: {algorithm: semantic}
vectordb:
  strategy: redis
  distance_metric: cosine
  dimensions: 1536
  threshold: 0.8
  redis:
    host: redis.internal
    port: 6380
    database: 2
    username: "{vault://hashicorp-vault/redis/user}"
    password: "{vault://hashicorp-vault/redis/password}"
    ssl: true
    ssl_verify: true
    server_name: redis.internal
    connect_timeout: 1000
    sentinel_master: mymaster
    sentinel_role: any
    sentinel_nodes: [{host: s1, port: 26379}]
    sentinel_password: "{vault://env/sentinel-pw}"
    cluster_nodes: null
    keepalive_pool_size: 30
  pgvector:
    host: pg.internal
    user: "{vault://hashicorp-vault/pg/user}"
    password: "{vault://hashicorp-vault/pg/password}"
    database: kong-pgvector
    ssl_version: tlsv1_3
    timeout: 3000
`), Options{})
	require.NoError(t, err)
	db := f.Plugins[0].Config.VectorDB
	require.NotNil(t, db)
	assert.Equal(t, &redisstore.Options{
		Host: "redis.internal", Port: 6380, Database: 2,
		Username: "{vault://hashicorp-vault/redis/user}", Password: "{vault://hashicorp-vault/redis/password}",
		SSL: true, SSLVerify: true, ServerName: "redis.internal", ConnectTimeout: 1000,
		SentinelMaster: "mymaster", SentinelRole: "any", SentinelNodes: []redisstore.SentinelNode{{Host: "s1", Port: 26379}},
		SentinelPassword: secret.Secret("{vault://env/sentinel-pw}"), KeepalivePoolSize: 30,
	}, db.Store, "the strategy's block opens the store")
	pg := &pgvectorstore.Options{
		Host: "pg.internal", User: "{vault://hashicorp-vault/pg/user}", Password: "{vault://hashicorp-vault/pg/password}",
		Database: "kong-pgvector", SSLVersion: "tlsv1_3", Timeout: 3000,
	}
	f, err = Parse([]byte(`{"targets":[{"route_type":"llm/v1/chat","model":{"provider":"openai"},"description":"CATCHALL"}],
		"balancer":{"algorithm":"semantic"},
		"vectordb":{"strategy":"pgvector","distance_metric":"cosine","dimensions":3,"pgvector":{"host":"pg.internal",
		"user":"{vault://hashicorp-vault/pg/user}","password":"{vault://hashicorp-vault/pg/password}","database":"kong-pgvector",
		"ssl_version":"tlsv1_3","timeout":3000}}}`), Options{})
	require.NoError(t, err)
	assert.Equal(t, pg, f.Plugins[0].Config.VectorDB.Store)

	_, err = Parse([]byte(`{"targets":[{"route_type":"llm/v1/chat","model":{"provider":"openai"}}],
		"vectordb":{"strategy":"redis","distance_metric":"cosine","dimensions":3,"redis":{"hots":"x"}}}`), Options{})
	assert.ErrorContains(t, err, "vectordb.redis.hots: unknown field (did you mean host?)")
}

// A plugin read back from Kong's Admin API lists every field of the redis and pgvector
// blocks, most of them null.
func TestVectorDBAdminExport(t *testing.T) {
	f, err := Parse([]byte(`{"targets":[{"route_type":"llm/v1/chat","model":{"provider":"openai"},"description":"CATCHALL"}],
		"vectordb":{"strategy":"redis","distance_metric":"cosine","dimensions":3,"threshold":0.5,
		"redis":{"cluster_max_redirections":5,"cluster_nodes":null,"connect_timeout":2000,"connection_is_proxied":false,
			"database":0,"host":"127.0.0.1","keepalive_backlog":null,"keepalive_pool_size":256,"password":null,"port":6379,
			"read_timeout":2000,"send_timeout":2000,"sentinel_master":null,"sentinel_nodes":null,"sentinel_password":null,
			"sentinel_role":null,"sentinel_username":null,"server_name":null,"ssl":false,"ssl_verify":false,"username":null,
			"timeout":null,"cloud_authentication":{"auth_provider":null,"aws_cache_name":null,"aws_region":null}},
		"pgvector":{"database":"kong-pgvector","host":"127.0.0.1","password":null,"port":5432,"ssl":false,"ssl_cert":null,
			"ssl_cert_key":null,"ssl_required":false,"ssl_verify":false,"ssl_version":"tlsv1_2","timeout":5000,"user":"postgres"}}}`), Options{})
	require.NoError(t, err)
	db := f.Plugins[0].Config.VectorDB
	require.IsType(t, &redisstore.Options{}, db.Store)
	redis := db.Store.(*redisstore.Options)
	assert.Equal(t, "127.0.0.1", redis.Host)
	assert.Equal(t, 256, redis.KeepalivePoolSize)
	mustNew(t, f.Plugins[0].Config)
}

// aiproxy's fleet block (an extension: Kong has no shared balancer state) names a Redis for
// the state that replicas share; its durations are milliseconds, as Kong's.
func TestFleetBlock(t *testing.T) {
	f, err := Parse([]byte(`
targets: [{route_type: llm/v1/chat, model: {provider: openai, name: gpt-4o}}]
fleet:
  prefix: chat-gateway
  interval: 50
  redis: {host: redis.internal, port: 6380, sentinel_master: mymaster, sentinel_nodes: [{host: s1}]}
`), Options{})
	require.NoError(t, err)
	fleet := f.Plugins[0].Config.Fleet
	require.NotNil(t, fleet)
	assert.Equal(t, 50*time.Millisecond, fleet.Interval)
	require.IsType(t, &redisfleet.Store{}, fleet.Store)
	assert.Equal(t, []string{"{chat-gateway}:targets", "{chat-gateway}:inflight"}, fleet.Store.(*redisfleet.Store).Keys())

	_, err = Parse([]byte(`
targets: [{route_type: llm/v1/chat, model: {provider: openai, name: gpt-4o}}]
fleet: {redis: {password: "{vault://env/REDIS_PW}"}}
`), Options{})
	require.ErrorContains(t, err, "fleet: redisfleet: the Redis credentials are secret references")

	f, err = Parse([]byte(`targets: [{route_type: llm/v1/chat, model: {provider: openai, name: gpt-4o}}]`), Options{})
	require.NoError(t, err)
	assert.Nil(t, f.Plugins[0].Config.Fleet, "no block: each Proxy on its own state")
}

// vectordb.redis.cloud_authentication as Kong's docs write it for AWS ElastiCache: the
// block decodes into the adapter's options, credentials may be vault references (resolved
// when the store opens), and the assumed role's credentials come from package awsrole.
func TestVectorDBCloudAuthentication(t *testing.T) {
	f, err := Parse([]byte(`
targets: [{route_type: llm/v1/chat, model: {provider: openai, name: gpt-4o}, description: CATCHALL}]
vectordb:
  strategy: redis
  distance_metric: cosine
  dimensions: 3
  threshold: 0.5
  redis:
    host: my-cache.xxxxxx.use1.cache.amazonaws.com
    username: app-user
    port: 6379
    ssl: true
    cloud_authentication:
      auth_provider: aws
      aws_cache_name: my-cache
      aws_is_serverless: false
      aws_region: us-east-1
      aws_access_key_id: AKIDEXAMPLE
      aws_secret_access_key: "{vault://env/ELASTICACHE_SECRET}"
      aws_assume_role_arn: arn:aws:iam::123456789012:role/cache
`), Options{})
	require.NoError(t, err)
	redis := f.Plugins[0].Config.VectorDB.Store.(*redisstore.Options)
	require.NotNil(t, redis.CloudAuthentication)
	assert.Equal(t, redisstore.CloudAuthentication{AuthProvider: "aws", AWSCacheName: "my-cache", AWSRegion: "us-east-1",
		AWSAccessKeyID: "AKIDEXAMPLE", AWSSecretAccessKey: "{vault://env/ELASTICACHE_SECRET}",
		AWSAssumeRoleARN: "arn:aws:iam::123456789012:role/cache"}, *redis.CloudAuthentication)
	assert.NotNil(t, redis.AssumeRole)
	mustNew(t, f.Plugins[0].Config)

	_, err = Parse([]byte(`{"targets":[{"route_type":"llm/v1/chat","model":{"provider":"openai"}}],
		"vectordb":{"strategy":"redis","distance_metric":"cosine","dimensions":3,"redis":{"cloud_authentication":{"aws_cahce_name":"x"}}}}`), Options{})
	assert.ErrorContains(t, err, "vectordb.redis.cloud_authentication.aws_cahce_name: unknown field (did you mean aws_cache_name?)")
}
