package ledger

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Corrections
//
// Nothing in the ledger is overwritten without a record. A wrong device
// or disposal is corrected by an amendment: an event holding each changed
// field's old and new value, written in the same transaction as the
// update of the row, with a mandatory reason. Reports read the corrected
// rows; the device's history shows the events; Verify replays them.
//
// Event device.amend, subject the serial, payload
//
//	{"device":"<device uuid>","changes":[{"field":"model","old":"A","new":"B"}]}
//
// and event disposal.amend, subject the serial, payload
//
//	{"device":"<device uuid>","disposal":"<disposal uuid>","changes":[...]}
//
// Changes are listed in the order of DeviceAmendFields or
// DisposalAmendFields, only fields whose value changes. Every value is a
// string: capacity_gb and weight_grams are decimal integers ("" when not
// recorded), contractor and batch the name and reference as recorded in
// their tables. A changed method changes the category with it, a changed
// date the year columns; the device's final disposition is recomputed.

// Change is one corrected field: its value before and after.
type Change struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// amendPayload is the payload of device.amend and disposal.amend.
type amendPayload struct {
	Device   string   `json:"device"`
	Disposal string   `json:"disposal,omitempty"`
	Changes  []Change `json:"changes"`
}

// DeviceAmendFields are the device fields a device.amend may change (the
// serial, the device's identity, is corrected by its own event,
// device.serial: correct.go).
var DeviceAmendFields = []string{"asset_tag", "type", "make", "model", "capacity_gb", "site"}

// DisposalAmendFields are the disposal fields an amendment may change.
var DisposalAmendFields = []string{"method", "disposed_on", "contractor", "standard", "tool", "verified",
	"weight_grams", "batch", "operator", "witness", "notes"}

// checkReason requires a reason for a correction.
func amendReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", fmt.Errorf("%w: a reason is required for a correction", ErrInvalid)
	}
	if len(reason) > 1024 {
		return "", fmt.Errorf("%w: reason is longer than 1024 bytes", ErrInvalid)
	}
	return reason, nil
}

