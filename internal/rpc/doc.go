// Package rpc carries package wire's frames between `ferry mount` and
// `ferry serve`: addresses and transports (TCP, Unix sockets, vsock),
// the client side of a session (Client: pipelined calls, reconnects with
// backoff across every address of the service, resending unanswered
// calls, heartbeats, a bound on how long calls wait for an unreachable
// service) and the server side (Server: one goroutine reading each
// connection, calls served concurrently by its workers up to a bound
// (a worker that stays idle for a second exits), or on the reader
// itself when they cannot block and nothing else waits, replies and
// pushes written by a frameWriter that coalesces what queues up while a
// write is under way).
//
// Who may open a session is settled below the Hello: a listener wrapped
// by Guard admits each connection by its Policy (TLS 1.3, client
// certificates checked against a CA, a token compared in constant time)
// before the Server reads anything of it, and answers a refused client's
// Hello with EACCES and the reason; a Client presents its Credentials on
// every connect and reports a refusal as Permanent, which fails calls at
// once instead of after its patience.
//
// What a session means (leases, recalls, exactly-once replies) is
// package service's; rpc only moves frames, admits connections through
// an Acceptor and drops a connection whose peer sends a frame that is
// not one.
//
// # Locks
//
// Client.mu guards the connection, the pending calls and the session's
// state; it is never held across a write or a dial. frameWriter.mu
// guards one connection's queued output; it is never held across a
// write(2), and taken under no other lock of the package. Server.mu
// guards the listeners and connections of a Server.
package rpc
