package cli

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/ferryfs/ferry/internal/certs"
	"github.com/ferryfs/ferry/internal/rpc"
)

// tokenEnv holds a mount's token when --token-file does not name one: an
// environment is not shown by ps, a command line is.
const tokenEnv = "FERRY_TOKEN"

// listenSpec is one --listen of serve: an address and how it admits
// clients, from its query (?tls=1&token-file=PATH&insecure=1).
type listenSpec struct {
	rpc.Addr
	query     string
	tls       bool
	tokenFile string
	insecure  bool
	policy    rpc.Policy // set by serveSecurity.resolve
}

// parseListen parses ADDR[?OPTIONS].
func parseListen(v string) (listenSpec, error) {
	base, query, _ := strings.Cut(v, "?")
	a, err := rpc.ParseAddr(base)
	if err != nil {
		return listenSpec{}, err
	}
	l := listenSpec{Addr: a, query: query}
	q, err := url.ParseQuery(query)
	if err != nil {
		return l, fmt.Errorf("address %q: %v", v, err)
	}
	for k, vs := range q {
		val := vs[len(vs)-1]
		switch k {
		case "tls", "insecure":
			on := val == "1" || val == "true"
			if !on && val != "0" && val != "false" {
				return l, fmt.Errorf("address %q: %s=%q; want 1 or 0", v, k, val)
			}
			if k == "tls" {
				l.tls = on
			} else {
				l.insecure = on
			}
		case "token-file":
			if val == "" {
				return l, fmt.Errorf("address %q: token-file needs a path", v)
			}
			l.tokenFile = val
		default:
			return l, fmt.Errorf("address %q: unknown option %q (tls, token-file, insecure)", v, k)
		}
	}
	return l, nil
}

func (l listenSpec) String() string {
	if l.query == "" {
		return l.Addr.String()
	}
	return l.Addr.String() + "?" + l.query
}

// serveSecurity is serve's TLS flags, shared by its ?tls=1 listeners.
type serveSecurity struct {
	cert, key, clientCA string
}

func serveSecurityFlags(fl *flag.FlagSet) *serveSecurity {
	s := &serveSecurity{}
	fl.StringVar(&s.cert, "tls-cert", "", "certificate (PEM) of the listeners with ?tls=1")
	fl.StringVar(&s.key, "tls-key", "", "its private key (PEM)")
	fl.StringVar(&s.clientCA, "tls-client-ca", "", "admit on ?tls=1 listeners only clients whose certificate this CA (PEM) signed: mutual TLS")
	return s
}

// resolve loads what the listeners need and sets their policies. A
// listener off this machine must encrypt and authenticate (?tls=1 with
// --tls-client-ca or a token) unless it says ?insecure=1.
func (s *serveSecurity) resolve(ls []listenSpec) error {
	var anyTLS bool
	for i := range ls {
		l := &ls[i]
		if l.tls {
			anyTLS = true
			cfg, err := certs.ServerTLS(s.cert, s.key)
			if err != nil {
				return fmt.Errorf("listen %s: %w", l, err)
			}
			l.policy.TLS = cfg
			if s.clientCA != "" {
				if l.policy.ClientCAs, err = certs.ReadPool(s.clientCA); err != nil {
					return err
				}
			}
		}
		if l.tokenFile != "" {
			tok, err := certs.ReadToken(l.tokenFile)
			if err != nil {
				return fmt.Errorf("listen %s: %w", l, err)
			}
			l.policy.Token = tok
		}
		if l.Local() || l.insecure {
			continue
		}
		switch {
		case !l.tls:
			return fmt.Errorf("listen %s: off this machine a listener needs ?tls=1 (with --tls-client-ca or ?token-file=), or ?insecure=1 to serve unencrypted", l)
		case !l.policy.Authenticates():
			return fmt.Errorf("listen %s: this TLS listener would admit anybody: give --tls-client-ca or ?token-file=, or add ?insecure=1", l)
		}
	}
	if !anyTLS && (s.cert != "" || s.key != "" || s.clientCA != "") {
		return errors.New("--tls-cert, --tls-key and --tls-client-ca are for listeners with ?tls=1, and there is none")
	}
	return nil
}

