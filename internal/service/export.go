package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/rpc"
	"github.com/ferryfs/ferry/internal/wire"
)

// Export is what the service offers its clients: the whole volume or one
// directory of it, read-write or read-only, and how the identities
// clients send are mapped (identity.go).
//
// # Subdirectory exports
//
// The export's directory is the clients' root: inode 1 on the wire names
// it, both ways, and nothing above it can be named. An inode number a
// client sends must be the export's root, one the service handed this
// session (a reply or a listing; it stays usable while the session holds
// it, as a descriptor does after its file was renamed elsewhere), or a
// directory whose chain of parents reaches the export's root; anything
// else is ESTALE, exactly as for a number that names nothing. So a hard
// link or a rename that moves an inode out of the export while a client
// holds it leaves that client its inode (and what lies below it, if it is
// a directory) but never the way up: ".." is answered by the chain of
// parents only, and from the export's root it is the root again. A file
// the service did not hand the session since it started (after a restart
// of the service) is ESTALE until the client looks its name up again;
// directories are found again through their parents.
type Export struct {
	// Root is the exported directory, a slash-separated path from the
	// volume's root; "" or "/" exports the whole volume.
	Root string
	// ReadOnly refuses every change with EROFS, whatever the client.
	ReadOnly bool
	// IDs maps the identities clients send (identity.go).
	IDs IDMap
}

// maxDepth bounds a walk up a chain of parents (a corrupt volume could
// hold a cycle).
const maxDepth = 4096

// resolveExport finds the exported directory.
func (s *Service) resolveExport(ctx context.Context) error {
	s.root = rootIno
	path := strings.Trim(s.opts.Export.Root, "/")
	if path == "" {
		return nil
	}
	ino := uint64(rootIno)
	for _, name := range strings.Split(path, "/") {
		if name == "" || name == "." || name == ".." {
			return fmt.Errorf("export %q: %w: a path of names, none of them . or .. or empty", s.opts.Export.Root, syscall.EINVAL)
		}
		a, err := s.meta.Lookup(ctx, meta.Root, ino, name)
		if err != nil {
			return fmt.Errorf("export %q: %w", s.opts.Export.Root, err)
		}
		if !a.IsDir() {
			return fmt.Errorf("export %q: %s: %w", s.opts.Export.Root, name, syscall.ENOTDIR)
		}
		ino = a.Ino
	}
	s.root = ino
	return nil
}

// rootIno is the root's inode number, on the wire and in the volume.
const rootIno = 1

// subtree reports whether the service exports less than the volume.
func (s *Service) subtree() bool { return s.root != rootIno }

// toService maps an inode number a client sent to the volume's.
func (s *Service) toService(ino uint64) uint64 {
	if ino == rootIno {
		return s.root
	}
	return ino
}

// toClient maps an inode number of the volume to the one a client sees.
func (s *Service) toClient(ino uint64) uint64 {
	if ino == s.root {
		return rootIno
	}
	return ino
}

var errOutside = errors.New("outside the export")

// inside checks that the session may name ino: the export's root, handed
// to it, or a directory below the root. strict ignores what was handed
// (for "..": an inode moved out of the export must not lead up).
func (h *handler) inside(ctx context.Context, op wire.Op, ino uint64, strict bool) error {
	s := h.s
	if !s.subtree() || ino == s.root || (!strict && h.sess.guard.knows(ino)) {
		return nil
	}
	cur := ino
	for range maxDepth {
		a, err := s.meta.Lookup(ctx, meta.Root, cur, "..")
		if err != nil || a.Ino == cur {
			break // not a directory, gone, or the volume's root
		}
		if a.Ino == s.root {
			return nil
		}
		cur = a.Ino
	}
	return fmt.Errorf("%v of inode %d: %w: %w", op, ino, errOutside, syscall.ESTALE)
}

// exportPusher has a subdirectory export's recalls name its root as
// clients know it.
type exportPusher struct {
	rpc.Pusher
	s *Service
}

func (s *Service) pusher(p rpc.Pusher) rpc.Pusher {
	if !s.subtree() {
		return p
	}
	return &exportPusher{Pusher: p, s: s}
}

func (p *exportPusher) Push(op wire.Op, id uint64, msg wire.Message) error {
	if r, ok := msg.(*wire.Recall); ok {
		out := &wire.Recall{Items: make([]wire.RecallItem, len(r.Items))}
		copy(out.Items, r.Items)
		for i := range out.Items {
			out.Items[i].Ino = p.s.toClient(out.Items[i].Ino)
		}
		msg = out
	}
	return p.Pusher.Push(op, id, msg)
}

// prepareExport checks the export's options and finds its directory.
func (s *Service) prepareExport(ctx context.Context) error {
	ex := &s.opts.Export
	if err := ex.IDs.prepare(); err != nil {
		return err
	}
	if err := s.resolveExport(ctx); err != nil {
		return err
	}
	s.log.Info("export", "root", cmp.Or(ex.Root, "/"), "inode", s.root, "read_only", ex.ReadOnly,
		"root_squash", ex.IDs.Squash, "uid_maps", len(ex.IDs.UIDs), "gid_maps", len(ex.IDs.GIDs))
	return nil
}
