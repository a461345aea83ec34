package ledger

import (
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// NIST SP 800-88's sample certificate of sanitisation (Appendix G) asks
// for more than a disposal row holds: who performed it (title,
// organisation, location, phone), where the media came from and how it
// was classified, whether its data was backed up, how the result was
// verified, the classification after sanitisation, where the media went,
// and who validated the work and when. AppendixG holds those fields for a
// disposal, or for a batch (where they apply to every item that does not
// record its own). They live in the appendix_g table (migration 7), one row
// a recorded field, written only by appendix_g.set events (AppendixGAction).

// AppendixGAction is the event that records Appendix G fields of a
// disposal or a batch. Its payload is appendixGEvent; its row changes are
// appendixGEvent.changes, shared by the writer (setAppendixG) and verify.
const AppendixGAction = "appendix_g.set"

// Settings that give ledger-wide defaults for Appendix G fields a
// disposal or batch does not record (media_destination, SettingDestination,
// is the default destination).
const (
	SettingOrgLocation    = "org_location"
	SettingOrgPhone       = "org_phone"
	SettingClassification = "media_classification"
)

// AppendixG is the Appendix G record of a disposal or a batch. Every field
// is optional ("" when not recorded); values are checked and normalised by
// Validate. The JSON names are the field names used everywhere: the event
// payload, the appendix_g table, CSV import columns and (with "-" for "_")
// command-line flags.
type AppendixG struct {
	OperatorTitle       string `json:"operator_title,omitempty"`
	OperatorOrg         string `json:"operator_org,omitempty"`
	OperatorLocation    string `json:"operator_location,omitempty"`
	OperatorPhone       string `json:"operator_phone,omitempty"`
	MediaSource         string `json:"media_source,omitempty"`
	Classification      string `json:"media_classification,omitempty"`
	DataBackedUp        string `json:"data_backed_up,omitempty"` // yes, no or unknown
	BackupLocation      string `json:"backup_location,omitempty"`
	MethodDetails       string `json:"method_details,omitempty"`
	VerificationMethod  string `json:"verification_method,omitempty"` // full, sampling or other
	VerificationDetails string `json:"verification_details,omitempty"`
	PostClassification  string `json:"post_classification,omitempty"`
	Destination         string `json:"destination,omitempty"` // internal-reuse, external-reuse, recycling, manufacturer, other
	DestinationDetails  string `json:"destination_details,omitempty"`
	ValidatorName       string `json:"validator_name,omitempty"`
	ValidatorTitle      string `json:"validator_title,omitempty"`
	ValidatorOrg        string `json:"validator_org,omitempty"`
	ValidatorLocation   string `json:"validator_location,omitempty"`
	ValidatorPhone      string `json:"validator_phone,omitempty"`
	ValidatedOn         string `json:"validated_on,omitempty"` // YYYY-MM-DD
	// NISTRevision is the revision of NIST SP 800-88 the work followed:
	// "1" (2014) or "2" (2025, which points to IEEE 2883-2022 for the
	// techniques); "" when not recorded.
	NISTRevision string `json:"nist_revision,omitempty"`
}

// AppendixGField describes one field of AppendixG.
type AppendixGField struct {
	Name  string // as in the JSON, table, CSV header
	Usage string // for flags and documentation
	get   func(*AppendixG) *string
	parse func(string) (string, error) // nil: free text
}

// Flag is the field's command-line flag name: Name with "-" for "_".
func (f AppendixGField) Flag() string { return strings.ReplaceAll(f.Name, "_", "-") }

// Get returns the field's value in g.
func (f AppendixGField) Get(g AppendixG) string { return *f.get(&g) }

// Set checks v, normalises it and stores it in g. It returns ErrInvalid for
// a value the field does not accept.
func (f AppendixGField) Set(g *AppendixG, v string) error {
	v = strings.Join(strings.Fields(v), " ")
	if f.parse != nil && v != "" {
		var err error
		if v, err = f.parse(v); err != nil {
			return err
		}
	}
	if err := checkText(f.Name, v, 256); err != nil {
		return err
	}
	*f.get(g) = v
	return nil
}

// AppendixGFields lists the fields of AppendixG in their canonical order
// (the order of content encodings and events).
var AppendixGFields = []AppendixGField{
	{"operator_title", "title of the person performing sanitisation", func(g *AppendixG) *string { return &g.OperatorTitle }, nil},
	{"operator_org", "organisation of the person performing sanitisation", func(g *AppendixG) *string { return &g.OperatorOrg }, nil},
	{"operator_location", "location of the person performing sanitisation", func(g *AppendixG) *string { return &g.OperatorLocation }, nil},
	{"operator_phone", "phone of the person performing sanitisation", func(g *AppendixG) *string { return &g.OperatorPhone }, nil},
	{"media_source", "where the media came from (user, department, system)", func(g *AppendixG) *string { return &g.MediaSource }, nil},
	{"media_classification", "classification of the media before sanitisation", func(g *AppendixG) *string { return &g.Classification }, nil},
	{"data_backed_up", "was the data backed up: yes, no or unknown", func(g *AppendixG) *string { return &g.DataBackedUp }, parseBackedUp},
	{"backup_location", "where the backup is kept", func(g *AppendixG) *string { return &g.BackupLocation }, nil},
	{"method_details", "details of the method used (passes, pattern, particle size)", func(g *AppendixG) *string { return &g.MethodDetails }, nil},
	{"verification_method", "full, sampling (quick sampling) or other", func(g *AppendixG) *string { return &g.VerificationMethod }, parseVerificationMethod},
	{"verification_details", "details of the verification", func(g *AppendixG) *string { return &g.VerificationDetails }, nil},
	{"post_classification", "classification after sanitisation", func(g *AppendixG) *string { return &g.PostClassification }, nil},
	{"destination", "internal-reuse, external-reuse, recycling, manufacturer or other", func(g *AppendixG) *string { return &g.Destination }, parseDestination},
	{"destination_details", "details of the destination (facility, recipient)", func(g *AppendixG) *string { return &g.DestinationDetails }, nil},
	{"validator_name", "name of the person validating the sanitisation", func(g *AppendixG) *string { return &g.ValidatorName }, nil},
	{"validator_title", "title of the validator", func(g *AppendixG) *string { return &g.ValidatorTitle }, nil},
	{"validator_org", "organisation of the validator", func(g *AppendixG) *string { return &g.ValidatorOrg }, nil},
	{"validator_location", "location of the validator", func(g *AppendixG) *string { return &g.ValidatorLocation }, nil},
	{"validator_phone", "phone of the validator", func(g *AppendixG) *string { return &g.ValidatorPhone }, nil},
	{"validated_on", "date of the validation (YYYY-MM-DD)", func(g *AppendixG) *string { return &g.ValidatedOn }, parseValidatedOn},
	{"nist_revision", "NIST SP 800-88 revision followed: 1 or 2 (2025, techniques per IEEE 2883-2022)", func(g *AppendixG) *string { return &g.NISTRevision }, parseNISTRevision},
}

// AppendixGFieldByName returns the field called name (or its flag name).
func AppendixGFieldByName(name string) (AppendixGField, bool) {
	name = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "-", "_")
	for _, f := range AppendixGFields {
		if f.Name == name {
			return f, true
		}
	}
	return AppendixGField{}, false
}

