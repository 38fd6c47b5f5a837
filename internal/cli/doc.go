// Package cli is the ferry command: one file per subcommand, each parsing
// its flags with the standard flag package and calling a runX function
// with the parsed options.
//
// What the command prints for people (results on stdout, one-line errors
// on stderr as "ferry: CMD: reason") is separate from logs, which go
// through a *slog.Logger to stderr or, for a background mount, to the
// volume's ferry.log. Exit codes: 0 success, 1 failure, 2 bad usage.
package cli
