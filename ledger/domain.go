// Package ledger owns itad's domain — devices, contractors, destruction
// batches and disposal records — and their SQLite store, including the
// append-only event log that makes the ledger tamper-evident.
package ledger

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Sentinel errors callers branch on.
var (
	ErrNotFound        = errors.New("not found")
	ErrDuplicateSerial = errors.New("serial already in the ledger with different device data")
	ErrConflict        = errors.New("already exists")
	ErrBatchClosed     = errors.New("batch is closed")
	ErrNoDisposal      = errors.New("device has no disposal record")
	ErrNotInitialised  = errors.New("ledger not initialised")
	ErrNewerSchema     = errors.New("ledger was written by a newer itad")
	ErrReadOnly        = errors.New("the ledger is open read-only")
	ErrInvalid         = errors.New("invalid value")
)

// NotFoundError says which kind of record was not found. It matches
// ErrNotFound with errors.Is.
type NotFoundError struct {
	Kind string // "device", "contractor", "batch"
	Key  string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q not found", e.Kind, e.Key) }

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

func notFound(kind, key string) error { return &NotFoundError{Kind: kind, Key: key} }

// DeviceType is the kind of device, e.g. hdd or laptop.
type DeviceType string

// Storage media and equipment types.
const (
	HDD        DeviceType = "hdd"
	SSD        DeviceType = "ssd"
	Tape       DeviceType = "tape"
	USB        DeviceType = "usb"
	Optical    DeviceType = "optical"
	MemoryCard DeviceType = "memory-card"
	Laptop     DeviceType = "laptop"
	Desktop    DeviceType = "desktop"
	Server     DeviceType = "server"
	Phone      DeviceType = "phone"
	Tablet     DeviceType = "tablet"
	Network    DeviceType = "network"
	Printer    DeviceType = "printer"
	OtherType  DeviceType = "other"
)

// DeviceTypes lists every valid type, storage media first.
var DeviceTypes = []DeviceType{HDD, SSD, Tape, USB, Optical, MemoryCard,
	Laptop, Desktop, Server, Phone, Tablet, Network, Printer, OtherType}

// StorageMedia reports whether t is a storage medium rather than equipment.
func (t DeviceType) StorageMedia() bool {
	switch t {
	case HDD, SSD, Tape, USB, Optical, MemoryCard:
		return true
	}
	return false
}

// Magnetic reports whether degaussing can sanitise the device: magnetic
// media and equipment that may hold a hard drive. Flash and optical
// media, phones and tablets are not magnetic.
func (t DeviceType) Magnetic() bool {
	switch t {
	case SSD, USB, MemoryCard, Optical, Phone, Tablet:
		return false
	}
	return true
}

var typeAliases = map[string]DeviceType{
	"hdd": HDD, "hard-drive": HDD, "hard-disk": HDD, "hard-disk-drive": HDD, "harddrive": HDD, "harddisk": HDD, "disk": HDD,
	"ssd": SSD, "solid-state": SSD, "solid-state-drive": SSD, "solid-state-disk": SSD, "nvme": SSD,
	"tape": Tape, "lto": Tape, "tape-cartridge": Tape,
	"usb": USB, "usb-stick": USB, "usb-drive": USB, "flash-drive": USB, "usb-flash-drive": USB, "memory-stick": USB, "thumb-drive": USB,
	"optical": Optical, "cd": Optical, "dvd": Optical, "blu-ray": Optical, "optical-disc": Optical,
	"memory-card": MemoryCard, "sd-card": MemoryCard, "sd": MemoryCard, "microsd": MemoryCard, "flash-card": MemoryCard,
	"laptop": Laptop, "notebook": Laptop,
	"desktop": Desktop, "pc": Desktop, "workstation": Desktop,
	"server": Server,
	"phone":  Phone, "mobile": Phone, "mobile-phone": Phone, "smartphone": Phone,
	"tablet":  Tablet,
	"network": Network, "switch": Network, "router": Network, "firewall": Network,
	"printer": Printer, "mfd": Printer,
	"other": OtherType,
}

// key folds a user's spelling: lower case, spaces and underscores to
// hyphens, runs of hyphens collapsed.
func key(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '_' || r == '\t' {
			return '-'
		}
		return r
	}, s)
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	return s
}

