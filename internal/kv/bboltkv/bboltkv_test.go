package bboltkv_test

import (
	"path/filepath"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/bboltkv"
	"github.com/ferryfs/ferry/internal/kv/kvtest"
)

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store {
		s, err := bboltkv.Open(filepath.Join(t.TempDir(), "kv.db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	})
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	s, err := bboltkv.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(t.Context(), func(tx kv.Txn) error {
		tx.Set([]byte("k"), []byte("v"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := bboltkv.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var got []byte
	if err := s2.View(t.Context(), func(r kv.Reader) (err error) {
		got, err = r.Get([]byte("k"))
		return err
	}); err != nil || string(got) != "v" {
		t.Fatalf("after reopen: %q, %v", got, err)
	}
}
