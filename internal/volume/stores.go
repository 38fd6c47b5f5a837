package volume

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/blob/localblob"
	"github.com/ferryfs/ferry/internal/blob/s3blob"
	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/etcdkv"
	"github.com/ferryfs/ferry/internal/kv/pebblekv"
	"github.com/ferryfs/ferry/internal/kv/pgkv"
)

// The two places that turn a URL into a store: every metadata engine and
// every object store Ferry can use has one case in these switches.

// OpenKV opens the metadata store rawURL names: postgres:// or
// postgresql:// (PostgreSQL), etcd:// (an etcd cluster), or a plain path (an embedded Pebble store,
// created if missing).
func OpenKV(ctx context.Context, rawURL string, log *slog.Logger) (kv.Store, error) {
	switch scheme(rawURL) {
	case "":
		return kvStore(pebblekv.Open(rawURL, pebblekv.Options{Logger: log.With("component", "pebble")}))
	case "postgres", "postgresql":
		return kvStore(pgkv.Open(ctx, rawURL, pgkv.Options{Logger: log.With("component", "pgkv")}))
	case "etcd":
		return kvStore(etcdkv.Open(ctx, rawURL, etcdkv.Options{Logger: log.With("component", "etcdkv")}))
	default:
		return nil, fmt.Errorf("%s: unknown metadata engine %q (Ferry knows postgres:// and etcd://)", Redact(rawURL), scheme(rawURL))
	}
}

// OpenBlob opens the object store rawURL names: s3:// (a bucket of an
// S3-compatible service), or a plain path or a file:// URL (a local
// directory, created if missing).
func OpenBlob(ctx context.Context, rawURL string, log *slog.Logger) (blob.Store, error) {
	switch scheme(rawURL) {
	case "", "file":
		path, err := localPath(rawURL)
		if err != nil {
			return nil, err
		}
		return blobStore(localblob.Open(path, localblob.Options{Logger: log.With("component", "objects")}))
	case "s3":
		return blobStore(s3blob.Open(ctx, rawURL, s3blob.Options{Logger: log.With("component", "s3")}))
	default:
		return nil, fmt.Errorf("%s: unknown object store %q (Ferry knows s3://, file:// and local paths)", Redact(rawURL), scheme(rawURL))
	}
}

// Shared reports whether the object store rawURL names is one that
// clients on other machines can reach themselves (an S3 bucket), so that
// a service may name it to them.
func Shared(rawURL string) bool { return scheme(rawURL) == "s3" }

// IsURL reports whether s names a store by URL (scheme://...) rather than
// by a path.
func IsURL(s string) bool { return scheme(s) != "" }

// scheme returns the lower-cased scheme of a URL, "" for a plain path.
func scheme(s string) string {
	i := strings.Index(s, "://")
	if i <= 0 || strings.ContainsAny(s[:i], "/.") {
		return ""
	}
	return strings.ToLower(s[:i])
}

// localPath turns a path or a file:// URL into an absolute path.
func localPath(rawURL string) (string, error) {
	p := rawURL
	if scheme(rawURL) == "file" {
		u, err := url.Parse(rawURL)
		if err != nil || (u.Host != "" && u.Host != "localhost") {
			return "", fmt.Errorf("%s: a file:// URL names a local directory (file:///path)", rawURL)
		}
		p = u.Path
	}
	if p == "" {
		return "", fmt.Errorf("%q: empty path", rawURL)
	}
	return filepath.Abs(p)
}

// Redact returns rawURL without a password, for messages and logs; a
// plain path is returned as it is.
func Redact(rawURL string) string {
	if !IsURL(rawURL) {
		return rawURL
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return scheme(rawURL) + "://(unparsable URL)"
	}
	q := u.Query()
	for name := range q {
		if secretParam(name) {
			q.Set(name, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.Redacted()
}

// secretParam reports whether a query parameter carries a credential.
func secretParam(name string) bool {
	name = strings.ToLower(name)
	for _, s := range []string{"password", "secret", "token", "key", "credential", "signature"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// checkNoCredentials refuses a data URL with credentials in it: the URL is
// stored in the metadata engine, where anybody who can read the metadata
// could read them. Credentials come from the environment.
func checkNoCredentials(rawURL string) error {
	if !IsURL(rawURL) {
		return nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("data URL %s: %w", Redact(rawURL), err)
	}
	bad := u.User != nil
	for name := range u.Query() {
		bad = bad || secretParam(name)
	}
	if bad {
		return fmt.Errorf("data URL %s carries credentials; it is stored in the volume, so give them in the environment instead", Redact(rawURL))
	}
	return nil
}

// kvStore and blobStore turn a backend's (nil *T, err) into a nil
// interface: a nil pointer in an interface is not nil, and whoever
// closes what a failed open left would call it.
func kvStore[T kv.Store](s T, err error) (kv.Store, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}

func blobStore[T blob.Store](s T, err error) (blob.Store, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}
