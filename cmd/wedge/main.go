// Command wedge runs a wedge node and manages functions on one.
package main

import (
	"os"

	"github.com/wedge-run/wedge/internal/cli"
)

func main() { os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
