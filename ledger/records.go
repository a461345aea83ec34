package ledger

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Settings keys.
const (
	SettingOrg         = "org"
	SettingDestination = "media_destination"
	// SettingPublicURL is the base URL of the organisation's public
	// certificate verification page: certificates issued while it is set
	// carry <public_url>/verify/<number>?h=<content hash> in their QR code.
	SettingPublicURL = "public_url"
)

// ErrOrgSet is returned by Init for a ledger that already names another
// organisation: renaming it is a change of every certificate, made with
// SetSetting and a reason.
var ErrOrgSet = errors.New("the ledger already names an organisation")

// Init records the organisation's name (when org is not empty) and is
// otherwise a no-op: the schema is created by Open. Calling it again with
// the same name writes nothing; with another name it returns ErrOrgSet.
func (s *Store) Init(org string) error {
	org = strings.Join(strings.Fields(org), " ")
	if org == "" {
		return nil
	}
	if err := checkText("org", org, 256); err != nil {
		return err
	}
	cur, err := s.Setting(SettingOrg)
	if err != nil {
		return err
	}
	if cur == org {
		return nil
	}
	if cur != "" {
		return fmt.Errorf("%w: %q (not %q)", ErrOrgSet, cur, org)
	}
	return s.SetSetting(SettingOrg, org, "")
}

// Setting returns a ledger setting, or "" when it is not set. It fails
// with a *StateError (ErrTampered) when the settings row and its
// setting.set events disagree.
func (s *Store) Setting(k string) (string, error) {
	return checkedSetting(s.db, k)
}

// SetSetting sets a ledger setting, recording who and why.
//
// Changing a setting that certificates print (org, media_destination)
// marks every current certificate stale (stale.go).
func (s *Store) SetSetting(k, v, reason string) error {
	return s.write(reason, func(t *txn) error {
		old, err := checkedSetting(t.tx, k)
		if err != nil {
			return err
		}
		seq, err := t.appendEvent("setting.set", k, map[string]string{"key": k, "value": v})
		if err != nil {
			return err
		}
		if _, err = t.exec(`INSERT INTO settings(key, value, seq) VALUES (?,?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value, seq=excluded.seq`, k, v, seq); err != nil {
			return err
		}
		switch {
		case old == v:
		case k == SettingOrg:
			return t.staleAll(fmt.Sprintf("organisation renamed from %q to %q", old, v))
		case k == SettingDestination:
			return t.staleAll(fmt.Sprintf("media destination changed from %q to %q", old, v))
		case k == SettingOrgLocation, k == SettingOrgPhone, k == SettingClassification:
			return t.staleAll(fmt.Sprintf("%s changed from %q to %q", k, old, v))
		}
		return nil
	})
}

// AddContractor records a new contractor. It returns ErrConflict if one
// with the same name (compared case-insensitively) exists.
func (s *Store) AddContractor(c Contractor) (Contractor, error) {
	if err := c.Validate(); err != nil {
		return c, err
	}
	err := s.write("", func(t *txn) error {
		_, err := t.addContractor(&c)
		return err
	})
	return c, err
}