// ParseDeviceType normalises a type such as "HDD" or "Hard Drive". It
// returns an error listing the valid types for an unknown one.
func ParseDeviceType(s string) (DeviceType, error) {
	k := key(s)
	if k == "" {
		return "", fmt.Errorf("%w: type is required (one of %s)", ErrInvalid, joinTypes())
	}
	if t, ok := typeAliases[k]; ok {
		return t, nil
	}
	if t, ok := typeAliases[strings.TrimSuffix(k, "s")]; ok { // plurals: "Laptops"
		return t, nil
	}
	return "", fmt.Errorf("%w: unknown type %q (one of %s)", ErrInvalid, s, joinTypes())
}

func joinTypes() string {
	s := make([]string, len(DeviceTypes))
	for i, t := range DeviceTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// Category is the NIST SP 800-88 sanitisation category.
type Category string

// The three NIST SP 800-88 categories.
const (
	Clear   Category = "clear"
	Purge   Category = "purge"
	Destroy Category = "destroy"
)

// Method is how a device was sanitised.
type Method string

// The sanitisation methods.
const (
	Overwrite    Method = "overwrite"
	BlockErase   Method = "block-erase"
	CryptoErase  Method = "crypto-erase"
	Degauss      Method = "degauss"
	Shred        Method = "shred"
	Disintegrate Method = "disintegrate"
	Pulverise    Method = "pulverise"
	Incinerate   Method = "incinerate"
)

// Methods lists every method in order of strength.
var Methods = []Method{Overwrite, BlockErase, CryptoErase, Degauss, Shred, Disintegrate, Pulverise, Incinerate}

// Category returns the method's NIST SP 800-88 category.
func (m Method) Category() Category {
	switch m {
	case Overwrite:
		return Clear
	case BlockErase, CryptoErase, Degauss:
		return Purge
	}
	return Destroy
}

var methodAliases = map[string]Method{
	"overwrite": Overwrite, "overwritten": Overwrite, "overwriting": Overwrite, "software-overwrite": Overwrite,
	"wipe": Overwrite, "wiped": Overwrite, "erase": Overwrite, "erased": Overwrite, "clear": Overwrite,
	"block-erase": BlockErase, "block-erased": BlockErase, "blockerase": BlockErase, "sanitize-block-erase": BlockErase,
	"crypto-erase": CryptoErase, "crypto-erased": CryptoErase, "cryptoerase": CryptoErase, "cryptographic-erase": CryptoErase,
	"cryptographic-erasure": CryptoErase, "crypto-erasure": CryptoErase, "crypto-shred": CryptoErase,
	"degauss": Degauss, "degaussed": Degauss, "degaussing": Degauss,
	"shred": Shred, "shredded": Shred, "shredding": Shred,
	"disintegrate": Disintegrate, "disintegrated": Disintegrate, "disintegration": Disintegrate,
	"pulverise": Pulverise, "pulverised": Pulverise, "pulverize": Pulverise, "pulverized": Pulverise, "pulverisation": Pulverise, "pulverization": Pulverise,
	"incinerate": Incinerate, "incinerated": Incinerate, "incineration": Incinerate,
}

// ParseMethod normalises a method such as "Shredded" or "Crypto Erase". It
// returns an error listing the valid methods for an unknown one.
func ParseMethod(s string) (Method, error) {
	k := key(s)
	if k == "" {
		return "", fmt.Errorf("%w: method is required (one of %s)", ErrInvalid, joinMethods())
	}
	if m, ok := methodAliases[k]; ok {
		return m, nil
	}
	return "", fmt.Errorf("%w: unknown method %q (one of %s)", ErrInvalid, s, joinMethods())
}

func joinMethods() string {
	s := make([]string, len(Methods))
	for i, m := range Methods {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}

// CheckMethodForType rejects combinations that do not sanitise, such as
// degaussing flash media.
func CheckMethodForType(m Method, t DeviceType) error {
	if m == Degauss && !t.Magnetic() {
		return fmt.Errorf("%w: degauss does not sanitise %s (not magnetic media): use crypto-erase, block-erase or a destroy method", ErrInvalid, t)
	}
	return nil
}

// ParseVerified normalises the verification field: yes, no, sample, or ""
// when not recorded.
func ParseVerified(s string) (string, error) {
	switch key(s) {
	case "":
		return "", nil
	case "yes", "y", "true", "verified", "full", "1":
		return "yes", nil
	case "no", "n", "false", "unverified", "0":
		return "no", nil
	case "sample", "sampled", "sampling":
		return "sample", nil
	}
	return "", fmt.Errorf("%w: verified %q must be yes, no or sample", ErrInvalid, s)
}

// ParseDate parses an ISO 8601 civil date (YYYY-MM-DD), rejecting
// impossible dates such as 2021-02-30 and years before 1950 or after 2200.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("%w: date is required (YYYY-MM-DD)", ErrInvalid)
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != 10 {
		return time.Time{}, fmt.Errorf("%w: date %q is not a valid ISO 8601 date (YYYY-MM-DD)", ErrInvalid, s)
	}
	if t.Year() < 1950 || t.Year() > 2200 {
		return time.Time{}, fmt.Errorf("%w: date %q is out of range", ErrInvalid, s)
	}
	return t, nil
}

// FinancialYear returns the UK financial year (1 April to 31 March) that d
// falls in, as the calendar year it starts in: 2021-03-31 is in 2020.
func FinancialYear(d time.Time) int {
	if d.Month() < time.April {
		return d.Year() - 1
	}
	return d.Year()
}

// FormatFinancialYear shows a financial year as "2020/21".
func FormatFinancialYear(y int) string {
	return fmt.Sprintf("%d/%02d", y, (y+1)%100)
}

// MaxWeightGrams bounds a single weight (100 tonnes) to catch unit slips.
const MaxWeightGrams = 100_000_000

// ParseWeight parses a weight as exact integer grams, never through
// floating point. Accepted: "0.618kg", "618g", "618 g", "1.5 t" is not
// accepted. A bare number is in defaultUnit ("kg" or "g"); with
// defaultUnit "" a bare number is an error naming both ways to write it
// (the command line requires the unit; the CSV column weight_kg does not).
// Kilograms take at most three decimals (grams are the unit of record);
// "" is an error.
func ParseWeight(s, defaultUnit string) (int64, error) {
	orig := s
	s = strings.ToLower(strings.TrimSpace(s))
	unit := defaultUnit
	switch {
	case strings.HasSuffix(s, "kg"):
		unit, s = "kg", strings.TrimSpace(strings.TrimSuffix(s, "kg"))
	case strings.HasSuffix(s, "g"):
		unit, s = "g", strings.TrimSpace(strings.TrimSuffix(s, "g"))
	}
	if s == "" {
		return 0, fmt.Errorf("%w: weight %q has no number", ErrInvalid, orig)
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || !digits(intPart) || (hasDot && (frac == "" || !digits(frac))) {
		return 0, fmt.Errorf("%w: weight %q is not a plain decimal number (like 0.618kg or 618g)", ErrInvalid, orig)
	}
	if unit == "" && !hasDot {
		return 0, fmt.Errorf("%w: weight %q has no unit: write %sg or %skg", ErrInvalid, orig, s, s)
	}
	noUnit := unit == "" // a decimal: say how it reads in kg and in g
	if noUnit {
		unit = "kg"
	}
	maxFrac := 0 // grams are the unit of record: kg take 3 decimals, g none
	if unit == "kg" {
		maxFrac = 3
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > maxFrac {
		return 0, fmt.Errorf("%w: weight %q is finer than a gram (at most 3 decimals in kg)", ErrInvalid, orig)
	}
	// The integer number of grams, digit by digit: no floating point.
	digitsStr := strings.TrimLeft(intPart, "0") + frac + strings.Repeat("0", maxFrac-len(frac))
	if len(digitsStr) > 12 {
		return 0, fmt.Errorf("%w: weight %q is implausibly large", ErrInvalid, orig)
	}
	var g int64
	for _, c := range digitsStr {
		g = g*10 + int64(c-'0')
	}
	if g > MaxWeightGrams {
		return 0, fmt.Errorf("%w: weight %q is over 100 tonnes", ErrInvalid, orig)
	}
	if noUnit {
		return 0, fmt.Errorf("%w: weight %q has no unit: write %skg or %dg", ErrInvalid, orig, s, g)
	}
	return g, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// FormatKg shows grams as kilograms with three decimals and thousands
// separators: 2199700 -> "2,199.700".
func FormatKg(g int64) string {
	neg := g < 0
	if neg {
		g = -g
	}
	s := fmt.Sprintf("%s.%03d", Thousands(g/1000), g%1000)
	if neg {
		return "-" + s
	}
	return s
}

// Thousands formats n with comma separators: 1942 -> "1,942".
func Thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + Thousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// SerialKey is the form in which serials are compared (the serial itself
// is kept as typed): trimmed and case-folded as before (legacySerialKey),
// then folded to Unicode NFKC — full-width "ＷＤ１２３" is "WD123" — with
// every Unicode hyphen and dash (U+2010–U+2015, U+2212, U+FE58, U+FE63,
// U+FF0D) as '-', and case-folded again. For ASCII it is legacySerialKey.
func SerialKey(s string) string { return foldKey(legacySerialKey(s)) }

// NameKey is the form in which contractor names and batch references are
// compared: legacyNameKey (trimmed, inner spaces collapsed, case-folded),
// then folded as SerialKey folds.
func NameKey(s string) string {
	return strings.Join(strings.Fields(foldKey(legacyNameKey(s))), " ")
}

// legacySerialKey and legacyNameKey are the keys itad wrote before
// schema version 5. Ledgers keep rows keyed by them where the new fold
// would have merged two existing rows (see refoldKeys); lookups try them
// first, so each such row is still found by its own spelling.
func legacySerialKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
func legacyNameKey(s string) string   { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// foldKey folds a legacy key: NFKC, dashes to '-', lower case, trimmed.
// ASCII is returned unchanged (a legacy key is already lower case).
func foldKey(k string) string {
	ascii := true
	for i := 0; i < len(k); i++ {
		if k[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return k
	}
	k = norm.NFKC.String(k)
	k = strings.Map(func(r rune) rune {
		switch r {
		case 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xfe58, 0xfe63, 0xff0d:
			return '-'
		}
		return r
	}, k)
	return strings.ToLower(strings.TrimSpace(k))
}

// Device is a piece of equipment or storage medium.
type Device struct {
	UUID       string     `json:"uuid"`
	Serial     string     `json:"serial"`
	AssetTag   string     `json:"asset_tag"`
	Type       DeviceType `json:"type"`
	Make       string     `json:"make"`
	Model      string     `json:"model"`
	CapacityGB *int64     `json:"capacity_gb"`
	Site       string     `json:"site"`
}

// Validate checks and normalises d in place.
func (d *Device) Validate() error {
	d.Serial = strings.TrimSpace(d.Serial)
	if d.Serial == "" {
		return fmt.Errorf("%w: serial is required", ErrInvalid)
	}
	if err := checkText("serial", d.Serial, 128); err != nil {
		return err
	}
	t, err := ParseDeviceType(string(d.Type))
	if err != nil {
		return err
	}
	d.Type = t
	for _, f := range []struct {
		name string
		v    *string
	}{{"asset_tag", &d.AssetTag}, {"make", &d.Make}, {"model", &d.Model}, {"site", &d.Site}} {
		*f.v = strings.TrimSpace(*f.v)
		if err := checkText(f.name, *f.v, 256); err != nil {
			return err
		}
	}
	if d.CapacityGB != nil && (*d.CapacityGB < 0 || *d.CapacityGB > 1_000_000_000) {
		return fmt.Errorf("%w: capacity %d GB is out of range", ErrInvalid, *d.CapacityGB)
	}
	return nil
}

// sameData reports whether two devices record the same device (the serial
// is compared by key, everything else exactly).
func (d Device) sameData(o Device) bool {
	capEq := (d.CapacityGB == nil) == (o.CapacityGB == nil) && (d.CapacityGB == nil || *d.CapacityGB == *o.CapacityGB)
	return SerialKey(d.Serial) == SerialKey(o.Serial) && d.AssetTag == o.AssetTag && d.Type == o.Type &&
		d.Make == o.Make && d.Model == o.Model && d.Site == o.Site && capEq
}

// checkText rejects, in a single-line field, control characters (C0 such
// as NUL, ESC and newlines, DEL, C1 U+0080–U+009F), bidi controls
// (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C: see text.go),
// invalid UTF-8 and over-long values. The error names the field and the
// character.
func checkText(field, v string, max int) error {
	return checkTextKeep(field, v, max, "")
}

// checkTextKeep is checkText allowing the control characters in keep
// (notes keep newline and tab).
func checkTextKeep(field, v string, max int, keep string) error {
	if len(v) > max {
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalid, field, max)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, field)
	}
	for _, r := range v {
		if isUnsafeRune(r) && !strings.ContainsRune(keep, r) {
			what := "a control character"
			if isBidiControl(r) {
				what = "a bidi control character"
			}
			return fmt.Errorf("%w: %s contains %s (%s): remove it", ErrInvalid, field, what, Printable(string(r)))
		}
	}
	return nil
}

// Contractor is a company that erases or destroys equipment.
type Contractor struct {
	UUID           string `json:"uuid"`
	Name           string `json:"name"`
	Accreditations string `json:"accreditations"`
	ContractRef    string `json:"contract_ref"`
}

// Validate checks and normalises c in place.
func (c *Contractor) Validate() error {
	c.Name = strings.Join(strings.Fields(c.Name), " ")
	if c.Name == "" {
		return fmt.Errorf("%w: contractor name is required", ErrInvalid)
	}
	c.Accreditations = normaliseList(c.Accreditations)
	c.ContractRef = strings.TrimSpace(c.ContractRef)
	for _, f := range [][2]string{{"contractor", c.Name}, {"accreditations", c.Accreditations}, {"contract_ref", c.ContractRef}} {
		if err := checkText(f[0], f[1], 256); err != nil {
			return err
		}
	}
	return nil
}

// normaliseList trims a comma- or semicolon-separated list, drops empty
// and duplicate entries, and joins it with ", ".
func normaliseList(s string) string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' })
	seen := map[string]bool{}
	var out []string
	for _, p := range parts {
		p = strings.Join(strings.Fields(p), " ")
		if p != "" && !seen[strings.ToLower(p)] {
			seen[strings.ToLower(p)] = true
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

// Batch is a destruction run: many devices destroyed together, often on
// site by a contractor's mobile shredder, with one weighed output.
type Batch struct {
	UUID         string `json:"uuid"`
	Ref          string `json:"ref"`
	Site         string `json:"site"`
	Contractor   string `json:"contractor"`
	RunOn        string `json:"run_on"`
	Witness      string `json:"witness"`
	GrossWeightG *int64 `json:"gross_weight_grams"`
	ClosedAt     string `json:"closed_at"`
	// AppG is the batch's Appendix G record, for its items that do not
	// record their own (an appendix_g.set event, like Disposal.AppG).
	AppG AppendixG `json:"-"`
}

// Validate checks and normalises b in place.
func (b *Batch) Validate() error {
	b.Ref = strings.TrimSpace(b.Ref)
	if b.Ref == "" {
		return fmt.Errorf("%w: batch reference is required", ErrInvalid)
	}
	if b.RunOn != "" {
		if _, err := ParseDate(b.RunOn); err != nil {
			return err
		}
	}
	b.Site, b.Witness = strings.TrimSpace(b.Site), strings.TrimSpace(b.Witness)
	for _, f := range [][2]string{{"batch", b.Ref}, {"site", b.Site}, {"witness", b.Witness}} {
		if err := checkText(f[0], f[1], 256); err != nil {
			return err
		}
	}
	if b.GrossWeightG != nil && (*b.GrossWeightG < 0 || *b.GrossWeightG > MaxWeightGrams) {
		return fmt.Errorf("%w: gross weight out of range", ErrInvalid)
	}
	return b.AppG.Validate()
}

// Disposal is one sanitisation or destruction of a device.
type Disposal struct {
	UUID       string   `json:"uuid"`
	Serial     string   `json:"serial"`
	Method     Method   `json:"method"`
	Category   Category `json:"category"`
	Standard   string   `json:"standard"`
	Tool       string   `json:"tool"`
	Verified   string   `json:"verified"`
	Contractor string   `json:"contractor"`
	DisposedOn string   `json:"disposed_on"`
	WeightG    *int64   `json:"weight_grams"`
	Batch      string   `json:"batch"`
	Operator   string   `json:"operator"`
	Witness    string   `json:"witness"`
	Notes      string   `json:"notes"`
	Final      bool     `json:"final"`
	// AppG is the disposal's NIST SP 800-88 Appendix G record: written
	// with it as an appendix_g.set event (appendixg.go), not part of the
	// disposal's own event.
	AppG AppendixG `json:"-"`
	// Void is set on a disposal read back from the ledger that was
	// voided (correct.go); never when recording one.
	Void *Void `json:"void,omitempty"`
}

// Validate checks and normalises p in place (not the device type check,
// which needs the device: see CheckMethodForType).
func (p *Disposal) Validate() error {
	m, err := ParseMethod(string(p.Method))
	if err != nil {
		return err
	}
	p.Method, p.Category = m, m.Category()
	if p.Verified, err = ParseVerified(p.Verified); err != nil {
		return err
	}
	if _, err := ParseDate(p.DisposedOn); err != nil {
		return err
	}
	p.DisposedOn = strings.TrimSpace(p.DisposedOn)
	p.Contractor = strings.Join(strings.Fields(p.Contractor), " ")
	if p.Contractor == "" {
		return fmt.Errorf("%w: contractor is required", ErrInvalid)
	}
	if p.WeightG != nil && (*p.WeightG < 0 || *p.WeightG > MaxWeightGrams) {
		return fmt.Errorf("%w: weight out of range", ErrInvalid)
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"standard", &p.Standard, 256}, {"tool", &p.Tool, 256}, {"batch", &p.Batch, 256},
		{"operator", &p.Operator, 256}, {"witness", &p.Witness, 256}, {"contractor", &p.Contractor, 256}} {
		*f.v = strings.TrimSpace(*f.v)
		if err := checkText(f.name, *f.v, f.max); err != nil {
			return err
		}
	}
	p.Notes = strings.TrimSpace(p.Notes)
	if len(p.Notes) > 4096 || !utf8.ValidString(p.Notes) {
		return fmt.Errorf("%w: notes must be valid UTF-8 text of at most 4096 bytes", ErrInvalid)
	}
	// Notes may run over several lines, with tabs; no other control.
	if err := checkTextKeep("notes", strings.ReplaceAll(p.Notes, "\r\n", "\n"), 4096, "\n\t"); err != nil {
		return err
	}
	return p.AppG.Validate()
}

// sameData reports whether two disposals of the same device record the
// same event (used to make re-imports idempotent).
func (p Disposal) sameData(o Disposal) bool {
	wEq := (p.WeightG == nil) == (o.WeightG == nil) && (p.WeightG == nil || *p.WeightG == *o.WeightG)
	return p.Method == o.Method && p.Standard == o.Standard && p.Tool == o.Tool && p.Verified == o.Verified &&
		NameKey(p.Contractor) == NameKey(o.Contractor) && p.DisposedOn == o.DisposedOn && wEq &&
		NameKey(p.Batch) == NameKey(o.Batch) && p.Operator == o.Operator && p.Witness == o.Witness && p.Notes == o.Notes
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
