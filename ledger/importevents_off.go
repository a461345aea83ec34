//go:build itad_bench_noevents

package ledger

// recordImportEvents: see importevents.go. Never build itad with this tag
// for use.
const recordImportEvents = false