// listen listens on l, admitting clients by its policy.
func (l listenSpec) listen(log *slog.Logger) (net.Listener, error) {
	ln, err := rpc.Listen(l.Addr)
	if err != nil {
		return nil, err
	}
	if l.insecure && !l.Local() && !(l.tls && l.policy.Authenticates()) {
		log.Warn("listening with ?insecure=1: traffic, and any token, cross the network unprotected", "listen", l.Addr.String(), "auth", l.policy.String())
	}
	g, err := rpc.Guard(ln, l.policy, log)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return g, nil
}

// mountSecurity is mount's flags for a service's address.
type mountSecurity struct {
	ca, cert, key, serverName, tokenFile string
	insecure                             bool
}

func mountSecurityFlags(fl *flag.FlagSet) *mountSecurity {
	m := &mountSecurity{}
	fl.StringVar(&m.ca, "tls-ca", "", "connect with TLS, trusting the service's certificate if this CA (PEM) signed it")
	fl.StringVar(&m.cert, "tls-cert", "", "with TLS: this client's certificate (PEM), for a service with mutual TLS")
	fl.StringVar(&m.key, "tls-key", "", "its private key (PEM)")
	fl.StringVar(&m.serverName, "tls-server-name", "", "the name the service's certificate must carry (default: the host of each address)")
	fl.StringVar(&m.tokenFile, "token-file", "", "present the token in this file (or in $"+tokenEnv+"); read again at every reconnect")
	fl.BoolVar(&m.insecure, "insecure", false, "allow sending the token without TLS to a service off this machine")
	return m
}

// credentials builds what the client presents, or nil for nothing.
func (m *mountSecurity) credentials() (*rpc.Credentials, error) {
	cr := &rpc.Credentials{Clear: m.insecure}
	if m.ca != "" || m.cert != "" || m.key != "" {
		cfg, err := certs.ClientTLS(m.ca, m.cert, m.key)
		if err != nil {
			return nil, err
		}
		cfg.ServerName = m.serverName
		cr.TLS = cfg
	} else if m.serverName != "" {
		return nil, errors.New("--tls-server-name is for TLS: give --tls-ca")
	}
	switch env := os.Getenv(tokenEnv); {
	case m.tokenFile != "":
		path := m.tokenFile
		if _, err := certs.ReadToken(path); err != nil {
			return nil, err
		}
		cr.Token = func() ([]byte, error) { return certs.ReadToken(path) }
	case env != "":
		tok := []byte(strings.TrimSpace(env))
		if len(tok) < certs.MinToken {
			return nil, fmt.Errorf("$%s: a token of %d bytes; want at least %d", tokenEnv, len(tok), certs.MinToken)
		}
		cr.Token = func() ([]byte, error) { return tok, nil }
	}
	if cr.TLS == nil && cr.Token == nil {
		return nil, nil
	}
	return cr, nil
}

// describe names what cr presents, for the log.
func (m *mountSecurity) describe(cr *rpc.Credentials) string {
	switch {
	case cr == nil:
		return "none"
	case cr.TLS != nil && m.cert != "" && cr.Token != nil:
		return "mutual TLS + token"
	case cr.TLS != nil && m.cert != "":
		return "mutual TLS"
	case cr.TLS != nil && cr.Token != nil:
		return "TLS + token"
	case cr.TLS != nil:
		return "TLS"
	}
	return "token"
}

// set reports whether any flag of m was given.
func (m *mountSecurity) set() bool {
	return m.ca != "" || m.cert != "" || m.key != "" || m.serverName != "" || m.tokenFile != "" || m.insecure
}

// verboseFlag adds -v, which logs at debug level.
func verboseFlag(fl *flag.FlagSet, level *slog.Level) func() {
	v := fl.Bool("v", false, "log at debug level (as --log-level debug): every connection, handshake and authentication")
	return func() {
		if *v {
			*level = slog.LevelDebug
		}
	}
}
