package appliancetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/metrics"
	"github.com/ferryfs/ferry/internal/testbin"
	"github.com/ferryfs/ferry/internal/testmount"
)

var metricsLine = regexp.MustCompile(`msg="metrics: serving" addr=(\S+)`)

// scrape reads the metrics of target (a mount point, ferry:// or
// http://) as `ferry stats` does.
func scrape(t *testing.T, target string) metrics.Families {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	src, err := metrics.Open(ctx, target)
	if err != nil {
		t.Fatalf("metrics of %s: %v", target, err)
	}
	defer src.Close()
	f, err := src.Fetch(ctx)
	if err != nil {
		t.Fatalf("metrics of %s: %v", target, err)
	}
	return f
}

// delta is how much the counter name (with labels) grew from a to b.
func delta(a, b metrics.Families, name string, labels ...string) float64 {
	return b.Value(name, labels...) - a.Value(name, labels...)
}

// count is the number of runs of op in a family's histogram.
func count(f metrics.Families, family, op string) float64 {
	return f.Count(family+"_duration_seconds", "op", op)
}

// statsOnce runs `ferry stats --once` on target and returns its output.
func statsOnce(t *testing.T, target string) string {
	t.Helper()
	out, err := exec.Command(testbin.Ferry(t), "stats", "--once", "--interval", "100ms", target).CombinedOutput()
	if err != nil {
		t.Fatalf("ferry stats --once %s: %v\n%s", target, err, out)
	}
	if strings.Contains(string(out), "\x1b") {
		t.Errorf("ferry stats wrote terminal control characters to a pipe:\n%q", out)
	}
	return string(out)
}

// wantRow checks that a stats view has the row op with the given total.
func wantRow(t *testing.T, view, op string, total int) {
	t.Helper()
	if !regexp.MustCompile(`(?m)^\s*` + op + `\s+` + fmt.Sprint(total) + `\s`).MatchString(view) {
		t.Errorf("ferry stats has no row %q with total %d:\n%s", op, total, view)
	}
}

