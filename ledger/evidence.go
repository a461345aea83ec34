package ledger

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Erasure evidence
//
// An erasure tool's own report (an nwipe log, nwipe's JSON report, a
// Blancco XML report) is the evidence behind a wipe. itad keeps each
// report's bytes in the ledger, in the evidence table, rather than in a
// folder beside it: a backup (VACUUM INTO, backup.go) then holds the
// evidence with the records it supports and the restore drill's verify
// checks both; one file cannot lose its evidence folder or be copied
// without it; and a file is written in the same transaction as the event
// that records it, so no crash leaves one without the other. The cost is
// the ledger's size: reports are small (an nwipe log is a few KB;
// attachments are limited by evidence_max_bytes, 20 MiB by default).
//
// Three events, each defined here with the row it writes; the writer and
// itad verify's replay (evidenceverify.go) share the row definitions
// (evidenceRow, ErasureRecord.values, attachRow):
//
//	evidence.add     subject: the file name
//	                 payload {"sha256","name","kind","size"}
//	                 row evidence(sha256, name, kind, size, data, seq);
//	                 verify hashes data again and compares with sha256
//	erasure.record   subject: the device's serial
//	                 payload ErasureRecord (uuid, device and disposal
//	                 uuids, the evidence's sha256, outcome, tool, method…)
//	                 row erasures(…, seq)
//	evidence.attach  subject: the device's serial
//	                 payload {"sha256","device"}
//	                 row evidence_devices(evidence_id, device_id, seq)
//
// A wipe that succeeded also records the device (device.add, when it is
// new) and its disposal (disposal.record) with their own events, through
// the rules every disposal obeys (checkLife, CheckMethodForType,
// CheckRecordDate). A failed attempt records only its erasure: it is never
// a disposal, so no report counts it, and the device is listed by
// DevicesNeedingDestruction until a disposal is recorded after it.

// Evidence kinds: reports itad reads, and documents attached as they are.
const (
	EvidenceNwipeLog              = "nwipe-log"
	EvidenceNwipeJSON             = "nwipe-json"
	EvidenceBlancco               = "blancco-xml"
	EvidenceNwipePDF              = "nwipe-pdf"
	EvidenceContractorCertificate = "contractor-certificate"
	EvidenceWeighbridgeTicket     = "weighbridge-ticket"
	EvidencePhoto                 = "photo"
	EvidenceOther                 = "other"
)

// AttachKinds are the kinds AttachEvidence accepts.
var AttachKinds = []string{EvidenceContractorCertificate, EvidenceWeighbridgeTicket, EvidencePhoto, EvidenceOther}

// reportKinds are the kinds ImportEvidence accepts.
var reportKinds = map[string]bool{EvidenceNwipeLog: true, EvidenceNwipeJSON: true, EvidenceBlancco: true, EvidenceNwipePDF: true}

// Event actions.
const (
	EvidenceAddAction    = "evidence.add"
	ErasureAction        = "erasure.record"
	EvidenceAttachAction = "evidence.attach"
)

// Settings for evidence.
const (
	SettingEvidenceMaxBytes  = "evidence_max_bytes"
	SettingDefaultContractor = "default_contractor"
	SettingDefaultSite       = "default_site"
	SettingDefaultOperator   = "default_operator"
)

// DefaultEvidenceMaxBytes is the size limit of one evidence file when
// evidence_max_bytes is not set.
const DefaultEvidenceMaxBytes = 20 << 20

// Erasure outcomes.
const (
	OutcomeSanitised = "sanitised" // a wipe that succeeded: it has a disposal
	OutcomeFailed    = "failed"    // a failed or aborted attempt, or a failed verification
	OutcomeVerified  = "verified"  // a verification of an earlier wipe that passed
)

// Erasure is one device's result in an erasure report, as a parser gives
// it to ImportEvidence.
type Erasure struct {
	Line int    // where in the file (1-based)
	Path string // the device path, /dev/sdb
	// Serial is the device's serial; empty when the report has none
	// readable (Err then says so).
	Serial string
	Bus    string // "ATA", "NVME", "USB": NVMe devices are SSDs
	// Type is the device's type where the report states it (Blancco's
	// HDD/SSD), else "".
	Type  DeviceType
	Make  string
	Model string
	// SizeBytes is the device's size, 0 when the report does not give it.
	SizeBytes  int64
	Tool       string // "nwipe 0.33"
	MethodName string // the tool's own name: "DoD Short"
	// Method is the ledger method; "" for a verification-only method
	// (VerifyOnly), which records a verification, never a sanitisation.
	Method     Method
	VerifyOnly bool
	// Verify is the tool's verification setting or result as it words
	// it (nwipe: off, last, all; Blancco: "100%"); Verified is the
	// disposal's verified value: yes, no, sample, or "" when not said.
	Verify     string
	Verified   string
	Rounds     int
	Passes     int
	Start, End time.Time
	// Failed is set for any result but success; Status is the tool's own
	// word for it and Detail says why in words.
	Failed bool
	Status string
	Detail string
	// Err refuses this device (no readable serial, an unknown method):
	// its message names the file, line and path.
	Err error
}

