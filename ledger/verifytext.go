package ledger

import (
	"fmt"
	"io"
	"strings"
)

// The words of itad verify, shared by the CLI and the web's ledger
// health page.

// WriteVerifyProblems writes, as itad verify prints it, why a ledger does
// not verify: the count, then the first 20 problems.
func WriteVerifyProblems(w io.Writer, path string, ve *VerifyError) {
	fmt.Fprintf(w, "ledger %s does NOT verify: %s\n", path, CountOf(int64(len(ve.Problems)+ve.More), "problem", "problems"))
	for i, p := range ve.Problems {
		if i == 20 {
			fmt.Fprintf(w, "  ... and %d more\n", len(ve.Problems)+ve.More-20)
			break
		}
		fmt.Fprintf(w, "  %s\n", p)
	}
}

// WriteVerified writes, as itad verify prints it, the summary of a ledger that verified.
func WriteVerified(w io.Writer, path string, res VerifyResult, certPaths []string) {
	fmt.Fprintf(w, "ledger %s verified: %s, hash chain intact, every table matches its events\n", path, CountOf(res.Events, "event", "events"))
	if res.Events > 0 {
		fmt.Fprintf(w, "head hash: %s\norigin:    %s\n", res.Head, res.Origin)
	}
	if res.Root != "" {
		fmt.Fprintf(w, "tree root: %s\n", res.Root)
	}
	switch res.Database {
	case "quick_check":
		fmt.Fprintln(w, "database:  quick_check ok (indexes not checked against their tables: run without --quick for that), foreign keys ok, schema as itad creates it")
	case "quick_check+index_check":
		fmt.Fprintln(w, "database:  quick_check ok, index check ok (every index holds exactly its table's rows), foreign keys ok, schema as itad creates it")
	default:
		fmt.Fprintf(w, "database:  %s ok, foreign keys ok, schema as itad creates it\n", res.Database)
	}
	for _, cp := range res.Checkpoints {
		fmt.Fprintf(w, "checkpoint (%s) of %s: consistent, signature %s\n", cp.Source, CountOf(cp.Size, "event", "events"), cp.Signature)
	}
	if len(certPaths) == 0 && len(res.Checkpoints) > 0 {
		fmt.Fprintln(w, "checkpoint signatures not checked: no signing certificate (give --trusted CERT)")
	} else if len(certPaths) > 0 && len(res.Checkpoints) > 0 {
		fmt.Fprintf(w, "signatures checked with %s\n", strings.Join(certPaths, ", "))
	}
	writePinning(w, res)
}

// writePinning writes which events a trusted checkpoint pins.
func writePinning(w io.Writer, res VerifyResult) {
	p := res.Pinning
	on := func(at string) string {
		if len(at) >= 10 {
			return " of " + at[:10]
		}
		return ""
	}
	if o := p.Outside; o != nil {
		fmt.Fprintf(w, "pinned:     %s by the checkpoint%s kept outside the ledger (%s, key %s)\n",
			eventRange(1, o.Size), on(o.CreatedAt), o.Source, o.Key)
	}
	if st := p.Stored; st != nil && (p.Outside == nil || st.Size > p.Outside.Size) {
		fmt.Fprintf(w, "pinned:     %s by the checkpoint%s stored in the ledger (key %s): this holds only against someone without the signing key\n",
			eventRange(1, st.Size), on(st.CreatedAt), st.Key)
	}
	switch {
	case p.NotPinned > 0 && p.Pinned == 0:
		fmt.Fprintf(w, "not pinned: %s: no trusted checkpoint covers them\n", eventRange(1, res.Events))
	case p.NotPinned > 0 && p.Complete:
		fmt.Fprintf(w, "not pinned: %s, which changed nothing (consultations, records, checkpoints)\n", eventRange(p.Pinned+1, res.Events))
	case p.NotPinned > 0:
		fmt.Fprintf(w, "not pinned: %s, not yet\n", eventRange(p.Pinned+1, res.Events))
	}
	fmt.Fprintln(w, PinStatus(res))
}

// eventRange is "event N" or "events A–B".
func eventRange(a, b int64) string {
	if a == b {
		return "event " + Thousands(a)
	}
	return "events " + Thousands(a) + "–" + Thousands(b)
}

// PinStatus says whether the ledger is pinned in the sense of
// --require-pinned.
func PinStatus(res VerifyResult) string {
	p := res.Pinning
	switch {
	case p.Complete:
		return "every change is pinned by a checkpoint kept outside the ledger"
	case p.Outside != nil:
		return fmt.Sprintf("NOT pinned: event %s (%s) changed the ledger after the newest checkpoint kept outside it",
			Thousands(p.LastChange), p.LastChangeAction)
	case res.Events == 0:
		return "NOT pinned: the ledger is empty, and no checkpoint kept outside it shows whether it ever held events"
	}
	return "NOT pinned: no trusted checkpoint kept outside the ledger, so a truncated or rewritten ledger would verify the same"
}
