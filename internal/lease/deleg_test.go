package lease

import "testing"

// TestDelegationScripts drives the delegation state of a Table with the
// commands of TestScripts (script_test.go); time is an input.
func TestDelegationScripts(t *testing.T) {
	for _, tc := range []struct{ name, script string }{
		{"needs a live session holding the only lease", `
			delegate 1 10 -> false
			open 1 0
			delegate 1 10 -> false
			grant 1 10
			delegate 1 10 -> true
			delegate 1 10 -> true
			delegated 10 -> 1
			delegations -> 1`},
		{"another holder refuses it", `
			open 1 0
			open 2 0
			grant 1 10
			grant 2 10
			delegate 1 10 -> false
			drop 2 10
			delegate 1 10 -> true
			delegate 2 10 -> false`},
		{"recall waits for the holder's ack, then it is gone", `
			open 1 0
			open 2 0
			grant 1 10
			delegate 1 10 -> true
			recalldeleg 10 1 5 -> 0 0 false
			recalldeleg 10 2 5 -> 1 1 true
			recalldeleg 10 3 6 -> 1 1 false
			delegated 10 -> 1
			delegate 1 10 -> false
			done 1 -> false
			next -> 15
			ack 1 1 -> [1]
			delegated 10 -> 0
			delegations -> 0
			holds 1 10 -> true
			delegate 1 10 -> true`},
		{"a holder that does not ack is expired at the deadline", `
			open 1 0
			open 2 0
			grant 1 10
			delegate 1 10 -> true
			recalldeleg 10 2 20 -> 1 1 true
			renew 2 25 -> true
			tick 29 -> [] []
			tick 30 -> [1] [1]
			delegated 10 -> 0
			alive 1 -> false`},
		{"dropping the lease ends it", `
			open 1 0
			grant 1 10
			grant 1 11
			delegate 1 10 -> true
			delegate 1 11 -> true
			drop 1 10
			delegated 10 -> 0
			delegated 11 -> 1
			recalldeleg 10 2 1 -> 0 0 false`},
		{"session end ends them, and the recall of one", `
			open 1 0
			open 2 0
			grant 1 10
			grant 1 11
			delegate 1 10 -> true
			delegate 1 11 -> true
			recalldeleg 11 2 1 -> 1 1 true
			close 1
			delegations -> 0
			tick 2 -> [] [1]
			done 1 -> true`},
		{"expiry ends them", `
			open 1 0
			grant 1 10
			delegate 1 10 -> true
			tick 60 -> [1] []
			delegated 10 -> 0`},
		{"a lease recall does not end it", `
			open 1 0
			open 2 0
			grant 1 10
			delegate 1 10 -> true
			recall 10 0 1 -> 1 [1]
			ack 1 1 -> [1]
			delegated 10 -> 1`},
	} {
		t.Run(tc.name, func(t *testing.T) { runScript(t, tc.script) })
	}
}
