package client

import "testing"

// TestLockWatch: a push closes the channel every waiter of the inode
// holds, and the table forgets inodes nobody waits on.
func TestLockWatch(t *testing.T) {
	var s lockState
	ch1, done1 := s.watch(5)
	ch2, done2 := s.watch(5)
	other, doneOther := s.watch(6)
	s.pushed(5)
	for _, ch := range []<-chan struct{}{ch1, ch2} {
		select {
		case <-ch:
		default:
			t.Fatal("a push did not wake a waiter of its inode")
		}
	}
	select {
	case <-other:
		t.Fatal("a push woke a waiter of another inode")
	default:
	}
	ch3, done3 := s.watch(5) // a waiter after the push waits for the next
	select {
	case <-ch3:
		t.Fatal("a new waiter saw an earlier push")
	default:
	}
	done1()
	done2()
	if len(s.changed) != 2 {
		t.Fatalf("watch table %v: the earlier waiters' release dropped the new watch", s.changed)
	}
	done3()
	doneOther()
	s.pushed(7) // nobody waits: nothing happens
	if len(s.changed) != 0 {
		t.Fatalf("watch table not empty: %v", s.changed)
	}
}
