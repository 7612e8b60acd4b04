// Command maestro-bench is the load generator behind `make bench`. It runs against a maestro-server on
// loopback: one it starts from a binary (-server, with a fresh temporary data directory, stopped at the
// end) or one already running (-url). Each mode measures one thing and prints its figures.
//
//	maestro-bench fanout [flags]   WebSocket fan-out: N clients, a steady write rate, delivery latency
//	maestro-bench http [flags]     REST throughput and latency of the shapes DESIGN §10 sets targets for,
//	                               each as a ratio to its ceiling measured in the same run
//	maestro-bench ceiling [flags]  serve the ceilings alone (hello, raw write, cached bytes) on loopback
//	maestro-bench scale [flags]    start-up time and resident memory over a database of 1M tasks
//	maestro-bench postlat [flags]  POST latency with 0, 10 and 1,000 connected sockets
//
// Run `maestro-bench MODE -h` for a mode's flags.
package main

import (
	"fmt"
	"os"
	"sort"
)

// mode is one benchmark: it parses its own flags and returns an error when it could not run.
type mode struct {
	summary string
	run     func(args []string) error
}

// modes lists every benchmark by name. Add new ones here.
var modes = map[string]mode{
	"fanout":  {"WebSocket fan-out to many clients: events/s delivered and delivery latency", runFanout},
	"ceiling": {"serve the ceilings of DESIGN §10 (hello, raw write, cached bytes) on a loopback port", runCeiling},
	"http":    {"REST throughput and latency, each row a ratio to its ceiling measured in the same run", runHTTP},
	"scale":   {"start-up time and memory of a server over a database of many tasks (default 1M)", runScale},
	// postlat lives in postlat.go.
	"postlat": {"POST latency (p50/p99) with 0, 10 and 1,000 connected sockets reading every event", runPostLat},
}

func main() {
	if len(os.Args) < 2 || modes[os.Args[1]].run == nil {
		usage()
		os.Exit(2)
	}
	if err := modes[os.Args[1]].run(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "maestro-bench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "Usage: maestro-bench MODE [flags]\n\nModes:")
	names := make([]string, 0, len(modes))
	for n := range modes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, modes[n].summary)
	}
}
