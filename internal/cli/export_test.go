package cli

import (
	"strings"
	"testing"
)

func TestServeExportFlagsRefuseBadInput(t *testing.T) {
	vol := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--map-uid", "1000"}, `invalid value "1000" for flag -map-uid: "1000" is not CLIENT:STORED`},
		{[]string{"--map-uid", "x:1"}, `"x" is not a user or group id`},
		{[]string{"--map-gid", "1:4294967295"}, `"4294967295" is not a user or group id`},
		{[]string{"--map-uid", "1:2", "--map-uid", "1:3"}, "client id 1 mapped twice"},
		{[]string{"--map-uid", "1:5", "--map-uid", "2:5"}, "client uids 1 and 2 both map to 5"},
		{[]string{"--export", "sub"}, `--export "sub": a path from the volume's root, starting with /`},
		{[]string{"--export", "/missing"}, `export "/missing"`},
		{[]string{"--anon-uid", "4294967295"}, "--anon-uid and --anon-gid must be ids below 4294967295"},
	} {
		args := append([]string{"serve", vol, "--listen", "tcp://127.0.0.1:0"}, tc.args...)
		_, errs, code := ferry(t, args...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("ferry %q: exit %d, stderr %q; want a failure saying %q", args, code, errs, tc.want)
		}
	}
}
