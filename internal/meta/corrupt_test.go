package meta

import (
	"context"

	"github.com/ferryfs/ferry/internal/kv"
)

// corruptKey flips one bit of the value stored under key.
func corruptKey(store kv.Store, key []byte) error {
	return store.Update(context.Background(), func(t kv.Txn) error {
		v, err := t.Get(key)
		if err != nil {
			return err
		}
		v[0] ^= 1
		t.Set(key, v)
		return nil
	})
}
