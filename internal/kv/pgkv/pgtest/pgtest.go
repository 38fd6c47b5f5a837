// Package pgtest gives tests a PostgreSQL database to work in: the server
// scripts/postgres.sh starts (FERRY_TEST_POSTGRES), and a fresh schema in
// it per test, so that tests running in parallel never see each other's
// stores.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Env names the variable that holds the test server's URL.
const Env = "FERRY_TEST_POSTGRES"

// ServerURL returns the URL of the test database: the test skips without
// one, and fails under CI=true.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(Env)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set, and CI=true requires every test to run (scripts/postgres.sh starts a server)", Env)
		}
		t.Skipf("%s is not set (bash scripts/postgres.sh go test ./...)", Env)
	}
	return u
}

var schemas atomic.Int64

// FreshURL makes an empty schema for t, dropped when t ends, and returns
// the URL of the test database with that schema first in search_path.
func FreshURL(t testing.TB) string {
	t.Helper()
	base := ServerURL(t)
	name := fmt.Sprintf("ferry_test_%d_%d", os.Getpid(), schemas.Add(1))
	exec(t, base, "CREATE SCHEMA "+name)
	t.Cleanup(func() { exec(t, base, "DROP SCHEMA "+name+" CASCADE") })
	return WithParam(t, base, "search_path", name)
}

// WithParam returns rawURL with the query parameter k set to v.
func WithParam(t testing.TB, rawURL, k, v string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

// exec runs one statement on its own connection.
func exec(t testing.TB, rawURL, sql string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		t.Errorf("connect to the test server: %v", err)
		return
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Errorf("%s: %v", sql, err)
	}
}
