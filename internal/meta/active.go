package meta

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ferryfs/ferry/internal/kv"
)

// When several services share a volume on a distributed engine, one of
// them is active and the others stand by (package standby). The A record
// says which:
//
//	A    the active service: its holder id, term and heartbeat
const tagActive = 'A'

func activeKey() []byte { return []byte{tagActive} }

// ActiveKey is the key of the active record, for stores that read it
// together with others.
func ActiveKey() []byte { return activeKey() }

// Active is the record of a volume's active service.
type Active struct {
	// Holder names the process that holds the volume (host, pid and a
	// random part: never reused); empty when the last holder let go.
	Holder string `json:"holder,omitempty"`
	// Addrs are the holder's listeners, for people reading status.
	Addrs []string `json:"addrs,omitempty"`
	// Term grows by one at every change of holder: a write made under
	// an older term is refused (fencing).
	Term uint64 `json:"term"`
	// Beat grows by one at every renewal: a record whose beat stands
	// still for a lease period belongs to a holder that is gone.
	Beat uint64 `json:"beat"`
}

// ReadActive returns the active record, and false if there is none.
func ReadActive(r kv.Reader) (Active, bool, error) {
	v, err := r.Get(activeKey())
	if errors.Is(err, kv.ErrNotFound) {
		return Active{}, false, nil
	}
	if err != nil {
		return Active{}, false, err
	}
	p, err := unseal(activeKey(), v)
	if err != nil {
		return Active{}, false, fmt.Errorf("active record: %w", err)
	}
	var a Active
	if err := json.Unmarshal(p, &a); err != nil {
		return Active{}, false, fmt.Errorf("active record: %w", err)
	}
	return a, true, nil
}

// WriteActive stores the active record.
func WriteActive(t kv.Txn, a Active) error {
	js, err := json.Marshal(a)
	if err != nil {
		return err
	}
	t.Set(activeKey(), seal(activeKey(), js))
	return nil
}
