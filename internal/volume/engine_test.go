package volume

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ferryfs/ferry/internal/kv/pgkv"
	"github.com/ferryfs/ferry/internal/kv/pgkv/pgtest"
	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/standby"
)

func formatEngineT(t *testing.T, metaURL string, opts FormatOptions) meta.Super {
	t.Helper()
	sb, err := FormatEngine(context.Background(), metaURL, opts)
	if err != nil {
		t.Fatalf("FormatEngine: %v", err)
	}
	return sb
}

func TestEngineFormatAndReopen(t *testing.T) {
	ctx := context.Background()
	metaURL := pgtest.FreshURL(t)
	data := filepath.Join(t.TempDir(), "objects")
	sb := formatEngineT(t, metaURL, FormatOptions{Name: "myvol", Data: "file://" + data, BlockSize: 1 << 20})
	if sb.Name != "myvol" || sb.Data != data || sb.BlockSize != 1<<20 || sb.UUID == "" {
		t.Fatalf("super %+v", sb)
	}
	v, err := OpenEngine(ctx, metaURL, Options{})
	if err != nil {
		t.Fatalf("OpenEngine: %v", err)
	}
	if v.Super != sb || v.Marker.UUID != sb.UUID || v.Dir != "" || v.Source != Redact(metaURL) {
		t.Errorf("opened %+v / %+v, source %s", v.Super, v.Marker, v.Source)
	}
	if _, err := v.Meta.Mkdir(ctx, meta.Root, meta.RootIno, "kept", 0o755); err != nil {
		t.Fatal(err)
	}
	if total, _, err := v.Disk(); err != nil || total == 0 {
		t.Errorf("Disk of local objects: %d, %v", total, err)
	}

	// A second process (here: a second open) is refused while it is open.
	_, err = OpenEngine(ctx, metaURL, Options{})
	var iu *InUseError
	if !errors.Is(err, ErrInUse) || !errors.As(err, &iu) || !strings.Contains(err.Error(), fmt.Sprintf("ferry pid %d", os.Getpid())) {
		t.Errorf("second open: %v; want ErrInUse naming our pid", err)
	}
	closeT(t, v)

	v = func() *Volume {
		v, err := OpenEngine(ctx, metaURL, Options{})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		return v
	}()
	defer closeT(t, v)
	if _, err := v.Meta.Lookup(ctx, meta.Root, meta.RootIno, "kept"); err != nil {
		t.Errorf("directory made before Close is gone: %v", err)
	}
	// Formatting again is refused, naming the volume.
	_, err = FormatEngine(ctx, metaURL, FormatOptions{Name: "other", Data: t.TempDir()})
	if !errors.Is(err, ErrInUse) && !errors.Is(err, ErrExist) {
		t.Errorf("format of a volume in use: %v", err)
	}
}

func TestEngineFormatTwiceRefused(t *testing.T) {
	metaURL := pgtest.FreshURL(t)
	sb := formatEngineT(t, metaURL, FormatOptions{Name: "one", Data: t.TempDir()})
	_, err := FormatEngine(context.Background(), metaURL, FormatOptions{Name: "two", Data: t.TempDir()})
	if !errors.Is(err, ErrExist) || !strings.Contains(err.Error(), `Ferry volume "one" (uuid `+sb.UUID+")") {
		t.Errorf("second format: %v", err)
	}
}

func TestEngineMissingAndForeign(t *testing.T) {
	ctx := context.Background()
	metaURL := pgtest.FreshURL(t)
	_, err := OpenEngine(ctx, metaURL, Options{})
	if !errors.Is(err, ErrNotExist) || !strings.Contains(err.Error(), "holds no Ferry volume") || strings.Contains(err.Error(), "\n") {
		t.Errorf("open of an empty engine: %v", err)
	}
	// Rows that are not a volume: refused by open and by format, and kept.
	c, err := pgx.Connect(ctx, metaURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "INSERT INTO ferry_kv VALUES ('\\x01', '\\x02')"); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenEngine(ctx, metaURL, Options{}); !errors.Is(err, ErrNotVolume) {
		t.Errorf("open of foreign data: %v", err)
	}
	if _, err := FormatEngine(ctx, metaURL, FormatOptions{Name: "v", Data: t.TempDir()}); !errors.Is(err, ErrNotVolume) {
		t.Errorf("format over foreign data: %v", err)
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM ferry_kv").Scan(&n); err != nil || n != 1 {
		t.Errorf("foreign rows: %d, %v", n, err)
	}
}

