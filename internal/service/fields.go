package service

import (
	"strings"
	"syscall"

	"github.com/ferryfs/ferry/internal/meta"
	"github.com/ferryfs/ferry/internal/wire"
)

// callerOf returns the identity a request carries, or nil.
func callerOf(req wire.Message) *meta.Caller {
	switch r := req.(type) {
	case *wire.Entry:
		return &r.C
	case *wire.SetAttr:
		return &r.C
	case *wire.Make:
		return &r.C
	case *wire.Link:
		return &r.C
	case *wire.Rename:
		return &r.C
	case *wire.InoOp:
		return &r.C
	case *wire.ReadDir:
		return &r.C
	case *wire.Xattr:
		return &r.C
	case *wire.Fallocate:
		return &r.C
	case *wire.MakeAs:
		return &r.Make.C
	}
	return nil
}

// inosOf returns the inode numbers a request names, in buf when they fit
// (a call costs no allocation for it).
func inosOf(req wire.Message, buf *[2]*uint64) []*uint64 {
	one := func(p *uint64) []*uint64 { buf[0] = p; return buf[:1] }
	two := func(p, q *uint64) []*uint64 { buf[0], buf[1] = p, q; return buf[:2] }
	switch r := req.(type) {
	case *wire.Entry:
		return one(&r.Parent)
	case *wire.Ino:
		return one(&r.Ino)
	case *wire.SetAttr:
		return one(&r.Ino)
	case *wire.Make:
		return one(&r.Parent)
	case *wire.Link:
		return two(&r.Ino, &r.NewParent)
	case *wire.Rename:
		return two(&r.OldParent, &r.NewParent)
	case *wire.InoOp:
		return one(&r.Ino)
	case *wire.ReadDir:
		return one(&r.Ino)
	case *wire.Xattr:
		return one(&r.Ino)
	case *wire.Fallocate:
		return one(&r.Ino)
	case *wire.GetLayout:
		return one(&r.Ino)
	case *wire.CommitWrite:
		return one(&r.Ino)
	case *wire.Lk:
		return one(&r.Ino)
	case *wire.Delegate:
		return one(&r.Dir)
	case *wire.MakeAs:
		return one(&r.Make.Parent)
	case *wire.CreateBatch:
		out := make([]*uint64, len(r.Items))
		for i := range r.Items {
			out[i] = &r.Items[i].Make.Parent
		}
		return out
	case *wire.Inos:
		out := make([]*uint64, len(r.Inos))
		for i := range r.Inos {
			out[i] = &r.Inos[i]
		}
		return out
	}
	return nil
}

// checkName checks a name a request makes or removes.
func checkName(op wire.Op, parent uint64, name string) error {
	if err := meta.CheckName(name); err != nil {
		return &meta.Error{Op: op.String(), Ino: parent, Name: name, Err: err}
	}
	return nil
}

// checkFields refuses names, sizes and offsets no file system accepts,
// before anything runs.
func checkFields(op wire.Op, req wire.Message, blockSize uint64) error {
	switch r := req.(type) {
	case *wire.Entry:
		if op == wire.OpLookup && (r.Name == "." || r.Name == "..") {
			return nil // the client asks for a directory's parent by name
		}
		return checkName(op, r.Parent, r.Name)
	case *wire.Make:
		if op == wire.OpTmpfile {
			if r.Name != "" {
				return refusal(op, r.Parent, "a nameless file with a name", syscall.EINVAL)
			}
			return nil
		}
		if op == wire.OpSymlink && (r.Target == "" || len(r.Target) > 4095 || strings.IndexByte(r.Target, 0) >= 0) {
			return refusal(op, r.Parent, "symlink target empty, too long or with a NUL", syscall.EINVAL)
		}
		return checkName(op, r.Parent, r.Name)
	case *wire.Link:
		return checkName(op, r.NewParent, r.NewName)
	case *wire.MakeAs:
		return checkName(op, r.Make.Parent, r.Make.Name)
	case *wire.CreateBatch:
		for i := range r.Items {
			if err := checkName(op, r.Items[i].Make.Parent, r.Items[i].Make.Name); err != nil {
				return err
			}
		}
	case *wire.Rename:
		if err := checkName(op, r.OldParent, r.OldName); err != nil {
			return err
		}
		return checkName(op, r.NewParent, r.NewName)
	case *wire.Xattr:
		if op != wire.OpListXattr && (r.Name == "" || len(r.Name) > 255 || strings.IndexByte(r.Name, 0) >= 0) {
			return refusal(op, r.Ino, "xattr name empty, too long or with a NUL", syscall.EINVAL)
		}
	case *wire.SetAttr:
		if r.In.Valid&meta.SetSize != 0 && r.In.Size > MaxFileSize {
			return refusal(op, r.Ino, "size beyond the largest file", syscall.EINVAL)
		}
	case *wire.Fallocate:
		switch {
		case r.Off > MaxFileSize || r.Length == 0:
			return refusal(op, r.Ino, "negative offset or empty range", syscall.EINVAL)
		case r.Length > MaxFileSize-r.Off:
			return refusal(op, r.Ino, "range beyond the largest file", syscall.EFBIG)
		}
	case *wire.GetLayout:
		if r.First > MaxFileSize {
			return refusal(op, r.Ino, "block beyond the largest file", syscall.EINVAL)
		}
	case *wire.CommitWrite:
		if r.W.Size > MaxFileSize {
			return refusal(op, r.Ino, "size beyond the largest file", syscall.EFBIG)
		}
		for _, b := range r.W.Blocks {
			if b.Index >= MaxFileSize/max(blockSize, 1) {
				return refusal(op, r.Ino, "block beyond the largest file", syscall.EFBIG)
			}
		}
	}
	return nil
}
