package service

import (
	"fmt"
	"slices"

	"github.com/ferryfs/ferry/internal/meta"
)

// DefaultAnonID is the uid and gid root squash gives the superuser
// (nobody, nogroup).
const DefaultAnonID = 65534

// IDMap maps the identities clients send to the ones the service acts as
// and stores, applied by the service to the caller of every request and
// to the owner a chown names, whatever the client claims.
//
// UIDs and GIDs map a client's id to a stored one; an id not in them is
// kept. With Squash, uid 0 (and gid 0, primary or supplementary) not in
// UIDs (GIDs) acts as AnonUID (AnonGID): a client's superuser is nobody
// on the volume. The mapping is one-to-one and travels back: an owner the
// service returns that a client id maps to is shown as that client id,
// so a mapped user sees its own files as its own. Squashed ids are not
// mapped back (a file root made shows AnonUID); ids inside ACL xattrs are
// stored as sent.
type IDMap struct {
	Squash           bool
	AnonUID, AnonGID uint32
	UIDs, GIDs       map[uint32]uint32
	backUIDs         map[uint32]uint32
	backGIDs         map[uint32]uint32
}

// Active reports whether m changes any identity.
func (m *IDMap) Active() bool { return m.Squash || len(m.UIDs) > 0 || len(m.GIDs) > 0 }

// prepare checks that the maps are one-to-one and builds their inverses.
func (m *IDMap) prepare() error {
	var err error
	if m.backUIDs, err = inverse("uid", m.UIDs); err != nil {
		return err
	}
	m.backGIDs, err = inverse("gid", m.GIDs)
	return err
}

func inverse(what string, fwd map[uint32]uint32) (map[uint32]uint32, error) {
	back := make(map[uint32]uint32, len(fwd))
	for c, v := range fwd {
		if other, dup := back[v]; dup {
			return nil, fmt.Errorf("id map: client %ss %d and %d both map to %d: a map must be one-to-one", what, min(c, other), max(c, other), v)
		}
		back[v] = c
	}
	return back, nil
}

func (m *IDMap) uid(id uint32) uint32 { return m.one(m.UIDs, m.AnonUID, id) }
func (m *IDMap) gid(id uint32) uint32 { return m.one(m.GIDs, m.AnonGID, id) }

// one maps id by fwd, or squashes it to anon.
func (m *IDMap) one(fwd map[uint32]uint32, anon, id uint32) uint32 {
	if v, ok := fwd[id]; ok {
		return v
	}
	if id == 0 && m.Squash {
		return anon
	}
	return id
}

// caller maps the identity a request came with.
func (m *IDMap) caller(c *meta.Caller) {
	if !m.Active() {
		return
	}
	c.UID, c.GID = m.uid(c.UID), m.gid(c.GID)
	if len(c.Groups) > 0 {
		gs := make([]uint32, 0, len(c.Groups))
		for _, g := range c.Groups {
			if g = m.gid(g); !slices.Contains(gs, g) {
				gs = append(gs, g)
			}
		}
		c.Groups = gs
	}
}

// owner maps the owner a chown names: explicit maps only (a squashed
// caller cannot give a file away, and root may still chown to root).
func (m *IDMap) owner(uid, gid uint32) (uint32, uint32) {
	if v, ok := m.UIDs[uid]; ok {
		uid = v
	}
	if v, ok := m.GIDs[gid]; ok {
		gid = v
	}
	return uid, gid
}

// attr maps a returned inode's owner back to the client's ids.
func (m *IDMap) attr(a *meta.Attr) {
	if v, ok := m.backUIDs[a.UID]; ok {
		a.UID = v
	}
	if v, ok := m.backGIDs[a.GID]; ok {
		a.GID = v
	}
}
