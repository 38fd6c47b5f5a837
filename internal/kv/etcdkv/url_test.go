package etcdkv_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferryfs/ferry/internal/kv/etcdkv"
)

func TestParseURL(t *testing.T) {
	ok := []struct {
		url  string
		want etcdkv.Target
	}{
		{"etcd://127.0.0.1:2379/vol", etcdkv.Target{Endpoints: []string{"http://127.0.0.1:2379"}, Prefix: "vol"}},
		{"etcd://127.0.0.1:2379,127.0.0.1:22379/ferry/vol1/", etcdkv.Target{
			Endpoints: []string{"http://127.0.0.1:2379", "http://127.0.0.1:22379"}, Prefix: "ferry/vol1"}},
		{"etcd://[::1]:2379,localhost:2380/a.b_c-d", etcdkv.Target{
			Endpoints: []string{"http://[::1]:2379", "http://localhost:2380"}, Prefix: "a.b_c-d"}},
		{"etcd://h:1/v?dial-timeout=2s&request-timeout=1m&max-txn-ops=1024&max-request-bytes=10485760", etcdkv.Target{
			Endpoints: []string{"http://h:1"}, Prefix: "v", DialTimeout: 2 * time.Second,
			RequestTimeout: time.Minute, MaxTxnOps: 1024, MaxRequestBytes: 10 << 20}},
	}
	for _, c := range ok {
		got, err := etcdkv.ParseURL(c.url)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", c.url, err)
			continue
		}
		if !slices.Equal(got.Endpoints, c.want.Endpoints) || got.Prefix != c.want.Prefix ||
			got.DialTimeout != c.want.DialTimeout || got.RequestTimeout != c.want.RequestTimeout ||
			got.MaxTxnOps != c.want.MaxTxnOps || got.MaxRequestBytes != c.want.MaxRequestBytes {
			t.Errorf("ParseURL(%q) = %+v, want %+v", c.url, got, c.want)
		}
	}
	bad := []struct{ url, why string }{
		{"", "etcd://"},
		{"http://h:1/v", "etcd://"},
		{"etcd:///v", "no HOST:PORT"},
		{"etcd://h:1", "no key prefix"},
		{"etcd://h:1/", "no key prefix"},
		{"etcd://h/v", "not HOST:PORT"},
		{"etcd://h:0/v", "no valid port"},
		{"etcd://h:99999/v", "no valid port"},
		{"etcd://h:x/v", "no valid port"},
		{"etcd://:1/v", "not HOST:PORT"},
		{"etcd://h:1,/v", "not HOST:PORT"},
		{"etcd://user@h:1/v", "not HOST:PORT"},
		{"etcd://h:1/a//b", "empty or dot segment"},
		{"etcd://h:1/a/../b", "empty or dot segment"},
		{"etcd://h:1/a:b", "has ':'"},
		{"etcd://h:1/a b", "has ' '"},
		{"etcd://h:1/v?dial-timeout=soon", "not a positive duration"},
		{"etcd://h:1/v?request-timeout=-1s", "not a positive duration"},
		{"etcd://h:1/v?max-txn-ops=0", "not a positive integer"},
		{"etcd://h:1/v?max-txn-ops=1&max-txn-ops=2", "given 2 times"},
		{"etcd://h:1/v?colour=blue", "unknown parameter"},
		{"etcd://h:1/v?%zz", "bad query"},
	}
	for _, c := range bad {
		_, err := etcdkv.ParseURL(c.url)
		if !errors.Is(err, etcdkv.ErrBadURL) || !strings.Contains(err.Error(), c.why) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseURL(%q) = %v; want one line of ErrBadURL saying %q", c.url, err, c.why)
		}
	}
}

func TestTargetString(t *testing.T) {
	tg, err := etcdkv.ParseURL("etcd://127.0.0.1:2379,[::1]:2380/ferry/v1/?max-txn-ops=9")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tg.String(), "etcd://127.0.0.1:2379,[::1]:2380/ferry/v1"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

func TestIsURL(t *testing.T) {
	for s, want := range map[string]bool{
		"etcd://h:1/v": true, "etcd://": true, "./vol": false, "/etcd://x": false, "ferry://h:1": false, "ETCD://h:1/v": false,
	} {
		if got := etcdkv.IsURL(s); got != want {
			t.Errorf("IsURL(%q) = %v, want %v", s, got, want)
		}
	}
}
