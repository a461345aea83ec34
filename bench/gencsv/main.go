// Command gencsv writes N synthetic devices with their disposals in itad's
// import format to standard output, for the import benchmark.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/itad/itad/ledger"
)

func main() {
	n := flag.Int("n", 100000, "devices")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	if err := ledger.WriteDemoCSV(w, *seed, *n, 2015, 2025); err != nil {
		fmt.Fprintln(os.Stderr, "gencsv:", err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gencsv:", err)
		os.Exit(1)
	}
}
