package service

import (
	"context"
	"log/slog"
)

// Why an expired session expired, in its "session ended" line.
const (
	causeRecallTimeout = "recall timeout" // it did not acknowledge a recall in time
	causeSilent        = "lease period"   // no word from it for a lease period
)

// expiryCause says why the lease table expired sess; it is called before
// end clears what sess had pending.
func expiryCause(sess *session) string {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if len(sess.pending) > 0 {
		return causeRecallTimeout
	}
	return causeSilent
}

// logEnded is the one line of a session's end: Info, or Warn when a
// recall it did not acknowledge held changes up for the recall timeout.
func (s *Service) logEnded(sess *session, why, cause string, openFiles int) {
	sess.mu.Lock()
	peer := sess.peer
	sess.mu.Unlock()
	level := slog.LevelInfo
	if cause == causeRecallTimeout {
		level = slog.LevelWarn
	}
	args := []any{"session", uint64(sess.id), "client", sess.client, "peer", peer, "why", why}
	if cause != "" {
		args = append(args, "cause", cause)
	}
	s.log.Log(context.Background(), level, "session ended", append(args, "open_files", openFiles)...)
}
