package vault

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a leaf certificate for the given names and use, and returns it as a
// tls.Certificate and as PEM files in dir.
func (ca *testCA) issue(t *testing.T, dir, cn string, use x509.ExtKeyUsage, dns []string, ips []net.IP) (tls.Certificate, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{use},
		DNSNames: dns, IPAddresses: ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	certFile, keyFile := filepath.Join(dir, cn+".crt"), filepath.Join(dir, cn+".key")
	require.NoError(t, os.WriteFile(certFile, certPEM, 0o600))
	require.NoError(t, os.WriteFile(keyFile, keyPEM, 0o600))
	return pair, certFile, keyFile
}

// The TLS settings reach Vault through an https reverse proxy that requires a client
// certificate: the CA as a file or PEM, a client certificate and key, a server name and
// skip-verify each work, and a wrong CA, server name or client certificate fails with the
// TLS reason in an error that names the reference.
func TestTLS(t *testing.T) {
	addr, _ := devVault(t)
	path := uniquePath(t)
	key := secretValue()
	putV2(t, path, map[string]any{"key": key})
	dir := t.TempDir()

	serverCA, clientCA, otherCA := newTestCA(t, "server CA"), newTestCA(t, "client CA"), newTestCA(t, "other CA")
	serverCert, _, _ := serverCA.issue(t, dir, "vault", x509.ExtKeyUsageServerAuth,
		[]string{"vault.test"}, []net.IP{net.ParseIP("127.0.0.1")})
	_, clientCert, clientKey := clientCA.issue(t, dir, "aiproxy", x509.ExtKeyUsageClientAuth, nil, nil)
	_, strangerCert, strangerKey := otherCA.issue(t, dir, "stranger", x509.ExtKeyUsageClientAuth, nil, nil)
	caFile := filepath.Join(dir, "server-ca.pem")
	require.NoError(t, os.WriteFile(caFile, serverCA.pem, 0o600))

	target, err := url.Parse(addr)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	clients := x509.NewCertPool()
	clients.AddCert(clientCA.cert)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clients}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	defer srv.Close()

	sref := ref(t, "{vault://hashicorp-vault/"+path+"/key}")
	for name, tc := range map[string]struct {
		tls  TLSConfig
		fail string // the TLS reason the error carries; empty: the read succeeds
	}{
		"ca file":     {tls: TLSConfig{CACert: caFile, ClientCert: clientCert, ClientKey: clientKey}},
		"ca pem":      {tls: TLSConfig{CACertPEM: serverCA.pem, ClientCert: clientCert, ClientKey: clientKey}},
		"server name": {tls: TLSConfig{CACert: caFile, ServerName: "vault.test", ClientCert: clientCert, ClientKey: clientKey}},
		"skip verify": {tls: TLSConfig{InsecureSkipVerify: true, ClientCert: clientCert, ClientKey: clientKey}},
		"wrong ca": {tls: TLSConfig{CACertPEM: otherCA.pem, ClientCert: clientCert, ClientKey: clientKey},
			fail: "certificate signed by unknown authority"},
		"wrong server name": {tls: TLSConfig{CACert: caFile, ServerName: "other.test", ClientCert: clientCert, ClientKey: clientKey},
			fail: "certificate is valid for vault.test, not other.test"},
		"no client cert":       {tls: TLSConfig{CACert: caFile}, fail: "certificate required"},
		"unknown client cert":  {tls: TLSConfig{CACert: caFile, ClientCert: strangerCert, ClientKey: strangerKey}, fail: "unknown certificate authority"},
		"system roots, no tls": {fail: "certificate signed by unknown authority"},
	} {
		t.Run(name, func(t *testing.T) {
			r := newResolver(t, func(c *Config) { c.Address = srv.URL; c.TLS = tc.tls; c.Timeout = 5 * time.Second })
			got, err := r.Resolve(context.Background(), sref)
			if tc.fail == "" {
				require.NoError(t, err)
				assert.Equal(t, key, got)
				return
			}
			require.Error(t, err)
			t.Log(err)
			assert.Contains(t, err.Error(), tc.fail)
			assert.Contains(t, err.Error(), sref.String())
			assert.NotContains(t, err.Error(), key)
		})
	}

	// A CA file that holds no certificate fails New.
	bad := filepath.Join(dir, "bad.pem")
	require.NoError(t, os.WriteFile(bad, []byte("not a certificate"), 0o600))
	_, err = New(Config{Address: srv.URL, Token: "t", TLS: TLSConfig{CACert: bad}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "vault: TLS")
}
