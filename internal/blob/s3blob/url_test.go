package s3blob

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want Location
	}{
		{"s3://bucket", Location{Bucket: "bucket"}},
		{"s3://bucket/", Location{Bucket: "bucket"}},
		{"s3://bucket/vol", Location{Bucket: "bucket", Prefix: "vol/"}},
		{"s3://bucket/vol/", Location{Bucket: "bucket", Prefix: "vol/"}},
		{"s3://my.bucket-1/a/b/c", Location{Bucket: "my.bucket-1", Prefix: "a/b/c/"}},
		{"s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1",
			Location{Bucket: "bucket", Prefix: "prefix/", Endpoint: "http://127.0.0.1:9000", Region: "us-east-1"}},
		{"s3://bucket?endpoint=https://s3.example.com/", Location{Bucket: "bucket", Endpoint: "https://s3.example.com"}},
		{"s3://bucket?region=eu-west-3&profile=backup", Location{Bucket: "bucket", Region: "eu-west-3", Profile: "backup"}},
		{"s3://bucket/a%20b", Location{Bucket: "bucket", Prefix: "a b/"}},
		{"s3://bucket?profile=a%26b%3Dc&region=x%20y", Location{Bucket: "bucket", Profile: "a&b=c", Region: "x y"}},
	} {
		got, err := ParseURL(c.raw)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", c.raw, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseURL(%q) = %+v, want %+v", c.raw, got, c.want)
		}
		// The canonical form parses back to the same location.
		again, err := ParseURL(got.String())
		if err != nil || again != got {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", got.String(), again, err, got)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	for _, c := range []struct {
		raw, want string
	}{
		{"", "scheme"},
		{"bucket/prefix", "scheme"},
		{"http://bucket/prefix", "scheme"},
		{"s3:bucket", "want s3://bucket"},
		{"s3://", "no bucket"},
		{"s3:///prefix", "no bucket"},
		{"s3://ab", "3 to 63"},
		{"s3://" + strings.Repeat("b", 64), "3 to 63"},
		{"s3://Bucket", "lower-case"},
		{"s3://bucket_1", "lower-case"},
		{"s3://-bucket", "start and end"},
		{"s3://bucket:9000", "lower-case"},
		{"s3://bucket//x", "empty component"},
		{"s3://bucket/a/../b", `".." component`},
		{"s3://bucket/./a", `"." component`},
		{"s3://bucket/a%0Ab", "not printable"},
		{"s3://bucket#frag", "fragment"},
		{"s3://bucket?endpoint=127.0.0.1:9000", "want http://"},
		{"s3://bucket?endpoint=ftp://host", "want http://"},
		{"s3://bucket?endpoint=http://", "no host"},
		{"s3://bucket?endpoint=http://host/path", "only scheme, host and port"},
		{"s3://bucket?region=", "empty region"},
		{"s3://bucket?profile=", "empty profile"},
		{"s3://bucket?region=a&region=b", "given 2 times"},
		{"s3://bucket?regoin=us-east-1", `unknown parameter "regoin"`},
		{"s3://bucket?access_key=AKIAEXAMPLE&secret_key=hunter2", "credentials do not belong"},
		{"s3://AKIAEXAMPLE:hunter2@bucket", "credentials do not belong"},
		{"s3://bucket?endpoint=http://AKIAEXAMPLE:hunter2@host", "credentials do not belong"},
		{"s3://bucket?%zz", "query"},
	} {
		_, err := ParseURL(c.raw)
		if err == nil {
			t.Errorf("ParseURL(%q) succeeded, want an error containing %q", c.raw, c.want)
			continue
		}
		msg := err.Error()
		if !errors.Is(err, ErrBadURL) || !strings.Contains(msg, c.want) {
			t.Errorf("ParseURL(%q) = %q, want ErrBadURL containing %q", c.raw, msg, c.want)
		}
		if strings.Contains(msg, "hunter2") || strings.Contains(msg, "AKIAEXAMPLE") {
			t.Errorf("ParseURL(%q) printed a secret: %q", c.raw, msg)
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("ParseURL(%q): error is not one line: %q", c.raw, msg)
		}
	}
}

func TestRangeHeader(t *testing.T) {
	const maxInt64 = 1<<63 - 1
	for _, c := range []struct {
		off, length int64
		want        string // "" for no header
	}{
		{0, -1, ""},
		{0, 10, "bytes=0-9"},
		{5, 1, "bytes=5-5"},
		{5, -1, "bytes=5-"},
		{5, -100, "bytes=5-"},
		{0, maxInt64, "bytes=0-9223372036854775806"},
		{1, maxInt64, "bytes=1-"},
		{maxInt64, 1, "bytes=9223372036854775807-"},
	} {
		got := ""
		if h := rangeHeader(c.off, c.length); h != nil {
			got = *h
		}
		if got != c.want {
			t.Errorf("rangeHeader(%d, %d) = %q, want %q", c.off, c.length, got, c.want)
		}
	}
}
