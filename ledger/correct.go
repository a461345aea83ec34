package ledger

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Corrections beyond amendment: void, serial correction, batch amendment
//
// Like an amendment (amend.go), each is an event written in the same
// transaction as the row change it makes, with a mandatory reason, and
// nothing is deleted. The events, and the row changes Verify replays:
//
// Event disposal.void, subject the serial, payload
//
//	{"device":"<device uuid>","disposal":"<disposal uuid>"}
//
// sets disposals.voided_seq of that disposal to the event's seq (it is 0
// while the disposal stands) and recomputes the device's final
// disposition over its disposals that are not void: a voided disposal is
// never final, so it leaves every report, export and FOI answer (they
// read final dispositions), and certificates and batch totals skip it. A
// device whose every disposal is void has no final disposition. A
// disposal is voided once; a voided disposal cannot be amended.
//
// Event device.serial, subject the serial before the correction, payload
// (amendPayload, the form of device.amend)
//
//	{"device":"<device uuid>","changes":[{"field":"serial","old":"SN-12","new":"SN-21"}]}
//
// sets devices.serial to the new serial and serial_key to its SerialKey.
// The new serial must not be another device's. The old serial stays
// findable: History and AuditLog resolve a serial that a correction took
// away to the corrected device (deviceByAnySerial), and list the events
// of every serial the device has had. Another device may later be
// recorded with the old serial with 'device add' (then that serial finds
// it), but an import refuses a row with it: a re-import of the file with
// the old serial must not record the corrected device a second time.
//
// Event batch.amend, subject the batch reference, payload
//
//	{"batch":"<batch uuid>","changes":[{"field":"gross_weight_grams","old":"150000","new":"152000"}]}
//
// changes the batch's fields of BatchAmendFields (open or closed), each
// change with its old and new value as text, in that order: contractor
// by name ("" for none), run_on an ISO date or "", gross_weight_grams
// decimal grams or "" (not weighed). The same field code (batchField,
// setBatchField) serves the writer and Verify's replay.

// Actions of the corrections.
const (
	VoidAction        = "disposal.void"
	SerialAction      = "device.serial"
	BatchAmendAction  = "batch.amend"
	serialField       = "serial"
	grossWeightField  = "gross_weight_grams"
	contractorFieldBA = "contractor"
)

// BatchAmendFields are the batch fields batch amend may change.
var BatchAmendFields = []string{"site", contractorFieldBA, "run_on", "witness", grossWeightField}

// voidPayload is the payload of disposal.void.
type voidPayload struct {
	Device   string `json:"device"`
	Disposal string `json:"disposal"`
}

// batchAmendPayload is the payload of batch.amend.
type batchAmendPayload struct {
	Batch   string   `json:"batch"`
	Changes []Change `json:"changes"`
}

// Void says that a disposal was voided: by whom, when and why.
type Void struct {
	Seq    int64     `json:"seq"` // the disposal.void event
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Reason string    `json:"reason"`
}

// ErrVoided is returned for a change to a voided disposal.
var ErrVoided = errors.New("disposal is void")

