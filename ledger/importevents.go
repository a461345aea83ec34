//go:build !itad_bench_noevents

package ledger

// recordImportEvents is false only in the build bench/events.sh makes
// with -tags itad_bench_noevents, to measure what recording an import's
// events costs: that build writes no import.rows events, so its ledgers
// do not verify.
const recordImportEvents = true
