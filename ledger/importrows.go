package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Imported rows are recorded by commitment, not by copy.
//
// An import writes one "import.rows" event for each group of up to
// importChunk new devices (each with its disposal) it adds. The event's
// subject is the file name; its payload gives the number of rows, the id
// of the first devices row and of the first disposals row (the rows take
// consecutive ids), and for each row the SHA-256 of the devices row and of
// the disposals row as written (deviceRowHash, disposalRowHash). The
// values themselves are in the devices and disposals tables, once.
//
// This is what the event log needs to be tamper-evident: Verify hashes
// each row again and compares, so a changed, deleted, inserted or
// reordered row is found and named, as for rows whose event holds their
// values. Writing the values into the log as well (one device.import
// event a row, as itad did before) made an import 45% slower and its
// ledger 2.7 times larger; the hashes add about 10% to an import and 24%
// to the ledger (bench/events.sh). What is lost: the log alone cannot
// rebuild a deleted imported row (a backup can), and a changed row is
// named but not the column that changed. The file itself is committed
// too: the import.file event records its SHA-256.
//
// Corrections keep working: a row changed by device.amend, device.serial
// or disposal.amend is hashed again after undoing its amendments, newest
// first, each of which must find the value it set (settle, verifyrows.go).
// A voided row hashes as imported: voided_seq, like is_final, is outside
// the hash and checked on its own (settleVoids, correct.go).

// ImportRowsAction is the action of the events that commit to the rows an
// import adds.
const ImportRowsAction = "import.rows"

// importRowsPayload is the payload of an import.rows event.
type importRowsPayload struct {
	Rows          int   `json:"rows"`
	FirstDevice   int64 `json:"first_device_id"`
	FirstDisposal int64 `json:"first_disposal_id"`
	// SHA-256 of each row, 32 bytes a row, in row order (base64 in JSON).
	DeviceSHA256   []byte `json:"device_sha256"`
	DisposalSHA256 []byte `json:"disposal_sha256"`
}

// check reports what is wrong with a decoded payload, or nil.
func (p *importRowsPayload) check() error {
	switch {
	case p.Rows < 1 || p.Rows > 1<<20:
		return fmt.Errorf("rows is %d", p.Rows)
	case p.FirstDevice < 1 || p.FirstDisposal < 1:
		return fmt.Errorf("first_device_id %d, first_disposal_id %d: ids start at 1", p.FirstDevice, p.FirstDisposal)
	case len(p.DeviceSHA256) != 32*p.Rows || len(p.DisposalSHA256) != 32*p.Rows:
		return fmt.Errorf("%d rows need %d bytes of hashes each, not %d and %d", p.Rows, 32*p.Rows,
			len(p.DeviceSHA256), len(p.DisposalSHA256))
	}
	return nil
}

// The bytes a row hash covers: a domain line, then each column value as
// a 4-byte big-endian length followed by that many bytes. Integers are
// in decimal; NULL is the length 0xFFFFFFFF with no bytes. The encoding
// is injective. Columns that follow from others (serial_key, year,
// fin_year), is_final (later disposals change it) and seq are left out
// and checked by Verify on their own; the ids are fixed by the payload.
const (
	deviceRowDomain   = "itad-device-row-v1\n"
	disposalRowDomain = "itad-disposal-row-v1\n"
)

const hashNull = 0xFFFFFFFF