func checkAmendFields(set map[string]string, allowed []string) error {
	if len(set) == 0 {
		return fmt.Errorf("%w: nothing to change (fields: %s)", ErrInvalid, strings.Join(allowed, ", "))
	}
	for k := range set {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			return fmt.Errorf("%w: cannot amend %q (fields: %s)", ErrInvalid, k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func fmtOptInt(n *int64) string {
	if n == nil {
		return ""
	}
	return strconv.FormatInt(*n, 10)
}

func parseOptInt(field, s string) (*int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%w: %s %q is not a whole number", ErrInvalid, field, s)
	}
	return &n, nil
}

// deviceField returns a device field as an amendment records it.
func deviceField(d *Device, f string) string {
	switch f {
	case "asset_tag":
		return d.AssetTag
	case "type":
		return string(d.Type)
	case "make":
		return d.Make
	case "model":
		return d.Model
	case "capacity_gb":
		return fmtOptInt(d.CapacityGB)
	case "site":
		return d.Site
	}
	return ""
}

// AmendDevice corrects the device with serial: set maps fields of
// DeviceAmendFields to new values ("" clears an optional one), and
// "serial" to a corrected serial, recorded first as its own device.serial
// event (correct.go), in the same transaction. It returns the corrected
// device and the changes recorded. It returns ErrNotFound for an unknown
// serial, ErrDuplicateSerial for a new serial another device has, and
// ErrInvalid for an empty reason, an unknown field, an invalid value, no
// actual change, or a type that a recorded disposal's method cannot
// sanitise.
func (s *Store) AmendDevice(serial string, set map[string]string, reason string) (Device, []Change, error) {
	reason, err := amendReason(reason)
	if err != nil {
		return Device{}, nil, err
	}
	newSerial, reserial := set[serialField]
	if reserial {
		rest := map[string]string{}
		for k, v := range set {
			if k != serialField {
				rest[k] = v
			}
		}
		set = rest
	}
	if !reserial || len(set) > 0 {
		if err := checkAmendFields(set, DeviceAmendFields); err != nil {
			return Device{}, nil, err
		}
	}
	var next Device
	var changes []Change
	err = s.write(reason, func(t *txn) error {
		cur, id, err := t.deviceBySerial(serial)
		if err != nil {
			return err
		}
		if reserial {
			c, err := t.correctSerial(&cur, id, newSerial)
			if err != nil {
				return err
			}
			changes = append(changes, c)
			if len(set) == 0 {
				next = cur
				return nil
			}
		}
		next = cur
		for f, v := range set {
			switch f {
			case "asset_tag":
				next.AssetTag = v
			case "type":
				next.Type = DeviceType(v)
			case "make":
				next.Make = v
			case "model":
				next.Model = v
			case "capacity_gb":
				if next.CapacityGB, err = parseOptInt("capacity_gb", v); err != nil {
					return err
				}
			case "site":
				next.Site = v
			}
		}
		if err := next.Validate(); err != nil {
			return err
		}
		if next.Type != cur.Type {
			ps, err := queryDisposals(t.tx, `WHERE x.device_id = ?`, id)
			if err != nil {
				return err
			}
			for _, p := range ps {
				if err := CheckMethodForType(p.Method, next.Type); err != nil {
					return fmt.Errorf("%w (disposal %s of %s)", err, p.UUID, p.DisposedOn)
				}
			}
		}
		var amended []Change
		for _, f := range DeviceAmendFields {
			if o, n := deviceField(&cur, f), deviceField(&next, f); o != n {
				amended = append(amended, Change{Field: f, Old: o, New: n})
			}
		}
		if len(amended) == 0 {
			return fmt.Errorf("%w: device %s already has those values: nothing to change", ErrInvalid, cur.Serial)
		}
		changes = append(changes, amended...)
		if _, err := t.appendEvent("device.amend", cur.Serial, amendPayload{Device: cur.UUID, Changes: amended}); err != nil {
			return err
		}
		if err := t.staleDevice(id, fmt.Sprintf("device %s amended (%s)", cur.Serial, changedFields(changes))); err != nil {
			return err
		}
		if err := t.touchSummary([]int64{id}); err != nil {
			return err
		}
		_, err = t.exec(`UPDATE devices SET asset_tag = ?, type = ?, make = ?, model = ?, capacity_gb = ?, site = ? WHERE id = ?`,
			next.AssetTag, string(next.Type), next.Make, next.Model, next.CapacityGB, next.Site, id)
		return err
	})
	return next, changes, err
}

// disposalField returns a disposal field as an amendment records it.
func disposalField(p *Disposal, f string) string {
	switch f {
	case "method":
		return string(p.Method)
	case "disposed_on":
		return p.DisposedOn
	case "contractor":
		return p.Contractor
	case "standard":
		return p.Standard
	case "tool":
		return p.Tool
	case "verified":
		return p.Verified
	case "weight_grams":
		return fmtOptInt(p.WeightG)
	case "batch":
		return p.Batch
	case "operator":
		return p.Operator
	case "witness":
		return p.Witness
	case "notes":
		return p.Notes
	}
	return ""
}

// AmendDisposal corrects the disposal with that uuid: set maps fields of
// DisposalAmendFields to new values (weight_grams in grams, "" for not
// weighed; batch "" to take it out of its batch). The contractor and
// batch must exist. It returns the corrected disposal and the changes
// recorded, and recomputes the device's final disposition. It returns
// ErrNotFound for an unknown disposal, contractor or batch, and
// ErrInvalid for an empty reason, an unknown field, an invalid value, no
// actual change, or a method that cannot sanitise the device's type. See
// AmendDisposalOpts for the rules a correction keeps.
func (s *Store) AmendDisposal(uuid string, set map[string]string, reason string) (Disposal, []Change, error) {
	return s.AmendDisposalOpts(uuid, set, reason, RecordOptions{})
}

// AmendDisposalOpts is AmendDisposal with options. A corrected weight or
// date must pass the rules a new one does (CheckWeight, CheckRecordDate),
// and a corrected method or date the life rules a correction keeps
// (checkLifeAmend); a date may move backwards. A refusal is a *RuleError.
func (s *Store) AmendDisposalOpts(uuid string, set map[string]string, reason string, opts RecordOptions) (Disposal, []Change, error) {
	reason, err := amendReason(reason)
	if err != nil {
		return Disposal{}, nil, err
	}
	if err := checkAmendFields(set, DisposalAmendFields); err != nil {
		return Disposal{}, nil, err
	}
	uuid = strings.ToLower(strings.TrimSpace(uuid))
	var next Disposal
	var changes []Change
	err = s.write(reason, func(t *txn) error {
		ps, err := queryDisposals(t.tx, `WHERE x.uuid = ?`, uuid)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			return notFound("disposal", uuid)
		}
		cur := ps[0]
		if cur.Void != nil {
			return fmt.Errorf("disposal %s of %s: %w (event #%d): a void disposal cannot be amended; record a new one with 'itad dispose'",
				uuid, cur.Serial, ErrVoided, cur.Void.Seq)
		}
		var id, devID int64
		var devUUID string
		var devType DeviceType
		if err := t.tx.QueryRow(`SELECT x.id, d.id, d.uuid, d.type FROM disposals x JOIN devices d ON d.id = x.device_id WHERE x.uuid = ?`, uuid).
			Scan(&id, &devID, &devUUID, &devType); err != nil {
			return fmt.Errorf("read disposal %s: %w", uuid, err)
		}
		next = cur
		for f, v := range set {
			switch f {
			case "method":
				next.Method = Method(v)
			case "disposed_on":
				next.DisposedOn = v
			case "contractor":
				next.Contractor = v
			case "standard":
				next.Standard = v
			case "tool":
				next.Tool = v
			case "verified":
				next.Verified = v
			case "weight_grams":
				if next.WeightG, err = parseOptInt("weight_grams", v); err != nil {
					return err
				}
			case "batch":
				next.Batch = v
			case "operator":
				next.Operator = v
			case "witness":
				next.Witness = v
			case "notes":
				next.Notes = v
			}
		}
		if err := next.Validate(); err != nil {
			return err
		}
		if err := CheckMethodForType(next.Method, devType); err != nil {
			return err
		}
		if next.DisposedOn != cur.DisposedOn {
			if err := CheckRecordDate("date", next.DisposedOn, t.now); err != nil {
				return err
			}
		}
		if _, ok := set["weight_grams"]; ok && fmtOptInt(next.WeightG) != fmtOptInt(cur.WeightG) {
			if err := CheckWeight(devType, next.WeightG, opts.AllowUnusualWeight || hasUnusualMarker(next.Notes)); err != nil {
				return err
			}
		}
		if next.Method != cur.Method || next.DisposedOn != cur.DisposedOn {
			life, err := t.lifeOf(devID)
			if err != nil {
				return err
			}
			if err := checkLifeAmend(cur.Serial, life, id, &next); err != nil {
				return err
			}
		}
		// The contractor and batch as their tables spell them.
		var cID int64
		if err := t.tx.QueryRow(`SELECT id, name FROM contractors WHERE name_key IN (?, ?) ORDER BY name_key <> ? LIMIT 1`, legacyNameKey(next.Contractor), NameKey(next.Contractor), legacyNameKey(next.Contractor)).Scan(&cID, &next.Contractor); err != nil {
			return notFound("contractor", next.Contractor)
		}
		var batchID *int64
		if next.Batch != "" {
			b, bid, err := t.batchByRef(next.Batch)
			if err != nil {
				return err
			}
			next.Batch, batchID = b.Ref, &bid
		}
		for _, f := range DisposalAmendFields {
			if o, n := disposalField(&cur, f), disposalField(&next, f); o != n {
				changes = append(changes, Change{Field: f, Old: o, New: n})
			}
		}
		if len(changes) == 0 {
			return fmt.Errorf("%w: disposal %s already has those values: nothing to change", ErrInvalid, uuid)
		}
		oldFinal, oldFinalBatch, err := t.finalOf(devID)
		if err != nil {
			return err
		}
		var oldBatch *int64
		if err := t.tx.QueryRow(`SELECT batch_id FROM disposals WHERE id = ?`, id).Scan(&oldBatch); err != nil {
			return fmt.Errorf("read disposal %s: %w", uuid, err)
		}
		if _, err := t.appendEvent("disposal.amend", cur.Serial, amendPayload{Device: devUUID, Disposal: cur.UUID, Changes: changes}); err != nil {
			return err
		}
		if err := t.touchSummary([]int64{devID}); err != nil {
			return err
		}
		d, _ := ParseDate(next.DisposedOn)
		if _, err := t.exec(`UPDATE disposals SET method = ?, category = ?, standard = ?, tool = ?, verified = ?, contractor_id = ?,
			disposed_on = ?, year = ?, fin_year = ?, weight_g = ?, batch_id = ?, operator = ?, witness = ?, notes = ? WHERE id = ?`,
			string(next.Method), string(next.Category), next.Standard, next.Tool, next.Verified, cID,
			next.DisposedOn, d.Year(), FinancialYear(d), next.WeightG, batchID, next.Operator, next.Witness, next.Notes, id); err != nil {
			return fmt.Errorf("amend disposal %s: %w", uuid, err)
		}
		if err := t.touchBatch(batchID); err != nil { // a run it joins
			return err
		}
		if err := t.refreshFinal(devID); err != nil {
			return err
		}
		if err := t.tx.QueryRow(`SELECT is_final FROM disposals WHERE id = ?`, id).Scan(&next.Final); err != nil {
			return err
		}
		// The certificates that print this disposal, or whose weights or
		// final dispositions it changes.
		what := fmt.Sprintf("disposal %s of %s amended (%s)", cur.UUID, cur.Serial, changedFields(changes))
		if oldFinal == id || next.Final {
			if err := t.staleDeviceCerts(devID, what); err != nil {
				return err
			}
		}
		if err := t.staleBatch(oldBatch, what); err != nil {
			return err
		}
		if err := t.staleBatch(batchID, what); err != nil {
			return err
		}
		return t.staleFinal(devID, oldFinal, oldFinalBatch, what)
	})
	return next, changes, err
}

// EventChanges returns the changes an amendment or correction event
// records (device.amend, disposal.amend, device.serial, batch.amend;
// false for any other event).
func EventChanges(e Event) ([]Change, bool) {
	var p amendPayload
	switch e.Action {
	case "device.amend", "disposal.amend", SerialAction:
	case BatchAmendAction:
		var b batchAmendPayload
		if err := json.Unmarshal(e.Payload, &b); err != nil {
			return nil, false
		}
		return b.Changes, true
	default:
		return nil, false
	}
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return nil, false
	}
	return p.Changes, true
}

