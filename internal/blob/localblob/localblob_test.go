package localblob_test

import (
	"testing"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/blob/blobtest"
	"github.com/ferryfs/ferry/internal/blob/localblob"
)

func open(t *testing.T, opts localblob.Options) *localblob.Store {
	t.Helper()
	s, err := localblob.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return open(t, localblob.Options{}) })
}

// TestConformanceOverflow runs the suite with a pending list so small that
// most Syncs fall back to syncfs.
func TestConformanceOverflow(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return open(t, localblob.Options{MaxPending: 3}) })
}