// IsZero reports whether g records nothing.
func (g AppendixG) IsZero() bool { return g == AppendixG{} }

// Validated reports whether g records a validation (a validator or a date).
func (g AppendixG) Validated() bool { return g.ValidatedOn != "" }

// Validate checks and normalises every field of g in place. It returns
// ErrInvalid for a bad value, naming the field.
func (g *AppendixG) Validate() error {
	if *g == (AppendixG{}) {
		return nil // nothing recorded (most rows of an import): nothing to check
	}
	for _, f := range AppendixGFields {
		if err := f.Set(g, f.Get(*g)); err != nil {
			return err
		}
	}
	return nil
}

// Over returns g with every field it does not record taken from base:
// a disposal's record over its batch's, over the ledger's defaults.
func (g AppendixG) Over(base AppendixG) AppendixG {
	switch {
	case base == AppendixG{}:
		return g
	case g == AppendixG{}:
		return base
	}
	for _, f := range AppendixGFields {
		if p := f.get(&g); *p == "" {
			*p = f.Get(base)
		}
	}
	return g
}

func parseBackedUp(s string) (string, error) {
	switch key(s) {
	case "yes", "y", "true", "1":
		return "yes", nil
	case "no", "n", "false", "0":
		return "no", nil
	case "unknown", "u", "?":
		return "unknown", nil
	}
	return "", fmt.Errorf("%w: data_backed_up %q must be yes, no or unknown", ErrInvalid, s)
}