func (t *txn) addContractor(c *Contractor) (int64, error) {
	c.UUID = newUUID()
	seq, err := t.appendEvent("contractor.add", c.UUID, c)
	if err != nil {
		return 0, err
	}
	res, err := t.exec(`INSERT INTO contractors(uuid, name, name_key, accreditations, contract_ref, seq) VALUES (?,?,?,?,?,?)`,
		c.UUID, c.Name, NameKey(c.Name), c.Accreditations, c.ContractRef, seq)
	if isConstraint(err) {
		return 0, fmt.Errorf("contractor %q: %w", c.Name, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("add contractor %q: %w", c.Name, err)
	}
	return res.LastInsertId()
}

// Contractors lists every contractor by name.
func (s *Store) Contractors() ([]Contractor, error) {
	rows, err := s.db.Query(`SELECT uuid, name, accreditations, contract_ref FROM contractors ORDER BY name_key`)
	if err != nil {
		return nil, fmt.Errorf("list contractors: %w", err)
	}
	defer rows.Close()
	var out []Contractor
	for rows.Next() {
		var c Contractor
		if err := rows.Scan(&c.UUID, &c.Name, &c.Accreditations, &c.ContractRef); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Contractor returns the contractor with that name (case-insensitive), or
// ErrNotFound.
func (s *Store) Contractor(name string) (Contractor, error) {
	var c Contractor
	err := s.db.QueryRow(`SELECT uuid, name, accreditations, contract_ref FROM contractors WHERE name_key IN (?, ?) ORDER BY name_key <> ? LIMIT 1`, legacyNameKey(name), NameKey(name), legacyNameKey(name)).
		Scan(&c.UUID, &c.Name, &c.Accreditations, &c.ContractRef)
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("contractor", name)
	}
	return c, err
}

func (t *txn) contractorID(name string) (int64, error) {
	var id int64
	err := t.tx.QueryRow(`SELECT id FROM contractors WHERE name_key IN (?, ?) ORDER BY name_key <> ? LIMIT 1`, legacyNameKey(name), NameKey(name), legacyNameKey(name)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("contractor", name)
	}
	return id, err
}

// AddDevice records a new device. It returns ErrDuplicateSerial when the
// serial is already recorded with different data, and ErrConflict when the
// identical device is already recorded.
func (s *Store) AddDevice(d Device) (Device, error) {
	if err := d.Validate(); err != nil {
		return d, err
	}
	err := s.write("", func(t *txn) error {
		existing, _, err := t.deviceBySerial(d.Serial)
		if err == nil {
			if existing.sameData(d) {
				return fmt.Errorf("device %s: %w", d.Serial, ErrConflict)
			}
			return fmt.Errorf("device %s: %w (recorded as %s)", d.Serial, ErrDuplicateSerial, existing.describe())
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		_, err = t.insertDevice(&d, "device.add")
		return err
	})
	return d, err
}

// describe summarises a device for error messages.
func (d Device) describe() string {
	parts := []string{string(d.Type)}
	for _, p := range []string{d.Make, d.Model} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if d.AssetTag != "" {
		parts = append(parts, "asset "+d.AssetTag)
	}
	if d.CapacityGB != nil {
		parts = append(parts, fmt.Sprintf("%d GB", *d.CapacityGB))
	}
	if d.Site != "" {
		parts = append(parts, "at "+d.Site)
	}
	return d.Serial + " " + strings.Join(parts, " ")
}

func (t *txn) insertDevice(d *Device, action string) (int64, error) {
	d.UUID = newUUID()
	seq, err := t.appendEvent(action, d.Serial, d)
	if err != nil {
		return 0, err
	}
	return t.insertDeviceRow(d, seq)
}

func (t *txn) insertDeviceRow(d *Device, seq int64) (int64, error) {
	res, err := t.exec(`INSERT INTO devices(uuid, serial, serial_key, asset_tag, type, make, model, capacity_gb, site, seq) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		d.UUID, d.Serial, SerialKey(d.Serial), d.AssetTag, string(d.Type), d.Make, d.Model, d.CapacityGB, d.Site, seq)
	if isConstraint(err) {
		return 0, fmt.Errorf("device %s: %w", d.Serial, ErrDuplicateSerial)
	}
	if err != nil {
		return 0, fmt.Errorf("add device %s: %w", d.Serial, err)
	}
	return res.LastInsertId()
}

const deviceCols = `id, uuid, serial, asset_tag, type, make, model, capacity_gb, site`

func scanDevice(sc interface{ Scan(...any) error }) (Device, int64, error) {
	var d Device
	var id int64
	var capGB sql.NullInt64
	err := sc.Scan(&id, &d.UUID, &d.Serial, &d.AssetTag, &d.Type, &d.Make, &d.Model, &capGB, &d.Site)
	if capGB.Valid {
		d.CapacityGB = &capGB.Int64
	}
	return d, id, err
}

func (t *txn) deviceBySerial(serial string) (Device, int64, error) {
	d, id, err := scanDevice(t.QueryRow(`SELECT `+deviceCols+` FROM devices WHERE serial_key IN (?, ?) ORDER BY serial_key <> ? LIMIT 1`, legacySerialKey(serial), SerialKey(serial), legacySerialKey(serial)))
	if errors.Is(err, sql.ErrNoRows) {
		return d, 0, notFound("device", serial)
	}
	return d, id, err
}

// Device returns the device with that serial (trimmed, case-insensitive),
// or ErrNotFound.
func (s *Store) Device(serial string) (Device, error) {
	d, _, err := scanDevice(s.db.QueryRow(`SELECT `+deviceCols+` FROM devices WHERE serial_key IN (?, ?) ORDER BY serial_key <> ? LIMIT 1`, legacySerialKey(serial), SerialKey(serial), legacySerialKey(serial)))
	if errors.Is(err, sql.ErrNoRows) {
		return d, notFound("device", serial)
	}
	return d, err
}

// RecordOptions tune the recording of a disposal or a batch.
type RecordOptions struct {
	// AllowUnusualWeight accepts a weight outside the plausible range of
	// its device type (PlausibleWeights) or of a destruction run.
	AllowUnusualWeight bool
}

// RecordDisposal records a disposal of an existing device by a known
// contractor, optionally in an open batch, with RecordOptions{}. See
// RecordDisposalOpts.
func (s *Store) RecordDisposal(p Disposal) (Disposal, error) {
	return s.RecordDisposalOpts(p, RecordOptions{})
}

// RecordDisposalOpts records a disposal of an existing device by a known
// contractor, optionally in an open batch. It returns ErrNotFound for an
// unknown device, contractor or batch, ErrBatchClosed for a closed batch,
// ErrInvalid for a method that cannot sanitise the device's type, and a
// *RuleError for a weight or date the rules refuse (rules.go) or a
// disposal out of order in the device's life (checkLife).
func (s *Store) RecordDisposalOpts(p Disposal, opts RecordOptions) (Disposal, error) {
	if err := p.Validate(); err != nil {
		return p, err
	}
	err := s.write("", func(t *txn) error {
		if err := CheckRecordDate("date", p.DisposedOn, t.now); err != nil {
			return err
		}
		d, devID, err := t.deviceBySerial(p.Serial)
		if err != nil {
			return err
		}
		p.Serial = d.Serial
		if err := CheckMethodForType(p.Method, d.Type); err != nil {
			return err
		}
		if err := CheckWeight(d.Type, p.WeightG, opts.AllowUnusualWeight || hasUnusualMarker(p.Notes)); err != nil {
			return err
		}
		life, err := t.lifeOf(devID)
		if err != nil {
			return err
		}
		if err := checkLife(d.Serial, life, &p); err != nil {
			return err
		}
		cID, err := t.contractorID(p.Contractor)
		if err != nil {
			return err
		}
		var batchID *int64
		if p.Batch != "" {
			b, id, err := t.batchByRef(p.Batch)
			if err != nil {
				return err
			}
			if b.ClosedAt != "" {
				return fmt.Errorf("batch %s: %w (closed %s)", b.Ref, ErrBatchClosed, b.ClosedAt)
			}
			p.Batch, batchID = b.Ref, &id
		}
		return t.insertDisposal(&p, devID, d.UUID, cID, batchID, "disposal.record", false)
	})
	return p, err
}

// disposalEvent is the payload of disposal.record.
type disposalEvent struct {
	Device string `json:"device"` // device uuid
	Disposal
}

// insertDisposal writes a disposal and its event, then recomputes which of
// the device's disposals is final. newDevice skips the recomputation when
// this is the device's first and only disposal.
func (t *txn) insertDisposal(p *Disposal, devID int64, devUUID string, cID int64, batchID *int64, action string, newDevice bool) error {
	p.UUID = newUUID()
	p.Final = newDevice
	seq, err := t.appendEvent(action, p.Serial, disposalEvent{Device: devUUID, Disposal: *p})
	if err != nil {
		return err
	}
	if err := t.insertDisposalRow(p, devID, cID, batchID, seq, newDevice); err != nil {
		return err
	}
	return t.setAppendixG("disposal", p.UUID, p.Serial, p.AppG)
}

func (t *txn) insertDisposalRow(p *Disposal, devID, cID int64, batchID *int64, seq int64, newDevice bool) error {
	if err := t.touchSummary([]int64{devID}); err != nil {
		return err
	}
	if err := t.touchBatch(batchID); err != nil {
		return err
	}
	d, _ := ParseDate(p.DisposedOn)
	_, err := t.exec(`INSERT INTO disposals(uuid, device_id, method, category, standard, tool, verified, contractor_id,
		disposed_on, year, fin_year, weight_g, batch_id, operator, witness, notes, is_final, seq)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		p.UUID, devID, string(p.Method), string(p.Category), p.Standard, p.Tool, p.Verified, cID,
		p.DisposedOn, d.Year(), FinancialYear(d), p.WeightG, batchID, p.Operator, p.Witness, p.Notes, newDevice, seq)
	if err != nil {
		return fmt.Errorf("record disposal of %s: %w", p.Serial, err)
	}
	if !newDevice {
		oldFinal, oldBatch, err := t.finalOf(devID)
		if err != nil {
			return err
		}
		if err := t.refreshFinal(devID); err != nil {
			return err
		}
		return t.staleFinal(devID, oldFinal, oldBatch,
			fmt.Sprintf("final disposition of %s changed by a new disposal (%s on %s)", p.Serial, p.Method, p.DisposedOn))
	}
	return nil
}

// refreshFinal marks the device's final disposition: of its disposals
// not voided, its latest destroy-category disposal, else its latest
// disposal (by date, then by the order they were recorded). A device
// whose every disposal is void has none.
func (t *txn) refreshFinal(devID int64) error {
	_, err := t.exec(`UPDATE disposals SET is_final = coalesce(id = (
		SELECT id FROM disposals WHERE device_id = ?1 AND voided_seq = 0
		ORDER BY category = 'destroy' DESC, disposed_on DESC, id DESC LIMIT 1), 0)
		WHERE device_id = ?1`, devID)
	if err != nil {
		return fmt.Errorf("final disposition: %w", err)
	}
	return nil
}

const disposalSelect = `SELECT x.uuid, d.serial, x.method, x.category, x.standard, x.tool, x.verified, c.name,
	x.disposed_on, x.weight_g, coalesce(b.ref, ''), x.operator, x.witness, x.notes, x.is_final,
	x.voided_seq, coalesce(v.at, ''), coalesce(v.actor, ''), coalesce(v.reason, '')
	FROM disposals x JOIN devices d ON d.id = x.device_id JOIN contractors c ON c.id = x.contractor_id
	LEFT JOIN batches b ON b.id = x.batch_id LEFT JOIN events v ON x.voided_seq > 0 AND v.seq = x.voided_seq`

func scanDisposal(sc interface{ Scan(...any) error }) (Disposal, error) {
	var p Disposal
	var w sql.NullInt64
	var void Void
	var at string
	err := sc.Scan(&p.UUID, &p.Serial, &p.Method, &p.Category, &p.Standard, &p.Tool, &p.Verified, &p.Contractor,
		&p.DisposedOn, &w, &p.Batch, &p.Operator, &p.Witness, &p.Notes, &p.Final, &void.Seq, &at, &void.Actor, &void.Reason)
	if w.Valid {
		p.WeightG = &w.Int64
	}
	if err == nil && void.Seq != 0 {
		void.At, _ = time.Parse(TimeFormat, at)
		p.Void = &void
	}
	return p, err
}

func queryDisposals(q interface {
	Query(string, ...any) (*sql.Rows, error)
}, where string, args ...any) ([]Disposal, error) {
	rows, err := q.Query(disposalSelect+" "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("query disposals: %w", err)
	}
	defer rows.Close()
	var out []Disposal
	for rows.Next() {
		p, err := scanDisposal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeviceHistory is a device with every disposal and event that names it.
type DeviceHistory struct {
	Device Device `json:"device"`
	// FormerSerials are the serials the device had before corrections,
	// oldest first.
	FormerSerials []string `json:"former_serials,omitempty"`
	// Disposals include voided ones (Disposal.Void).
	Disposals    []Disposal    `json:"disposals"`
	Certificates []Certificate `json:"certificates"`
	Events       []Event       `json:"events"`
	// Erasures are the erasure reports' results for the device, failed
	// attempts too; Evidence the files behind them and those attached
	// (evidence.go).
	Erasures []ErasureRecord  `json:"erasures"`
	Evidence []EvidenceRecord `json:"evidence"`
}

// History returns a device and its whole history, or ErrNotFound. A
// serial that a correction took away finds the corrected device, unless
// another device has that serial now.
func (s *Store) History(serial string) (DeviceHistory, error) {
	var h DeviceHistory
	d, id, err := deviceByAnySerial(s.db, serial)
	if err != nil {
		return h, err
	}
	h.Device = d
	if h.FormerSerials, err = s.FormerSerials(d.UUID); err != nil {
		return h, err
	}
	if h.Disposals, err = queryDisposals(s.db, `WHERE x.device_id = ? ORDER BY x.disposed_on, x.id`, id); err != nil {
		return h, err
	}
	if h.Certificates, err = deviceCertificates(s.db, id); err != nil {
		return h, err
	}
	if h.Erasures, h.Evidence, err = deviceEvidence(s.db, id); err != nil {
		return h, err
	}
	where, args, err := deviceEventsWhere(s.db, id, d)
	if err != nil {
		return h, err
	}
	err = s.eachEvent(`SELECT seq, at, actor, action, subject, reason, payload, prev_hash, hash FROM events WHERE `+where+` ORDER BY seq`, args,
		func(e Event) error {
			h.Events = append(h.Events, e)
			return nil
		})
	return h, err
}

// AddBatch records a new destruction run with RecordOptions{}. See
// AddBatchOpts.
func (s *Store) AddBatch(b Batch) (Batch, error) { return s.AddBatchOpts(b, RecordOptions{}) }

// AddBatchOpts records a new destruction run. The contractor, if named,
// must exist. It returns ErrConflict for a reference already used, and a
// *RuleError for a date or gross weight the rules refuse (rules.go).
func (s *Store) AddBatchOpts(b Batch, opts RecordOptions) (Batch, error) {
	if err := b.Validate(); err != nil {
		return b, err
	}
	err := s.write("", func(t *txn) error {
		if b.RunOn != "" {
			if err := CheckRecordDate("date", b.RunOn, t.now); err != nil {
				return err
			}
		}
		if err := checkGross(b.GrossWeightG, nil, opts.AllowUnusualWeight); err != nil {
			return err
		}
		var cID *int64
		if b.Contractor != "" {
			id, err := t.contractorID(b.Contractor)
			if err != nil {
				return err
			}
			cID = &id
		}
		_, err := t.insertBatch(&b, cID)
		return err
	})
	return b, err
}

func (t *txn) insertBatch(b *Batch, cID *int64) (int64, error) {
	b.UUID = newUUID()
	seq, err := t.appendEvent("batch.add", b.Ref, b)
	if err != nil {
		return 0, err
	}
	res, err := t.exec(`INSERT INTO batches(uuid, ref, ref_key, site, contractor_id, run_on, witness, gross_weight_g, seq) VALUES (?,?,?,?,?,?,?,?,?)`,
		b.UUID, b.Ref, NameKey(b.Ref), b.Site, cID, b.RunOn, b.Witness, b.GrossWeightG, seq)
	if isConstraint(err) {
		return 0, fmt.Errorf("batch %s: %w", b.Ref, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("add batch %s: %w", b.Ref, err)
	}
	if err := t.setAppendixG("batch", b.UUID, b.Ref, b.AppG); err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

const batchSelect = `SELECT b.id, b.uuid, b.ref, b.site, coalesce(c.name, ''), b.run_on, b.witness, b.gross_weight_g, b.closed_at
	FROM batches b LEFT JOIN contractors c ON c.id = b.contractor_id`

func scanBatch(sc interface{ Scan(...any) error }) (Batch, int64, error) {
	var b Batch
	var id int64
	var w sql.NullInt64
	err := sc.Scan(&id, &b.UUID, &b.Ref, &b.Site, &b.Contractor, &b.RunOn, &b.Witness, &w, &b.ClosedAt)
	if w.Valid {
		b.GrossWeightG = &w.Int64
	}
	return b, id, err
}

func (t *txn) batchByRef(ref string) (Batch, int64, error) {
	b, id, err := scanBatch(t.tx.QueryRow(batchSelect+` WHERE b.ref_key IN (?, ?) ORDER BY b.ref_key <> ? LIMIT 1`, legacyNameKey(ref), NameKey(ref), legacyNameKey(ref)))
	if errors.Is(err, sql.ErrNoRows) {
		return b, 0, notFound("batch", ref)
	}
	return b, id, err
}

// CloseBatch closes a batch with RecordOptions{}. See CloseBatchOpts.
func (s *Store) CloseBatch(ref string, grossWeightG *int64) (Batch, error) {
	return s.CloseBatchOpts(ref, grossWeightG, RecordOptions{})
}

// CloseBatchOpts closes a batch so that no more disposals join it,
// recording its weighed gross output when given. Closing twice is
// ErrBatchClosed; a gross weight the rules refuse (checkGross: zero, or
// implausible for the run's items) is a *RuleError.
func (s *Store) CloseBatchOpts(ref string, grossWeightG *int64, opts RecordOptions) (Batch, error) {
	var b Batch
	err := s.write("", func(t *txn) error {
		var id int64
		var err error
		if b, id, err = t.batchByRef(ref); err != nil {
			return err
		}
		if b.ClosedAt != "" {
			return fmt.Errorf("batch %s: %w (closed %s)", b.Ref, ErrBatchClosed, b.ClosedAt)
		}
		oldGross := fmtOptInt(b.GrossWeightG)
		if grossWeightG != nil {
			if *grossWeightG < 0 || *grossWeightG > MaxWeightGrams {
				return fmt.Errorf("%w: gross weight out of range", ErrInvalid)
			}
			items, err := t.batchItemTypes(id)
			if err != nil {
				return err
			}
			if err := checkGross(grossWeightG, items, opts.AllowUnusualWeight); err != nil {
				return err
			}
			b.GrossWeightG = grossWeightG
		}
		b.ClosedAt = t.now.Format(TimeFormat)
		if _, err := t.appendEvent("batch.close", b.Ref, map[string]any{"batch": b.UUID, "gross_weight_grams": b.GrossWeightG, "closed_at": b.ClosedAt}); err != nil {
			return err
		}
		if err := t.touchSummary(nil, id); err != nil {
			return err
		}
		if _, err = t.exec(`UPDATE batches SET closed_at = ?, gross_weight_g = ? WHERE id = ?`, b.ClosedAt, b.GrossWeightG, id); err != nil {
			return err
		}
		if b.GrossWeightG == nil || fmtOptInt(b.GrossWeightG) == oldGross {
			return nil
		}
		// Device certificates issued while the run was open may now
		// count a share of its gross weight.
		return t.staleRun(id, fmt.Sprintf("batch %s closed with a gross weight of %s kg", b.Ref, FormatKg(*b.GrossWeightG)))
	})
	return b, err
}

// BatchDetail is a batch and the disposals recorded in it.
type BatchDetail struct {
	Batch     Batch      `json:"batch"`
	Disposals []Disposal `json:"disposals"`
	Devices   []Device   `json:"devices"` // parallel to Disposals
	// Weights are the disposals' weights under WeightRule, parallel to
	// Disposals, and Total their sum: what the run's certificate, Report
	// and Export count.
	Weights []Weight `json:"weights"`
	Total   Tally    `json:"total"`
}

// Batch returns a batch with its disposals (and their devices), or
// ErrNotFound. Voided disposals are left out.
func (s *Store) Batch(ref string) (BatchDetail, error) {
	var bd BatchDetail
	b, id, err := scanBatch(s.db.QueryRow(batchSelect+` WHERE b.ref_key IN (?, ?) ORDER BY b.ref_key <> ? LIMIT 1`, legacyNameKey(ref), NameKey(ref), legacyNameKey(ref)))
	if errors.Is(err, sql.ErrNoRows) {
		return bd, notFound("batch", ref)
	}
	if err != nil {
		return bd, err
	}
	bd.Batch = b
	if bd.Disposals, err = queryDisposals(s.db, `WHERE x.batch_id = ? AND x.voided_seq = 0 ORDER BY d.serial_key`, id); err != nil {
		return bd, err
	}
	for _, p := range bd.Disposals {
		d, err := s.Device(p.Serial)
		if err != nil {
			return bd, err
		}
		bd.Devices = append(bd.Devices, d)
	}
	ws, err := runWeights(s.db, []int64{id})
	if err != nil {
		return bd, err
	}
	bd.Weights = make([]Weight, len(bd.Disposals))
	for i, p := range bd.Disposals {
		if w, ok := ws[p.UUID]; ok {
			bd.Weights[i] = w
		} else {
			bd.Weights[i] = ownWeight(p)
		}
	}
	bd.Total = Total(bd.Weights)
	return bd, nil
}

// Batches lists every batch by reference.
func (s *Store) Batches() ([]Batch, error) { return s.listBatches(false) }

// OpenBatches lists the batches not yet closed, by reference.
func (s *Store) OpenBatches() ([]Batch, error) { return s.listBatches(true) }

func (s *Store) listBatches(open bool) ([]Batch, error) {
	where := ""
	if open {
		where = ` WHERE b.closed_at = ''`
	}
	rows, err := s.db.Query(batchSelect + where + ` ORDER BY b.ref_key`)
	if err != nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	defer rows.Close()
	var out []Batch
	for rows.Next() {
		b, _, err := scanBatch(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
