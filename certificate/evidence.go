package certificate

import (
	"github.com/itad/itad/ledger"
)

// Evidence on certificates
//
// A device certificate cites the evidence behind its disposal
// (ledger.CertificateData.Evidence): the erasure reports that recorded it
// and the documents attached to the device, each by name, kind and
// SHA-256, with the tool, method and verification a report gave.
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