// EvidenceFile is one file to keep: its name, kind and bytes, and for a
// report the erasures read from it.
type EvidenceFile struct {
	Name     string // base name, as recorded
	Kind     string
	Data     []byte
	Erasures []Erasure
	// Zone is the name of the time zone the report's local times were
	// read in (an nwipe log's), recorded with each erasure, and Location
	// that zone; "" and nil for a report whose times carry their zone
	// (dates are then taken in UTC).
	Zone     string
	Location *time.Location
}

// EvidenceImportOptions are what a report does not say.
type EvidenceImportOptions struct {
	Contractor string     // default: setting default_contractor
	Site       string     // for devices added; default: default_site
	Operator   string     // default: default_operator
	Type       DeviceType // for devices added whose type the report leaves open
	DryRun     bool
}

// EvidenceImportResult says what an import did, file by file.
type EvidenceImportResult struct {
	Files                  []EvidenceFileResult `json:"files"`
	FilesAdded             int                  `json:"files_added"`
	DevicesAdded           int                  `json:"devices_added"`
	Sanitised              int                  `json:"sanitised"`
	Failed                 int                  `json:"failed"`
	Verified               int                  `json:"verified"`
	Unchanged              int                  `json:"unchanged"`
	Refused                int                  `json:"refused"`
	DryRun                 bool                 `json:"dry_run"`
	StaleNotices           []StaleNotice        `json:"-"`
	contractorID           int64
	contractor, site, oper string
}

// EvidenceFileResult is one file's part of an import.
type EvidenceFileResult struct {
	Name    string           `json:"name"`
	Kind    string           `json:"kind"`
	SHA256  string           `json:"sha256"`
	New     bool             `json:"new"`
	Devices []ErasureOutcome `json:"devices"`
}

// ErasureOutcome is what became of one device of a report: Outcome is
// sanitised, failed, verified, unchanged (already recorded) or refused
// (Err says why, naming the file, line and path).
type ErasureOutcome struct {
	Line     int    `json:"line"`
	Path     string `json:"path"`
	Serial   string `json:"serial"`
	Outcome  string `json:"outcome"`
	Disposal string `json:"disposal,omitempty"`
	Added    bool   `json:"device_added,omitempty"`
	Err      error  `json:"-"`
	Problem  string `json:"problem,omitempty"`
}

// ErasureRecord is a recorded erasure. It is also the payload of the
// erasure.record event (Serial and EvidenceName are not: they are filled
// when read back).
type ErasureRecord struct {
	UUID       string `json:"uuid"`
	Device     string `json:"device"`   // device uuid
	Evidence   string `json:"evidence"` // SHA-256 of the evidence file
	Disposal   string `json:"disposal"` // disposal uuid, "" when none
	Outcome    string `json:"outcome"`
	Status     string `json:"status"`
	Detail     string `json:"detail"`
	Tool       string `json:"tool"`
	MethodName string `json:"method_name"`
	Method     Method `json:"method"`
	Verify     string `json:"verify"`
	Rounds     int    `json:"rounds"`
	Passes     int    `json:"passes"`
	StartedAt  string `json:"started_at"`
	EndedAt    string `json:"ended_at"`
	EndedOn    string `json:"ended_on"`
	Timezone   string `json:"timezone"`
	Path       string `json:"path"`
	Line       int    `json:"line"`
	Model      string `json:"model"`
	SizeBytes  int64  `json:"size_bytes"`

	Serial       string `json:"serial,omitempty"`
	EvidenceName string `json:"evidence_name,omitempty"`
}

// erasureCols names ErasureRecord.values, in order.
var erasureCols = []string{"uuid", "device", "evidence", "disposal", "outcome", "status", "detail", "tool", "method_name",
	"method", "verify", "rounds", "passes", "started_at", "ended_at", "ended_on", "timezone", "path", "line", "model", "size_bytes"}

// values is the erasures row an erasure.record event writes, as text:
// the writer inserts it and verify compares the row with it.
func (r *ErasureRecord) values() []string {
	return []string{r.UUID, r.Device, r.Evidence, r.Disposal, r.Outcome, r.Status, r.Detail, r.Tool, r.MethodName,
		string(r.Method), r.Verify, strconv.Itoa(r.Rounds), strconv.Itoa(r.Passes), r.StartedAt, r.EndedAt, r.EndedOn,
		r.Timezone, r.Path, strconv.Itoa(r.Line), r.Model, strconv.FormatInt(r.SizeBytes, 10)}
}

