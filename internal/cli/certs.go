package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/ferryfs/ferry/internal/certs"
)

const certsSynopsis = `ca DIR [--name NAME] [--days N]
       ferry certs server DIR --host NAME|IP[,NAME|IP...] [--name NAME] [--days N]
       ferry certs client DIR --name NAME [--days N]
       ferry certs token FILE`

// clientName is what a client certificate's name may be: it names files.
var clientName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func cmdCerts(ctx context.Context, e *env, args []string) error {
	fl := newFlags(e, "certs", certsSynopsis)
	name := fl.String("name", "", "subject name (ca: \"ferry CA\"; server: the first --host; client: required)")
	hosts := fl.String("host", "", "server: comma-separated host names and IP addresses clients reach it by")
	days := fl.Int("days", 0, fmt.Sprintf("lifetime in days (ca %d, server %d, client %d)",
		certs.CALifetime/(24*time.Hour), certs.ServerLifetime/(24*time.Hour), certs.ClientLifetime/(24*time.Hour)))
	pos, err := parseArgs(fl, args, 2)
	if err != nil {
		return err
	}
	if *days < 0 {
		fmt.Fprintf(e.stderr, "ferry certs: --days must not be negative\n")
		return errUsage
	}
	what, dir := pos[0], pos[1]
	life := time.Duration(*days) * 24 * time.Hour
	switch what {
	case "ca":
		n := *name
		if n == "" {
			n = "ferry CA"
		}
		ca, err := certs.Issue(certs.Request{Kind: certs.CA, Name: n, Lifetime: life}, nil)
		if err != nil {
			return err
		}
		crt, key, err := certs.Write(dir, "ca", ca)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "CA %q until %s:\n  %s (give to serve as --tls-client-ca, to mount as --tls-ca)\n  %s (keep it secret; it signs)\n",
			n, ca.Cert.NotAfter.Format(time.DateOnly), crt, key)
		return nil
	case "server", "client":
		ca, err := certs.Read(dir, "ca")
		if err != nil {
			return fmt.Errorf("read the CA (ferry certs ca %s makes one): %w", dir, err)
		}
		r := certs.Request{Kind: certs.Server, Name: *name, Lifetime: life}
		base := certs.ServerFile
		if what == "server" {
			for _, h := range strings.Split(*hosts, ",") {
				if h = strings.TrimSpace(h); h != "" {
					r.Hosts = append(r.Hosts, h)
				}
			}
			if len(r.Hosts) == 0 {
				return errors.New("a server certificate needs --host: the names and addresses clients reach it by")
			}
			if r.Name == "" {
				r.Name = r.Hosts[0]
			}
		} else {
			if !clientName.MatchString(r.Name) {
				return fmt.Errorf("--name %q: want a name of letters, digits, '.', '_' and '-'", r.Name)
			}
			r.Kind, base = certs.Client, certs.ClientFile(r.Name)
		}
		p, err := certs.Issue(r, ca)
		if err != nil {
			return err
		}
		crt, key, err := certs.Write(dir, base, p)
		if err != nil {
			return err
		}
		flags := "serve --tls-cert %s --tls-key %s"
		if what == "client" {
			flags = "mount --tls-cert %s --tls-key %s"
		}
		fmt.Fprintf(e.stdout, "%s certificate %q until %s: "+flags+"\n", what, r.Name, p.Cert.NotAfter.Format(time.DateOnly), crt, key)
		return nil
	case "token":
		if err := certs.WriteToken(dir); err != nil {
			return err
		}
		abs, _ := filepath.Abs(dir)
		fmt.Fprintf(e.stdout, "token in %s: serve --listen 'ADDR?tls=1&token-file=%s', mount --token-file %s\n", abs, abs, abs)
		return nil
	}
	fmt.Fprintf(e.stderr, "ferry certs: unknown kind %q (ca, server, client, token)\n", what)
	fl.Usage()
	return errUsage
}
