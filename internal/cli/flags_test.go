package cli

import (
	"errors"
	"flag"
	"io"
	"slices"
	"testing"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
		d    bool
		n    int
	}{
		{[]string{"v", "m"}, []string{"v", "m"}, false, 0},
		{[]string{"v", "m", "-d"}, []string{"v", "m"}, true, 0},
		{[]string{"-d", "v", "--n", "3", "m"}, []string{"v", "m"}, true, 3},
		{[]string{"--n=4", "v", "--", "-m"}, []string{"v", "-m"}, false, 4},
	} {
		fl := flag.NewFlagSet("t", flag.ContinueOnError)
		fl.SetOutput(io.Discard)
		d := fl.Bool("d", false, "")
		n := fl.Int("n", 0, "")
		got, err := parseArgs(fl, tc.args, 2)
		if err != nil || !slices.Equal(got, tc.want) || *d != tc.d || *n != tc.n {
			t.Errorf("parseArgs(%q) = %q, %v, d=%v n=%d; want %q, d=%v n=%d", tc.args, got, err, *d, *n, tc.want, tc.d, tc.n)
		}
	}
	for _, args := range [][]string{{"v"}, {"v", "m", "x"}, {"v", "m", "--bogus"}} {
		fl := flag.NewFlagSet("t", flag.ContinueOnError)
		fl.SetOutput(io.Discard)
		if _, err := parseArgs(fl, args, 2); !errors.Is(err, errUsage) {
			t.Errorf("parseArgs(%q): %v; want errUsage", args, err)
		}
	}
}