// evidenceEvent is the payload of evidence.add and the evidence row it
// writes (with the bytes and seq).
type evidenceEvent struct {
	SHA256 string `json:"sha256"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Size   int64  `json:"size"`
}

func (e *evidenceEvent) values() []string {
	return []string{e.SHA256, e.Name, e.Kind, strconv.FormatInt(e.Size, 10)}
}

var evidenceCols = []string{"sha256", "name", "kind", "size"}

// attachEvent is the payload of evidence.attach and the evidence_devices
// row it writes.
type attachEvent struct {
	SHA256 string `json:"sha256"`
	Device string `json:"device"` // device uuid
}

func (e *attachEvent) values() []string { return []string{e.SHA256, e.Device} }

var attachCols = []string{"sha256", "device"}

// EvidenceRecord is a kept evidence file (without its bytes).
type EvidenceRecord struct {
	SHA256  string          `json:"sha256"`
	Name    string          `json:"name"`
	Kind    string          `json:"kind"`
	Size    int64           `json:"size"`
	AddedAt string          `json:"added_at"`
	AddedBy string          `json:"added_by"`
	Seq     int64           `json:"seq"`
	Devices []string        `json:"devices"` // serials it is attached to or records erasures of
	Erasure []ErasureRecord `json:"erasures,omitempty"`
}

// SHA256Hex returns the lowercase hex SHA-256 of data.
func SHA256Hex(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// EvidenceMaxBytes returns the size limit of one evidence file: the
// evidence_max_bytes setting, or DefaultEvidenceMaxBytes.
func (s *Store) EvidenceMaxBytes() (int64, error) {
	v, err := s.Setting(SettingEvidenceMaxBytes)
	if err != nil || v == "" {
		return DefaultEvidenceMaxBytes, err
	}
	return strconv.ParseInt(v, 10, 64)
}

// validateEvidenceMaxBytes checks a value of evidence_max_bytes.
func validateEvidenceMaxBytes(v string) (string, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 1 || n > 1<<30 {
		return "", fmt.Errorf("%w: %s must be a number of bytes from 1 to %d", ErrInvalid, SettingEvidenceMaxBytes, 1<<30)
	}
	return strconv.FormatInt(n, 10), nil
}

// ImportEvidence keeps each file next() returns and records the erasures
// read from it (see the top of this file), in one transaction; next
// returns ok false after the last. A device that cannot be recorded is
// refused alone (its ErasureOutcome has Err): no readable serial, a type
// the report leaves open with no opts.Type, a report that contradicts the
// ledger's device (naming both), or a disposal the ledger's rules refuse.
// Importing the same report again changes nothing. ImportEvidence fails
// as a whole for an error from next, a file of a kind it does not read,
// a sanitisation with no contractor (ErrInvalid) or an unknown one
// (ErrNotFound).
func (s *Store) ImportEvidence(next func() (EvidenceFile, bool, error), opts EvidenceImportOptions) (EvidenceImportResult, error) {
	res := EvidenceImportResult{DryRun: opts.DryRun}
	var err error
	res.contractor, res.site, res.oper = opts.Contractor, opts.Site, opts.Operator
	for _, f := range []struct {
		v *string
		k string
	}{{&res.contractor, SettingDefaultContractor}, {&res.site, SettingDefaultSite}, {&res.oper, SettingDefaultOperator}} {
		if strings.TrimSpace(*f.v) == "" {
			if *f.v, err = s.Setting(f.k); err != nil {
				return res, err
			}
		}
	}
	if opts.Type != "" {
		if opts.Type, err = ParseDeviceType(string(opts.Type)); err != nil {
			return res, err
		}
	}
	err = s.write("", func(t *txn) error {
		for {
			f, ok, err := next()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			fr, err := t.importEvidenceFile(&res, f, opts)
			if err != nil {
				return err
			}
			res.Files = append(res.Files, fr)
		}
		if opts.DryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	return res, err
}

// keepEvidence writes the file's evidence row and event unless a file
// with the same bytes is kept; it returns the row id and whether it is new.
func (t *txn) keepEvidence(name, kind string, data []byte) (int64, string, bool, error) {
	sum := SHA256Hex(data)
	var id int64
	err := t.tx.QueryRow(`SELECT id FROM evidence WHERE sha256 = ?`, sum).Scan(&id)
	if err == nil {
		return id, sum, false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, sum, false, fmt.Errorf("read evidence: %w", err)
	}
	if err := checkText("file name", name, 256); err != nil {
		return 0, sum, false, err
	}
	ev := evidenceEvent{SHA256: sum, Name: name, Kind: kind, Size: int64(len(data))}
	seq, err := t.appendEvent(EvidenceAddAction, name, ev)
	if err != nil {
		return 0, sum, false, err
	}
	r, err := t.exec(`INSERT INTO evidence(sha256, name, kind, size, data, seq) VALUES (?,?,?,?,?,?)`, sum, name, kind, ev.Size, data, seq)
	if err != nil {
		return 0, sum, false, fmt.Errorf("keep evidence %s: %w", name, err)
	}
	id, err = r.LastInsertId()
	return id, sum, true, err
}

func (t *txn) importEvidenceFile(res *EvidenceImportResult, f EvidenceFile, opts EvidenceImportOptions) (EvidenceFileResult, error) {
	fr := EvidenceFileResult{Name: f.Name, Kind: f.Kind}
	if !reportKinds[f.Kind] {
		return fr, fmt.Errorf("%w: %s: evidence kind %q is not a report itad reads", ErrInvalid, f.Name, f.Kind)
	}
	evID, sum, isNew, err := t.keepEvidence(f.Name, f.Kind, f.Data)
	if err != nil {
		return fr, err
	}
	fr.SHA256, fr.New = sum, isNew
	if isNew {
		res.FilesAdded++
	}
	for _, er := range f.Erasures {
		out := ErasureOutcome{Line: er.Line, Path: er.Path, Serial: er.Serial}
		if err := t.recordErasure(res, &out, er, evID, sum, f, opts); err != nil {
			return fr, err
		}
		if out.Err != nil {
			out.Outcome, out.Problem = "refused", out.Err.Error()
			res.Refused++
		}
		fr.Devices = append(fr.Devices, out)
	}
	return fr, nil
}

// refuse makes a refusal naming the file, line and device path.
func refuse(f EvidenceFile, er Erasure, format string, a ...any) error {
	return fmt.Errorf("%s:%d: %s: %s", f.Name, er.Line, er.Path, fmt.Sprintf(format, a...))
}

// capacityGB is a report's size in GB (decimal, rounded), nil under 1 GB.
func capacityGB(n int64) *int64 {
	if n < 1_000_000_000 {
		return nil
	}
	g := int64(math.Round(float64(n) / 1e9))
	return &g
}

// evidenceContradiction is the CSV import's rule for a serial already in
// the ledger, for the fields a report gives: a model or capacity that
// differs from a recorded one is a different device, refused naming both.
// A field the ledger does not hold is not a contradiction.
func evidenceContradiction(existing Device, model string, capGB *int64) string {
	report := existing
	if model != "" && existing.Model != "" && !strings.EqualFold(existing.Model, model) &&
		!strings.EqualFold(strings.TrimSpace(existing.Make+" "+existing.Model), model) {
		report.Model = model
	}
	if capGB != nil && existing.CapacityGB != nil && *capGB != *existing.CapacityGB {
		report.CapacityGB = capGB
	}
	if existing.sameData(report) {
		return ""
	}
	return fmt.Sprintf("serial %s is already in the ledger with different device data: the file has %s; the ledger has %s",
		existing.Serial, report.describe(), existing.describe())
}

func (t *txn) recordErasure(res *EvidenceImportResult, out *ErasureOutcome, er Erasure, evID int64, evSum string, f EvidenceFile, opts EvidenceImportOptions) error {
	if er.Err != nil {
		out.Err = er.Err
		return nil
	}
	dev := Device{Serial: er.Serial, Make: strings.TrimSpace(er.Make), Model: strings.TrimSpace(er.Model), CapacityGB: capacityGB(er.SizeBytes),
		Site: res.site, Type: opts.Type}
	switch {
	case er.Type != "":
		dev.Type = er.Type
	case strings.EqualFold(er.Bus, "NVME"):
		dev.Type = SSD
	}
	existing, devID, err := t.deviceBySerial(er.Serial)
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if found {
		if msg := evidenceContradiction(existing, dev.Model, dev.CapacityGB); msg != "" {
			out.Err = refuse(f, er, "%s", msg)
			return nil
		}
		dev = existing
		out.Serial = existing.Serial
		// The same erasure already recorded (this file again, or a log
		// nwipe appended a later run to) changes nothing.
		var u string
		err := t.tx.QueryRow(`SELECT uuid FROM erasures WHERE device_id = ? AND started_at = ? AND method_name = ? AND path = ?`,
			devID, utcText(er.Start), er.MethodName, er.Path).Scan(&u)
		if err == nil {
			out.Outcome = "unchanged"
			res.Unchanged++
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read erasures: %w", err)
		}
	} else {
		if dev.Type == "" {
			out.Err = refuse(f, er, "the report does not say what type of device %s (%s %s) is: give --type (hdd, ssd, usb, ...)", er.Serial, er.Bus, er.Model)
			return nil
		}
		if err := dev.Validate(); err != nil {
			out.Err = refuse(f, er, "%v", err)
			return nil
		}
	}
	zone, loc := f.Zone, f.Location
	if loc == nil {
		loc = time.UTC
	}
	rec := ErasureRecord{UUID: newUUID(), Evidence: evSum, Status: er.Status, Detail: er.Detail, Tool: er.Tool,
		MethodName: er.MethodName, Method: er.Method, Verify: er.Verify, Rounds: er.Rounds, Passes: er.Passes,
		Timezone: zone, Path: er.Path, Line: er.Line, Model: er.Model, SizeBytes: er.SizeBytes}
	rec.StartedAt, rec.EndedAt = utcText(er.Start), utcText(er.End)
	if !er.End.IsZero() {
		rec.EndedOn = er.End.In(loc).Format(time.DateOnly)
	}
	switch {
	case er.Failed:
		rec.Outcome = OutcomeFailed
	case er.VerifyOnly || er.Method == "":
		rec.Outcome = OutcomeVerified
	default:
		rec.Outcome = OutcomeSanitised
	}
	for _, v := range []struct{ name, s string }{{"status", rec.Status}, {"detail", rec.Detail}, {"tool", rec.Tool},
		{"method", rec.MethodName}, {"path", rec.Path}, {"model", rec.Model}} {
		if err := checkText(v.name, v.s, 512); err != nil {
			out.Err = refuse(f, er, "%v", err)
			return nil
		}
	}
	// A sanitisation is a disposal, checked by the rules every disposal
	// obeys before anything is written.
	var disp *Disposal
	linked := false
	if rec.Outcome == OutcomeSanitised {
		if rec.EndedOn == "" {
			out.Err = refuse(f, er, "the report gives no end time for the wipe: it cannot be dated")
			return nil
		}
		if res.contractorID == 0 {
			if strings.TrimSpace(res.contractor) == "" {
				return fmt.Errorf("%w: no contractor for the disposals: give --contractor NAME, or set one with 'itad settings set %s NAME'", ErrInvalid, SettingDefaultContractor)
			}
			if res.contractorID, err = t.contractorID(res.contractor); err != nil {
				return err
			}
		}
		p := Disposal{Serial: dev.Serial, Method: er.Method, Standard: er.MethodName, Tool: er.Tool, Verified: er.Verified,
			Contractor: res.contractor, DisposedOn: rec.EndedOn, Operator: res.oper}
		if err := p.Validate(); err != nil {
			out.Err = refuse(f, er, "%v", err)
			return nil
		}
		if err := CheckRecordDate("date", p.DisposedOn, t.now); err != nil {
			out.Err = refuse(f, er, "%v", err)
			return nil
		}
		if err := CheckMethodForType(p.Method, dev.Type); err != nil {
			out.Err = refuse(f, er, "%v", err)
			return nil
		}
		if found {
			prior, err := queryDisposals(t.tx, `WHERE x.device_id = ? AND x.voided_seq = 0`, devID)
			if err != nil {
				return err
			}
			for _, q := range prior {
				if q.sameData(p) {
					p, linked = q, true
					break
				}
			}
			if !linked {
				life, err := t.lifeOf(devID)
				if err != nil {
					return err
				}
				if err := checkLife(dev.Serial, life, &p); err != nil {
					var re *RuleError
					if errors.As(err, &re) {
						out.Err = refuse(f, er, "%s", re.Problem())
					} else {
						out.Err = refuse(f, er, "%v", err)
					}
					return nil
				}
			}
		}
		disp = &p
	}
	// Write: the device, its disposal, the erasure.
	if !found {
		if devID, err = t.insertDevice(&dev, "device.add"); err != nil {
			return err
		}
		out.Added = true
		out.Serial = dev.Serial
		res.DevicesAdded++
	}
	var dispID *int64
	if disp != nil {
		if !linked {
			if err := t.insertDisposal(disp, devID, dev.UUID, res.contractorID, nil, "disposal.record", !found); err != nil {
				return err
			}
		}
		var id int64
		if err := t.tx.QueryRow(`SELECT id FROM disposals WHERE uuid = ?`, disp.UUID).Scan(&id); err != nil {
			return fmt.Errorf("read disposal %s: %w", disp.UUID, err)
		}
		dispID = &id
		rec.Disposal, out.Disposal = disp.UUID, disp.UUID
	}
	rec.Device = dev.UUID
	if err := t.insertErasure(&rec, dev.Serial, devID, evID, dispID); err != nil {
		return err
	}
	if linked {
		// The certificate of that disposal now cites this evidence.
		if err := t.staleDevice(devID, fmt.Sprintf("evidence %s added to disposal %s of %s", f.Name, disp.UUID, dev.Serial)); err != nil {
			return err
		}
	}
	out.Outcome = rec.Outcome
	switch rec.Outcome {
	case OutcomeSanitised:
		res.Sanitised++
	case OutcomeFailed:
		res.Failed++
	default:
		res.Verified++
	}
	return nil
}

// utcText is a report's time as recorded: RFC 3339 in UTC, "" for none.
func utcText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// insertErasure writes an erasure's event and row.
func (t *txn) insertErasure(r *ErasureRecord, serial string, devID, evID int64, dispID *int64) error {
	seq, err := t.appendEvent(ErasureAction, serial, r)
	if err != nil {
		return err
	}
	_, err = t.exec(`INSERT INTO erasures(uuid, device_id, evidence_id, disposal_id, outcome, status, detail, tool, method_name,
		method, verify, rounds, passes, started_at, ended_at, ended_on, timezone, path, line, model, size_bytes, seq)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.UUID, devID, evID, dispID, r.Outcome, r.Status, r.Detail, r.Tool, r.MethodName, string(r.Method), r.Verify,
		r.Rounds, r.Passes, r.StartedAt, r.EndedAt, r.EndedOn, r.Timezone, r.Path, r.Line, r.Model, r.SizeBytes, seq)
	if err != nil {
		return fmt.Errorf("record erasure of %s: %w", serial, err)
	}
	return nil
}

