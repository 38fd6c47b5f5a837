package lease

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The scripts below drive a Table with Period 60s and RecallTimeout 10s.
// Each line is a command, optionally followed by "->" and its expected
// output. Times are whole seconds after epoch; lists are comma-separated.
//
//	open S T            renew S T -> bool     close S
//	alive S -> bool     grant S I             drop S I
//	holds S I -> bool   holders I -> [S...]
//	recall I,I S T -> R [S...]                (S is the mutator, 0 for none)
//	ack S R -> [R...]   done R -> bool
//	tick T -> [S...] [R...]                   (expired sessions, done recalls)
//	next -> T|never     stats -> sessions leases inodes recalls
//	delegate S I -> bool               delegated I -> S (0 for none)
//	recalldeleg I S T -> R H started    (S is the session about to look)
//	delegations -> N
var scriptConfig = Config{Period: 60 * time.Second, RecallTimeout: 10 * time.Second}

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestScripts(t *testing.T) {
	for _, tc := range []struct{ name, script string }{
		{"renewal extends life", `
			open 1 0
			next -> 60
			renew 1 50 -> true
			next -> 110
			tick 60 -> [] []
			alive 1 -> true
			tick 109 -> [] []
			tick 110 -> [1] []
			alive 1 -> false
			renew 1 111 -> false
			next -> never`},
		{"a lapsed session renews until a tick expires it", `
			open 1 0
			renew 1 70 -> true
			tick 100 -> [] []
			tick 130 -> [1] []`},
		{"expiry drops leases", `
			open 1 0
			open 2 30
			grant 1 10
			grant 1 11
			grant 2 10
			stats -> 2 3 2 0
			tick 60 -> [1] []
			holds 1 10 -> false
			holders 10 -> [2]
			holders 11 -> []
			stats -> 1 1 1 0`},
		{"grant is idempotent and needs a live session", `
			open 1 0
			grant 1 10
			grant 1 10
			grant 2 10
			holders 10 -> [1]
			stats -> 1 1 1 0
			drop 1 10
			drop 1 10
			drop 2 10
			stats -> 1 0 0 0`},
		{"recall targets exclude the mutator and non-holders", `
			open 1 0
			open 2 0
			open 3 0
			open 4 0
			grant 1 10
			grant 2 10
			grant 2 11
			grant 3 11
			grant 4 12
			recall 10,11,10 2 5 -> 1 [1,3]
			done 1 -> false
			recall 10,11 0 5 -> 2 [1,2,3]
			stats -> 4 5 3 2`},
		{"a recall with no targets is done at once", `
			open 1 0
			grant 1 10
			recall 10 1 5 -> 1 []
			recall 99 0 5 -> 2 []
			done 1 -> true
			done 2 -> true
			stats -> 1 1 1 0
			next -> 60`},
		{"ack completes", `
			open 1 0
			open 2 0
			open 3 0
			grant 1 10
			grant 2 10
			recall 10 3 5 -> 1 [1,2]
			next -> 15
			ack 1 1 -> []
			ack 1 1 -> []
			ack 3 1 -> []
			done 1 -> false
			ack 2 1 -> [1]
			done 1 -> true
			ack 2 1 -> []
			stats -> 3 2 1 0
			next -> 60`},
		{"leases survive recalls", `
			open 1 0
			open 2 0
			grant 1 10
			recall 10 2 5 -> 1 [1]
			ack 1 1 -> [1]
			holds 1 10 -> true
			recall 10 2 6 -> 2 [1]`},
		{"a missed deadline expires the target and completes the recall", `
			open 1 0
			open 2 0
			open 3 0
			grant 1 10
			grant 2 10
			grant 2 11
			recall 10 3 5 -> 1 [1,2]
			ack 1 1 -> []
			renew 2 14 -> true
			next -> 15
			tick 14 -> [] []
			tick 15 -> [2] [1]
			alive 2 -> false
			holders 10 -> [1]
			holders 11 -> []
			done 1 -> true
			stats -> 2 1 1 0`},
		{"one expiry completes every recall waiting only on it", `
			open 1 0
			open 2 0
			grant 1 10
			grant 2 11
			recall 10 0 5 -> 1 [1]
			recall 10,11 0 8 -> 2 [1,2]
			ack 2 2 -> []
			tick 15 -> [1] [1,2]
			stats -> 1 1 1 0`},
		{"close of a target completes recalls waiting only on it", `
			open 1 0
			open 2 0
			open 3 0
			grant 1 10
			grant 2 10
			grant 2 11
			recall 11 0 5 -> 1 [2]
			recall 10 3 5 -> 2 [1,2]
			close 2
			done 1 -> true
			done 2 -> false
			next -> 5
			tick 6 -> [] [1]
			tick 6 -> [] []
			ack 1 2 -> [2]
			close 2
			close 9
			stats -> 2 1 1 0`},
		{"closing the last holder makes Next say never", `
			open 1 0
			open 2 0
			grant 1 10
			recall 10 2 5 -> 1 [1]
			close 1
			close 2
			next -> 5
			tick 7 -> [] [1]
			next -> never`},
		{"re-Open after expiry starts with no leases", `
			open 1 0
			grant 1 10
			tick 60 -> [1] []
			open 1 61
			holds 1 10 -> false
			holders 10 -> []
			stats -> 1 0 0 0`},
		{"re-Open of a live session keeps its state", `
			open 1 0
			open 2 0
			grant 1 10
			recall 10 2 5 -> 1 [1]
			open 1 30
			holds 1 10 -> true
			tick 15 -> [1] [1]`},
		{"done for unknown ids", `
			done 0 -> true
			done 1 -> false
			open 1 0
			grant 1 10
			recall 10 0 1 -> 1 [1]
			done 1 -> false
			done 2 -> false
			ack 1 1 -> [1]
			done 1 -> true
			ack 1 1 -> []
			ack 1 7 -> []`},
		{"next is the earliest deadline", `
			next -> never
			open 1 0
			open 2 20
			next -> 60
			grant 2 10
			recall 10 0 30 -> 1 [2]
			next -> 40
			ack 2 1 -> [1]
			next -> 60
			renew 1 40 -> true
			next -> 80
			tick 80 -> [2] []
			next -> 100
			tick 100 -> [1] []
			next -> never`},
		{"session zero is the service", `
			open 0 0
			alive 0 -> false
			grant 0 10
			stats -> 0 0 0 0`},
	} {
		t.Run(tc.name, func(t *testing.T) { runScript(t, tc.script) })
	}
}

