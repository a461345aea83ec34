package certificate

import (
	"fmt"
	"strings"

	"github.com/itad/itad/ledger"
)

// Evidence on certificates
//
// A device certificate cites the evidence behind its disposal
// (ledger.CertificateData.Evidence): the erasure reports that recorded it
// and the documents attached to the device, each by name, kind and
// SHA-256, with the tool, method and verification a report gave. A batch
// certificate cites the evidence behind its items the same way (one entry
// per file and serial) and prints it compactly after the schedule: per
// file its name, kind, SHA-256 and the serials it covers.
//
// In the content encoding (EncodeContent) the evidence follows the items,
// only when there is any: a count, then per file 7 strings: serial, name,
// kind, sha256, tool, method, verification. A certificate without
// evidence encodes exactly as before, so certificates issued earlier keep
// their content hashes; one with evidence has more bytes after the items,
// so the encoding stays injective.
func encodeEvidence(e *encoder, d ledger.CertificateData) {
	if len(d.Evidence) == 0 {
		return
	}
	e.count(len(d.Evidence))
	for _, x := range d.Evidence {
		e.str(x.Serial, x.Name, x.Kind, x.SHA256, x.Tool, x.Method, x.Verification)
	}
}

// evidenceBlock draws the "Evidence" rows of the sanitisation section:
// one row per file (name and kind; SHA-256 in Courier), and for a report
// the tool, method and verification it recorded. Nothing without evidence.
func (r *renderer) evidenceBlock() {
	ev := r.c.Data.Evidence
	if len(ev) == 0 {
		return
	}
	r.section("Evidence", 12)
	for _, x := range ev {
		r.pair(kv{"Evidence file", x.Name, false}, kv{"Kind", evidenceKind(x.Kind), false})
		r.field(bodyW, "SHA-256", x.SHA256, true)
		if x.Tool != "" || x.Method != "" {
			r.pair(kv{"Erasure tool", x.Tool, false}, kv{"Method / verification", joinNonEmpty(", ", x.Method, x.Verification), false})
		}
	}
}

// evidenceKind names an evidence kind for the certificate.
func evidenceKind(k string) string {
	switch k {
	case ledger.EvidenceNwipeLog:
		return "nwipe log (erasure report)"
	case ledger.EvidenceNwipeJSON:
		return "nwipe JSON report (erasure report)"
	case ledger.EvidenceBlancco:
		return "Blancco report (erasure report)"
	case ledger.EvidenceNwipePDF:
		return "nwipe PDF report (erasure report)"
	case ledger.EvidenceContractorCertificate:
		return "Contractor's certificate"
	case ledger.EvidenceWeighbridgeTicket:
		return "Weighbridge ticket"
	case ledger.EvidencePhoto:
		return "Photograph"
	}
	return "Other document"
}

// evidenceBlock3 is evidenceBlock in layout 3's wrapping grid (layout3.go):
// one row per file (name and kind; SHA-256 in the monospaced font), and
// for a report the tool, method and verification it recorded.
func (r *renderer) evidenceBlock3() {
	ev := r.c.Data.Evidence
	if len(ev) == 0 {
		return
	}
	r.section3("Evidence", 12, bodyW)
	for _, x := range ev {
		r.row3(bodyW, kvv("Evidence file", x.Name), kvv("Kind", evidenceKind(x.Kind)))
		r.row3(bodyW, kv3{label: "SHA-256", value: x.SHA256, mono: true})
		if x.Tool != "" || x.Method != "" {
			r.row3(bodyW, kvv("Erasure tool", x.Tool))
			r.row3(bodyW, kvv("Method / verification", joinNonEmpty(", ", x.Method, x.Verification)))
		}
	}
}

// batchSerialsPerRow is how many serials one "Serials" row of a batch's
// evidence holds: a row never splits across pages, so a file covering
// thousands of devices takes many short rows.
const batchSerialsPerRow = 24

// evidenceFile is one evidence file of a batch certificate and the
// serials it covers, in the data's order.
type evidenceFile struct {
	ledger.CertificateEvidence
	serials []string
}

// evidenceFiles groups a batch certificate's evidence by file (SHA-256),
// in the order the files first appear, each serial once.
func evidenceFiles(ev []ledger.CertificateEvidence) []evidenceFile {
	var out []evidenceFile
	at := map[string]int{}
	seen := map[[2]string]bool{}
	for _, x := range ev {
		i, ok := at[x.SHA256]
		if !ok {
			i = len(out)
			at[x.SHA256] = i
			out = append(out, evidenceFile{CertificateEvidence: x})
		}
		if k := [2]string{x.SHA256, x.Serial}; !seen[k] {
			seen[k] = true
			out[i].serials = append(out[i].serials, x.Serial)
		}
	}
	return out
}

// batchEvidence3 draws a batch certificate's "Evidence" section in layout
// 3: per file a row with its name and kind, one with its SHA-256 in the
// monospaced font, and rows of the serials it covers. Nothing without
// evidence, so a batch certificate without any renders as before.
func (r *renderer) batchEvidence3() {
	files := evidenceFiles(r.c.Data.Evidence)
	if len(files) == 0 {
		return
	}
	r.section3(fmt.Sprintf("Evidence (%s)", ledger.CountOf(int64(len(files)), "file", "files")), 12, bodyW)
	for _, f := range files {
		r.row3(bodyW, kvv("Evidence file", f.Name), kvv("Kind", evidenceKind(f.Kind)))
		r.row3(bodyW, kv3{label: "SHA-256", value: f.SHA256, mono: true})
		for i := 0; i < len(f.serials); i += batchSerialsPerRow {
			label := ""
			if i == 0 {
				label = fmt.Sprintf("Serials (%s)", ledger.FormatCount(int64(len(f.serials))))
			}
			r.row3(bodyW, kvv(label, strings.Join(f.serials[i:min(i+batchSerialsPerRow, len(f.serials))], ", ")))
		}
	}
}
