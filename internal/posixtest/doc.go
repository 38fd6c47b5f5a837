// Package posixtest checks Ferry's POSIX behaviour through a real FUSE mount.
//
// Every check is a function of a root directory. Each test runs its checks
// twice: on a directory of the native file system, which is the reference
// and must pass, and on a freshly formatted Ferry volume mounted in-process
// (internal/testmount). Expected results are those of Linux on ext4/tmpfs.
//
// What is covered:
//   - files_test.go, dirs_test.go, links_test.go, rename_test.go,
//     attrs_test.go, xattr_test.go, locks_test.go, names_test.go:
//     one behaviour per function, errnos included;
//   - perm_test.go: permission checks, run in child processes as other
//     users (root bypasses mode checks); child_test.go re-executes the test
//     binary with other credentials and runs a small script of syscalls;
//   - persist_test.go: what survives an unmount and mount of the volume;
//   - gofuse_test.go: go-fuse's own posixtest suite on a Ferry mount;
//   - model_test.go (driver), model_ops_test.go (operations),
//     model_gen_test.go (random choices): a seeded random sequence of
//     operations applied to a Ferry mount and to a native directory side by
//     side, every result compared (-ferry.seed, -ferry.ops, -ferry.soak);
//   - mount_test.go: the only file that knows how a Ferry mount is made.
//
// The tests run as root (they chown, make devices and switch users); without
// root or FUSE they are skipped, and under CI=true they fail. The package
// has no code outside its tests.
package posixtest
