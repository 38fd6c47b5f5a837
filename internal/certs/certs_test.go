package certs_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/certs"
)

// TestChain makes a CA, a server and a client certificate, writes and
// reads them back, and checks that each verifies against the CA for its
// own use and no other, and that the files have the modes they should.
func TestChain(t *testing.T) {
	dir := t.TempDir()
	ca, err := certs.Issue(certs.Request{Kind: certs.CA, Name: "ferry test CA"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := certs.Issue(certs.Request{Kind: certs.Server, Name: "fs1", Hosts: []string{"fs1.example", "10.1.2.3", "[::1]"}}, ca)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := certs.Issue(certs.Request{Kind: certs.Client, Name: "alice"}, ca)
	if err != nil {
		t.Fatal(err)
	}
	for base, p := range map[string]*certs.Pair{"ca": ca, certs.ServerFile: srv, certs.ClientFile("alice"): cli} {
		crt, key, err := certs.Write(dir, base, p)
		if err != nil {
			t.Fatal(err)
		}
		for path, mode := range map[string]os.FileMode{crt: 0o644, key: 0o600} {
			if st, err := os.Stat(path); err != nil || st.Mode().Perm() != mode {
				t.Errorf("%s: %v, mode %v; want %v", path, err, st.Mode().Perm(), mode)
			}
		}
		if _, _, err := certs.Write(dir, base, p); err == nil || !strings.Contains(err.Error(), "exists") {
			t.Errorf("writing %s again: %v, want a refusal", base, err)
		}
	}
	ca2, err := certs.Read(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := certs.ReadPool(filepath.Join(dir, certs.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	srv2, err := certs.Read(dir, certs.ServerFile)
	if err != nil {
		t.Fatal(err)
	}
	cli2, err := certs.Read(dir, certs.ClientFile("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if !ca2.Cert.IsCA || ca2.Cert.Subject.CommonName != "ferry test CA" {
		t.Errorf("CA read back: IsCA %v, name %q", ca2.Cert.IsCA, ca2.Cert.Subject.CommonName)
	}
	for _, name := range []string{"fs1.example", "10.1.2.3", "::1"} {
		if _, err := srv2.Cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: name}); err != nil {
			t.Errorf("server certificate for %s: %v", name, err)
		}
	}
	if _, err := srv2.Cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "other.example"}); err == nil {
		t.Error("server certificate verified for a name it does not carry")
	}
	client := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if _, err := cli2.Cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: client}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if _, err := cli2.Cert.Verify(x509.VerifyOptions{Roots: pool}); err == nil {
		t.Error("client certificate verified as a server's")
	}
	if _, err := srv2.Cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: client}); err == nil {
		t.Error("server certificate verified as a client's")
	}
	other, _ := certs.Issue(certs.Request{Kind: certs.CA, Name: "other"}, nil)
	otherPool := x509.NewCertPool()
	otherPool.AddCert(other.Cert)
	if _, err := cli2.Cert.Verify(x509.VerifyOptions{Roots: otherPool, KeyUsages: client}); err == nil {
		t.Error("client certificate verified against another CA")
	}
	// The key read back is the certificate's: the files load as TLS
	// key pairs, for serve and mount alike.
	if _, err := certs.ServerTLS(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")); err != nil {
		t.Error(err)
	}
	if _, err := certs.ClientTLS(filepath.Join(dir, certs.CAFile), filepath.Join(dir, "client-alice.crt"), filepath.Join(dir, "client-alice.key")); err != nil {
		t.Error(err)
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, "client-alice.crt"), filepath.Join(dir, "server.key")); err == nil {
		t.Error("a certificate loaded with another's key")
	}
}

// TestLifetimes checks the defaults, and that nothing outlives its CA.
func TestLifetimes(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ca, err := certs.Issue(certs.Request{Kind: certs.CA, Name: "ca", Now: now, Lifetime: 90 * 24 * time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := certs.Issue(certs.Request{Kind: certs.Client, Name: "c", Now: now}, ca)
	if err != nil {
		t.Fatal(err)
	}
	if !cli.Cert.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Errorf("client certificate ends %v, after its CA's %v", cli.Cert.NotAfter, ca.Cert.NotAfter)
	}
	srv, _ := certs.Issue(certs.Request{Kind: certs.Server, Name: "s", Hosts: []string{"h"}, Now: now}, nil)
	if srv != nil {
		t.Error("a server certificate without a CA")
	}
	big, _ := certs.Issue(certs.Request{Kind: certs.CA, Name: "ca", Now: now}, nil)
	if got := big.Cert.NotAfter.Sub(now); got != certs.CALifetime {
		t.Errorf("CA lifetime %v, want %v", got, certs.CALifetime)
	}
	if !big.Cert.NotBefore.Before(now) {
		t.Errorf("NotBefore %v is not backdated", big.Cert.NotBefore)
	}
	for _, bad := range []certs.Request{
		{Kind: certs.Server, Name: "s"},
		{Kind: certs.Client, Name: " "},
		{Kind: certs.Server, Name: "s", Hosts: []string{""}},
	} {
		if _, err := certs.Issue(bad, big); err == nil {
			t.Errorf("Issue(%+v) succeeded", bad)
		}
	}
}

// TestToken makes a token and reads it back; a token file everyone can
// read, a short token and an existing file are refused.
func TestToken(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	if err := certs.WriteToken(path); err != nil {
		t.Fatal(err)
	}
	if err := certs.WriteToken(path); err == nil {
		t.Error("WriteToken overwrote a token")
	}
	tok, err := certs.ReadToken(path)
	if err != nil || len(tok) != 64 {
		t.Fatalf("ReadToken: %q, %v", tok, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v", st.Mode().Perm())
	}
	os.Chmod(path, 0o644)
	if _, err := certs.ReadToken(path); err == nil || !strings.Contains(err.Error(), "readable by everyone") {
		t.Errorf("world-readable token: %v", err)
	}
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("abc\n"), 0o600)
	if _, err := certs.ReadToken(short); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Errorf("short token: %v", err)
	}
}
