package lease

// Counts are the table's events since it was made, for metrics. They are
// plain fields: the table's owner serializes every call already.
type Counts struct {
	Opened        uint64 // sessions opened (a renewal of a live one is not counted)
	Granted       uint64 // leases granted (a grant of a lease held already is not)
	Recalls       uint64 // recalls that had at least one target
	RecallTargets uint64 // (recall, target) pairs: the recall messages a service sends
	Expired       uint64 // sessions expired by Tick: lapsed, or missed a recall
	MissedRecalls uint64 // of Expired, those that missed a recall's deadline
}

func (c *Counts) recalled(targets int) {
	c.Recalls++
	c.RecallTargets += uint64(targets)
}

// Counts returns the table's events so far.
func (t *Table) Counts() Counts { return t.counts }