// VoidDisposal voids the disposal with that uuid: it stays in the
// device's history, marked void, and leaves reports, exports, FOI
// answers, certificates and batch totals; the device's final disposition
// is recomputed. It returns the voided disposal. It returns ErrInvalid
// for an empty reason, ErrNotFound for an unknown disposal and ErrVoided
// for one voided already.
func (s *Store) VoidDisposal(uuid, reason string) (Disposal, error) {
	reason, err := amendReason(reason)
	if err != nil {
		return Disposal{}, err
	}
	uuid = strings.ToLower(strings.TrimSpace(uuid))
	var p Disposal
	err = s.write(reason, func(t *txn) error {
		ps, err := queryDisposals(t.tx, `WHERE x.uuid = ?`, uuid)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			return notFound("disposal", uuid)
		}
		p = ps[0]
		if p.Void != nil {
			return fmt.Errorf("disposal %s of %s: %w already (event #%d, %s: %s)", uuid, p.Serial, ErrVoided,
				p.Void.Seq, p.Void.At.Format(time.DateOnly), p.Void.Reason)
		}
		var id, devID int64
		var devUUID string
		if err := t.tx.QueryRow(`SELECT x.id, d.id, d.uuid FROM disposals x JOIN devices d ON d.id = x.device_id WHERE x.uuid = ?`, uuid).
			Scan(&id, &devID, &devUUID); err != nil {
			return fmt.Errorf("read disposal %s: %w", uuid, err)
		}
		oldFinal, oldFinalBatch, err := t.finalOf(devID)
		if err != nil {
			return err
		}
		var batchID *int64
		if err := t.tx.QueryRow(`SELECT batch_id FROM disposals WHERE id = ?`, id).Scan(&batchID); err != nil {
			return fmt.Errorf("read disposal %s: %w", uuid, err)
		}
		seq, err := t.appendEvent(VoidAction, p.Serial, voidPayload{Device: devUUID, Disposal: p.UUID})
		if err != nil {
			return err
		}
		if err := t.touchSummary([]int64{devID}); err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE disposals SET voided_seq = ? WHERE id = ?`, seq, id); err != nil {
			return fmt.Errorf("void disposal %s: %w", uuid, err)
		}
		if err := t.refreshFinal(devID); err != nil {
			return err
		}
		// The certificates that printed it, or whose final dispositions
		// and shares of a run's weight it changes (stale.go).
		what := fmt.Sprintf("disposal %s of %s voided", p.UUID, p.Serial)
		if err := t.staleBatch(batchID, what); err != nil {
			return err
		}
		if err := t.staleFinal(devID, oldFinal, oldFinalBatch, what); err != nil {
			return err
		}
		p.Final = false
		p.Void = &Void{Seq: seq, At: t.now, Actor: t.actor, Reason: reason}
		return nil
	})
	return p, err
}

// correctSerial records a device.serial event changing the serial of the
// device (row id) from cur.Serial to serial, and updates its row.
func (t *txn) correctSerial(cur *Device, id int64, serial string) (Change, error) {
	next := *cur
	next.Serial = serial
	if err := next.Validate(); err != nil {
		return Change{}, err
	}
	if next.Serial == cur.Serial {
		return Change{}, fmt.Errorf("%w: device %s already has that serial: nothing to change", ErrInvalid, cur.Serial)
	}
	if SerialKey(next.Serial) != SerialKey(cur.Serial) {
		other, _, err := t.deviceBySerial(next.Serial)
		if err == nil {
			return Change{}, fmt.Errorf("serial %s: %w (recorded as %s): a serial names one device", next.Serial, ErrDuplicateSerial, other.describe())
		}
		if !errors.Is(err, ErrNotFound) {
			return Change{}, err
		}
	}
	c := Change{Field: serialField, Old: cur.Serial, New: next.Serial}
	if _, err := t.appendEvent(SerialAction, cur.Serial, amendPayload{Device: cur.UUID, Changes: []Change{c}}); err != nil {
		return Change{}, err
	}
	if err := t.touchSummary([]int64{id}); err != nil { // its serial orders its runs' shares
		return Change{}, err
	}
	if _, err := t.exec(`UPDATE devices SET serial = ?, serial_key = ? WHERE id = ?`, next.Serial, SerialKey(next.Serial), id); err != nil {
		if isConstraint(err) {
			return Change{}, fmt.Errorf("serial %s: %w", next.Serial, ErrDuplicateSerial)
		}
		return Change{}, fmt.Errorf("correct serial of %s: %w", cur.Serial, err)
	}
	// A certificate names the device by its serial (stale.go).
	if err := t.staleDevice(id, fmt.Sprintf("serial of %s corrected to %s", cur.Serial, next.Serial)); err != nil {
		return Change{}, err
	}
	cur.Serial = next.Serial
	return c, nil
}

// serialCorrection is one device.serial event.
type serialCorrection struct {
	seq      int64
	device   string // uuid
	old, new string
}

// serialCorrections reads every device.serial event, in order (they are
// few, and indexed by action), optionally of one device only.
func serialCorrections(q querier, deviceUUID string) ([]serialCorrection, error) {
	rows, err := q.Query(`SELECT seq, payload FROM events WHERE action = ? ORDER BY seq`, SerialAction)
	if err != nil {
		return nil, fmt.Errorf("read serial corrections: %w", err)
	}
	defer rows.Close()
	var out []serialCorrection
	for rows.Next() {
		var seq int64
		var b []byte
		if err := rows.Scan(&seq, &b); err != nil {
			return nil, err
		}
		var p amendPayload
		if err := json.Unmarshal(b, &p); err != nil || len(p.Changes) != 1 || p.Changes[0].Field != serialField {
			return nil, fmt.Errorf("%w: event %d (%s) cannot be read", ErrTampered, seq, SerialAction)
		}
		if deviceUUID == "" || p.Device == deviceUUID {
			out = append(out, serialCorrection{seq: seq, device: p.Device, old: p.Changes[0].Old, new: p.Changes[0].New})
		}
	}
	return out, rows.Err()
}

// deviceByAnySerial finds the device that has serial now or, if none
// does, the device a correction took it away from (the latest).
func deviceByAnySerial(q querier, serial string) (Device, int64, error) {
	// A row an older ledger keyed by the legacy fold (refold.go) is found
	// by its own spelling first.
	d, id, err := scanDevice(q.QueryRow(`SELECT `+deviceCols+` FROM devices WHERE serial_key IN (?, ?) ORDER BY serial_key <> ? LIMIT 1`,
		legacySerialKey(serial), SerialKey(serial), legacySerialKey(serial)))
	if !errors.Is(err, sql.ErrNoRows) {
		return d, id, err
	}
	cs, err := serialCorrections(q, "")
	if err != nil {
		return d, 0, err
	}
	k := SerialKey(serial)
	for i := len(cs) - 1; i >= 0; i-- {
		if SerialKey(cs[i].old) != k {
			continue
		}
		d, id, err := scanDevice(q.QueryRow(`SELECT `+deviceCols+` FROM devices WHERE uuid = ?`, cs[i].device))
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		return d, id, err
	}
	return d, 0, notFound("device", serial)
}

// formerSerials returns the serial keys corrections took away from a
// device and no device has now, each with the correction (for imports).
func formerSerials(q querier) (map[string]serialCorrection, error) {
	cs, err := serialCorrections(q, "")
	if err != nil {
		return nil, err
	}
	out := map[string]serialCorrection{}
	for _, c := range cs {
		out[SerialKey(c.old)] = c
		delete(out, SerialKey(c.new))
	}
	return out, nil
}

// deviceEventsWhere returns an SQL condition on events selecting those
// about the device (row id, uuid, current serial): the event that created
// it, its serial corrections, and events whose subject is a serial it had
// while it had it (another device may have had the serial before, or
// after, it).
func deviceEventsWhere(q querier, id int64, d Device) (string, []any, error) {
	var created int64
	if err := q.QueryRow(`SELECT seq FROM devices WHERE id = ?`, id).Scan(&created); err != nil {
		return "", nil, fmt.Errorf("read device %s: %w", d.Serial, err)
	}
	cs, err := serialCorrections(q, d.UUID)
	if err != nil {
		return "", nil, err
	}
	serial := d.Serial
	if len(cs) > 0 {
		serial = cs[0].old
	}
	conds := []string{"seq = ?"}
	args := []any{created}
	lo := created
	for _, c := range cs {
		conds = append(conds, "seq = ?", "(subject = ? AND seq >= ? AND seq < ?)")
		args = append(args, c.seq, serial, lo, c.seq)
		serial, lo = c.new, c.seq
	}
	conds = append(conds, "(subject = ? AND seq >= ?)")
	args = append(args, serial, lo)
	return "(" + strings.Join(conds, " OR ") + ")", args, nil
}

// FormerSerials returns the serials a device had before corrections, oldest
// first (for display).
func (s *Store) FormerSerials(deviceUUID string) ([]string, error) {
	cs, err := serialCorrections(s.db, deviceUUID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.old)
	}
	return out, nil
}

// ---- batch amendment ----

// batchField returns a batch field as batch.amend records it.
func batchField(b *Batch, f string) string {
	switch f {
	case "site":
		return b.Site
	case contractorFieldBA:
		return b.Contractor
	case "run_on":
		return b.RunOn
	case "witness":
		return b.Witness
	case grossWeightField:
		return fmtOptInt(b.GrossWeightG)
	}
	return ""
}

// setBatchField sets a batch field from its text as batch.amend records
// it; it reports an unknown field or a value that cannot be one.
func setBatchField(b *Batch, f, v string) error {
	switch f {
	case "site":
		b.Site = v
	case contractorFieldBA:
		b.Contractor = v
	case "run_on":
		b.RunOn = v
	case "witness":
		b.Witness = v
	case grossWeightField:
		n, err := parseOptInt(grossWeightField, v)
		if err != nil {
			return err
		}
		b.GrossWeightG = n
	default:
		return fmt.Errorf("%w: cannot amend batch field %q (fields: %s)", ErrInvalid, f, strings.Join(BatchAmendFields, ", "))
	}
	return nil
}

// AmendBatch corrects the batch with reference ref, open or closed: set
// maps fields of BatchAmendFields to new values (gross_weight_grams in
// grams, "" for not weighed; contractor "" for none). It returns the
// corrected batch and the changes recorded. It returns ErrNotFound for an
// unknown batch or contractor and ErrInvalid for an empty reason, an
// unknown field, an invalid value or no actual change.
func (s *Store) AmendBatch(ref string, set map[string]string, reason string) (Batch, []Change, error) {
	return s.AmendBatchOpts(ref, set, reason, false)
}

// AmendBatchOpts is AmendBatch with the override of the weight rules
// (rules.go): a corrected date must be plausible, and a corrected gross
// weight plausible for the run's items unless allowUnusualWeight.
func (s *Store) AmendBatchOpts(ref string, set map[string]string, reason string, allowUnusualWeight bool) (Batch, []Change, error) {
	reason, err := amendReason(reason)
	if err != nil {
		return Batch{}, nil, err
	}
	if err := checkAmendFields(set, BatchAmendFields); err != nil {
		return Batch{}, nil, err
	}
	var next Batch
	var changes []Change
	err = s.write(reason, func(t *txn) error {
		cur, id, err := t.batchByRef(ref)
		if err != nil {
			return err
		}
		next = cur
		for _, f := range BatchAmendFields {
			if v, ok := set[f]; ok {
				if err := setBatchField(&next, f, strings.TrimSpace(v)); err != nil {
					return err
				}
			}
		}
		if err := next.Validate(); err != nil {
			return err
		}
		var cID *int64
		if next.Contractor != "" {
			var id int64
			if err := t.tx.QueryRow(`SELECT id, name FROM contractors WHERE name_key = ?`, NameKey(next.Contractor)).Scan(&id, &next.Contractor); err != nil {
				return notFound("contractor", next.Contractor)
			}
			cID = &id
		}
		for _, f := range BatchAmendFields {
			if o, n := batchField(&cur, f), batchField(&next, f); o != n {
				changes = append(changes, Change{Field: f, Old: o, New: n})
			}
		}
		if len(changes) == 0 {
			return fmt.Errorf("%w: batch %s already has those values: nothing to change", ErrInvalid, cur.Ref)
		}
		for _, ch := range changes {
			switch {
			case ch.Field == "run_on" && ch.New != "":
				if err := CheckRecordDate("run_on", ch.New, t.now); err != nil {
					return err
				}
			case ch.Field == grossWeightField:
				items, err := t.batchItemTypes(id)
				if err != nil {
					return err
				}
				if err := checkGross(next.GrossWeightG, items, allowUnusualWeight); err != nil {
					return err
				}
			}
		}
		if _, err := t.appendEvent(BatchAmendAction, cur.Ref, batchAmendPayload{Batch: cur.UUID, Changes: changes}); err != nil {
			return err
		}
		if err := t.touchSummary(nil, id); err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE batches SET site = ?, contractor_id = ?, run_on = ?, witness = ?, gross_weight_g = ? WHERE id = ?`,
			next.Site, cID, next.RunOn, next.Witness, next.GrossWeightG, id); err != nil {
			return err
		}
		var fields []string
		for _, ch := range changes {
			fields = append(fields, ch.Field)
		}
		return t.staleRun(id, fmt.Sprintf("batch %s amended (%s)", cur.Ref, strings.Join(fields, ", ")))
	})
	return next, changes, err
}

