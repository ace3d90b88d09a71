package vault

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeKubeAPI answers the Kubernetes TokenReview API (POST
// /apis/authentication.k8s.io/v1/tokenreviews) as an API server does for the tokens it issued:
// authenticated, as their service account. The caller authenticates with a bearer token too
// (Vault, without a token_reviewer_jwt, sends the token under review); an unknown bearer gets
// the API server's 401 Status.
type fakeKubeAPI struct {
	mu       sync.Mutex
	tokens   map[string]string // token -> "system:serviceaccount:<namespace>:<name>"
	uid      string
	reviewed []string
}

func (k *fakeKubeAPI) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if req.Method != http.MethodPost || req.URL.Path != "/apis/authentication.k8s.io/v1/tokenreviews" {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","code":404}`)
		return
	}
	var review struct {
		Spec struct {
			Token     string   `json:"token"`
			Audiences []string `json:"audiences,omitempty"`
		} `json:"spec"`
	}
	if err := json.NewDecoder(req.Body).Decode(&review); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"invalid body","reason":"BadRequest","code":400}`)
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.reviewed = append(k.reviewed, review.Spec.Token)
	bearer, _ := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if _, ok := k.tokens[bearer]; !ok {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`)
		return
	}
	status := map[string]any{"user": map[string]any{}, "error": "[invalid bearer token, token lookup failed]"}
	if user, ok := k.tokens[review.Spec.Token]; ok {
		status = map[string]any{
			"authenticated": true,
			"user": map[string]any{"username": user, "uid": k.uid,
				"groups": []string{"system:serviceaccounts", "system:authenticated"}},
			"audiences": review.Spec.Audiences,
		}
	}
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
		"metadata": map[string]any{"creationTimestamp": nil},
		"spec":     review.Spec, "status": status,
	})
}

func (k *fakeKubeAPI) issue(namespace, name string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	tok := serviceAccountJWT(namespace, name, k.uid)
	k.tokens[tok] = "system:serviceaccount:" + namespace + ":" + name
	return tok
}

func (k *fakeKubeAPI) reviews() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.reviewed...)
}

// serviceAccountJWT is a projected service account token as the kubelet mounts it, signed
// ES256 with a throwaway key: Vault, configured without pem_keys, does not verify the signature
// (it asks the TokenReview API) but parses only RS*, ES* and PS* tokens.
func serviceAccountJWT(namespace, name, uid string) string {
	now := time.Now().Unix()
	claims, _ := json.Marshal(map[string]any{
		"aud": []string{"https://kubernetes.default.svc.cluster.local"},
		"exp": now + 3600, "iat": now, "nbf": now,
		"iss": "https://kubernetes.default.svc.cluster.local",
		"jti": randHex(8),
		"sub": "system:serviceaccount:" + namespace + ":" + name,
		"kubernetes.io": map[string]any{
			"namespace":      namespace,
			"pod":            map[string]any{"name": name + "-0", "uid": randHex(8)},
			"serviceaccount": map[string]any{"name": name, "uid": uid},
		},
	})
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString([]byte(`{"alg":"ES256","kid":"test"}`)) + "." + enc.EncodeToString(claims)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sum := sha256.Sum256([]byte(signed))
	r, s, _ := ecdsa.Sign(rand.Reader, key, sum[:])
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signed + "." + enc.EncodeToString(sig)
}

// kubeResolver is a resolver that logs in with the Kubernetes auth method at mount, role
// "gateway", and the service account token in file.
func kubeResolver(t *testing.T, mount, file string) *Resolver {
	t.Helper()
	return newResolver(t, func(c *Config) {
		c.Token = ""
		c.AuthMethod = "kubernetes"
		c.KubeRole = "gateway"
		c.KubeAuthPath = mount
		c.KubeAPITokenFile = file
	})
}

// tokenFile writes a service account token to a file of its own.
func tokenFile(t *testing.T, token string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte(token+"\n"), 0o600))
	return file
}

