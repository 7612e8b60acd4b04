// Command maestro-server is the Maestro coordination server. Run `maestro-server help` for its
// subcommands and `maestro-server serve --help` for every setting.
package main

import (
	"os"

	"github.com/maestro-hq/maestro-server/internal/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Stdout, os.Stderr))
}
