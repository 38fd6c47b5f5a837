package pgkv_test

import (
	"context"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/kvtest"
	"github.com/ferryfs/ferry/internal/kv/pgkv"
	"github.com/ferryfs/ferry/internal/kv/pgkv/pgtest"
)

var serverURL, freshURL = pgtest.ServerURL, pgtest.FreshURL

func mustOpen(t testing.TB, rawURL string) *pgkv.Store {
	t.Helper()
	s, err := pgkv.Open(context.Background(), rawURL, pgkv.Options{MaxConns: 4})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store { return mustOpen(t, freshURL(t)) })
}