// Kubernetes auth against the real Vault: the test mounts the kubernetes auth method, points
// it at a fake TokenReview API and binds a role to a service account; the resolver logs in
// with the role and the service account token file and reads a secret. The file is read at
// every login, and a token the API server does not vouch for fails the login.
func TestKubernetesLogin(t *testing.T) {
	ctx := context.Background()
	root := rootClient(t)
	path := uniquePath(t)
	key := secretValue()
	putV2(t, path, map[string]any{"key": key})

	mount := "k8s-" + randHex(4) // a mount of its own: runs against one server do not meet
	require.NoError(t, root.Sys().EnableAuthWithOptionsWithContext(ctx, mount, &api.EnableAuthOptions{Type: "kubernetes"}))
	t.Cleanup(func() { _ = root.Sys().DisableAuth(mount) })
	kube := &fakeKubeAPI{tokens: map[string]string{}, uid: "5b1a9c1e-2c6f-4f59-9b8e-0d6c2f1e7a10"}
	kubeSrv := httptest.NewServer(kube)
	defer kubeSrv.Close()
	_, err := root.Logical().WriteWithContext(ctx, "auth/"+mount+"/config", map[string]any{
		"kubernetes_host":        kubeSrv.URL,
		"disable_local_ca_jwt":   true, // not in a pod: no local CA or token to default to
		"disable_iss_validation": true,
	})
	require.NoError(t, err)
	policy := "k8s-" + randHex(3)
	require.NoError(t, root.Sys().PutPolicyWithContext(ctx, policy, fmt.Sprintf(`path "secret/data/%s*" { capabilities = ["read"] }`, path)))
	t.Cleanup(func() { _ = root.Sys().DeletePolicy(policy) })
	_, err = root.Logical().WriteWithContext(ctx, "auth/"+mount+"/role/gateway", map[string]any{
		"bound_service_account_names":      []string{"aiproxy"},
		"bound_service_account_namespaces": []string{"llm"},
		"token_policies":                   []string{policy},
		"token_ttl":                        "1h",
	})
	require.NoError(t, err)

	first := kube.issue("llm", "aiproxy")
	file := tokenFile(t, first)
	r := kubeResolver(t, mount, file)
	base := "{vault://hashicorp-vault/" + path + "/key"
	got, err := r.Resolve(ctx, ref(t, base+"}"))
	require.NoError(t, err)
	assert.Equal(t, key, got)
	assert.Equal(t, []string{first}, kube.reviews(), "Vault reviewed the token from the file")

	// The kubelet rotates the token; a revoked Vault token makes the resolver log in again,
	// with the file's new content.
	second := kube.issue("llm", "aiproxy")
	require.NoError(t, os.WriteFile(file, []byte(second), 0o600))
	require.NoError(t, root.Auth().Token().RevokeOrphanWithContext(ctx, r.client.Token()))
	got, err = r.Resolve(ctx, ref(t, base+"?ttl=5}"))
	require.NoError(t, err)
	assert.Equal(t, key, got)
	assert.Equal(t, 2, r.Logins())
	assert.Equal(t, []string{first, second}, kube.reviews())

	// A token the API server did not issue: Vault refuses the login.
	forged := serviceAccountJWT("llm", "aiproxy", kube.uid)
	_, err = kubeResolver(t, mount, tokenFile(t, forged)).Resolve(ctx, ref(t, base+"}"))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrPermissionDenied)
	assert.Contains(t, err.Error(), "Kubernetes login")
	assert.NotContains(t, err.Error(), forged)

	// A service account the role is not bound to: Vault says which check failed.
	_, err = kubeResolver(t, mount, tokenFile(t, kube.issue("llm", "intruder"))).Resolve(ctx, ref(t, base+"}"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "service account name not authorized")

	// No token file: the error names the setting.
	_, err = kubeResolver(t, mount, filepath.Join(t.TempDir(), "missing")).Resolve(ctx, ref(t, base+"}"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "kube_api_token_file")
}