// A known workload through `ferry serve`, read back from the service's
// --metrics listener, from the client's control socket, and through
// `ferry stats --once`: each create is one create call, a second stat
// pass makes no round trip, a change to a file another client holds is
// a recall and an invalidation there, bytes written reach the object
// store.
func TestMetricsThroughServe(t *testing.T) {
	testmount.RequireFUSE(t)
	// A long lease: on a loaded machine a client must not lose its
	// leases between the two stat passes.
	svc := testmount.StartServe(t, testmount.ServeOptions{Lease: 10 * time.Second, Args: []string{"--metrics", "127.0.0.1:0"}})
	m := metricsLine.FindStringSubmatch(svc.Logs())
	if m == nil {
		t.Fatalf("ferry serve did not say where its metrics are:\n%s", svc.Logs())
	}
	httpAddr := m[1]
	a, b := t.TempDir(), t.TempDir()
	mountMeasured(t, svc.Addr, a)
	mountMeasured(t, svc.Addr, b)

	const n = 40
	before := scrape(t, httpAddr)
	if err := os.Mkdir(filepath.Join(a, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := os.WriteFile(filepath.Join(a, "d", fmt.Sprintf("f%d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	after := scrape(t, httpAddr)
	// a made d, so it answers the creates in it itself (a delegation)
	// and sends them on in batches: one create call each, or fewer
	// batch calls; b lists every one of them.
	calls := func(op string) float64 {
		return count(after, "ferry_wire_call", op) - count(before, "ferry_wire_call", op)
	}
	single, batches := calls("create")+calls("create_as"), calls("create_batch")
	if single > n || single+batches < 1 || single+batches > n {
		t.Errorf("%d creates made %v create calls and %v batches on the service", n, single, batches)
	}
	if got := names(t, filepath.Join(b, "d")); len(got) != n {
		t.Errorf("b lists %d names in d, want %d", len(got), n)
	}
	if got := after.Value("ferry_sessions"); got != 2 {
		t.Errorf("ferry_sessions = %v with two mounts", got)
	}

	// Stat every file twice on b: the second pass is answered by b's
	// kernel from what its leases keep valid.
	statAll := func() {
		for i := range n {
			if _, err := os.Stat(filepath.Join(b, "d", fmt.Sprintf("f%d", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	statAll()
	first := scrape(t, httpAddr)
	firstB := scrape(t, b)
	statAll()
	second := scrape(t, httpAddr)
	secondB := scrape(t, b)
	for _, op := range []string{"lookup", "getattr"} {
		if d := count(second, "ferry_wire_call", op) - count(first, "ferry_wire_call", op); d != 0 {
			t.Errorf("the second stat pass made %v %s calls on the service", d, op)
		}
		if d := delta(firstB, secondB, "ferry_client_calls_total", "op", op); d != 0 {
			t.Errorf("the second stat pass made %v %s round trips from the client", d, op)
		}
	}
	if d := count(secondB, "ferry_fuse_request", "lookup") - count(firstB, "ferry_fuse_request", "lookup"); d != 0 {
		t.Errorf("the second stat pass sent the client %v lookups", d)
	}

	// A change on a to a file b holds recalls b's lease; b invalidates
	// its kernel's cache.
	if err := os.Chmod(filepath.Join(a, "d", "f0"), 0o600); err != nil {
		t.Fatal(err)
	}
	recalled := scrape(t, httpAddr)
	if d := delta(second, recalled, "ferry_lease_recalls_total"); d < 1 {
		t.Errorf("a chmod of a file another client holds recalled %v times", d)
	}
	if d := delta(secondB, scrape(t, b), "ferry_kernel_invalidations_total", "kind", "inode"); d < 1 {
		t.Errorf("the recalled client sent its kernel %v inode invalidations", d)
	}

	// Bytes written become object bytes, on the client and the service.
	const size = 3 << 20
	aBefore := scrape(t, a)
	writeSynced(t, filepath.Join(a, "big"), size)
	if d := delta(recalled, scrape(t, httpAddr), "ferry_object_written_bytes_total"); d < size {
		t.Errorf("writing %d bytes wrote %v bytes to the service's object store", size, d)
	}
	if d := delta(aBefore, scrape(t, a), "ferry_object_written_bytes_total"); d < size {
		t.Errorf("writing %d bytes sent %v object bytes from the client", size, d)
	}

	view := statsOnce(t, a)
	wantRow(t, view, "create", n+1) // and big
	for _, s := range []string{"FUSE REQUESTS", "CLIENT", "round trips", "kernel invalidations", "block cache", "OBJECT STORE"} {
		if !strings.Contains(view, s) {
			t.Errorf("ferry stats of a mount lacks %q:\n%s", s, view)
		}
	}
	view = statsOnce(t, svc.Addr)
	if !strings.Contains(view, "create_batch") && !strings.Contains(view, "create ") {
		t.Errorf("ferry stats of the service shows no creates:\n%s", view)
	}
	if !strings.Contains(view, "sessions          2 live") {
		t.Errorf("ferry stats of the service does not show two sessions (the stats connection opens none):\n%s", view)
	}
	if got := scrape(t, httpAddr).Value("ferry_sessions_opened_total"); got != 2 {
		t.Errorf("after stats connections the service opened %v sessions, want 2", got)
	}
}

// An embedded mount (ferry mount VOL MNT) has the same metrics and view.
func TestMetricsEmbedded(t *testing.T) {
	testmount.RequireFUSE(t)
	vol, mnt := t.TempDir(), t.TempDir()
	out, err := exec.Command(testbin.Ferry(t), "mount", "-d", vol, mnt, "--metrics", "127.0.0.1:0").CombinedOutput()
	if err != nil {
		t.Fatalf("ferry mount -d: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if err := exec.Command("umount", mnt).Run(); err != nil {
			t.Errorf("umount %s: %v", mnt, err)
		}
	})
	log, err := os.ReadFile(filepath.Join(vol, "ferry.log"))
	if err != nil {
		t.Fatal(err)
	}
	m := metricsLine.FindStringSubmatch(string(log))
	if m == nil {
		t.Fatalf("the mount did not log where its metrics are:\n%s", log)
	}
	const n = 25
	before := scrape(t, m[1])
	for i := range n {
		if err := os.Mkdir(filepath.Join(mnt, fmt.Sprintf("d%d", i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const size = 2 << 20
	writeSynced(t, filepath.Join(mnt, "big"), size)
	after := scrape(t, m[1]) // the --metrics listener
	if d := count(after, "ferry_fuse_request", "mkdir") - count(before, "ferry_fuse_request", "mkdir"); d != n {
		t.Errorf("%d mkdirs were %v FUSE mkdir requests", n, d)
	}
	if d := delta(before, after, "ferry_object_written_bytes_total"); d < size {
		t.Errorf("writing %d bytes wrote %v object bytes", size, d)
	}
	if got := count(scrape(t, mnt), "ferry_fuse_request", "mkdir"); got != n {
		t.Errorf("the control socket says %v mkdirs, want %d", got, n)
	}
	view := statsOnce(t, mnt)
	wantRow(t, view, "mkdir", n)
	if strings.Contains(view, "CLIENT") {
		t.Errorf("an embedded mount shows a client section:\n%s", view)
	}
}

// mountMeasured mounts like mountProcess, whose SIGKILL at the end
// leaves the mount's control socket behind: it is removed after.
func mountMeasured(t *testing.T, addr, dir string) {
	t.Helper()
	var sock string
	t.Cleanup(func() {
		if sock != "" {
			os.Remove(sock)
		}
	})
	mountProcess(t, addr, dir)
	var err error
	if sock, err = metrics.ControlSocket(dir); err != nil {
		t.Fatal(err)
	}
}

func writeSynced(t *testing.T, path string, size int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
