package pgkv_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/kvtest"
	"github.com/ferryfs/ferry/internal/kv/pgkv"
)

// serverURL returns the URL of the test database scripts/postgres.sh
// starts: the test skips without one, and fails under CI=true.
func serverURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("FERRY_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("FERRY_TEST_POSTGRES is not set, and CI=true requires every test to run (scripts/postgres.sh starts a server)")
		}
		t.Skip("FERRY_TEST_POSTGRES is not set (bash scripts/postgres.sh go test ./internal/kv/pgkv)")
	}
	return u
}

var schemas atomic.Int64

// freshURL makes an empty schema for t, dropped when t ends, and returns
// the URL of a store in it.
func freshURL(t testing.TB) string {
	t.Helper()
	base := serverURL(t)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), schemas.Add(1))
	ctx := context.Background()
	c, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("connect: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	return withParam(t, base, "search_path", name)
}

func withParam(t testing.TB, raw, k, v string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

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