// FormatChanges shows changes as `model "A" -> "B"; site "" -> "DC-2"`.
func FormatChanges(cs []Change) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s %q -> %q", c.Field, c.Old, c.New)
	}
	return strings.Join(parts, "; ")
}

// ---- replay (Verify) ----

// applyDeviceChanges replays one device.amend on d, checking each old
// value against the ledger's; with serial, one device.serial (correct.go).
func applyDeviceChanges(d *devFields, cs []Change, serial bool) string {
	for _, c := range cs {
		var cur string
		var target *string
		switch c.Field {
		case serialField:
			if !serial {
				return fmt.Sprintf("unknown field %q", c.Field)
			}
			target = &d.Serial
		case "asset_tag":
			target = &d.AssetTag
		case "type":
			target = &d.Type
		case "make":
			target = &d.Make
		case "model":
			target = &d.Model
		case "site":
			target = &d.Site
		case "capacity_gb":
			if !d.CapNull {
				cur = strconv.FormatInt(d.Cap, 10)
			}
		default:
			return fmt.Sprintf("unknown field %q", c.Field)
		}
		if target != nil {
			cur = *target
		}
		if cur != c.Old {
			return fmt.Sprintf("%s was %q, but the ledger held %q", c.Field, c.Old, cur)
		}
		if target != nil {
			*target = strings.Clone(c.New)
			continue
		}
		n, err := parseOptInt("capacity_gb", c.New)
		if err != nil {
			return err.Error()
		}
		d.CapNull, d.Cap = n == nil, 0
		if n != nil {
			d.Cap = *n
		}
	}
	return ""
}