func TestEngineFormatChecks(t *testing.T) {
	metaURL := pgtest.FreshURL(t)
	used := t.TempDir()
	if err := os.WriteFile(filepath.Join(used, "obj"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		opts FormatOptions
		want string
	}{
		{FormatOptions{Name: "", Data: t.TempDir()}, "volume name"},
		{FormatOptions{Name: "v"}, "needs --data"},
		{FormatOptions{Name: "v", Data: "s3://AKIA:s3cr3t@bucket/p"}, "carries credentials"},
		{FormatOptions{Name: "v", Data: "s3://bucket/p?secret_key=s3cr3t"}, "carries credentials"},
		{FormatOptions{Name: "v", Data: "gopher://x/y"}, "unknown object store"},
		{FormatOptions{Name: "v", Data: t.TempDir(), BlockSize: 3000}, "block size"},
		{FormatOptions{Name: "v", Data: used}, "already holds objects"},
	} {
		_, err := FormatEngine(context.Background(), metaURL, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("FormatEngine(%+v): %v; want %q", tc.opts, err, tc.want)
		}
	}
	if _, err := OpenEngine(context.Background(), metaURL, Options{}); !errors.Is(err, ErrNotExist) {
		t.Errorf("refused formats left a volume behind: %v", err)
	}
}

func TestOpenKVUnknownEngine(t *testing.T) {
	_, err := OpenEngine(context.Background(), "mysql://u:pw@h/db", Options{})
	if err == nil || !strings.Contains(err.Error(), `unknown metadata engine "mysql"`) || strings.Contains(err.Error(), "pw") {
		t.Errorf("unknown engine: %v", err)
	}
}

// TestEngineRoundTrips counts what the metadata operations of a file's
// life cost on PostgreSQL, as the service runs them: lookup of the new
// name, create, the directory's attributes for the reply, release, unlink.
func TestEngineRoundTrips(t *testing.T) {
	ctx := context.Background()
	metaURL := pgtest.FreshURL(t)
	formatEngineT(t, metaURL, FormatOptions{Name: "rt", Data: t.TempDir()})
	v, err := OpenEngine(ctx, metaURL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeT(t, v)
	raw := v.KV
	if f, ok := raw.(*standby.Fenced); ok {
		raw = f.Store // the lease's check rides in the same round trips
	}
	st := raw.(*pgkv.Store).Stats()
	dir, err := v.Meta.Mkdir(ctx, meta.Root, meta.RootIno, "d", 0o755)
	if err != nil {
		t.Fatal(err)
	}
	count := func(what string, want uint64, fn func() error) {
		t.Helper()
		before := st.RoundTrips.Load()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := st.RoundTrips.Load() - before; got != want {
			t.Errorf("%s: %d round trips, want %d", what, got, want)
		}
	}
	for i := range 3 { // the first create also reserves inode numbers
		name := fmt.Sprintf("f%d", i)
		if i == 0 {
			if _, err := v.Meta.Create(ctx, meta.Root, dir.Ino, name, 0o644, 0); err != nil {
				t.Fatal(err)
			}
			continue
		}
		count("lookup of a new name", 1, func() error {
			if _, err := v.Meta.Lookup(ctx, meta.Root, dir.Ino, name); err == nil {
				return errors.New("found")
			}
			return nil
		})
		var a meta.Attr
		count("create", 2, func() (err error) { a, err = v.Meta.Create(ctx, meta.Root, dir.Ino, name, 0o644, 0); return err })
		count("getattr of the directory", 0, func() error { _, err := v.Meta.GetAttr(ctx, dir.Ino); return err })
		count("getattr of the file", 0, func() error { _, err := v.Meta.GetAttr(ctx, a.Ino); return err })
		if err := v.Meta.Release(ctx, a.Ino); err != nil {
			t.Fatal(err)
		}
	}
	count("unlink", 3, func() error { return v.Meta.Unlink(ctx, meta.Root, dir.Ino, "f1") })
	count("sync", 1, func() error { return v.Meta.Sync(ctx) })
}
