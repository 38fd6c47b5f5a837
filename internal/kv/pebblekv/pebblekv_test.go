package pebblekv_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/kvtest"
	"github.com/ferryfs/ferry/internal/kv/pebblekv"
)

func mustOpen(t *testing.T, dir string, opts pebblekv.Options) *pebblekv.Store {
	t.Helper()
	s, err := pebblekv.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformanceMemFS(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store {
		return mustOpen(t, "db", pebblekv.Options{FS: vfs.NewMem()})
	})
}

func TestConformanceDisk(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store {
		return mustOpen(t, t.TempDir(), pebblekv.Options{})
	})
}

// TestLoggerReceivesPebbleEvents checks that Pebble's messages reach the
// injected logger and nothing else.
func TestLoggerReceivesPebbleEvents(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := pebblekv.Open("db", pebblekv.Options{FS: vfs.NewMem(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "k", "v")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "MANIFEST created") {
		t.Fatalf("no pebble messages in the log:\n%s", buf.String())
	}
}