// dispField returns a disposal field of f as an amendment records it
// (not contractor and batch, which Verify resolves to rows).
func dispField(f *dispFields, field string) (string, bool) {
	switch field {
	case "method":
		return f.Method, true
	case "disposed_on":
		return f.DisposedOn, true
	case "standard":
		return f.Standard, true
	case "tool":
		return f.Tool, true
	case "verified":
		return f.Verified, true
	case "weight_grams":
		if f.WeightNull {
			return "", true
		}
		return strconv.FormatInt(f.Weight, 10), true
	case "operator":
		return f.Operator, true
	case "witness":
		return f.Witness, true
	case "notes":
		return f.Notes, true
	}
	return "", false
}

// setDispField sets a field as the amendment did (a method sets its
// category too).
func setDispField(f *dispFields, field, v string) string {
	v = strings.Clone(v)
	switch field {
	case "method":
		f.Method, f.Category = v, string(Method(v).Category())
	case "disposed_on":
		f.DisposedOn = v
	case "standard":
		f.Standard = v
	case "tool":
		f.Tool = v
	case "verified":
		f.Verified = v
	case "weight_grams":
		n, err := parseOptInt("weight_grams", v)
		if err != nil {
			return err.Error()
		}
		f.WeightNull, f.Weight = n == nil, 0
		if n != nil {
			f.Weight = *n
		}
	case "operator":
		f.Operator = v
	case "witness":
		f.Witness = v
	case "notes":
		f.Notes = v
	default:
		return fmt.Sprintf("unknown field %q", field)
	}
	return ""
}