func appendHashText(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendHashInt(b []byte, n int64, null bool) []byte {
	if null {
		return binary.BigEndian.AppendUint32(b, hashNull)
	}
	at := len(b)
	b = append(b, 0, 0, 0, 0)
	b = strconv.AppendInt(b, n, 10)
	binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	return b
}

// deviceRowHash hashes the columns uuid, serial, asset_tag, type, make,
// model, capacity_gb and site of a devices row. buf is scratch space,
// returned for reuse.
func deviceRowHash(buf []byte, d *devFields) ([32]byte, []byte) {
	b := append(buf[:0], deviceRowDomain...)
	for _, s := range [...]string{d.UUID, d.Serial, d.AssetTag, d.Type, d.Make, d.Model} {
		b = appendHashText(b, s)
	}
	b = appendHashInt(b, d.Cap, d.CapNull)
	b = appendHashText(b, d.Site)
	return sha256.Sum256(b), b
}

// disposalRowHash hashes the columns uuid, method, category, standard,
// tool, verified, contractor_id, disposed_on, weight_g, batch_id,
// operator, witness and notes of a disposals row.
func disposalRowHash(buf []byte, x *dispExp) ([32]byte, []byte) {
	f := &x.f
	b := append(buf[:0], disposalRowDomain...)
	for _, s := range [...]string{f.UUID, f.Method, f.Category, f.Standard, f.Tool, f.Verified} {
		b = appendHashText(b, s)
	}
	b = appendHashInt(b, x.contractorID, false)
	b = appendHashText(b, f.DisposedOn)
	b = appendHashInt(b, f.Weight, f.WeightNull)
	b = appendHashInt(b, x.batchID, x.batchNull)
	for _, s := range [...]string{f.Operator, f.Witness, f.Notes} {
		b = appendHashText(b, s)
	}
	return sha256.Sum256(b), b
}

// devFieldsOf is a devices row's hashed columns.
func devFieldsOf(r *devRow) devFields {
	return devFields{UUID: r.uuid, Serial: r.serial, AssetTag: r.assetTag, Type: r.typ, Make: r.make, Model: r.model,
		Cap: r.cap, CapNull: r.capNull, Site: r.site}
}

// dispExpOf is what a disposals row holds, as an expectation (names
// resolved from ids for messages and amendments).
func (v *verifier) dispExpOf(r *dispRow) dispExp {
	x := dispExp{f: dispFields{UUID: r.uuid, Method: r.method, Category: r.category, Standard: r.standard, Tool: r.tool,
		Verified: r.verified, DisposedOn: r.disposedOn, Weight: r.weight, WeightNull: r.weightNull,
		Operator: r.operator, Witness: r.witness, Notes: r.notes},
		contractorID: r.contractorID, batchID: r.batchID, batchNull: r.batchNull}
	x.f.Contractor = v.cNameByID[r.contractorID]
	if !r.batchNull {
		x.f.Batch = v.bRefByID[r.batchID]
	}
	return x
}

// inverse undoes an amendment: its changes in reverse order, each from
// its new value back to its old one.
func (op amendOp) inverse() amendOp {
	inv := amendOp{seq: op.seq, action: op.action, device: op.device, changes: make([]Change, len(op.changes))}
	for i, c := range op.changes {
		inv.changes[len(op.changes)-1-i] = Change{Field: c.Field, Old: c.New, New: c.Old}
	}
	return inv
}

// ---- replay (Verify) ----

// decodeImportRows decodes and checks an import.rows payload: in one pass
// (fastImportRows) in the form json.Marshal writes, else with
// encoding/json, which gives the same result (FuzzDecodePayload).
func decodeImportRows(b []byte, p *importRowsPayload) error {
	if !fastImportRows(b, p) {
		*p = importRowsPayload{}
		if err := json.Unmarshal(b, p); err != nil {
			return err
		}
	}
	return p.check()
}

func fastImportRows(b []byte, p *importRowsPayload) bool {
	d := jsonDec{b: b}
	*p = importRowsPayload{}
	var got seenKeys
	var null bool
	ok := d.object(func(k string) bool {
		switch k {
		case "rows":
			var n int64
			ok := got.first(0) && d.int(&n, &null)
			p.Rows = int(n)
			return ok
		case "first_device_id":
			return got.first(1) && d.int(&p.FirstDevice, &null)
		case "first_disposal_id":
			return got.first(2) && d.int(&p.FirstDisposal, &null)
		case "device_sha256":
			return got.first(3) && d.base64(&p.DeviceSHA256)
		case "disposal_sha256":
			return got.first(4) && d.base64(&p.DisposalSHA256)
		}
		return false
	})
	return ok && d.end()
}

// rowsImported checks the rows an import.rows event created: the rows
// with its seq and the ids it gives, in order, each hashing to what it
// recorded. A row that does not is settled at the end of the log, when
// its amendments are known.
func (v *verifier) rowsImported(e *evRec, p *importRowsPayload) {
	var h [32]byte
	for i := 0; i < p.Rows; i++ {
		devID, dispID := p.FirstDevice+int64(i), p.FirstDisposal+int64(i)
		var devUUID string // of row devID, for deviceRefs
		want := [32]byte(p.DeviceSHA256[32*i:])
		if r := takeRowAt(v, v.devs, "devices", e, devID, i, p.Rows, devInfo, devKey); r != nil {
			v.nDevices++
			v.deviceSeen(r.id, r.uuid)
			devUUID = r.uuid
			d := devFieldsOf(r)
			h, v.hbuf = deviceRowHash(v.hbuf, &d)
			switch {
			case h != want:
				v.pendingDev[r.id] = &devPending{seq: e.seq, exp: cloneDev(d), row: cloneDevRow(*r), hash: &want}
			case devProblem(r, &d) != "": // a column outside the hash
				v.pendingDev[r.id] = &devPending{seq: e.seq, exp: cloneDev(d), row: cloneDevRow(*r)}
			}
		}
		r := takeRowAt(v, v.disps, "disposals", e, dispID, i, p.Rows, dispInfo, dispKey)
		if r == nil {
			continue
		}
		if r.deviceID != devID {
			v.tableProblem(e.seq, &TableError{Table: "disposals", RowID: r.id, Key: "uuid " + r.uuid, Seq: e.seq,
				Problem: fmt.Sprintf("device_id is %d, event %d imported it with device %d", r.deviceID, e.seq, devID)})
		}
		v.refs.disposal(r.deviceID, devUUID)
		x := v.dispExpOf(r)
		h, v.hbuf = disposalRowHash(v.hbuf, &x)
		var hash *[32]byte
		if want := [32]byte(p.DisposalSHA256[32*i:]); h != want {
			hash = &want
		}
		v.disposalChecked(e, r, &x, hash)
	}
}

// takeRowAt returns row id of s, which event e created as its row i of n,
// reporting the rows before it (no event created them), a wrong seq, and
// a missing row. Rows are created in id order, so the ids tell which row
// is which even when a seq was changed.
func takeRowAt[T any](v *verifier, s *stream[T], table string, e *evRec, id int64, i, n int,
	info func(*T) (id, seq int64), key func(*T) string) *T {
	for {
		r := s.peek()
		if r == nil {
			break
		}
		rid, seq := info(r)
		if rid > id {
			break
		}
		s.pop()
		if rid < id {
			v.extraRow(table, rid, key(r), seq)
			continue
		}
		if seq != e.seq {
			v.tableProblem(e.seq, &TableError{Table: table, RowID: rid, Key: key(r), Seq: e.seq,
				Problem: fmt.Sprintf("seq is %d, but event %d (%s %s) created it, as its row %d of %d", seq, e.seq, e.action, e.subject, i+1, n)})
		}
		return r
	}
	v.tableProblem(e.seq, &TableError{Table: table, Seq: e.seq, Key: fmt.Sprintf("id %d", id),
		Problem: fmt.Sprintf("no row for row %d of %d of event %d (%s %s): deleted, or its id or seq changed", i+1, n, e.seq, e.action, e.subject)})
	return nil
}

// hashProblem says that an imported row no longer hashes to what its
// event recorded, naming the amendments undone.
func hashProblem(seq int64, ops []amendOp) string {
	if len(ops) == 0 {
		return fmt.Sprintf("its values do not hash to what event %d recorded when it was imported: changed behind itad's back", seq)
	}
	var evs []string
	for _, op := range ops {
		evs = append(evs, strconv.FormatInt(op.seq, 10))
	}
	return fmt.Sprintf("its values, with the amendments of events %s undone, do not hash to what event %d recorded when it was imported: "+
		"the row or an amendment was changed behind itad's back", strings.Join(evs, ", "), seq)
}

// unamendDevice undoes the amendments of an imported devices row that
// did not hash to what its event recorded, newest first, and hashes it
// again. It reports the row and returns false if it still does not
// match; otherwise *exp becomes the row as imported.
func (v *verifier) unamendDevice(id int64, p *devPending, exp *devFields) bool {
	d := p.exp
	ops := v.devMods[d.UUID]
	ok := true
	for i := len(ops) - 1; i >= 0 && ok; i-- {
		if ops[i].seq > p.seq {
			ok = applyDeviceChanges(&d, ops[i].inverse().changes, ops[i].action == SerialAction) == ""
		}
	}
	if h, _ := deviceRowHash(nil, &d); !ok || h != *p.hash {
		v.tableProblem(p.seq, &TableError{Table: "devices", RowID: id, Key: "serial " + p.row.serial, Seq: p.seq,
			Problem: hashProblem(p.seq, ops)})
		return false
	}
	*exp = d
	return true
}

// unamendDisposal is unamendDevice for a disposals row.
func (v *verifier) unamendDisposal(id int64, p *dispPending, exp *dispExp) bool {
	x := p.exp
	ops := v.dispMods[x.f.UUID]
	ok := true
	for i := len(ops) - 1; i >= 0 && ok; i-- {
		if ops[i].seq > p.seq {
			ok = v.applyDisposalChanges(&x, ops[i].inverse()) == ""
		}
	}
	if h, _ := disposalRowHash(nil, &x); !ok || h != *p.hash {
		v.tableProblem(p.seq, &TableError{Table: "disposals", RowID: id, Key: "uuid " + p.row.uuid, Seq: p.seq,
			Problem: hashProblem(p.seq, ops)})
		return false
	}
	*exp = x
	return true
}
