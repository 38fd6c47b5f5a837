package memkv_test

import (
	"testing"

	"github.com/ferryfs/ferry/internal/kv"
	"github.com/ferryfs/ferry/internal/kv/kvtest"
	"github.com/ferryfs/ferry/internal/kv/memkv"
)

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store {
		s := memkv.New()
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