func parseVerificationMethod(s string) (string, error) {
	switch strings.NewReplacer("-", " ", "_", " ").Replace(key(s)) {
	case "full", "full verification":
		return "full", nil
	case "sampling", "quick sampling", "sample", "quick":
		return "sampling", nil
	case "other":
		return "other", nil
	}
	return "", fmt.Errorf("%w: verification_method %q must be full, sampling or other", ErrInvalid, s)
}

func parseDestination(s string) (string, error) {
	switch strings.NewReplacer(" ", "-", "_", "-").Replace(key(s)) {
	case "internal-reuse", "internal":
		return "internal-reuse", nil
	case "external-reuse", "external":
		return "external-reuse", nil
	case "recycling", "recycling-facility", "recycled":
		return "recycling", nil
	case "manufacturer", "returned-to-manufacturer":
		return "manufacturer", nil
	case "other":
		return "other", nil
	}
	return "", fmt.Errorf("%w: destination %q must be internal-reuse, external-reuse, recycling, manufacturer or other", ErrInvalid, s)
}

func parseValidatedOn(s string) (string, error) {
	if _, err := ParseDate(s); err != nil {
		return "", fmt.Errorf("validated_on: %w", err)
	}
	return s, nil
}

func parseNISTRevision(s string) (string, error) {
	switch strings.NewReplacer("revision", "", "rev.", "", "rev", "", "r", "", "-", "", ".", "").Replace(key(s)) {
	case "1":
		return "1", nil
	case "2":
		return "2", nil
	}
	return "", fmt.Errorf("%w: nist_revision %q must be 1 or 2", ErrInvalid, s)
}

// DestinationLabel is how a destination prints: "Recycling facility".
func DestinationLabel(d string) string {
	switch d {
	case "internal-reuse":
		return "Internal reuse"
	case "external-reuse":
		return "External reuse"
	case "recycling":
		return "Recycling facility"
	case "manufacturer":
		return "Manufacturer"
	case "other":
		return "Other"
	}
	return d
}

// VerificationMethodLabel is how a verification method prints.
func VerificationMethodLabel(v string) string {
	switch v {
	case "full":
		return "Full verification"
	case "sampling":
		return "Quick sampling"
	case "other":
		return "Other"
	}
	return v
}

// appendixGEvent is the payload of appendix_g.set: the fields it sets on
// one disposal or batch, in AppendixGFields order, each a [name, value]
// pair. Fields not named keep their value. The fields and their order are
// part of the event format that verify replays.
type appendixGEvent struct {
	Owner  string      `json:"owner"` // "disposal" or "batch"
	UUID   string      `json:"uuid"`  // of the disposal or batch
	Fields [][2]string `json:"fields"`
}

// appendixGChange is one row change of an appendix_g.set event: the row
// (owner, uuid, field) gets value, inserted or replaced, with the event's
// seq.
type appendixGChange struct{ owner, uuid, field, value string }

// key is the row's key as verify reads the table: "owner uuid field".
func (c appendixGChange) key() string { return c.owner + " " + c.uuid + " " + c.field }

