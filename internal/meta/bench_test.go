package meta

import (
	"context"
	"fmt"
	"syscall"
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/memkv"
	"github.com/ferryfs/ferry/internal/kv/pebblekv"
)

func benchStores(b *testing.B) map[string]func() kv.Store {
	return map[string]func() kv.Store{
		"memkv": func() kv.Store { return memkv.New() },
		"pebble": func() kv.Store {
			s, err := pebblekv.Open(b.TempDir(), pebblekv.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// BenchmarkCreateStatUnlink measures the metadata operations behind
// `ferry bench`'s create, stat and unlink, without FUSE.
func BenchmarkCreateStatUnlink(b *testing.B) {
	ctx := context.Background()
	for name, open := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			store := open()
			if err := Format(ctx, store, FormatOptions{BlockSize: 4 << 20, UUID: "bench"}); err != nil {
				b.Fatal(err)
			}
			fs, err := New(ctx, store, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer fs.Close()
			d, err := fs.Mkdir(ctx, Root, RootIno, "d", 0o755)
			if err != nil {
				b.Fatal(err)
			}
			const looked = 1000 // names for the lookup benchmark
			for i := range looked {
				if _, err := fs.Mknod(ctx, Root, d.Ino, fmt.Sprintf("l%d", i), syscall.S_IFREG|0o644, 0); err != nil {
					b.Fatal(err)
				}
			}
			seq := 0
			b.Run("create", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					seq++
					a, err := fs.Create(ctx, Root, d.Ino, fmt.Sprintf("c%d", seq), 0o644, syscall.O_WRONLY)
					if err != nil {
						b.Fatal(err)
					}
					fs.Release(ctx, a.Ino)
				}
			})
			b.Run("lookup", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if _, err := fs.Lookup(ctx, Root, d.Ino, fmt.Sprintf("l%d", i%looked)); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("mknod+unlink", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					seq++
					n := fmt.Sprintf("u%d", seq)
					if _, err := fs.Mknod(ctx, Root, d.Ino, n, syscall.S_IFREG|0o644, 0); err != nil {
						b.Fatal(err)
					}
					if err := fs.Unlink(ctx, Root, d.Ino, n); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
