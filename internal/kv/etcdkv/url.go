package etcdkv

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Scheme is the URL scheme of an etcd metadata store.
const Scheme = "etcd"

// Defaults. The two limits are etcd's own defaults (--max-txn-ops,
// --max-request-bytes); a cluster started with larger ones is named with
// the max-txn-ops and max-request-bytes URL parameters.
const (
	DefaultDialTimeout     = 5 * time.Second
	DefaultRequestTimeout  = 10 * time.Second
	DefaultMaxTxnOps       = 128
	DefaultMaxRequestBytes = 1536 * 1024
	DefaultMaxRetries      = 100
)

// IsURL reports whether s names an etcd store rather than a path.
func IsURL(s string) bool { return strings.HasPrefix(s, Scheme+"://") }

// Target is what an etcd:// URL names: the members to reach, the key
// prefix of the volume, and any limits and timeouts it sets.
type Target struct {
	// Endpoints are the members' client URLs (http://HOST:PORT).
	Endpoints []string
	// Prefix is the key prefix without leading or trailing slash, e.g.
	// "ferry/vol1"; every key of the store lives under Prefix + "/:".
	Prefix string
	// Settings from the query string; zero when absent.
	DialTimeout     time.Duration
	RequestTimeout  time.Duration
	MaxTxnOps       int
	MaxRequestBytes int
}

// ParseURL parses etcd://HOST:PORT[,HOST:PORT...]/PREFIX[?PARAMS]. The
// prefix is one or more segments of letters, digits, '.', '_' and '-',
// separated by '/'. PARAMS are dial-timeout and request-timeout (Go
// durations), max-txn-ops and max-request-bytes (the cluster's limits).
func ParseURL(raw string) (Target, error) {
	var t Target
	rest, ok := strings.CutPrefix(raw, Scheme+"://")
	if !ok {
		return t, badURL(raw, "it does not start with etcd://")
	}
	rest, query, _ := strings.Cut(rest, "?")
	hosts, path, _ := strings.Cut(rest, "/")
	if hosts == "" {
		return t, badURL(raw, "it names no HOST:PORT")
	}
	for _, h := range strings.Split(hosts, ",") {
		ep, err := endpoint(h)
		if err != nil {
			return t, badURL(raw, err.Error())
		}
		t.Endpoints = append(t.Endpoints, ep)
	}
	prefix, err := keyPrefix(path)
	if err != nil {
		return t, badURL(raw, err.Error())
	}
	t.Prefix = prefix
	if err := t.parseQuery(query); err != nil {
		return t, badURL(raw, err.Error())
	}
	return t, nil
}

func badURL(raw, why string) error {
	return fmt.Errorf("etcdkv: %w %q: %s (want etcd://HOST:PORT[,HOST:PORT...]/PREFIX)", ErrBadURL, raw, why)
}

// endpoint checks one HOST:PORT and returns its client URL.
func endpoint(h string) (string, error) {
	host, port, err := net.SplitHostPort(h)
	if err != nil || host == "" {
		return "", fmt.Errorf("%q is not HOST:PORT", h)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q has no valid port", h)
	}
	if strings.ContainsAny(host, "/@ ") {
		return "", fmt.Errorf("%q is not HOST:PORT", h)
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// keyPrefix checks the path of the URL and returns it without slashes at
// either end.
func keyPrefix(path string) (string, error) {
	path = strings.TrimSuffix(path, "/")
	if path == "" {
		return "", fmt.Errorf("it has no key prefix")
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("key prefix %q has an empty or dot segment", path)
		}
		for _, c := range seg {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return "", fmt.Errorf("key prefix %q has %q (allowed: letters, digits, . _ - and /)", path, c)
			}
		}
	}
	return path, nil
}

func (t *Target) parseQuery(query string) error {
	if query == "" {
		return nil
	}
	vals, err := url.ParseQuery(query)
	if err != nil {
		return fmt.Errorf("bad query: %v", err)
	}
	for name, vs := range vals {
		if len(vs) != 1 {
			return fmt.Errorf("parameter %s is given %d times", name, len(vs))
		}
		v := vs[0]
		switch name {
		case "dial-timeout", "request-timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("%s=%q is not a positive duration", name, v)
			}
			if name == "dial-timeout" {
				t.DialTimeout = d
			} else {
				t.RequestTimeout = d
			}
		case "max-txn-ops", "max-request-bytes":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return fmt.Errorf("%s=%q is not a positive integer", name, v)
			}
			if name == "max-txn-ops" {
				t.MaxTxnOps = n
			} else {
				t.MaxRequestBytes = n
			}
		default:
			return fmt.Errorf("unknown parameter %q (known: dial-timeout, request-timeout, max-txn-ops, max-request-bytes)", name)
		}
	}
	return nil
}

// String returns the URL in its canonical form, without parameters:
// endpoints and prefix.
func (t Target) String() string {
	hosts := make([]string, len(t.Endpoints))
	for i, ep := range t.Endpoints {
		hosts[i] = strings.TrimPrefix(ep, "http://")
	}
	return Scheme + "://" + strings.Join(hosts, ",") + "/" + t.Prefix
}
