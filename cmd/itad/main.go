// Command itad keeps the ledger of IT equipment at its end of life: devices
// wiped or destroyed, by whom, how, and when; signed certificates of
// destruction; and the yearly figures auditors and FOI officers ask for.
package main

import "os"

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}