// ---- replay (Verify) ----

// batchOf gives a replayed batch as a Batch, so that the replay goes
// through the field code the writer uses.
func (x *batchExp) batchOf() Batch {
	return Batch{Site: x.site, Contractor: x.contractor, RunOn: x.runOn, Witness: x.witness, GrossWeightG: x.gross}
}

// batchAmended replays a batch.amend: each change's old value must be
// what the events so far left; a contractor must exist at that point.
func (v *verifier) batchAmended(e *evRec) {
	var p batchAmendPayload
	if !v.decode(e, &p) {
		return
	}
	x := v.batchByUUID[p.Batch]
	if x == nil {
		v.chainProblem(e.seq, "%s names batch %s, which no event created", e.action, p.Batch)
		return
	}
	b := x.batchOf()
	for _, c := range p.Changes {
		cur := batchField(&b, c.Field)
		same := cur == c.Old
		if c.Field == contractorFieldBA {
			same = NameKey(cur) == NameKey(c.Old)
		}
		if err := setBatchField(&b, c.Field, c.New); err != nil {
			v.chainProblem(e.seq, "%s of %s: %v", e.action, x.ref, err)
			return
		}
		if !same {
			v.chainProblem(e.seq, "%s of %s: %s was %q, but the ledger held %q", e.action, x.ref, c.Field, c.Old, cur)
			return
		}
		if x.setBy == nil {
			x.setBy = map[string]int64{}
		}
		x.setBy[c.Field] = e.seq
	}
	if b.Contractor != x.contractor {
		x.contractorID = nil
		if b.Contractor != "" {
			id := int64(0)
			if r, ok := resolveName(v.cCache, v.cByKey, b.Contractor, e.seq); ok {
				id = r.id
			} else {
				v.chainProblem(e.seq, "%s of %s: contractor %q did not exist", e.action, x.ref, b.Contractor)
			}
			x.contractorID = &id
		}
	}
	x.site, x.contractor, x.runOn, x.witness, x.gross = b.Site, b.Contractor, b.RunOn, b.Witness, b.GrossWeightG
}

