// Command ferry formats, mounts, checks and measures Ferry volumes; see
// "ferry help".
package main

import (
	"os"

	"github.com/ferryfs/ferry/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args)) }