// runScript runs a script on a new Table and checks each line's output.
func runScript(t *testing.T, script string) {
	tb := New(scriptConfig)
	for n, line := range strings.Split(strings.TrimSpace(script), "\n") {
		cmd, want, check := strings.Cut(strings.TrimSpace(line), "->")
		got := runLine(t, tb, strings.Fields(cmd))
		if check && got != strings.TrimSpace(want) {
			t.Errorf("line %d: %s: got %s, want %s", n+1, strings.TrimSpace(cmd), got, strings.TrimSpace(want))
		}
	}
}

// runLine runs one script command on tb and returns its output.
func runLine(t *testing.T, tb *Table, f []string) string {
	t.Helper()
	arg := func(i int) uint64 {
		t.Helper()
		if i >= len(f) {
			t.Fatalf("%v: missing argument %d", f, i)
		}
		n, err := strconv.ParseUint(f[i], 10, 64)
		if err != nil {
			t.Fatalf("%v: %v", f, err)
		}
		return n
	}
	at := func(i int) time.Time { return epoch.Add(time.Duration(arg(i)) * time.Second) }
	s := func(i int) SessionID { return SessionID(arg(i)) }
	switch f[0] {
	case "open":
		tb.Open(s(1), at(2))
	case "renew":
		return fmt.Sprint(tb.Renew(s(1), at(2)))
	case "close":
		tb.Close(s(1))
	case "alive":
		return fmt.Sprint(tb.Alive(s(1)))
	case "grant":
		tb.Grant(s(1), arg(2))
	case "drop":
		tb.Drop(s(1), arg(2))
	case "holds":
		return fmt.Sprint(tb.Holds(s(1), arg(2)))
	case "holders":
		return list(tb.Holders(arg(1)))
	case "recall":
		var inos []uint64
		for _, x := range strings.Split(f[1], ",") {
			n, err := strconv.ParseUint(x, 10, 64)
			if err != nil {
				t.Fatalf("%v: %v", f, err)
			}
			inos = append(inos, n)
		}
		r, targets := tb.Recall(inos, s(2), at(3))
		return fmt.Sprint(r, " ", list(targets))
	case "ack":
		return list(tb.Ack(s(1), RecallID(arg(2))))
	case "done":
		return fmt.Sprint(tb.Done(RecallID(arg(1))))
	case "tick":
		expired, done := tb.Tick(at(1))
		return list(expired) + " " + list(done)
	case "next":
		next := tb.Next()
		if next.IsZero() {
			return "never"
		}
		return fmt.Sprint(int64(next.Sub(epoch) / time.Second))
	case "delegate":
		return fmt.Sprint(tb.Delegate(s(1), arg(2)))
	case "delegated":
		return fmt.Sprint(tb.Delegated(arg(1)))
	case "recalldeleg":
		r, h, started := tb.RecallDelegation(arg(1), s(2), at(3))
		return fmt.Sprint(r, " ", h, " ", started)
	case "delegations":
		return fmt.Sprint(tb.Delegations())
	case "stats":
		st := tb.Stats()
		return fmt.Sprint(st.Sessions, st.Leases, st.Inodes, st.PendingRecalls)
	default:
		t.Fatalf("unknown command %q", f[0])
	}
	return ""
}

func list[T ~uint64](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatUint(uint64(x), 10)
	}
	return "[" + strings.Join(s, ",") + "]"
}
