package meta

import (
	"context"
	"encoding/binary"

	"github.com/ferryfs/ferry/internal/kv"
)

// The service's session records live beside the namespace, so that they
// commit in the same transactions as the changes they describe:
//
//	E <session>        a client session the service admitted; its payload
//	                   is 1 once the session held a directory delegation
//	C <session> <id>   call id of that session whose change committed
//
// After a restart of the service, E records say which clients may still
// cache what they were handed (the service waits for them before it lets
// anything change) and which may have creates the service has not
// answered yet (it also holds reads back until they are in), and C
// records answer a call a client sends again because it never saw the
// reply: the change is not made twice.
const (
	tagSession = 'E'
	tagCall    = 'C'
)

func sessionKey(s uint64) []byte { return u64key(tagSession, s) }

func callKey(s, id uint64) []byte {
	return binary.BigEndian.AppendUint64(u64key(tagCall, s), id)
}

type callStampKey struct{}

type callStamp struct{ session, id uint64 }

// WithCall returns ctx carrying the session and call id of a client's
// request: the transaction of a change made under it also records that
// the call committed (CallDone).
func WithCall(ctx context.Context, session, id uint64) context.Context {
	return context.WithValue(ctx, callStampKey{}, callStamp{session, id})
}

// stampCall records the call ctx carries, if any, in t.
func (t *tx) stampCall(ctx context.Context) {
	if cs, ok := ctx.Value(callStampKey{}).(callStamp); ok {
		t.put(callKey(cs.session, cs.id), nil)
	}
}

// CallDone reports whether a change made under WithCall(session, id)
// committed.
func (fs *FS) CallDone(ctx context.Context, session, id uint64) (bool, error) {
	var ok bool
	err := fs.view(ctx, func(r reader) error {
		var err error
		_, ok, err = r.get(callKey(session, id))
		return err
	})
	return ok, err
}

// OpenSession records a session.
func (fs *FS) OpenSession(ctx context.Context, session uint64) error {
	return fs.update(ctx, func(t *tx) error {
		t.put(sessionKey(session), nil)
		return nil
	})
}

// MarkDelegating records that session may hold directory delegations.
func (fs *FS) MarkDelegating(ctx context.Context, session uint64) error {
	return fs.update(ctx, func(t *tx) error {
		t.put(sessionKey(session), []byte{1})
		return nil
	})
}

// CloseSession removes a session's record, its call records and its
// locks.
func (fs *FS) CloseSession(ctx context.Context, session uint64) error {
	if _, err := fs.DropLocks(ctx, session); err != nil {
		return err
	}
	if err := fs.PruneCalls(ctx, session, 0, ^uint64(0)); err != nil {
		return err
	}
	return fs.update(ctx, func(t *tx) error {
		t.t.Delete(sessionKey(session))
		return nil
	})
}

// PruneCalls drops the call records of session with ids in [from,
// below): the client has their replies.
func (fs *FS) PruneCalls(ctx context.Context, session, from, below uint64) error {
	const batch = 4096
	start, end := callKey(session, from), callKey(session, below)
	if below == ^uint64(0) {
		end = kv.PrefixEnd(u64key(tagCall, session))
	}
	for {
		var keys [][]byte
		err := fs.view(ctx, func(r reader) error {
			return r.r.Scan(start, end, func(k, _ []byte) bool {
				keys = append(keys, append([]byte(nil), k...))
				return len(keys) < batch
			})
		})
		if err != nil || len(keys) == 0 {
			return err
		}
		err = fs.update(ctx, func(t *tx) error {
			for _, k := range keys {
				t.t.Delete(k)
			}
			return nil
		})
		if err != nil || len(keys) < batch {
			return err
		}
		start = kv.PrefixEnd(keys[len(keys)-1])
	}
}

// Sessions lists the recorded sessions, with whether each may hold
// directory delegations (MarkDelegating).
func (fs *FS) Sessions(ctx context.Context) (map[uint64]bool, error) {
	out := make(map[uint64]bool)
	prefix := []byte{tagSession}
	err := fs.view(ctx, func(r reader) error {
		var err error
		serr := r.r.Scan(prefix, kv.PrefixEnd(prefix), func(k, v []byte) bool {
			if len(k) != 9 {
				return true
			}
			p, uerr := unseal(k, v)
			if uerr != nil {
				r.fs.corrupt(k)
				err = uerr
				return false
			}
			out[binary.BigEndian.Uint64(k[1:])] = len(p) == 1 && p[0] == 1
			return true
		})
		if serr != nil {
			return serr
		}
		return err
	})
	return out, err
}

// ReclaimOrphans purges the files unlinked while open that nobody holds
// open in this process: with Options.KeepOrphans, the service calls it
// once the clients that had files open had the chance to say so again.
func (fs *FS) ReclaimOrphans(ctx context.Context) error {
	return fs.reclaimOrphans(ctx)
}