// changes returns the row changes of e, or an error for a payload itad
// never writes.
func (e appendixGEvent) changes() ([]appendixGChange, error) {
	if e.Owner != "disposal" && e.Owner != "batch" {
		return nil, fmt.Errorf("owner %q is not disposal or batch", e.Owner)
	}
	if e.UUID == "" || len(e.Fields) == 0 {
		return nil, errors.New("no uuid or no fields")
	}
	out := make([]appendixGChange, 0, len(e.Fields))
	for _, f := range e.Fields {
		if _, ok := AppendixGFieldByName(f[0]); !ok || f[0] != strings.ToLower(f[0]) || strings.Contains(f[0], "-") {
			return nil, fmt.Errorf("unknown field %q", f[0])
		}
		if f[1] == "" {
			return nil, fmt.Errorf("field %q has no value", f[0])
		}
		out = append(out, appendixGChange{owner: e.Owner, uuid: e.UUID, field: f[0], value: f[1]})
	}
	return out, nil
}

// newAppendixGEvent is the event setting g's recorded fields on owner.
func newAppendixGEvent(owner, uuid string, g AppendixG) appendixGEvent {
	e := appendixGEvent{Owner: owner, UUID: uuid}
	for _, f := range AppendixGFields {
		if v := f.Get(g); v != "" {
			e.Fields = append(e.Fields, [2]string{f.Name, v})
		}
	}
	return e
}

// setAppendixG records g's fields on a disposal or batch in t: one
// appendix_g.set event (subject: the serial or batch reference) and its
// rows. Nothing is written when g records nothing.
func (t *txn) setAppendixG(owner, uuid, subject string, g AppendixG) error {
	e := newAppendixGEvent(owner, uuid, g)
	if len(e.Fields) == 0 {
		return nil
	}
	ch, err := e.changes()
	if err != nil {
		return fmt.Errorf("record appendix G of %s: %w", subject, err)
	}
	seq, err := t.appendEvent(AppendixGAction, subject, e)
	if err != nil {
		return err
	}
	for _, c := range ch {
		if _, err := t.exec(`INSERT INTO appendix_g(owner, uuid, field, value, seq) VALUES (?,?,?,?,?)
			ON CONFLICT(owner, uuid, field) DO UPDATE SET value = excluded.value, seq = excluded.seq`,
			c.owner, c.uuid, c.field, c.value, seq); err != nil {
			return fmt.Errorf("record appendix G of %s: %w", subject, err)
		}
	}
	return nil
}

// readAppendixG returns the Appendix G record of a disposal or batch.
func readAppendixG(q querier, owner, uuid string) (AppendixG, error) {
	var g AppendixG
	rows, err := q.Query(`SELECT field, value FROM appendix_g WHERE owner = ? AND uuid = ?`, owner, uuid)
	if err != nil {
		return g, fmt.Errorf("read appendix G: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return g, err
		}
		if f, ok := AppendixGFieldByName(k); ok {
			*f.get(&g) = v
		}
	}
	return g, rows.Err()
}

// readAppendixGAll returns the Appendix G records of every disposal of
// owner kind, by uuid (for certificates of large batches: one query).
func readAppendixGAll(q querier, where string, args ...any) (map[string]AppendixG, error) {
	out := map[string]AppendixG{}
	rows, err := q.Query(`SELECT g.uuid, g.field, g.value FROM appendix_g g `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read appendix G: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u, k, v string
		if err := rows.Scan(&u, &k, &v); err != nil {
			return nil, err
		}
		if f, ok := AppendixGFieldByName(k); ok {
			g := out[u]
			*f.get(&g) = v
			out[u] = g
		}
	}
	return out, rows.Err()
}

// appendixGDefaults is the ledger-wide defaults of Appendix G fields.
func appendixGDefaults(q querier) (AppendixG, error) {
	var g AppendixG
	for _, s := range []struct {
		key string
		dst *string
	}{{SettingClassification, &g.Classification}} {
		v, err := checkedSetting(q, s.key)
		if err != nil {
			return g, err
		}
		*s.dst = v
	}
	return g, nil
}

