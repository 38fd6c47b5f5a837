package pgkv

import (
	"bytes"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/ferryfs/ferry/internal/kv"
)

// Reads of a transaction: a key it wrote or read before is answered from
// its buffers; others go to the server, with BEGIN in front when they are
// the first.

// Scan pages grow from firstPage rows to maxPage.
const (
	firstPage = 64
	maxPage   = 1024
)

func (t *txn) Get(key []byte) ([]byte, error) {
	if t.err != nil {
		return nil, t.err
	}
	e, ok := t.writes[string(key)]
	if !ok {
		e, ok = t.reads[string(key)]
	}
	if !ok {
		var b pgx.Batch
		skip := t.batch(&b)
		b.Queue(sqlGet, nonNil(key))
		br, err := t.send("get", &b, skip)
		if err != nil {
			return nil, err
		}
		var v []byte
		err = br.QueryRow().Scan(&v)
		if cerr := br.Close(); err == nil || errors.Is(err, pgx.ErrNoRows) {
			if cerr != nil {
				err = cerr
			}
		}
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			e = entry{del: true}
		case err != nil:
			return nil, t.fail("get", err)
		default:
			e = entry{v: nonNil(v)}
		}
		if t.reads == nil {
			t.reads = make(map[string]entry)
		}
		t.reads[string(key)] = e
	}
	if e.del {
		return nil, kv.ErrNotFound
	}
	return bytes.Clone(e.v), nil
}

// Prefetch reads the given keys that the transaction has neither written
// nor read, in one round trip, so that the Gets that follow cost none. A
// failure is kept for the next read to return.
func (t *txn) Prefetch(keys ...[]byte) {
	if t.err != nil {
		return
	}
	var want [][]byte
	for _, k := range keys {
		if _, ok := t.writes[string(k)]; ok {
			continue
		}
		if _, ok := t.reads[string(k)]; !ok {
			want = append(want, nonNil(k))
		}
	}
	if len(want) == 0 {
		return
	}
	var b pgx.Batch
	skip := t.batch(&b)
	b.Queue(sqlGetMany, want)
	br, err := t.send("get", &b, skip)
	if err != nil {
		return
	}
	found := make(map[string][]byte, len(want))
	rows, err := br.Query()
	if err == nil {
		var k, v []byte
		_, err = pgx.ForEachRow(rows, []any{&k, &v}, func() error {
			found[string(k)] = nonNil(bytes.Clone(v))
			return nil
		})
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.fail("get", err)
		return
	}
	if t.reads == nil {
		t.reads = make(map[string]entry, len(want))
	}
	for _, k := range want {
		if v, ok := found[string(k)]; ok {
			t.reads[string(k)] = entry{v: v}
		} else {
			t.reads[string(k)] = entry{del: true}
		}
	}
}

func (t *txn) Scan(start, end []byte, fn func(k, v []byte) bool) error {
	if t.err != nil {
		return t.err
	}
	if end != nil && bytes.Compare(start, end) >= 0 {
		return nil
	}
	from := nonNil(bytes.Clone(start))
	for limit := firstPage; ; limit = min(2*limit, maxPage) {
		var b pgx.Batch
		skip := t.batch(&b)
		if end == nil {
			b.Queue(sqlScan, from, limit)
		} else {
			b.Queue(sqlScanTo, from, end, limit)
		}
		br, err := t.send("scan", &b, skip)
		if err != nil {
			return err
		}
		var page [][2][]byte
		rows, err := br.Query()
		if err == nil {
			var k, v []byte
			_, err = pgx.ForEachRow(rows, []any{&k, &v}, func() error {
				page = append(page, [2][]byte{bytes.Clone(k), nonNil(bytes.Clone(v))})
				return nil
			})
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return t.fail("scan", err)
		}
		for _, row := range page {
			if !fn(row[0], row[1]) {
				return nil
			}
		}
		if len(page) < limit {
			return nil
		}
		// The next page starts just past the last key: its successor is
		// the key with a zero byte appended.
		from = append(page[len(page)-1][0], 0)
	}
}
