# Sourced by scripts/test.sh: makes sure an etcd server binary is there for
# the tests of internal/kv/etcdkv, which start their own three-member
# clusters on loopback with it, and exports FERRY_ETCD. Installs Debian's
# etcd-server (as root, with apt-get) when it is missing; otherwise those
# tests skip, or fail under CI=true.
etcd_bin=${FERRY_ETCD:-/usr/bin/etcd}
if [ ! -x "$etcd_bin" ]; then
	. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
	printf 'etcd.sh: installing etcd-server\n' >&2
	apt_install etcd-server ||
		printf 'etcd.sh: could not install etcd-server (apt-get install etcd-server as root); the etcd tests will skip, or fail under CI\n' >&2
fi
if [ -x "$etcd_bin" ]; then
	export FERRY_ETCD=$etcd_bin
fi
unset etcd_bin
