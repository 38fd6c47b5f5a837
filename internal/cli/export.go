package cli

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/ferryfs/ferry/internal/service"
)

// exportSynopsis is the part of serve's synopsis for what it exports.
const exportSynopsis = "[--export DIR] [--read-only] [--root-squash [--anon-uid N] [--anon-gid N]] [--map-uid C:S ...] [--map-gid C:S ...]"

// idMapFlag collects repeated CLIENT:STORED id pairs.
type idMapFlag map[uint32]uint32

func (m idMapFlag) String() string {
	var s []string
	for c, v := range m {
		s = append(s, fmt.Sprintf("%d:%d", c, v))
	}
	return strings.Join(s, ",")
}

func (m idMapFlag) Set(v string) error {
	cs, ss, ok := strings.Cut(v, ":")
	if !ok {
		return fmt.Errorf("%q is not CLIENT:STORED", v)
	}
	c, err := parseID(cs)
	if err != nil {
		return err
	}
	st, err := parseID(ss)
	if err != nil {
		return err
	}
	if _, dup := m[c]; dup {
		return fmt.Errorf("client id %d mapped twice", c)
	}
	m[c] = st
	return nil
}

func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, fmt.Errorf("%q is not a user or group id", s)
	}
	return uint32(n), nil
}

// exportFlags adds serve's export flags; the function it returns builds
// the export once they are parsed.
func exportFlags(fl *flag.FlagSet) func() (service.Export, error) {
	root := fl.String("export", "/", "the volume's directory to export, as the clients' root (no way above it)")
	ro := fl.Bool("read-only", false, "refuse every change with EROFS, whatever clients ask")
	squash := fl.Bool("root-squash", false, "clients' uid 0 and gid 0 act as --anon-uid and --anon-gid")
	anonUID := fl.Uint("anon-uid", service.DefaultAnonID, "uid a squashed root acts as")
	anonGID := fl.Uint("anon-gid", service.DefaultAnonID, "gid a squashed root acts as")
	uids, gids := idMapFlag{}, idMapFlag{}
	fl.Var(uids, "map-uid", "CLIENT:STORED: a client's uid acts as and owns files as STORED, shown back as CLIENT (repeatable)")
	fl.Var(gids, "map-gid", "CLIENT:STORED: the same for a group id (repeatable)")
	return func() (service.Export, error) {
		if *anonUID >= 1<<32-1 || *anonGID >= 1<<32-1 {
			return service.Export{}, fmt.Errorf("--anon-uid and --anon-gid must be ids below 4294967295")
		}
		if !strings.HasPrefix(*root, "/") {
			return service.Export{}, fmt.Errorf("--export %q: a path from the volume's root, starting with /", *root)
		}
		return service.Export{
			Root: *root, ReadOnly: *ro,
			IDs: service.IDMap{Squash: *squash, AnonUID: uint32(*anonUID), AnonGID: uint32(*anonGID), UIDs: uids, GIDs: gids},
		}, nil
	}
}
