package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/ferryfs/ferry/internal/certs"
	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/testmount"
)

// makePKI runs ferry certs as a user would: a CA, a server certificate
// for loopback, client certificate alice, and a token.
func makePKI(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	ferryOK(t, "certs", "ca", dir)
	ferryOK(t, "certs", "server", dir, "--host", "localhost,127.0.0.1")
	ferryOK(t, "certs", "client", dir, "--name", "alice")
	ferryOK(t, "certs", "token", filepath.Join(dir, "token"))
	return dir
}

// refusalLine matches the one line serve logs for a refused client.
func refusalLine(reason string) *regexp.Regexp {
	return regexp.MustCompile(`level=WARN msg="client refused" peer=127\.0\.0\.1:\d+ listen=127\.0\.0\.1:\d+ reason="?[^\n]*` + regexp.QuoteMeta(reason))
}

// TestEncryptedMount walks the README's encrypted-mount steps with real
// processes: ferry certs, ferry serve with mutual TLS, and ferry mount
// with alice's certificate, which mounts and works; a mount with the
// certificate of another CA, with none, or with no TLS at all is refused
// at once (although its patience is an hour), with one line on each side.
func TestEncryptedMount(t *testing.T) {
	testmount.RequireFUSE(t)
	pki := makePKI(t)
	other := filepath.Join(t.TempDir(), "other")
	ferryOK(t, "certs", "ca", other, "--name", "other CA")
	ferryOK(t, "certs", "client", other, "--name", "mallory")
	svc := testmount.StartServe(t, testmount.ServeOptions{Listen: "tcp://127.0.0.1:0?tls=1", Args: []string{
		"--tls-cert", filepath.Join(pki, "server.crt"), "--tls-key", filepath.Join(pki, "server.key"),
		"--tls-client-ca", filepath.Join(pki, "ca.crt")}})
	if !strings.Contains(svc.Logs(), `auth="mutual TLS"`) {
		t.Fatalf("serve does not say it admits by mutual TLS:\n%s", svc.Logs())
	}
	src := "ferry://" + strings.TrimPrefix(svc.Addr, "tcp://")
	ca := filepath.Join(pki, "ca.crt")

	refusals := []struct {
		name   string
		args   []string
		client string // the end of the client's one line
		server string // the reason serve logs
	}{
		{"another CA", []string{"--tls-ca", ca, "--tls-cert", filepath.Join(other, "client-mallory.crt"), "--tls-key", filepath.Join(other, "client-mallory.key")},
			`refused the session: client certificate "mallory": x509: certificate signed by unknown authority`, "certificate signed by unknown authority"},
		{"no certificate", []string{"--tls-ca", ca}, "refused the session: no client certificate (mount with --tls-cert and --tls-key)", "no client certificate"},
		{"no TLS", nil, "refused the session: this listener speaks TLS and the client does not (mount with --tls-ca)", "this listener speaks TLS"},
	}
	for _, r := range refusals {
		mnt := t.TempDir()
		_, stderr, code := ferry(t, append([]string{"mount", src, mnt, "--patience", "1h"}, r.args...)...)
		want := "ferry: mount: service at " + svc.Addr + " " + r.client + "\n"
		if code != 1 || stderr != want {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 and %q", r.name, code, stderr, want)
		}
		if n := len(refusalLine(r.server).FindAllString(svc.Logs(), -1)); n != 1 {
			t.Errorf("%s: %d log lines of the refusal, want 1:\n%s", r.name, n, svc.Logs())
		}
	}

	mnt := t.TempDir()
	forceUnmount(t, mnt)
	ferryOK(t, "mount", src, mnt, "-d", "--tls-ca", ca,
		"--tls-cert", filepath.Join(pki, "client-alice.crt"), "--tls-key", filepath.Join(pki, "client-alice.key"))
	if err := os.WriteFile(filepath.Join(mnt, "secret"), []byte("over TLS"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(mnt, "secret")); err != nil || string(b) != "over TLS" {
		t.Fatalf("read back %q, %v", b, err)
	}
	if err := syscall.Unmount(mnt, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(svc.Logs(), `msg="session connected"`) {
		t.Errorf("no session connected line:\n%s", svc.Logs())
	}
}

// TestTokenMount serves with a token on a TLS listener: a FUSE mount
// presenting the token works, and goes on working through a restart of
// the service; ferry mount with a wrong token (from $FERRY_TOKEN) or none
// is refused at once, and serve logs each refusal.
func TestTokenMount(t *testing.T) {
	testmount.RequireFUSE(t)
	pki := makePKI(t)
	tokenFile := filepath.Join(pki, "token")
	svc := testmount.StartServe(t, testmount.ServeOptions{Listen: "tcp://127.0.0.1:0?tls=1&token-file=" + tokenFile, Args: []string{
		"--tls-cert", filepath.Join(pki, "server.crt"), "--tls-key", filepath.Join(pki, "server.key")}})
	ca := filepath.Join(pki, "ca.crt")
	src := "ferry://" + strings.TrimPrefix(svc.Addr, "tcp://")

	_, stderr, code := ferry(t, "mount", src, t.TempDir(), "--tls-ca", ca, "--patience", "1h")
	if want := "ferry: mount: service at " + svc.Addr + " refused the session: no token (mount with --token-file or FERRY_TOKEN)\n"; code != 1 || stderr != want {
		t.Errorf("no token: exit %d, stderr %q; want %q", code, stderr, want)
	}
	t.Setenv(tokenEnv, "0123456789abcdef0123456789abcdef")
	_, stderr, code = ferry(t, "mount", src, t.TempDir(), "--tls-ca", ca, "--patience", "1h")
	if want := "ferry: mount: service at " + svc.Addr + " refused the session: bad token\n"; code != 1 || stderr != want {
		t.Errorf("wrong token: exit %d, stderr %q; want %q", code, stderr, want)
	}
	for _, reason := range []string{"no token", "bad token"} {
		if n := len(refusalLine(reason).FindAllString(svc.Logs(), -1)); n != 1 {
			t.Errorf("%d log lines of a refusal for %s, want 1:\n%s", n, reason, svc.Logs())
		}
	}

	tlsCfg, err := certs.ClientTLS(ca, "", "")
	if err != nil {
		t.Fatal(err)
	}
	m := testmount.NewRemote(t, svc.Addr, testmount.RemoteOptions{Credentials: &rpc.Credentials{
		TLS: tlsCfg, Token: func() ([]byte, error) { return certs.ReadToken(tokenFile) }}})
	if err := os.WriteFile(m.Path("f"), []byte("with a token"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(m.Path("f")); err != nil || string(b) != "with a token" {
		t.Fatalf("read back %q, %v", b, err)
	}
	// A restarted service (same listener, same token) takes the mount
	// back: the reconnect runs TLS and presents the token again.
	svc.Stop(t)
	svc.Restart(t)
	if err := os.WriteFile(m.Path("g"), []byte("after the restart"), 0o644); err != nil {
		t.Fatalf("write after the restart: %v", err)
	}
	if n := strings.Count(svc.Logs(), `msg="session connected"`); n != 2 {
		t.Errorf("%d sessions connected, want 2 (the mount, then its reconnect):\n%s", n, svc.Logs())
	}
	if n := strings.Count(svc.Logs(), `auth="TLS + token"`); n != 2 {
		t.Errorf("the restarted service does not admit by TLS + token:\n%s", svc.Logs())
	}
}

// TestListenRules checks serve's refusals of listeners that would expose
// a volume: plain or unauthenticated off this machine, and bad options.
func TestListenRules(t *testing.T) {
	pki := makePKI(t)
	tlsArgs := []string{"--tls-cert", filepath.Join(pki, "server.crt"), "--tls-key", filepath.Join(pki, "server.key")}
	for _, tt := range []struct {
		listen string
		args   []string
		code   int
		want   string
	}{
		{"tcp://0.0.0.0:0", nil, 1, "off this machine a listener needs ?tls=1"},
		{"tcp://:0?tls=1", tlsArgs, 1, "this TLS listener would admit anybody"},
		{"tcp://0.0.0.0:0?token-file=" + filepath.Join(pki, "token"), nil, 1, "off this machine a listener needs ?tls=1"},
		{"tcp://127.0.0.1:0?tls=1", nil, 1, "a TLS listener needs --tls-cert and --tls-key"},
		{"tcp://127.0.0.1:0", tlsArgs, 1, "are for listeners with ?tls=1, and there is none"},
		{"tcp://127.0.0.1:0?tls=maybe", nil, 2, `tls="maybe"; want 1 or 0`},
		{"tcp://127.0.0.1:0?color=blue", nil, 2, `unknown option "color"`},
		{"vsock://3:7070", nil, 1, "off this machine a listener needs ?tls=1"},
	} {
		args := append([]string{"serve", filepath.Join(t.TempDir(), "vol"), "--listen", tt.listen}, tt.args...)
		_, stderr, code := ferry(t, args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("serve --listen %s: exit %d, stderr %q; want exit %d and %q", tt.listen, code, stderr, tt.code, tt.want)
		}
	}
}
