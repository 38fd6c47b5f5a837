package appliancetest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/blob/faulty"
	"github.com/ferryfs/ferry/internal/blob/s3blob"
	"github.com/ferryfs/ferry/internal/kv/pgkv/pgtest"
	"github.com/ferryfs/ferry/internal/testbin"
	"github.com/ferryfs/ferry/internal/testmount"
)

// startVersitygw runs an S3 server on loopback with one bucket, bkt, and
// returns its endpoint. scripts/versitygw.sh builds the server and
// scripts/test.sh names it in FERRY_VERSITYGW.
func startVersitygw(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("FERRY_VERSITYGW")
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("FERRY_VERSITYGW is not set, and CI=true requires every test to run (bash scripts/versitygw.sh builds the server)")
		}
		t.Skip("FERRY_VERSITYGW is not set (bash scripts/versitygw.sh builds the server)")
	}
	root := t.TempDir()
	// The posix backend serves each directory of its root as a bucket.
	if err := os.Mkdir(filepath.Join(root, "bkt"), 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	cmd := exec.Command(bin, "--access", "ferrytest", "--secret", "ferrytestsecret",
		"--port", fmt.Sprintf("127.0.0.1:%d", port), "--quiet", "posix", root)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(endpoint); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not answer on %s", endpoint)
		}
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "ferrytest")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "ferrytestsecret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return endpoint
}

// TestDirectData serves a volume whose objects are in an S3 bucket: the
// service names the bucket, both mounts write and read the objects there
// themselves, and what one writes the other reads whole.
func TestDirectData(t *testing.T) {
	testmount.RequireFUSE(t)
	endpoint := startVersitygw(t)
	metaURL := pgtest.FreshURL(t)
	data := "s3://bkt/vol?endpoint=" + endpoint
	if out, err := exec.Command(testbin.Ferry(t), "format", "--meta", metaURL, "--data", data, "direct").CombinedOutput(); err != nil {
		t.Fatalf("format: %v\n%s", err, out)
	}
	port := freePort(t)
	svc := startServeProc(t, metaURL, port, "serve")
	svc.await(t, "msg=serving", 30*time.Second)

	// Each mount reaches the bucket through a store that counts its calls.
	var stores []*faulty.Store
	open := func(ctx context.Context, url string) (blob.Store, error) {
		st, err := s3blob.Open(ctx, url, s3blob.Options{})
		if err != nil {
			return nil, err
		}
		f := faulty.New(st)
		stores = append(stores, f)
		return f, nil
	}
	addr := fmt.Sprintf("ferry://127.0.0.1:%d", port)
	a := testmount.NewRemote(t, addr, testmount.RemoteOptions{OpenStore: open})
	b := testmount.NewRemote(t, addr, testmount.RemoteOptions{OpenStore: open})
	if len(stores) != 2 {
		t.Fatalf("%d mounts opened the bucket, want 2", len(stores))
	}

	want := bytes.Repeat([]byte("0123456789abcdef"), 6<<20/16) // two blocks and a half
	f, err := os.Create(a.Path("big"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(want); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(b.Path("big"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("B reads %d bytes, %v; want the %d A wrote", len(got), err, len(want))
	}
	if c := stores[0].Counts(); c.Puts == 0 {
		t.Errorf("A put no object in the bucket itself: %+v", c)
	}
	if c := stores[1].Counts(); c.Gets == 0 {
		t.Errorf("B got no object from the bucket itself: %+v", c)
	}
}
