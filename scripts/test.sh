#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need when it
# is missing, then checks formatting, runs go vet, and runs every test with
# the race detector, after staticcheck. Soak and long stress modes stay at
# their defaults (off).
# Arguments, if any, narrow vet and test to those packages
# (bash scripts/test.sh ./internal/cli/...).
#
# Tests that need FUSE skip without it, except under CI=true, where they
# fail: CI must never pass by skipping.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
pkgs=("${@:-./...}")

say() { printf 'test.sh: %s\n' "$*" >&2; }
. scripts/apt.sh

command -v go >/dev/null || { say "go is not installed (https://go.dev/dl/)"; exit 1; }

# FUSE: the kernel device; fusermount3 (package fuse3) for mounts by users
# other than root (root mounts with mount(2) directly); setfacl/getfacl
# (package acl) for the POSIX ACL tests.
if [ ! -e /dev/fuse ] && [ "$(id -u)" = 0 ]; then
	modprobe fuse 2>/dev/null || say "no /dev/fuse and modprobe fuse failed"
fi
need=()
command -v fusermount3 >/dev/null || need+=(fuse3)
command -v setfacl >/dev/null || need+=(acl)
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]}"
	apt_install "${need[@]}" ||
		say "could not install ${need[*]} (apt-get install ${need[*]} as root); tests that need them will fail"
fi

export FERRY_VERSITYGW="${FERRY_VERSITYGW:-$(bash scripts/versitygw.sh)}" # S3 server for internal/blob/s3blob
source scripts/etcd.sh

say "gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	say "these files need gofmt -w:"
	printf '%s\n' "$unformatted" >&2
	exit 1
fi

say "go vet"
go vet "${pkgs[@]}"

say "staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.6.1 "${pkgs[@]}"

. scripts/postgres.sh # FERRY_TEST_POSTGRES: pgkv, engine volumes, posixtest's TestPostgres

say "go test -race"
go test -race -count=1 -timeout 60m "${pkgs[@]}"
