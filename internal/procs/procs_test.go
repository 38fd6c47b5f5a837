package procs

import (
	"slices"
	"testing"
)

// procRecorder records the counts a governor sets.
type procRecorder struct{ set []int }

func (r *procRecorder) governor(high int) *Governor {
	return newGovernor(high, func(n int) { r.set = append(r.set, n) })
}

func TestProcGovernorFollowsDataRequests(t *testing.T) {
	var r procRecorder
	g := r.governor(4)
	want := []int{1} // starts lowered
	check := func(step string) {
		t.Helper()
		if !slices.Equal(r.set, want) {
			t.Fatalf("%s: counts set %v, want %v", step, r.set, want)
		}
	}
	check("start")

	g.tick()
	check("idle tick")

	g.Begin()
	want = append(want, 4)
	check("first data request")
	g.Begin()
	g.End()
	check("second data request")

	g.tick() // requests began during this tick, one is in flight
	check("busy tick")
	g.tick() // none began, one still in flight
	check("tick with a request in flight")
	g.End()
	g.tick()
	want = append(want, 1)
	check("quiet tick")

	g.Begin()
	g.End()
	want = append(want, 4)
	check("data again")
	g.tick() // a request began since the last tick
	check("tick after a request")
	g.tick()
	want = append(want, 1)
	check("second quiet tick")

	g.Stop()
	want = append(want, 4)
	check("stop restores the count")
	g.Stop()
	g.Begin()
	g.End()
	check("after stop")
}

func TestProcGovernorNeedsTwoProcessors(t *testing.T) {
	var r procRecorder
	g := r.governor(1)
	if g != nil {
		t.Fatalf("governor for one processor: got %+v, want nil", g)
	}
	// A nil governor is a valid no-op.
	g.Begin()
	g.End()
	g.Stop()
	if len(r.set) != 0 {
		t.Fatalf("counts set %v, want none", r.set)
	}
}
