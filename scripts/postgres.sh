# Starts a private PostgreSQL cluster for the tests and exports
# FERRY_TEST_POSTGRES, the URL of an empty database owned by its user.
#
# Sourced (". scripts/postgres.sh", as scripts/test.sh does), it leaves the
# cluster running and stops it when the sourcing shell exits (an EXIT trap).
# Run with a command ("bash scripts/postgres.sh go test ./internal/kv/pgkv"),
# it runs the command against the cluster and stops it afterwards.
#
# The cluster lives in a temporary directory, listens on a loopback port
# only, and runs as the "postgres" system user (PostgreSQL refuses to run as
# root). Debian's postgresql package is installed when initdb is missing.
# Without it the tests that need PostgreSQL skip, or fail under CI=true.

_pg_say() { printf 'postgres.sh: %s\n' "$*" >&2; }

# _pg_bin prints the newest PostgreSQL bin directory, if any.
_pg_bin() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -n "$d" ] && [ -x "$d/initdb" ] && printf '%s\n' "$d"
}

# _pg_as runs a command as the cluster's owner.
_pg_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$_pg_user" -- "$@"
	else
		"$@"
	fi
}

_pg_stop() {
	if [ -n "${_pg_dir:-}" ] && [ -d "$_pg_dir" ]; then
		_pg_as "$_pg_binDir/pg_ctl" -D "$_pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
		rm -rf "$_pg_dir"
	fi
	_pg_dir=
}

_pg_start() {
	_pg_binDir=$(_pg_bin)
	if [ -z "$_pg_binDir" ]; then
		. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
		_pg_say "installing postgresql"
		apt_install postgresql || _pg_say "could not install postgresql"
		_pg_binDir=$(_pg_bin)
	fi
	if [ -z "$_pg_binDir" ]; then
		_pg_say "no PostgreSQL (apt-get install postgresql); tests that need it will fail under CI=true"
		return 0
	fi
	_pg_user=$(id -un)
	if [ "$(id -u)" = 0 ]; then
		_pg_user=postgres
		id postgres >/dev/null 2>&1 ||
			useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
	fi
	_pg_dir=$(mktemp -d /tmp/ferry-postgres.XXXXXX)
	chmod 755 "$_pg_dir"
	[ "$(id -u)" = 0 ] && chown "$_pg_user" "$_pg_dir"
	local pw
	pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	printf '%s\n' "$pw" >"$_pg_dir/pw"
	[ "$(id -u)" = 0 ] && chown "$_pg_user" "$_pg_dir/pw"
	if ! _pg_as "$_pg_binDir/initdb" -D "$_pg_dir/data" -U ferry --pwfile="$_pg_dir/pw" \
		--auth=scram-sha-256 -E UTF8 --locale=C >"$_pg_dir/initdb.log" 2>&1; then
		_pg_say "initdb failed:"
		cat "$_pg_dir/initdb.log" >&2
		_pg_stop
		return 1
	fi
	local port try
	for try in 1 2 3 4 5 6 7 8; do
		port=$((20000 + RANDOM % 20000))
		if _pg_as "$_pg_binDir/pg_ctl" -D "$_pg_dir/data" -l "$_pg_dir/server.log" -w -t 60 \
			-o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$_pg_dir -c max_connections=200" \
			start >/dev/null 2>&1; then
			break
		fi
		port=
	done
	if [ -z "$port" ]; then
		_pg_say "could not start PostgreSQL:"
		tail -n 20 "$_pg_dir/server.log" >&2
		_pg_stop
		return 1
	fi
	if ! PGPASSWORD=$pw "$_pg_binDir/psql" -q -h 127.0.0.1 -p "$port" -U ferry -d postgres \
		-c 'CREATE DATABASE ferry' >/dev/null; then
		_pg_say "could not create the test database"
		_pg_stop
		return 1
	fi
	export FERRY_TEST_POSTGRES="postgres://ferry:$pw@127.0.0.1:$port/ferry?sslmode=disable"
	_pg_say "PostgreSQL $("$_pg_binDir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $_pg_dir)"
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
	# Sourced: keep the cluster for the sourcing shell's lifetime.
	_pg_start || true
	trap _pg_stop EXIT
else
	set -euo pipefail
	_pg_start
	trap _pg_stop EXIT
	if [ $# -gt 0 ]; then
		"$@"
	fi
fi