// SetDisposalAppendixG records Appendix G fields (those g records) on the
// final disposition of the device with serial, e.g. a validation made
// after the disposal was recorded. Certificates that print it become
// stale. It returns ErrNotFound for an unknown device, ErrNoDisposal for a
// device without one, ErrInvalid for a bad value, an empty g or a
// validation dated before the disposal.
func (s *Store) SetDisposalAppendixG(serial string, g AppendixG, reason string) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if g.IsZero() {
		return fmt.Errorf("%w: nothing to record: give at least one field", ErrInvalid)
	}
	return s.write(reason, func(t *txn) error {
		d, devID, err := t.deviceBySerial(serial)
		if err != nil {
			return err
		}
		var uuid, on string
		var batchID *int64
		err = t.tx.QueryRow(`SELECT uuid, batch_id, disposed_on FROM disposals WHERE device_id = ? AND is_final = 1`, devID).Scan(&uuid, &batchID, &on)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("device %s: %w: record one with 'itad dispose' first", d.Serial, ErrNoDisposal)
		}
		if err != nil {
			return err
		}
		if g.ValidatedOn != "" {
			if err := CheckRecordDate("validated_on", g.ValidatedOn, t.now); err != nil {
				return err
			}
			if g.ValidatedOn < on {
				return fmt.Errorf("%w: validated_on %s is before the disposal (%s): a validation follows the work", ErrInvalid, g.ValidatedOn, on)
			}
		}
		if err := t.setAppendixG("disposal", uuid, d.Serial, g); err != nil {
			return err
		}
		what := "appendix G of " + d.Serial + " recorded: " + g.fieldNames()
		if err := t.staleDevice(devID, what); err != nil {
			return err
		}
		return t.staleBatch(batchID, what)
	})
}

// SetBatchAppendixG records Appendix G fields on the batch with ref (they
// apply to each of its items that does not record its own). Certificates
// that print them become stale. It returns ErrNotFound for an unknown
// batch and ErrInvalid for a bad value or an empty g.
func (s *Store) SetBatchAppendixG(ref string, g AppendixG, reason string) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if g.IsZero() {
		return fmt.Errorf("%w: nothing to record: give at least one field", ErrInvalid)
	}
	return s.write(reason, func(t *txn) error {
		b, id, err := t.batchByRef(ref)
		if err != nil {
			return err
		}
		if g.ValidatedOn != "" {
			if err := CheckRecordDate("validated_on", g.ValidatedOn, t.now); err != nil {
				return err
			}
		}
		if err := t.setAppendixG("batch", b.UUID, b.Ref, g); err != nil {
			return err
		}
		return t.staleRun(id, "appendix G of batch "+b.Ref+" recorded: "+g.fieldNames())
	})
}

// DisposalAppendixG returns the Appendix G record of the final disposition
// of the device with serial (ErrNotFound, ErrNoDisposal as
// SetDisposalAppendixG).
func (s *Store) DisposalAppendixG(serial string) (AppendixG, error) {
	var uuid string
	err := s.db.QueryRow(`SELECT x.uuid FROM disposals x JOIN devices d ON d.id = x.device_id
		WHERE d.serial_key IN (?, ?) AND x.is_final = 1`, legacySerialKey(serial), SerialKey(serial)).Scan(&uuid)
	if errors.Is(err, sql.ErrNoRows) {
		return AppendixG{}, fmt.Errorf("device %s: %w", serial, ErrNoDisposal)
	}
	if err != nil {
		return AppendixG{}, err
	}
	return readAppendixG(s.db, "disposal", uuid)
}

// fieldNames lists the fields g records, for stale notices.
func (g AppendixG) fieldNames() string {
	var names []string
	for _, f := range AppendixGFields {
		if f.Get(g) != "" {
			names = append(names, f.Name)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
