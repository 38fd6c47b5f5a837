package s3blob

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// DefaultRegion is the region used when neither the URL nor the AWS
// configuration (AWS_REGION, the profile) names one. S3-compatible services
// other than AWS mostly ignore it, but it is part of every signature.
const DefaultRegion = "us-east-1"

// ErrBadURL is the kind of every error ParseURL returns.
var ErrBadURL = errors.New("s3blob: bad URL")

// Location is where a Store keeps its objects, as parsed from an
// s3://bucket/prefix?endpoint=...&region=...&profile=... URL. It holds no
// secret: credentials come from the AWS environment and configuration files.
type Location struct {
	Bucket string
	// Prefix is prepended to every key; empty, or ending in "/".
	Prefix string
	// Endpoint is the service's base URL (scheme and host, optionally a
	// port); empty means AWS itself, found from Region.
	Endpoint string
	// Region is the bucket's region; empty means the AWS configuration's,
	// else DefaultRegion.
	Region string
	// Profile names a profile of the shared AWS configuration files;
	// empty means the default (or AWS_PROFILE).
	Profile string
}

// String returns the location as a URL that ParseURL accepts.
func (l Location) String() string {
	u := url.URL{Scheme: "s3", Host: l.Bucket}
	if l.Prefix != "" {
		u.Path = "/" + l.Prefix
	}
	var q []string
	if l.Endpoint != "" {
		// Checked by ParseURL to be scheme://host[:port], which needs no
		// escaping and reads better without.
		q = append(q, "endpoint="+l.Endpoint)
	}
	if l.Region != "" {
		q = append(q, "region="+url.QueryEscape(l.Region))
	}
	if l.Profile != "" {
		q = append(q, "profile="+url.QueryEscape(l.Profile))
	}
	u.RawQuery = strings.Join(q, "&")
	return u.String()
}

// ParseURL parses an s3:// URL. The bucket is the host part; the path, if
// any, is a key prefix (a trailing slash is added). Query parameters:
// endpoint (http:// or https:// base URL of an S3-compatible service),
// region (default: AWS_REGION or the profile's, else us-east-1) and
// profile. Credentials in the URL
// (access_key, secret_key, user:password@) are refused: a URL ends up in
// shell history, process listings and volume configuration, so keys belong
// in the environment or the AWS credentials file.
func ParseURL(raw string) (Location, error) {
	bad := func(format string, args ...any) (Location, error) {
		return Location{}, fmt.Errorf("%w %s: %s", ErrBadURL, redact(raw), fmt.Sprintf(format, args...))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("%v", unwrapURLError(err))
	}
	if u.Scheme != "s3" {
		return bad("scheme is %q, want s3://bucket[/prefix]", u.Scheme)
	}
	if u.User != nil {
		return bad("credentials do not belong in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or use a profile")
	}
	if u.Opaque != "" {
		return bad("want s3://bucket[/prefix]")
	}
	loc := Location{Bucket: u.Host}
	if err := checkBucket(loc.Bucket); err != "" {
		return bad("%s", err)
	}
	if p := strings.TrimPrefix(u.Path, "/"); p != "" {
		if err := checkPrefix(p); err != "" {
			return bad("prefix %q: %s", p, err)
		}
		loc.Prefix = strings.TrimSuffix(p, "/") + "/"
	}
	if u.Fragment != "" {
		return bad("unexpected fragment #%s", u.Fragment)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("query: %v", err)
	}
	for name, vals := range q {
		if len(vals) != 1 {
			return bad("parameter %s given %d times", name, len(vals))
		}
		v := vals[0]
		switch name {
		case "endpoint":
			if msg := checkEndpoint(v); msg != "" {
				return bad("endpoint %q: %s", redactEndpoint(v), msg)
			}
			loc.Endpoint = strings.TrimSuffix(v, "/")
		case "region":
			if v == "" {
				return bad("empty region")
			}
			loc.Region = v
		case "profile":
			if v == "" {
				return bad("empty profile")
			}
			loc.Profile = v
		case "access_key", "secret_key", "access_key_id", "secret_access_key", "session_token":
			return bad("credentials do not belong in the URL (%s): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or use a profile", name)
		default:
			return bad("unknown parameter %q (known: endpoint, region, profile)", name)
		}
	}
	return loc, nil
}

// checkBucket accepts the bucket names S3 and its imitators accept: 3 to 63
// lower-case letters, digits, dots and hyphens, starting and ending with a
// letter or digit. It returns the problem, or "".
func checkBucket(b string) string {
	if b == "" {
		return "no bucket: want s3://bucket[/prefix]"
	}
	if len(b) < 3 || len(b) > 63 {
		return fmt.Sprintf("bucket %q: names are 3 to 63 characters", b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.'
		if !ok {
			return fmt.Sprintf("bucket %q: only lower-case letters, digits, '-' and '.'", b)
		}
	}
	if first, last := b[0], b[len(b)-1]; first == '-' || first == '.' || last == '-' || last == '.' {
		return fmt.Sprintf("bucket %q: must start and end with a letter or digit", b)
	}
	return ""
}

// checkPrefix applies the key rules of blob.CheckKey to a prefix, whose
// trailing slash is optional.
func checkPrefix(p string) string {
	for comp := range strings.SplitSeq(strings.TrimSuffix(p, "/"), "/") {
		switch comp {
		case "":
			return "empty component"
		case ".", "..":
			return fmt.Sprintf("%q component", comp)
		}
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c > 0x7e {
			return fmt.Sprintf("byte 0x%02x is not printable ASCII", c)
		}
	}
	return ""
}

func checkEndpoint(v string) string {
	if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
		return "want http://host[:port] or https://host[:port]"
	}
	e, err := url.Parse(v)
	switch {
	case err != nil:
		return unwrapURLError(err).Error()
	case e.Scheme != "http" && e.Scheme != "https":
		return "want http://host[:port] or https://host[:port]"
	case e.Host == "":
		return "no host"
	case e.User != nil:
		return "credentials do not belong in the URL"
	case e.Path != "" && e.Path != "/", e.RawQuery != "", e.Fragment != "":
		return "want only scheme, host and port"
	}
	return ""
}

// unwrapURLError drops the "parse <url>:" preamble, which would repeat the
// whole URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redact returns raw for error messages, with any user information and
// secret-looking query parameter values replaced, so that a mistaken URL
// never prints a key.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	if q, err := url.ParseQuery(u.RawQuery); err == nil {
		changed := false
		for name, vals := range q {
			if name == "endpoint" {
				for i, v := range vals {
					if r := redactEndpoint(v); r != v {
						vals[i], changed = r, true
					}
				}
			} else if name != "region" && name != "profile" {
				q[name] = []string{"REDACTED"}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	} else {
		u.RawQuery = "(unparsable query)"
	}
	return u.String()
}

// redactEndpoint hides the user information of an endpoint URL.
func redactEndpoint(v string) string {
	e, err := url.Parse(v)
	if err != nil || e.User == nil {
		return v
	}
	e.User = url.User("REDACTED")
	return e.String()
}