// AttachEvidence keeps a document that no parser reads (a contractor's
// certificate, a weighbridge ticket, a photo) and ties it to the device
// serial, whose certificates then cite it (and are marked stale). kind is
// one of AttachKinds. Attaching the same bytes to the same device again
// changes nothing. It returns ErrNotFound for an unknown device, ErrInvalid
// for an unknown kind, an empty file or one over EvidenceMaxBytes
// (ErrTooLarge).
func (s *Store) AttachEvidence(serial, name, kind string, data []byte) (EvidenceRecord, bool, error) {
	var rec EvidenceRecord
	ok := false
	for _, k := range AttachKinds {
		ok = ok || k == kind
	}
	if !ok {
		return rec, false, fmt.Errorf("%w: evidence kind %q (one of %s)", ErrInvalid, kind, strings.Join(AttachKinds, ", "))
	}
	if len(data) == 0 {
		return rec, false, fmt.Errorf("%w: %s is empty", ErrInvalid, name)
	}
	limit, err := s.EvidenceMaxBytes()
	if err != nil {
		return rec, false, err
	}
	if int64(len(data)) > limit {
		return rec, false, fmt.Errorf("%w: %s is over evidence_max_bytes (%s)", ErrTooLarge, name, formatBytes(limit))
	}
	added := false
	err = s.write("", func(t *txn) error {
		d, devID, err := t.deviceBySerial(serial)
		if err != nil {
			return err
		}
		evID, sum, _, err := t.keepEvidence(name, kind, data)
		if err != nil {
			return err
		}
		rec = EvidenceRecord{SHA256: sum, Name: name, Kind: kind, Size: int64(len(data))}
		var n int
		if err := t.tx.QueryRow(`SELECT count(*) FROM evidence_devices WHERE evidence_id = ? AND device_id = ?`, evID, devID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		seq, err := t.appendEvent(EvidenceAttachAction, d.Serial, attachEvent{SHA256: sum, Device: d.UUID})
		if err != nil {
			return err
		}
		if _, err := t.exec(`INSERT INTO evidence_devices(evidence_id, device_id, seq) VALUES (?,?,?)`, evID, devID, seq); err != nil {
			return fmt.Errorf("attach evidence: %w", err)
		}
		added = true
		return t.staleDevice(devID, fmt.Sprintf("evidence %s (%s) attached to %s", name, kind, d.Serial))
	})
	return rec, added, err
}

const evidenceSelect = `SELECT v.sha256, v.name, v.kind, v.size, e.at, e.actor, v.seq FROM evidence v JOIN events e ON e.seq = v.seq`

func scanEvidence(sc interface{ Scan(...any) error }) (EvidenceRecord, error) {
	var r EvidenceRecord
	err := sc.Scan(&r.SHA256, &r.Name, &r.Kind, &r.Size, &r.AddedAt, &r.AddedBy, &r.Seq)
	return r, err
}

const erasureSelect = `SELECT e.uuid, d.uuid, v.sha256, coalesce(x.uuid, ''), e.outcome, e.status, e.detail, e.tool, e.method_name,
	e.method, e.verify, e.rounds, e.passes, e.started_at, e.ended_at, e.ended_on, e.timezone, e.path, e.line, e.model, e.size_bytes,
	d.serial, v.name
	FROM erasures e JOIN devices d ON d.id = e.device_id JOIN evidence v ON v.id = e.evidence_id LEFT JOIN disposals x ON x.id = e.disposal_id`

func queryErasures(q querier, where string, args ...any) ([]ErasureRecord, error) {
	rows, err := q.Query(erasureSelect+" "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read erasures: %w", err)
	}
	defer rows.Close()
	var out []ErasureRecord
	for rows.Next() {
		var r ErasureRecord
		if err := rows.Scan(&r.UUID, &r.Device, &r.Evidence, &r.Disposal, &r.Outcome, &r.Status, &r.Detail, &r.Tool, &r.MethodName,
			&r.Method, &r.Verify, &r.Rounds, &r.Passes, &r.StartedAt, &r.EndedAt, &r.EndedOn, &r.Timezone, &r.Path, &r.Line,
			&r.Model, &r.SizeBytes, &r.Serial, &r.EvidenceName); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// EvidenceList lists every kept evidence file, oldest first, with the
// serials of the devices it covers.
func (s *Store) EvidenceList() ([]EvidenceRecord, error) {
	rows, err := s.db.Query(evidenceSelect + ` ORDER BY v.id`)
	if err != nil {
		return nil, fmt.Errorf("read evidence: %w", err)
	}
	defer rows.Close()
	var out []EvidenceRecord
	for rows.Next() {
		r, err := scanEvidence(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	for i := range out {
		if out[i].Devices, err = evidenceDevices(s.db, out[i].SHA256); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func evidenceDevices(q querier, sum string) ([]string, error) {
	rows, err := q.Query(`SELECT d.serial FROM devices d WHERE d.id IN (
		SELECT e.device_id FROM erasures e JOIN evidence v ON v.id = e.evidence_id WHERE v.sha256 = ?1
		UNION SELECT ed.device_id FROM evidence_devices ed JOIN evidence v ON v.id = ed.evidence_id WHERE v.sha256 = ?1)
		ORDER BY d.serial_key`, sum)
	if err != nil {
		return nil, fmt.Errorf("read evidence devices: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// findEvidence resolves a SHA-256 or a unique prefix of at least 8 hex
// digits, or a file name that one file has.
func findEvidence(q querier, ref string) (EvidenceRecord, error) {
	ref = strings.TrimSpace(ref)
	var matches []EvidenceRecord
	rows, err := q.Query(evidenceSelect+` WHERE (length(?1) >= 8 AND v.sha256 LIKE ?1 || '%') OR v.name = ?2 ORDER BY v.id`,
		strings.ToLower(ref), ref)
	if err != nil {
		return EvidenceRecord{}, fmt.Errorf("read evidence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanEvidence(rows)
		if err != nil {
			return r, err
		}
		matches = append(matches, r)
	}
	if err := rows.Err(); err != nil {
		return EvidenceRecord{}, err
	}
	switch len(matches) {
	case 0:
		return EvidenceRecord{}, notFound("evidence", ref)
	case 1:
		return matches[0], nil
	}
	return EvidenceRecord{}, fmt.Errorf("%w: %q names %d evidence files: give more of the SHA-256", ErrInvalid, ref, len(matches))
}

// Evidence returns one kept file by SHA-256 (or a unique prefix of 8 or
// more hex digits, or its name) with the erasures recorded from it and
// the devices it covers. It returns ErrNotFound when none matches.
func (s *Store) Evidence(ref string) (EvidenceRecord, error) {
	r, err := findEvidence(s.db, ref)
	if err != nil {
		return r, err
	}
	if r.Erasure, err = queryErasures(s.db, `WHERE v.sha256 = ? ORDER BY e.id`, r.SHA256); err != nil {
		return r, err
	}
	r.Devices, err = evidenceDevices(s.db, r.SHA256)
	return r, err
}

// EvidenceData returns a kept file's bytes, checked against its SHA-256:
// a file changed in the ledger fails with ErrTampered.
func (s *Store) EvidenceData(sum string) ([]byte, error) {
	var data []byte
	if err := s.db.QueryRow(`SELECT data FROM evidence WHERE sha256 = ?`, sum).Scan(&data); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("evidence", sum)
		}
		return nil, fmt.Errorf("read evidence: %w", err)
	}
	if SHA256Hex(data) != sum {
		return nil, fmt.Errorf("%w: evidence %s: its bytes do not match their SHA-256 (changed in the ledger): run itad verify", ErrTampered, sum)
	}
	return data, nil
}

// DeviceEvidence returns a device's erasures (oldest first) and every
// evidence file behind them or attached to it.
func deviceEvidence(q querier, devID int64) ([]ErasureRecord, []EvidenceRecord, error) {
	ers, err := queryErasures(q, `WHERE e.device_id = ? ORDER BY e.id`, devID)
	if err != nil {
		return nil, nil, err
	}
	rows, err := q.Query(evidenceSelect+` WHERE v.id IN (SELECT evidence_id FROM erasures WHERE device_id = ?1
		UNION SELECT evidence_id FROM evidence_devices WHERE device_id = ?1) ORDER BY v.id`, devID)
	if err != nil {
		return nil, nil, fmt.Errorf("read evidence: %w", err)
	}
	defer rows.Close()
	var evs []EvidenceRecord
	for rows.Next() {
		r, err := scanEvidence(rows)
		if err != nil {
			return nil, nil, err
		}
		evs = append(evs, r)
	}
	return ers, evs, rows.Err()
}

// CertificateEvidence is one evidence file a certificate cites: its name,
// kind and SHA-256, and for a report the tool, method and verification of
// the erasure it recorded.
type CertificateEvidence struct {
	Serial       string `json:"serial"`
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	SHA256       string `json:"sha256"`
	Tool         string `json:"tool"`
	Method       string `json:"method"`
	Verification string `json:"verification"`
}

// certificateEvidence lists the evidence behind a device's final
// disposition (the erasures that recorded it) and the documents attached
// to the device, in the order they were kept.
func certificateEvidence(q querier, devID int64, serial string) ([]CertificateEvidence, error) {
	rows, err := q.Query(`SELECT v.name, v.kind, v.sha256, e.tool, e.method_name, e.verify, v.id
		FROM erasures e JOIN evidence v ON v.id = e.evidence_id JOIN disposals x ON x.id = e.disposal_id
		WHERE e.device_id = ?1 AND x.is_final = 1
		UNION ALL SELECT v.name, v.kind, v.sha256, '', '', '', v.id FROM evidence_devices ed JOIN evidence v ON v.id = ed.evidence_id
		WHERE ed.device_id = ?1 ORDER BY 7`, devID)
	if err != nil {
		return nil, fmt.Errorf("read certificate evidence: %w", err)
	}
	return scanCertificateEvidence(rows, serial)
}

// batchCertificateEvidence lists the evidence behind the standing
// disposals of the batch with id batchID (the erasures that recorded
// them) and the documents attached to their devices, by file in the
// order the files were kept, then by serial.
func batchCertificateEvidence(q querier, batchID any) ([]CertificateEvidence, error) {
	rows, err := q.Query(`SELECT v.name, v.kind, v.sha256, e.tool, e.method_name, e.verify, v.id, d.serial, d.serial_key
		FROM disposals x JOIN erasures e ON e.disposal_id = x.id JOIN evidence v ON v.id = e.evidence_id JOIN devices d ON d.id = x.device_id
		WHERE x.batch_id = ?1 AND x.voided_seq = 0
		UNION ALL SELECT v.name, v.kind, v.sha256, '', '', '', v.id, d.serial, d.serial_key
		FROM evidence_devices ed JOIN evidence v ON v.id = ed.evidence_id JOIN devices d ON d.id = ed.device_id
		WHERE ed.device_id IN (SELECT device_id FROM disposals WHERE batch_id = ?1 AND voided_seq = 0)
		ORDER BY 7, 9, 4, 5, 6`, batchID)
	if err != nil {
		return nil, fmt.Errorf("read certificate evidence: %w", err)
	}
	return scanCertificateEvidence(rows, "")
}

// scanCertificateEvidence reads certificateEvidence's or
// batchCertificateEvidence's rows (the latter with each row's serial,
// the former with serial for all) and closes them.
func scanCertificateEvidence(rows *sql.Rows, serial string) ([]CertificateEvidence, error) {
	defer rows.Close()
	var out []CertificateEvidence
	for rows.Next() {
		var c CertificateEvidence
		var id int64
		var verify, key string
		dst := []any{&c.Name, &c.Kind, &c.SHA256, &c.Tool, &c.Method, &verify, &id}
		if serial == "" {
			dst = append(dst, &c.Serial, &key)
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, err
		}
		if serial != "" {
			c.Serial = serial
		}
		switch verify {
		case "last":
			c.Verification = "verified (last pass)"
		case "all":
			c.Verification = "verified (all passes)"
		case "off":
			c.Verification = "not verified"
		case "":
		default:
			c.Verification = "verification " + verify
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// NeedsDestruction is a device whose last erasure attempt failed and that
// has no disposal recorded since.
type NeedsDestruction struct {
	Device  Device        `json:"device"`
	Erasure ErasureRecord `json:"failed_erasure"`
}

// needsDestructionExpr is true for a device d with a failed erasure and
// no standing disposal dated on or after it.
const needsDestructionExpr = `d.id IN (SELECT f.device_id FROM erasures f WHERE f.outcome = '` + OutcomeFailed + `'
	AND NOT EXISTS (SELECT 1 FROM disposals y WHERE y.device_id = f.device_id AND y.voided_seq = 0 AND y.disposed_on >= f.ended_on))`

// DevicesNeedingDestruction lists the devices with a failed erasure and
// no standing disposal dated on or after it, by serial: a drive that
// could not be wiped must be destroyed (or wiped again).
func (s *Store) DevicesNeedingDestruction() ([]NeedsDestruction, error) {
	ers, err := queryErasures(s.db, `WHERE `+needsDestructionExpr+` AND e.id = (SELECT max(id) FROM erasures g WHERE g.device_id = e.device_id AND g.outcome = '`+OutcomeFailed+`')
		ORDER BY d.serial_key`)
	if err != nil {
		return nil, err
	}
	out := make([]NeedsDestruction, 0, len(ers))
	for _, e := range ers {
		d, err := s.Device(e.Serial)
		if err != nil {
			return nil, err
		}
		out = append(out, NeedsDestruction{Device: d, Erasure: e})
	}
	return out, nil
}

// FailedErasure returns the failed erasure that makes device serial need
// destruction (as DevicesNeedingDestruction lists it) and true, or false
// when the device does not need destruction. It returns ErrNotFound for
// an unknown device.
func (s *Store) FailedErasure(serial string) (ErasureRecord, bool, error) {
	d, err := s.Device(serial)
	if err != nil {
		return ErasureRecord{}, false, err
	}
	ers, err := queryErasures(s.db, `WHERE d.uuid = ? AND `+needsDestructionExpr+` AND e.outcome = '`+OutcomeFailed+`' ORDER BY e.id DESC LIMIT 1`, d.UUID)
	if err != nil || len(ers) == 0 {
		return ErasureRecord{}, false, err
	}
	return ers[0], true, nil
}

// Consultations of evidence (through Disclose).
const (
	EvidenceShowAction   = "evidence.show"
	EvidenceExportAction = "evidence.export"
)

func init() { RegisterNoStateAction(EvidenceShowAction, EvidenceExportAction) }
