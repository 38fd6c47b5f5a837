# Sourced by the test scripts: apt_install PKG... installs Debian packages
# (as root, with apt-get) without starting the services they bring. The
# tests start their own servers on loopback ports and stop them; a
# package's default daemon (PostgreSQL's main cluster, etcd) would outlive
# the run. It fails when the packages cannot be installed.
apt_install() {
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		return 1
	fi
	local policy=/usr/sbin/policy-rc.d made= rc=0
	if [ ! -e "$policy" ]; then
		# invoke-rc.d asks this script; 101 means "do not start".
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made=1
	fi
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; } || rc=1
	if [ -n "$made" ]; then
		rm -f "$policy"
	fi
	return $rc
}
