package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// Default lifetimes of what Issue makes.
const (
	CALifetime     = 10 * 365 * 24 * time.Hour
	ServerLifetime = 2 * 365 * 24 * time.Hour
	ClientLifetime = 365 * 24 * time.Hour
)

// skew backdates every certificate, so that a machine whose clock is a
// little behind the issuer's accepts it at once.
const skew = 5 * time.Minute

// Kind is what a certificate is for.
type Kind int

const (
	CA     Kind = iota // signs server and client certificates
	Server             // a service's identity: its host names and addresses
	Client             // a client's identity: its name
)

func (k Kind) String() string {
	switch k {
	case CA:
		return "ca"
	case Server:
		return "server"
	}
	return "client"
}

// Request describes a certificate to make.
type Request struct {
	Kind     Kind
	Name     string        // the subject's common name
	Hosts    []string      // Server: DNS names and IP addresses it is reached by
	Lifetime time.Duration // zero: the Kind's default
	Now      time.Time     // zero: time.Now()
}

// Pair is a certificate and its private key.
type Pair struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Issue makes a certificate for r, signed by ca, or self-signed when r is
// a CA (ca is then nil).
func Issue(r Request, ca *Pair) (*Pair, error) {
	if strings.TrimSpace(r.Name) == "" {
		return nil, errors.New("a certificate needs a name")
	}
	if (r.Kind == CA) != (ca == nil) {
		return nil, errors.New("a CA certificate is self-signed; every other one needs a CA")
	}
	if r.Kind == Server && len(r.Hosts) == 0 {
		return nil, errors.New("a server certificate needs at least one host name or address")
	}
	now := r.Now
	if now.IsZero() {
		now = time.Now()
	}
	life := r.Lifetime
	if life <= 0 {
		life = map[Kind]time.Duration{CA: CALifetime, Server: ServerLifetime, Client: ClientLifetime}[r.Kind]
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: r.Name, Organization: []string{"ferry"}},
		NotBefore:             now.Add(-skew),
		NotAfter:              now.Add(life),
		BasicConstraintsValid: true,
	}
	switch r.Kind {
	case CA:
		tmpl.IsCA, tmpl.MaxPathLenZero = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	case Server:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, h := range r.Hosts {
			h = strings.Trim(strings.TrimSpace(h), "[]")
			switch ip := net.ParseIP(h); {
			case h == "":
				return nil, errors.New("an empty host name")
			case ip != nil:
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			default:
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	case Client:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	parent, signer := tmpl, crypto.Signer(key)
	if ca != nil {
		if tmpl.NotAfter.After(ca.Cert.NotAfter) {
			tmpl.NotAfter = ca.Cert.NotAfter // outliving its CA would not verify
		}
		parent, signer = ca.Cert, ca.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("sign %s certificate: %w", r.Kind, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Pair{Cert: cert, Key: key}, nil
}