// voided notes a disposal.void, settled at the end (settleVoids).
func (v *verifier) voided(e *evRec) {
	var p voidPayload
	if !v.decode(e, &p) {
		return
	}
	if prev, ok := v.voids[p.Disposal]; ok {
		v.chainProblem(e.seq, "%s of %s: voided already by event %d", e.action, p.Disposal, prev.seq)
		return
	}
	v.voids[p.Disposal] = voidOp{seq: e.seq, device: p.Device}
}

// voidOp is one disposal.void event.
type voidOp struct {
	seq    int64
	device string
}

// settleVoids checks that each voided disposal's row names its void
// event in voided_seq, and that no other row claims to be void.
func (v *verifier) settleVoids() error {
	for _, uuid := range sortedKeys(v.voids) {
		op := v.voids[uuid]
		var r dispRow
		found, err := v.pointRow(`SELECT `+dispCols+` FROM disposals WHERE uuid = ?`, uuid, func(st *rawStmt) { scanDispRow(st, &arena{}, &r) })
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		if !found {
			v.chainProblem(op.seq, "%s names disposal %s, which has no row", VoidAction, uuid)
			continue
		}
		switch {
		case r.seq > op.seq:
			v.chainProblem(op.seq, "%s of %s comes before the disposal was recorded (event %d)", VoidAction, uuid, r.seq)
		case !v.deviceIs(r.deviceID, op.device):
			v.tableProblem(op.seq, &TableError{Table: "disposals", RowID: r.id, Key: "uuid " + uuid, Seq: op.seq,
				Problem: fmt.Sprintf("device_id %d is not device %s that event %d names", r.deviceID, op.device, op.seq)})
		case r.voidedSeq != op.seq:
			v.tableProblem(op.seq, &TableError{Table: "disposals", RowID: r.id, Key: "uuid " + uuid, Seq: op.seq,
				Problem: colMismatch("voided_seq", r.voidedSeq, op.seq) + fmt.Sprintf(" (event %d voided it)", op.seq)})
		}
		if ops := v.dispMods[uuid]; len(ops) > 0 && ops[len(ops)-1].seq > op.seq {
			v.chainProblem(ops[len(ops)-1].seq, "disposal.amend of %s after it was voided (event %d)", uuid, op.seq)
		}
	}
	ids := make([]int64, 0, len(v.voidRows))
	for id := range v.voidRows {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		r := v.voidRows[id]
		if op, ok := v.voids[r.uuid]; ok && op.seq == r.voidedSeq {
			continue
		}
		v.tableProblem(r.seq, &TableError{Table: "disposals", RowID: id, Key: "uuid " + r.uuid, Seq: r.seq,
			Problem: fmt.Sprintf("voided_seq is %d, but no %s event voided it", r.voidedSeq, VoidAction)})
	}
	return nil
}

// voidRow is a disposals row marked void, as read.
type voidRow struct {
	uuid           string
	seq, voidedSeq int64
}
