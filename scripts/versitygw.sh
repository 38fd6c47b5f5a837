#!/usr/bin/env bash
# Installs versitygw, the S3 gateway the s3blob tests run against, into a
# cache directory kept between runs on the same machine, and prints the
# binary's path. The build (a few minutes) is skipped when the binary is
# already there.
#
#   FERRY_VERSITYGW=$(bash scripts/versitygw.sh)
#
# FERRY_CACHE picks the cache directory (default: /var/cache/ferry when
# writable, else ~/.cache/ferry).
set -euo pipefail

version=v1.8.0
say() { printf 'versitygw.sh: %s\n' "$*" >&2; }

cache=${FERRY_CACHE:-}
if [ -z "$cache" ]; then
	if mkdir -p /var/cache/ferry 2>/dev/null && [ -w /var/cache/ferry ]; then
		cache=/var/cache/ferry
	else
		cache=${XDG_CACHE_HOME:-$HOME/.cache}/ferry
	fi
fi
bin=$cache/bin/versitygw-$version
if [ ! -x "$bin" ]; then
	command -v go >/dev/null || { say "go is not installed"; exit 1; }
	say "building versitygw $version into $cache/bin (a few minutes, once)"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/versitygw.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# Built outside the module so that its dependencies stay out of go.mod.
	(cd "$tmp" && GOBIN="$tmp" GOFLAGS=-buildvcs=false go install "github.com/versity/versitygw/cmd/versitygw@$version") >&2
	mkdir -p "$cache/bin"
	mv "$tmp/versitygw" "$bin.partial"
	mv "$bin.partial" "$bin"
fi
printf '%s\n' "$bin"
