package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Verify's replay of the evidence events (evidence.go): each event's
// payload gives the row it wrote (evidenceEvent.values,
// ErasureRecord.values, attachEvent.values), compared column by column
// with the row; every evidence file's bytes are hashed again and
// compared with its sha256. Rows no event wrote and rows missing are
// reported like those of every other table.

// evRowWant is a row an event wrote: its key, columns and seq.
type evRowWant struct {
	vals []string
	seq  int64
}

// evidenceReplay holds the replayed rows of the three tables, by key.
type evidenceReplay struct {
	files    map[string]evRowWant // sha256
	erasures map[string]evRowWant // uuid
	attached map[string]evRowWant // sha256 + " " + device uuid
}

func newEvidenceReplay() *evidenceReplay {
	return &evidenceReplay{files: map[string]evRowWant{}, erasures: map[string]evRowWant{}, attached: map[string]evRowWant{}}
}

// evidenceApply replays one evidence event; it reports whether action is
// one of them.
func (v *verifier) evidenceApply(e *evRec) bool {
	if v.evidence == nil {
		v.evidence = newEvidenceReplay()
	}
	x := v.evidence
	switch e.action {
	case EvidenceAddAction:
		var p evidenceEvent
		if v.decode(e, &p) {
			if _, dup := x.files[p.SHA256]; dup {
				v.chainProblem(e.seq, "adds evidence %s, which an earlier event added", p.SHA256)
			}
			x.files[p.SHA256] = evRowWant{p.values(), e.seq}
		}
	case ErasureAction:
		var p ErasureRecord
		if v.decode(e, &p) {
			if _, ok := x.files[p.Evidence]; !ok {
				v.chainProblem(e.seq, "records an erasure from evidence %s, which no earlier event added", p.Evidence)
			}
			x.erasures[p.UUID] = evRowWant{p.values(), e.seq}
		}
	case EvidenceAttachAction:
		var p attachEvent
		if v.decode(e, &p) {
			if _, ok := x.files[p.SHA256]; !ok {
				v.chainProblem(e.seq, "attaches evidence %s, which no earlier event added", p.SHA256)
			}
			x.attached[p.SHA256+" "+p.Device] = evRowWant{p.values(), e.seq}
		}
	default:
		return false
	}
	return true
}

// evRowGot is a row read from a table.
type evRowGot struct {
	vals []string
	seq  int64
	bad  string
}

// settleEvidence compares the three tables with their replay.
func (v *verifier) settleEvidence() error {
	if v.evidence == nil {
		v.evidence = newEvidenceReplay()
	}
	x := v.evidence
	files := map[string]evRowGot{}
	err := v.readRows("evidence", `SELECT sha256, name, kind, CAST(size AS TEXT), seq, data, typeof(data) FROM evidence`, func(st *rawStmt) {
		r := evRowGot{vals: []string{st.text(0), st.text(1), st.text(2), st.text(3)}, seq: st.int64(4)}
		sum := sha256.Sum256(st.bytes(5))
		if got := hex.EncodeToString(sum[:]); got != r.vals[0] {
			r.bad = fmt.Sprintf("the file's bytes hash to %s, not its sha256: the evidence was changed after it was kept", got)
		} else if st.text(6) != "blob" {
			r.bad = "data has the wrong type"
		}
		files[r.vals[0]] = r
	})
	if err != nil {
		return err
	}
	v.settleEvRows("evidence", "sha256", evidenceCols, files, x.files)
	erasures := map[string]evRowGot{}
	err = v.readRows("erasures", `SELECT e.uuid, coalesce(d.uuid, ''), coalesce(v.sha256, ''), coalesce(x.uuid, ''), e.outcome, e.status, e.detail,
		e.tool, e.method_name, e.method, e.verify, CAST(e.rounds AS TEXT), CAST(e.passes AS TEXT), e.started_at, e.ended_at, e.ended_on,
		e.timezone, e.path, CAST(e.line AS TEXT), e.model, CAST(e.size_bytes AS TEXT), e.seq
		FROM erasures e LEFT JOIN devices d ON d.id = e.device_id LEFT JOIN evidence v ON v.id = e.evidence_id
		LEFT JOIN disposals x ON x.id = e.disposal_id`, func(st *rawStmt) {
		r := evRowGot{seq: st.int64(len(erasureCols))}
		for i := range erasureCols {
			r.vals = append(r.vals, st.text(i))
		}
		erasures[r.vals[0]] = r
	})
	if err != nil {
		return err
	}
	v.settleEvRows("erasures", "uuid", erasureCols, erasures, x.erasures)
	attached := map[string]evRowGot{}
	err = v.readRows("evidence_devices", `SELECT coalesce(v.sha256, ''), coalesce(d.uuid, ''), a.seq FROM evidence_devices a
		LEFT JOIN evidence v ON v.id = a.evidence_id LEFT JOIN devices d ON d.id = a.device_id`, func(st *rawStmt) {
		r := evRowGot{vals: []string{st.text(0), st.text(1)}, seq: st.int64(2)}
		attached[r.vals[0]+" "+r.vals[1]] = r
	})
	if err != nil {
		return err
	}
	v.settleEvRows("evidence_devices", "evidence and device", attachCols, attached, x.attached)
	return nil
}

// settleEvRows reports rows missing, rows no event wrote, and columns that
// differ from what their event wrote.
func (v *verifier) settleEvRows(table, keyName string, cols []string, rows map[string]evRowGot, replay map[string]evRowWant) {
	keys := make([]string, 0, len(replay))
	for k := range replay {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return replay[keys[i]].seq < replay[keys[j]].seq })
	for _, k := range keys {
		want := replay[k]
		got, ok := rows[k]
		key := keyName + " " + k
		te := &TableError{Table: table, Key: key, Seq: want.seq}
		switch {
		case !ok:
			te.Problem = fmt.Sprintf("no row, but event %d wrote it", want.seq)
		case got.bad != "":
			te.Problem = got.bad
		case got.seq != want.seq:
			te.Problem = colMismatch("seq", got.seq, want.seq)
		default:
			var diffs []string
			for i, c := range cols {
				if got.vals[i] != want.vals[i] {
					diffs = append(diffs, colMismatch(c, got.vals[i], want.vals[i]))
				}
			}
			te.Problem = strings.Join(diffs, "; ")
		}
		if te.Problem != "" {
			v.tableProblem(want.seq, te)
		}
		v.res.Rows[table]++
	}
	extra := make([]string, 0)
	for k := range rows {
		if _, ok := replay[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		v.tableProblem(rows[k].seq, &TableError{Table: table, Key: keyName + " " + k, Seq: rows[k].seq,
			Problem: "no event wrote this row (inserted, or its deletion was not recorded)"})
	}
}
