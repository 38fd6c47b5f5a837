// Package certs makes and loads the certificates and tokens with which
// `ferry serve` and `ferry mount` authenticate each other: a private
// certificate authority, server certificates for the names and addresses
// a service is reached by, client certificates, random tokens, and the
// tls.Configs built from those files.
//
// Keys are ECDSA P-256 in PKCS#8 PEM files of mode 0600; certificates
// are PEM files of mode 0644. Nothing here overwrites a file: making a
// certificate or token where one exists is an error, so that a second
// run cannot lose the key a running service depends on.
package certs
