package certs

import (
	"crypto/tls"
	"errors"
	"fmt"
)

// ServerTLS returns the TLS configuration of a listener that presents
// the certificate in certFile (with the chain that follows it) and the
// key in keyFile. TLS 1.3 only.
func ServerTLS(certFile, keyFile string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("a TLS listener needs --tls-cert and --tls-key")
	}
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load %s and %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{c}}, nil
}

// ClientTLS returns the TLS configuration of a client that trusts the
// authorities in caFile (the system's when it is empty) and, if certFile
// is given, proves itself with that certificate and keyFile's key. The
// client certificate is read again at every handshake, so a renewed one
// is used from the next reconnect on.
func ClientTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS13}
	if caFile != "" {
		pool, err := ReadPool(caFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if certFile != "" {
		// Fail now rather than at the first handshake.
		if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
			return nil, fmt.Errorf("load %s and %s: %w", certFile, keyFile, err)
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			c, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				return nil, fmt.Errorf("load %s and %s: %w", certFile, keyFile, err)
			}
			return &c, nil
		}
	}
	return cfg, nil
}
