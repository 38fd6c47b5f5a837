package wire

import (
	"math"
)

// populatedLock returns a lock message of m's type with every field set,
// or nil.
func populatedLock(m Message) Message {
	switch m.(type) {
	case *Lk:
		return &Lk{Ino: 12, Owner: 0xdeadbeefcafe, Start: 100, End: math.MaxInt64, Pid: 4242, Type: LockWrite, Flock: true, Wait: true}
	case *LkReply:
		return &LkReply{Start: 3, End: math.MaxUint64, Pid: 7, Type: LockRead}
	}
	return nil
}
