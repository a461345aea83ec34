package ledger

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// The shredder station
//
// A USB barcode scanner types what it reads and presses Enter. What it
// reads is a serial, an asset tag, or nwipe's Code128 label
// "model:serial". ResolveScan turns it into a device; RecordScan records
// the disposal with the ledger's rules, refusing first a device that is
// already in the run (a second scan of the same drive).

// ErrAlreadyInRun is the rule refusing a second scan of a device in the
// same destruction run.
var ErrAlreadyInRun = errors.New("already in this run")

// CertDownloadAction records a certificate PDF downloaded from itad serve
// (a disclosure, through Disclose).
const CertDownloadAction = "cert.download"

func init() { RegisterNoStateAction(CertDownloadAction) }

// Scan is what a scanned code resolved to.
type Scan struct {
	Code   string // as typed, trimmed
	Found  bool
	Device Device // when Found
	// Serial and Model are what an unknown code suggests for a new
	// device: the code itself, or nwipe's "model:serial" split.
	Serial, Model string
	// ByAssetTag: the code was an asset tag of Device.
	ByAssetTag bool
}

// ResolveScan resolves a scanned code: a serial in the ledger; else an
// asset tag in the ledger (when it names exactly one device); else, for
// nwipe's "model:serial", the serial after the last colon. It returns
// ErrInvalid for an empty code.
func (s *Store) ResolveScan(code string) (Scan, error) {
	code = strings.TrimSpace(code)
	sc := Scan{Code: code, Serial: code}
	if code == "" {
		return sc, fmt.Errorf("%w: nothing was scanned", ErrInvalid)
	}
	if err := checkText("scanned code", code, 256); err != nil {
		return sc, err
	}
	d, err := s.Device(code)
	if err == nil {
		sc.Found, sc.Device = true, d
		return sc, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return sc, err
	}
	rows, err := s.db.Query(`SELECT serial FROM devices WHERE asset_tag = ? AND asset_tag <> '' LIMIT 2`, code)
	if err != nil {
		return sc, fmt.Errorf("look up asset tag %s: %w", code, err)
	}
	var serials []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return sc, err
		}
		serials = append(serials, v)
	}
	rows.Close()
	if len(serials) == 1 {
		if d, err := s.Device(serials[0]); err == nil {
			sc.Found, sc.Device, sc.ByAssetTag = true, d, true
			return sc, nil
		}
	}
	if i := strings.LastIndex(code, ":"); i > 0 && i < len(code)-1 {
		model, serial := strings.TrimSpace(code[:i]), strings.TrimSpace(code[i+1:])
		sc.Serial, sc.Model = serial, model
		if d, err := s.Device(serial); err == nil {
			sc.Found, sc.Device = true, d
		}
	}
	return sc, nil
}

// RecordScan records a scanned device's disposal like RecordDisposal,
// refusing first (a *RuleError of ErrAlreadyInRun) a device that already
// has a standing disposal in p.Batch.
func (s *Store) RecordScan(p Disposal) (Disposal, error) {
	if p.Batch != "" {
		var n int
		err := s.db.QueryRow(`SELECT count(*) FROM disposals p JOIN devices d ON d.id = p.device_id JOIN batches b ON b.id = p.batch_id
			WHERE d.serial_key IN (?, ?) AND b.ref_key IN (?, ?) AND p.voided_seq = 0`,
			legacySerialKey(p.Serial), SerialKey(p.Serial), legacyNameKey(p.Batch), NameKey(p.Batch)).Scan(&n)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return p, fmt.Errorf("scan %s: %w", p.Serial, err)
		}
		if n > 0 {
			return p, &RuleError{Rule: ErrAlreadyInRun, Msg: fmt.Sprintf("device %s is already in run %s", p.Serial, p.Batch),
				Hint: "scan the next device"}
		}
	}
	return s.RecordDisposal(p)
}

// RunItem is one item of a run on the station page.
type RunItem struct {
	Serial, Make, Model string
	Type                DeviceType
	Weight              Weight
}

// RunView is what the station shows of a run: the run, its count and
// total weight (as Batch, Report and the certificate count them) and its
// newest items, newest first.
type RunView struct {
	Batch Batch
	Total Tally
	Items []RunItem
}

// StationRun returns the run ref with at most limit of its newest items,
// in a few queries whatever the run's size (Batch reads every device).
// It returns ErrNotFound for an unknown run.
func (s *Store) StationRun(ref string, limit int) (RunView, error) {
	var rv RunView
	b, id, err := scanBatch(s.db.QueryRow(batchSelect+` WHERE b.ref_key IN (?, ?) ORDER BY b.ref_key <> ? LIMIT 1`, legacyNameKey(ref), NameKey(ref), legacyNameKey(ref)))
	if errors.Is(err, sql.ErrNoRows) {
		return rv, notFound("batch", ref)
	}
	if err != nil {
		return rv, err
	}
	rv.Batch = b
	ws, err := runWeights(s.db, []int64{id})
	if err != nil {
		return rv, err
	}
	rows, err := s.db.Query(`SELECT x.uuid, x.weight_g, d.serial, d.type, d.make, d.model FROM disposals x JOIN devices d ON d.id = x.device_id
		WHERE x.batch_id = ? AND x.voided_seq = 0 ORDER BY x.id DESC`, id)
	if err != nil {
		return rv, fmt.Errorf("read run %s: %w", ref, err)
	}
	defer rows.Close()
	var all []Weight
	for rows.Next() {
		var p Disposal
		var it RunItem
		if err := rows.Scan(&p.UUID, &p.WeightG, &it.Serial, &it.Type, &it.Make, &it.Model); err != nil {
			return rv, err
		}
		w, ok := ws[p.UUID]
		if !ok {
			w = ownWeight(p)
		}
		all = append(all, w)
		if len(rv.Items) < limit {
			it.Weight = w
			rv.Items = append(rv.Items, it)
		}
	}
	rv.Total = Total(all)
	return rv, rows.Err()
}

// BatchInfo returns the run ref without its items, or ErrNotFound.
func (s *Store) BatchInfo(ref string) (Batch, error) {
	b, _, err := scanBatch(s.db.QueryRow(batchSelect+` WHERE b.ref_key IN (?, ?) ORDER BY b.ref_key <> ? LIMIT 1`, legacyNameKey(ref), NameKey(ref), legacyNameKey(ref)))
	if errors.Is(err, sql.ErrNoRows) {
		return b, notFound("batch", ref)
	}
	return b, err
}
