package ledger

import (
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Certificate kinds.
const (
	CertDevice = "device" // one device's final disposition
	CertBatch  = "batch"  // every disposal of a destruction run
)

// Errors about certificates.
var (
	ErrAlreadyRevoked = errors.New("certificate already revoked")
	ErrBatchOpen      = errors.New("batch is still open")
	ErrNoOrg          = errors.New("no organisation is set")
)

// Certificate is the ledger's record of an issued certificate of
// destruction. Its UUID is the certificate number printed on it.
type Certificate struct {
	UUID              string `json:"uuid"`
	Kind              string `json:"kind"`    // CertDevice or CertBatch
	Subject           string `json:"subject"` // serial or batch reference
	ContentHash       string `json:"content_hash"`
	PDFSHA256         string `json:"pdf_sha256"` // of the unsigned PDF
	SignerFingerprint string `json:"signer_fingerprint"`
	IssuedAt          string `json:"issued_at"` // TimeFormat, UTC
	IssuedBy          string `json:"issued_by"`
	SupersededBy      string `json:"superseded_by"`
	RevokedAt         string `json:"revoked_at"`
	RevokeReason      string `json:"revoke_reason"`
	Devices           int    `json:"devices"` // how many devices it covers
	Seq               int64  `json:"seq"`     // the certificate.issue event
	// Stale lists the changes since issue that altered what the
	// certificate would say now (stale.go), oldest first.
	Stale []StaleCause `json:"stale,omitempty"`
	// Supersedes lists the certificates this one replaced; it is set only
	// by IssueCertificate.
	Supersedes []string `json:"supersedes,omitempty"`
	// Checkpoint is the checkpoint taken with a revocation or a
	// supersession; it is set only by RevokeCertificate and
	// IssueCertificate.
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
}

// Status is "revoked", "superseded", "stale" (the ledger's records
// changed since issue: see Stale) or "current".
func (c Certificate) Status() string {
	switch {
	case c.RevokedAt != "":
		return "revoked"
	case c.SupersededBy != "":
		return "superseded"
	case len(c.Stale) > 0:
		return "stale"
	}
	return "current"
}

// IssuedTime parses IssuedAt.
func (c Certificate) IssuedTime() (time.Time, error) {
	t, err := time.Parse(TimeFormat, c.IssuedAt)
	if err != nil {
		return t, fmt.Errorf("certificate %s: bad issue time %q", c.UUID, c.IssuedAt)
	}
	return t, nil
}

// CertificateData is what the ledger holds now about a certificate's
// subject: everything a certificate of that kind and subject shows.
type CertificateData struct {
	Kind        string `json:"kind"`
	Subject     string `json:"subject"` // canonical serial or batch reference
	Org         string `json:"org"`
	Destination string `json:"media_destination"`
	// OrgLocation and OrgPhone are the organisation's (settings
	// org_location and org_phone), Defaults the ledger-wide Appendix G
	// defaults (media_classification): what prints where neither a
	// disposal nor its batch records a field.
	OrgLocation string    `json:"org_location"`
	OrgPhone    string    `json:"org_phone"`
	Defaults    AppendixG `json:"appendix_g_defaults"`
	// BatchAppG is the batch's own Appendix G record (batch certificates).
	BatchAppG AppendixG `json:"batch_appendix_g"`
	// Batch is the destruction run of a batch certificate (nil for a
	// device certificate).
	Batch *Batch `json:"batch,omitempty"`
	// Contractors are the contractors named by the items and the batch,
	// ordered by name (compared as NameKey).
	Contractors []Contractor `json:"contractors"`
	// Items are the disposals certified: a device's final disposition, or
	// every disposal recorded in the batch, ordered by serial.
	Items []CertificateItem `json:"items"`
	// Evidence is what the certificate cites behind its disposals: the
	// erasure reports that recorded them and the documents attached to
	// their devices (evidence.go), one entry per file and serial. Empty
	// when none of the items has evidence.
	Evidence []CertificateEvidence `json:"evidence,omitempty"`
}

// CertificateItem is one certified disposal and its device, with its
// weight under WeightRule (the disposal's own, or its share of its run's
// weighed gross output): the weight Report, FOI and Export count for it.
type CertificateItem struct {
	Device   Device   `json:"device"`
	Disposal Disposal `json:"disposal"`
	Weight   Weight   `json:"weight"`
	// AppG is the disposal's own Appendix G record (see Effective).
	AppG AppendixG `json:"appendix_g"`
}

// Effective returns the Appendix G record that applies to item it of d:
// the disposal's own fields, else its batch's (when it is in the batch
// certified), else the ledger's defaults.
func (d CertificateData) Effective(it CertificateItem) AppendixG {
	g := it.AppG
	if d.Batch != nil && it.Disposal.Batch == d.Batch.Ref {
		g = g.Over(d.BatchAppG)
	}
	return g.Over(d.Defaults)
}

// CertificateDraft is handed to the renderer while a certificate is being
// issued: its number, issue time and issuer, and the data it certifies.
type CertificateDraft struct {
	UUID     string
	IssuedAt time.Time
	IssuedBy string
	Data     CertificateData
	// PublicURL is the public_url setting ("" when unset): the base of
	// the verification link the certificate's QR code holds.
	PublicURL string
}

// CertificateHashes are what the renderer reports back about the
// certificate it made: lowercase hex SHA-256 values.
type CertificateHashes struct {
	ContentHash       string // of the canonical content
	PDFSHA256         string // of the unsigned PDF
	SignerFingerprint string // of the signing X.509 certificate
}

// certificateIssueEvent is the payload of certificate.issue. The fields
// and their order are part of the event format that verify replays.
type certificateIssueEvent struct {
	UUID              string   `json:"uuid"`
	Kind              string   `json:"kind"`
	Subject           string   `json:"subject"`
	ContentHash       string   `json:"content_hash"`
	PDFSHA256         string   `json:"pdf_sha256"`
	SignerFingerprint string   `json:"signer_fingerprint"`
	IssuedAt          string   `json:"issued_at"`
	IssuedBy          string   `json:"issued_by"`
	Devices           []string `json:"devices"`    // device uuids
	Supersedes        []string `json:"supersedes"` // certificate uuids
}

// certificateRevokeEvent is the payload of certificate.revoke.
type certificateRevokeEvent struct {
	UUID      string `json:"uuid"`
	Reason    string `json:"reason"`
	RevokedAt string `json:"revoked_at"`
}

// querier is what both *sql.DB and *sql.Tx offer for reads.
type querier interface {
	Query(string, ...any) (*sql.Rows, error)
	QueryRow(string, ...any) *sql.Row
}

// CertificateData returns the ledger's current data for a certificate of
// kind (CertDevice or CertBatch) about subject (a serial or a batch
// reference). It returns ErrNotFound for an unknown device or batch,
// ErrNoDisposal for a device without a disposal, ErrBatchOpen for a batch
// not yet closed, ErrNoDisposal for a batch without disposals, and ErrNoOrg
// when the organisation is not set.
func (s *Store) CertificateData(kind, subject string) (CertificateData, error) {
	d, _, err := loadCertificateData(s.db, kind, subject)
	return d, err
}

// loadCertificateData reads a certificate's data through q and also
// returns the ids of the devices it covers, without duplicates.
func loadCertificateData(q querier, kind, subject string) (CertificateData, []int64, error) {
	data := CertificateData{Kind: kind}
	var err error
	if data.Org, err = settingQ(q, SettingOrg); err != nil {
		return data, nil, err
	}
	if data.Org == "" {
		return data, nil, fmt.Errorf("%w: a certificate must name the organisation", ErrNoOrg)
	}
	if data.Destination, err = settingQ(q, SettingDestination); err != nil {
		return data, nil, err
	}
	if data.OrgLocation, err = settingQ(q, SettingOrgLocation); err != nil {
		return data, nil, err
	}
	if data.OrgPhone, err = settingQ(q, SettingOrgPhone); err != nil {
		return data, nil, err
	}
	if data.Defaults, err = appendixGDefaults(q); err != nil {
		return data, nil, err
	}
	var where string
	var arg any
	switch kind {
	case CertDevice:
		d, id, err := scanDevice(q.QueryRow(`SELECT `+deviceCols+` FROM devices WHERE serial_key IN (?, ?) ORDER BY serial_key <> ? LIMIT 1`, legacySerialKey(subject), SerialKey(subject), legacySerialKey(subject)))
		if errors.Is(err, sql.ErrNoRows) {
			return data, nil, notFound("device", subject)
		}
		if err != nil {
			return data, nil, err
		}
		data.Subject = d.Serial
		where, arg = `WHERE x.device_id = ? AND x.is_final = 1`, id
	case CertBatch:
		b, id, err := scanBatch(q.QueryRow(batchSelect+` WHERE b.ref_key IN (?, ?) ORDER BY b.ref_key <> ? LIMIT 1`, legacyNameKey(subject), NameKey(subject), legacyNameKey(subject)))
		if errors.Is(err, sql.ErrNoRows) {
			return data, nil, notFound("batch", subject)
		}
		if err != nil {
			return data, nil, err
		}
		if b.ClosedAt == "" {
			return data, nil, fmt.Errorf("batch %s: %w: close it before certifying it, so that no device joins it later", b.Ref, ErrBatchOpen)
		}
		data.Subject, data.Batch = b.Ref, &b
		if data.BatchAppG, err = readAppendixG(q, "batch", b.UUID); err != nil {
			return data, nil, err
		}
		where, arg = `WHERE x.batch_id = ? AND x.voided_seq = 0`, id // a voided disposal is no longer certified
	default:
		return data, nil, fmt.Errorf("%w: certificate kind %q (device or batch)", ErrInvalid, kind)
	}
	// One query for the devices and their disposals: a batch may hold
	// tens of thousands.
	rows, err := q.Query(`SELECT d.id, d.uuid, d.serial, d.asset_tag, d.type, d.make, d.model, d.capacity_gb, d.site,
		x.uuid, x.method, x.category, x.standard, x.tool, x.verified, c.name,
		x.disposed_on, x.weight_g, coalesce(b.ref, ''), x.operator, x.witness, x.notes, x.is_final, x.batch_id
		FROM disposals x JOIN devices d ON d.id = x.device_id JOIN contractors c ON c.id = x.contractor_id
		LEFT JOIN batches b ON b.id = x.batch_id `+where+` ORDER BY d.serial_key, x.disposed_on, x.id`, arg)
	if err != nil {
		return data, nil, fmt.Errorf("read certificate data: %w", err)
	}
	defer rows.Close()
	var ids, runs []int64
	seen, seenRun := map[int64]bool{}, map[int64]bool{}
	names := map[string]bool{}
	for rows.Next() {
		var it CertificateItem
		var id int64
		var capGB, w, run sql.NullInt64
		d, p := &it.Device, &it.Disposal
		if err := rows.Scan(&id, &d.UUID, &d.Serial, &d.AssetTag, &d.Type, &d.Make, &d.Model, &capGB, &d.Site,
			&p.UUID, &p.Method, &p.Category, &p.Standard, &p.Tool, &p.Verified, &p.Contractor,
			&p.DisposedOn, &w, &p.Batch, &p.Operator, &p.Witness, &p.Notes, &p.Final, &run); err != nil {
			return data, nil, err
		}
		if run.Valid && !seenRun[run.Int64] {
			seenRun[run.Int64] = true
			runs = append(runs, run.Int64)
		}
		if capGB.Valid {
			d.CapacityGB = &capGB.Int64
		}
		if w.Valid {
			p.WeightG = &w.Int64
		}
		p.Serial = d.Serial
		data.Items = append(data.Items, it)
		names[p.Contractor] = true
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return data, nil, err
	}
	rows.Close()
	// Appendix G records of the disposals, in one query.
	var ags map[string]AppendixG
	if kind == CertBatch {
		ags, err = readAppendixGAll(q, `JOIN disposals x ON x.uuid = g.uuid WHERE g.owner = 'disposal' AND x.batch_id = ? AND x.voided_seq = 0`, arg)
	} else {
		ags, err = readAppendixGAll(q, `JOIN disposals x ON x.uuid = g.uuid WHERE g.owner = 'disposal' AND x.device_id = ? AND x.is_final = 1`, arg)
	}
	if err != nil {
		return data, nil, err
	}
	for i := range data.Items {
		data.Items[i].AppG = ags[data.Items[i].Disposal.UUID]
	}
	// Weights under WeightRule, computed by the SQL that reports use.
	ws, err := runWeights(q, runs)
	if err != nil {
		return data, nil, err
	}
	for i := range data.Items {
		it := &data.Items[i]
		if w, ok := ws[it.Disposal.UUID]; ok {
			it.Weight = w
		} else {
			it.Weight = ownWeight(it.Disposal)
		}
	}
	if len(data.Items) == 0 {
		if kind == CertDevice {
			return data, nil, fmt.Errorf("device %s: %w: record one with 'itad dispose' first", data.Subject, ErrNoDisposal)
		}
		return data, nil, fmt.Errorf("batch %s: %w: it holds no disposals", data.Subject, ErrNoDisposal)
	}
	if data.Batch != nil && data.Batch.Contractor != "" {
		names[data.Batch.Contractor] = true
	}
	for _, n := range sortedKeys(names) {
		var c Contractor
		err := q.QueryRow(`SELECT uuid, name, accreditations, contract_ref FROM contractors WHERE name_key IN (?, ?) ORDER BY name_key <> ? LIMIT 1`, legacyNameKey(n), NameKey(n), legacyNameKey(n)).
			Scan(&c.UUID, &c.Name, &c.Accreditations, &c.ContractRef)
		if err != nil {
			return data, nil, fmt.Errorf("read contractor %s: %w", n, err)
		}
		data.Contractors = append(data.Contractors, c)
	}
	sort.SliceStable(data.Contractors, func(i, j int) bool {
		return NameKey(data.Contractors[i].Name) < NameKey(data.Contractors[j].Name)
	})
	if kind == CertDevice {
		data.Evidence, err = certificateEvidence(q, ids[0], data.Subject)
	} else {
		data.Evidence, err = batchCertificateEvidence(q, arg)
	}
	if err != nil {
		return data, nil, err
	}
	return data, ids, nil
}

func settingQ(q querier, k string) (string, error) { return checkedSetting(q, k) }

// IssueCertificate issues a certificate of kind (CertDevice or CertBatch)
// for subject in one transaction: it reads the subject's data, gives it to
// render with a new certificate number and the issue time, and records
// what render reports as a certificate.issue event, a certificates row and
// its certificate_devices rows. Every current (neither revoked nor
// superseded) certificate of the same kind and subject is marked
// superseded by the new one; then a checkpoint covering the issue is
// signed with signer and recorded in the same transaction (and written to
// checkpoint_dir after it), so that the supersession cannot later be
// removed unseen. signer may be nil only when nothing is superseded.
//
// render runs while the ledger's write lock is held, so the data it
// certifies is the data recorded; if it fails nothing is recorded. It
// returns the errors of CertificateData, ErrInvalid for malformed hashes
// or a missing signer, render's error, and the errors of
// CreateCheckpoint (a *CheckpointDirError leaves the certificate
// recorded).
func (s *Store) IssueCertificate(kind, subject string, signer note.Signer, render func(CertificateDraft) (CertificateHashes, error)) (Certificate, error) {
	certs, err := s.IssueCertificates(CertificateRequest{Subjects: []CertSubject{{Kind: kind, Subject: subject}}}, signer,
		func(_, _ int, d CertificateDraft) (CertificateHashes, error) { return render(d) })
	if len(certs) == 0 {
		return Certificate{}, err
	}
	return certs[0], err
}

// issueOne issues one certificate in t (see IssueCertificate), without
// the checkpoint; pub is the public_url setting. It returns the
// certificate, with its Supersedes.
func (t *txn) issueOne(kind, subject, pub string, render func(CertificateDraft) (CertificateHashes, error)) (Certificate, error) {
	var c Certificate
	data, ids, err := loadCertificateData(t.tx, kind, subject)
	if err != nil {
		return c, err
	}
	draft := CertificateDraft{UUID: newUUID(), IssuedAt: t.now, IssuedBy: t.actor, Data: data, PublicURL: pub}
	h, err := render(draft)
	if err != nil {
		return c, err
	}
	for _, f := range [][2]string{{"content hash", h.ContentHash}, {"pdf hash", h.PDFSHA256}, {"signer fingerprint", h.SignerFingerprint}} {
		if !isHexSHA256(f[1]) {
			return c, fmt.Errorf("%w: %s %q is not a hex SHA-256", ErrInvalid, f[0], f[1])
		}
	}
	ev := certificateIssueEvent{UUID: draft.UUID, Kind: kind, Subject: data.Subject, ContentHash: h.ContentHash,
		PDFSHA256: h.PDFSHA256, SignerFingerprint: h.SignerFingerprint, IssuedAt: t.now.Format(TimeFormat),
		IssuedBy: t.actor, Devices: []string{}, Supersedes: []string{}}
	// Device uuids in the order of the items, each once.
	seen := map[string]bool{}
	for _, it := range data.Items {
		if !seen[it.Device.UUID] {
			seen[it.Device.UUID] = true
			ev.Devices = append(ev.Devices, it.Device.UUID)
		}
	}
	if ev.Supersedes, err = currentCertificates(t.tx, kind, data.Subject, ev.Devices); err != nil {
		return c, err
	}
	seq, err := t.appendEvent("certificate.issue", ev.UUID, ev)
	if err != nil {
		return c, err
	}
	res, err := t.exec(`INSERT INTO certificates(uuid, kind, subject, content_hash, pdf_sha256, signer_fingerprint, issued_at, issued_by, seq)
		VALUES (?,?,?,?,?,?,?,?,?)`, ev.UUID, kind, ev.Subject, ev.ContentHash, ev.PDFSHA256, ev.SignerFingerprint, ev.IssuedAt, ev.IssuedBy, seq)
	if err != nil {
		return c, fmt.Errorf("record certificate: %w", err)
	}
	certID, err := res.LastInsertId()
	if err != nil {
		return c, err
	}
	for _, id := range ids {
		if _, err := t.exec(`INSERT INTO certificate_devices(certificate_id, device_id) VALUES (?, ?)`, certID, id); err != nil {
			return c, fmt.Errorf("record certificate devices: %w", err)
		}
	}
	for _, old := range ev.Supersedes {
		if _, err := t.exec(`UPDATE certificates SET superseded_by = ? WHERE uuid = ?`, ev.UUID, old); err != nil {
			return c, fmt.Errorf("supersede certificate %s: %w", old, err)
		}
	}
	return Certificate{UUID: ev.UUID, Kind: kind, Subject: ev.Subject, ContentHash: ev.ContentHash, PDFSHA256: ev.PDFSHA256,
		SignerFingerprint: ev.SignerFingerprint, IssuedAt: ev.IssuedAt, IssuedBy: ev.IssuedBy, Devices: len(ids), Seq: seq,
		Supersedes: ev.Supersedes}, nil
}

// currentCertificates returns the uuids of the certificates of kind and
// subject that are neither revoked nor superseded, oldest first.
// currentCertificates returns the current certificates that a new one of
// kind about subject supersedes: those of the same kind and subject, and
// for a device certificate those of the device under an earlier serial
// (a serial correction), found by its uuid (devices).
func currentCertificates(q querier, kind, subject string, devices []string) ([]string, error) {
	dev := ""
	if kind == CertDevice && len(devices) == 1 {
		dev = devices[0]
	}
	rows, err := q.Query(`SELECT uuid FROM certificates WHERE superseded_by = '' AND revoked_at = '' AND kind = ?1 AND (subject = ?2
		OR ?3 != '' AND id IN (SELECT cd.certificate_id FROM certificate_devices cd JOIN devices d ON d.id = cd.device_id WHERE d.uuid = ?3))
		ORDER BY seq`, kind, subject, dev)
	if err != nil {
		return nil, fmt.Errorf("read certificates: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// RevokeCertificate revokes a certificate, recording the reason (required)
// as a certificate.revoke event, then signs with signer and records a
// checkpoint covering it in the same transaction (and writes it to
// checkpoint_dir after it), so that the revocation cannot later be
// removed unseen. It returns ErrNotFound for an unknown number,
// ErrAlreadyRevoked, ErrInvalid for an empty reason or a nil signer, and
// the errors of CreateCheckpoint (a *CheckpointDirError leaves the
// revocation recorded).
func (s *Store) RevokeCertificate(number, reason string, signer note.Signer) (Certificate, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Certificate{}, fmt.Errorf("%w: a reason is required to revoke a certificate", ErrInvalid)
	}
	if err := checkText("reason", reason, 1024); err != nil {
		return Certificate{}, err
	}
	if signer == nil {
		return Certificate{}, fmt.Errorf("%w: revoking a certificate takes a checkpoint: a signing key is required", ErrInvalid)
	}
	var c Certificate
	var dir string
	err := s.write(reason, func(t *txn) error {
		var err error
		if c, err = certificateByNumber(t.tx, number); err != nil {
			return err
		}
		if c.RevokedAt != "" {
			return fmt.Errorf("certificate %s: %w on %s (%s)", c.UUID, ErrAlreadyRevoked, c.RevokedAt, c.RevokeReason)
		}
		c.RevokedAt, c.RevokeReason = t.now.Format(TimeFormat), reason
		if _, err := t.appendEvent("certificate.revoke", c.UUID, certificateRevokeEvent{UUID: c.UUID, Reason: reason, RevokedAt: c.RevokedAt}); err != nil {
			return err
		}
		if _, err = t.exec(`UPDATE certificates SET revoked_at = ?, revoke_reason = ? WHERE uuid = ?`, c.RevokedAt, reason, c.UUID); err != nil {
			return err
		}
		cp, d, err := t.checkpoint(signer)
		if err != nil {
			return fmt.Errorf("checkpoint the revocation: %w", err)
		}
		c.Checkpoint, dir = &cp, d
		return nil
	})
	if err == nil && dir != "" {
		err = publishCheckpoint(dir, *c.Checkpoint)
	}
	return c, err
}

const certificateSelect = `SELECT c.uuid, c.kind, c.subject, c.content_hash, c.pdf_sha256, c.signer_fingerprint,
	c.issued_at, c.issued_by, c.superseded_by, c.revoked_at, c.revoke_reason, c.seq,
	(SELECT count(*) FROM certificate_devices cd WHERE cd.certificate_id = c.id)
	FROM certificates c`

func scanCertificate(sc interface{ Scan(...any) error }) (Certificate, error) {
	var c Certificate
	err := sc.Scan(&c.UUID, &c.Kind, &c.Subject, &c.ContentHash, &c.PDFSHA256, &c.SignerFingerprint,
		&c.IssuedAt, &c.IssuedBy, &c.SupersededBy, &c.RevokedAt, &c.RevokeReason, &c.Seq, &c.Devices)
	return c, err
}

func certificateByNumber(q querier, number string) (Certificate, error) {
	c, err := scanCertificate(q.QueryRow(certificateSelect+` WHERE c.uuid = ?`, strings.ToLower(strings.TrimSpace(number))))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("certificate", number)
	}
	if err != nil {
		return c, fmt.Errorf("read certificate %s: %w", number, err)
	}
	return c, nil
}

// CertificateByNumber returns the certificate with that number, or
// ErrNotFound.
//
// Its revocation and supersession are checked against the certificate's
// events (state.go): a row changed behind itad's back fails with a
// *StateError, which matches ErrTampered.
func (s *Store) CertificateByNumber(number string) (Certificate, error) {
	c, err := certificateByNumber(s.db, number)
	if err != nil {
		return c, err
	}
	cs := []Certificate{c}
	err = checkCertificates(s.db, cs)
	return cs[0], err
}

// Certificates lists certificates in the order they were issued; with a
// serial, only those that cover that device (ErrNotFound for an unknown
// serial).
func (s *Store) Certificates(serial string) ([]Certificate, error) {
	if serial == "" {
		cs, err := queryCertificates(s.db, certificateSelect+` ORDER BY c.seq`)
		if err != nil {
			return nil, err
		}
		return cs, checkCertificates(s.db, cs)
	}
	var id int64
	err := s.db.QueryRow(`SELECT id FROM devices WHERE serial_key IN (?, ?) ORDER BY serial_key <> ? LIMIT 1`, legacySerialKey(serial), SerialKey(serial), legacySerialKey(serial)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("device", serial)
	}
	if err != nil {
		return nil, err
	}
	return deviceCertificates(s.db, id)
}

// BatchCertificates lists the certificates issued for the batch with that
// reference, in the order they were issued, each checked against its
// events and with its stale marks. It returns ErrNotFound for an unknown
// batch.
func (s *Store) BatchCertificates(ref string) ([]Certificate, error) {
	var canon string
	err := s.db.QueryRow(`SELECT ref FROM batches WHERE ref_key = ?`, NameKey(ref)).Scan(&canon)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("batch", ref)
	}
	if err != nil {
		return nil, err
	}
	cs, err := queryCertificates(s.db, certificateSelect+` WHERE c.kind = ? AND c.subject = ? ORDER BY c.seq`, CertBatch, canon)
	if err != nil {
		return nil, err
	}
	return cs, checkCertificates(s.db, cs)
}

// deviceCertificates lists the certificates covering a device, each
// checked against its events.
func deviceCertificates(q querier, deviceID int64) ([]Certificate, error) {
	cs, err := queryCertificates(q, certificateSelect+` WHERE c.id IN (SELECT certificate_id FROM certificate_devices WHERE device_id = ?) ORDER BY c.seq`, deviceID)
	if err != nil {
		return nil, err
	}
	return cs, checkCertificates(q, cs)
}

func queryCertificates(q querier, query string, args ...any) ([]Certificate, error) {
	rows, err := q.Query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("list certificates: %w", err)
	}
	defer rows.Close()
	out := []Certificate{}
	for rows.Next() {
		c, err := scanCertificate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// KeyRecord describes a signing certificate in a key.init, key.import or
// key.rotate event. It never holds secret material.
type KeyRecord struct {
	Fingerprint string `json:"fingerprint"` // hex SHA-256 of the certificate
	Subject     string `json:"subject"`
	NotAfter    string `json:"not_after"` // RFC 3339 UTC
}

// Key event actions (and KeyRotate, keys.go).
const (
	KeyInit   = "key.init"
	KeyImport = "key.import"
)

// RecordKey records the ledger's first signing identity, created (KeyInit)
// or imported (KeyImport). It returns ErrInvalid for another action or a
// malformed fingerprint, and an error wrapping ErrKeyRecorded when the
// ledger already records one: a key is changed with RotateKey.
func (s *Store) RecordKey(action string, k KeyRecord) error {
	if action != KeyInit && action != KeyImport {
		return fmt.Errorf("%w: key action %q", ErrInvalid, action)
	}
	if !isHexSHA256(k.Fingerprint) {
		return fmt.Errorf("%w: fingerprint %q is not a hex SHA-256", ErrInvalid, k.Fingerprint)
	}
	return s.write("", func(t *txn) error {
		h, err := keyHistory(t.tx)
		if err != nil {
			return err
		}
		if len(h) > 0 {
			return fmt.Errorf("%w (%s)", ErrKeyRecorded, h[len(h)-1].describe())
		}
		_, err = t.appendEvent(action, k.Fingerprint, k)
		return err
	})
}

// SigningKeys returns the signing certificates recorded by key.init,
// key.import and key.rotate events, oldest first: the keys this ledger has
// signed with (KeyHistory tells which is current).
func (s *Store) SigningKeys() ([]KeyRecord, error) {
	h, err := keyHistory(s.db)
	if err != nil {
		return nil, err
	}
	var out []KeyRecord
	for _, k := range h {
		out = append(out, k.KeyRecord)
	}
	return out, nil
}
