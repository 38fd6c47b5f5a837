package certs

import (
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Files of a certificate directory.
const (
	CAFile     = "ca.crt"
	CAKeyFile  = "ca.key"
	ServerFile = "server" // server.crt, server.key
)

// ClientFile is the base name of the files of client name: client-NAME.
func ClientFile(name string) string { return "client-" + name }

// MinToken is the shortest token accepted, in bytes.
const MinToken = 16

// maxTokenFile bounds a token file (the wire carries up to 1 KiB).
const maxTokenFile = 1024

// Write stores p as base.crt (0644) and base.key (0600) in dir, which it
// creates (0700) if needed. It refuses to overwrite either file.
func Write(dir, base string, p *Pair) (certPath, keyPath string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(p.Key)
	if err != nil {
		return "", "", err
	}
	certPath, keyPath = filepath.Join(dir, base+".crt"), filepath.Join(dir, base+".key")
	for _, path := range []string{certPath, keyPath} {
		if _, err := os.Lstat(path); err == nil {
			return "", "", fmt.Errorf("%s exists; remove it first to make a new one", path)
		}
	}
	if err := create(keyPath, 0o600, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return "", "", err
	}
	if err := create(certPath, 0o644, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Cert.Raw})); err != nil {
		os.Remove(keyPath)
		return "", "", err
	}
	return certPath, keyPath, nil
}

// create writes a new file, durably; it fails if path exists.
func create(path string, mode os.FileMode, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// Read loads base.crt and base.key from dir.
func Read(dir, base string) (*Pair, error) {
	cert, err := ReadCert(filepath.Join(dir, base+".crt"))
	if err != nil {
		return nil, err
	}
	keyPath := filepath.Join(dir, base+".key")
	b, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: not a PEM private key", keyPath)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: a key that cannot sign", keyPath)
	}
	return &Pair{Cert: cert, Key: signer}, nil
}

// ReadCert loads the first certificate of a PEM file.
func ReadCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: not a PEM certificate", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ReadPool loads the certificates of a PEM file as a pool of authorities.
func ReadPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", path)
	}
	return pool, nil
}

// WriteToken stores a new random token (32 bytes, hex) in path, mode 0600.
func WriteToken(path string) error {
	var b [32]byte
	rand.Read(b[:])
	return create(path, 0o600, []byte(hex.EncodeToString(b[:])+"\n"))
}

// ReadToken loads a token: the file's contents less surrounding white
// space. It refuses a file everyone may read and a token shorter than
// MinToken.
func ReadToken(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	if st.Mode().Perm()&0o004 != 0 {
		return nil, fmt.Errorf("token file %s is readable by everyone (chmod o-r it)", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return nil, fmt.Errorf("token file %s: %w", path, err)
	}
	if len(b) > maxTokenFile {
		return nil, fmt.Errorf("token file %s: longer than %d bytes", path, maxTokenFile)
	}
	tok := []byte(strings.TrimSpace(string(b)))
	if len(tok) < MinToken {
		return nil, fmt.Errorf("token file %s: a token of %d bytes; want at least %d (ferry certs token makes one)", path, len(tok), MinToken)
	}
	return tok, nil
}

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
