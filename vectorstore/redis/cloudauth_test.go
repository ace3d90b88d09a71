package redisstore_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/secret"
	"github.com/aiproxy/aiproxy/vectorstore"
	redisstore "github.com/aiproxy/aiproxy/vectorstore/redis"
)

// aclUser creates a Redis 7 ACL user that authenticates with any of passwords, as a managed
// Redis's IAM user does with a valid token, and deletes it when the test ends.
func aclUser(t *testing.T, passwords ...string) string {
	t.Helper()
	host, port := addr(t, servers[0].env)
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("%s:%d", host, port)})
	t.Cleanup(func() { c.Close() })
	user := "iam-" + namespace(t)
	args := []any{"ACL", "SETUSER", user, "reset", "on", "~*", "&*", "+@all"}
	for _, p := range passwords {
		args = append(args, ">"+p)
	}
	require.NoError(t, c.Do(context.Background(), args...).Err())
	t.Cleanup(func() { c.Do(context.Background(), "ACL", "DELUSER", user) })
	return user
}

// useStore upserts and finds a vector through s: the connection authenticated.
func useStore(t *testing.T, s *redisstore.Store) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, s.Upsert(ctx, vectorstore.Vector{ID: "a", Values: []float32{1, 0, 0, 0}}))
	got, err := s.Search(ctx, []float32{1, 0, 0, 0}, 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "a", got[0].ID)
}

// Memorystore IAM authentication: the service account's OAuth token is the password.
func TestCloudAuthGCP(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	var grants int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		grants++
		assert.NoError(t, r.ParseForm())
		assert.Equal(t, "urn:ietf:params:oauth:grant-type:jwt-bearer", r.PostForm.Get("grant_type"))
		assert.NotEmpty(t, r.PostForm.Get("assertion"))
		fmt.Fprint(w, `{"access_token":"ya29.memorystore-token","expires_in":3599,"token_type":"Bearer"}`)
	}))
	defer srv.Close()
	sa, _ := json.Marshal(map[string]string{"type": "service_account", "private_key_id": "k1", "client_email": "redis@p.iam.gserviceaccount.com",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "token_uri": srv.URL + "/token"})

	user := aclUser(t, "ya29.memorystore-token")
	var opts redisstore.Options
	require.NoError(t, json.Unmarshal([]byte(`{"username":"`+user+`","password":"not-used",
		"cloud_authentication":{"auth_provider":"gcp","gcp_service_account_json":`+string(mustJSON(t, string(sa)))+`}}`), &opts))
	opts.Dimensions, opts.Namespace = 4, namespace(t)
	s := open(t, servers[0].env, opts)
	useStore(t, s)
	assert.Equal(t, 1, grants, "one token, cached for the pool's connections")

	// A token the server does not accept fails New, naming neither the key nor the token.
	other := aclUser(t, "some-other-token")
	opts.Username = secret.Secret(other)
	opts.Host, opts.Port = addr(t, servers[0].env)
	_, err = redisstore.New(context.Background(), opts)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "memorystore-token")
	assert.NotContains(t, err.Error(), "PRIVATE KEY")
}

// Azure Managed Redis with Microsoft Entra ID: a client-credentials token for
// https://redis.azure.com/ is the password, the identity's object ID the user.
func TestCloudAuthAzure(t *testing.T) {
	const clientSecret = "azure-client-secret-value"
	fail := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/tenant-1/oauth2/v2.0/token", r.URL.Path)
		assert.NoError(t, r.ParseForm())
		assert.Equal(t, "client_credentials", r.PostForm.Get("grant_type"))
		assert.Equal(t, "app-1", r.PostForm.Get("client_id"))
		assert.Equal(t, clientSecret, r.PostForm.Get("client_secret"))
		assert.Equal(t, "https://redis.azure.com/.default", r.PostForm.Get("scope"))
		if fail {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided: `+clientSecret+`"}`)
			return
		}
		fmt.Fprint(w, `{"access_token":"eyJ.entra-redis-token","expires_in":3599,"token_type":"Bearer"}`)
	}))
	defer srv.Close()
	t.Setenv("AZURE_AUTHORITY_HOST", srv.URL)

	user := aclUser(t, "eyJ.entra-redis-token")
	ca := &redisstore.CloudAuthentication{AuthProvider: "azure", AzureClientID: "app-1", AzureClientSecret: clientSecret, AzureTenantID: "tenant-1"}
	s := open(t, servers[0].env, redisstore.Options{Dimensions: 4, Namespace: namespace(t), Username: secret.Secret(user), CloudAuthentication: ca})
	useStore(t, s)

	fail = true
	host, port := addr(t, servers[0].env)
	_, err := redisstore.New(context.Background(), redisstore.Options{Host: host, Port: port, Dimensions: 4, Namespace: namespace(t),
		Username: secret.Secret(user), CloudAuthentication: ca})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid_client")
	assert.NotContains(t, err.Error(), clientSecret, "the client secret is never in an error")
	assert.NotContains(t, fmt.Sprintf("%v %+v %s", ca, ca, redisstore.Options{CloudAuthentication: ca}), clientSecret)
}

// A password the server refuses fails New, rather than every later command.
func TestWrongPasswordFailsNew(t *testing.T) {
	host, port := addr(t, servers[0].env)
	user := aclUser(t, "right-password")
	opts := redisstore.Options{Host: host, Port: port, Dimensions: 4, Namespace: namespace(t), Username: secret.Secret(user)}
	opts.Password = "wrong-password"
	_, err := redisstore.New(context.Background(), opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WRONGPASS")
	opts.Password = "right-password"
	s, err := redisstore.New(context.Background(), opts)
	require.NoError(t, err)
	s.Close()
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
