package ledger

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Plausibility and life rules
//
// The rules below decide what a record may say before it is written:
// weights within the plausible range of the device's type (PlausibleWeights),
// dates neither in the future nor before 1990 (CheckRecordDate), and a
// device's life in order (checkLife). They run when a record is written —
// dispose, disposal amend, batch add and close, CSV import — and never in
// Verify: a ledger written by an earlier itad holds what it holds, and
// still verifies. Each refusal is a *RuleError naming the rule and how to
// proceed.

// Rules a record can break; a *RuleError matches one with errors.Is.
var (
	ErrUnusualWeight     = errors.New("weight outside the plausible range")
	ErrZeroWeight        = errors.New("zero weight")
	ErrDateOutOfRange    = errors.New("date outside the range a record may carry")
	ErrDuplicateDisposal = errors.New("duplicate disposal")
	ErrAlreadyDestroyed  = errors.New("device already destroyed")
	ErrOutOfOrder        = errors.New("disposal dated before the device's latest")
)

// RuleError is a record refused by one of the ledger's rules: Rule is one
// of the sentinels above, Msg says what is wrong, Hint how to proceed.
type RuleError struct {
	Rule error
	Msg  string
	Hint string
}

func (e *RuleError) Error() string { return e.Msg }

// Unwrap makes errors.Is(err, e.Rule) true.
func (e *RuleError) Unwrap() error { return e.Rule }

// Problem is the message with its hint, for one line of an import report.
func (e *RuleError) Problem() string {
	if e.Hint == "" {
		return e.Msg
	}
	return e.Msg + " (" + e.Hint + ")"
}

// WeightRange is the plausible weight of one item, in grams, inclusive.
type WeightRange struct{ Min, Max int64 }

// String shows the range as people write it: "3 g to 2 kg".
func (r WeightRange) String() string { return FormatWeight(r.Min) + " to " + FormatWeight(r.Max) }

// PlausibleWeights is the plausible weight of one device of each type.
// A weight outside it is refused unless the user says it is right
// (--allow-unusual-weight, or "unusual" in the notes): it is far more often
// a unit slip (620 for 0.62 kg) than a 620 kg drive. README lists it.
var PlausibleWeights = map[DeviceType]WeightRange{
	HDD:        {40, 2_000},     // 1.8" ~50 g, 2.5" ~100 g, 3.5" ~700 g
	SSD:        {3, 2_000},      // M.2 2230 ~3 g, 2.5" ~60 g, PCIe card ~500 g
	Tape:       {10, 1_000},     // DAT ~30 g, LTO ~200 g
	USB:        {1, 1_000},      // a stick 2-30 g, a portable drive ~200 g
	Optical:    {5, 2_000},      // a disc ~16 g, a spindle of 100 ~1.7 kg
	MemoryCard: {1, 100},        // microSD <1 g (record 1g or leave it empty), SD ~2 g
	Laptop:     {500, 6_000},    // ultrabook ~1 kg, 17" workstation ~4 kg
	Desktop:    {300, 35_000},   // mini PC ~0.5 kg, tower workstation ~20 kg
	Server:     {3_000, 60_000}, // blade ~5 kg, 2U ~20 kg, 4U ~40 kg
	Phone:      {50, 1_000},     // smartphone ~150-250 g, rugged ~400 g
	Tablet:     {100, 2_500},    // e-reader ~150 g, rugged tablet ~1.5 kg
	Network:    {100, 100_000},  // travel router ~200 g, chassis switch ~80 kg
	Printer:    {500, 300_000},  // portable ~0.6 kg, production MFD ~250 kg
	OtherType:  {1, 1_000_000},  // anything: only a unit slip past a tonne
}

// GrossWeightRange bounds a destruction run's weighed gross output: a
// lorry's payload at most. At close, the gross must also lie between the
// sums of its items' minimum and maximum plausible weights.
var GrossWeightRange = WeightRange{1, 30_000_000}

// UnusualMarker in a disposal's notes says its unusual weight is right.
const UnusualMarker = "unusual"

// hasUnusualMarker reports whether notes hold the word "unusual".
func hasUnusualMarker(notes string) bool {
	for _, w := range strings.FieldsFunc(notes, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if strings.EqualFold(w, UnusualMarker) {
			return true
		}
	}
	return false
}

// FormatWeight shows grams for people: "620 g", "2 kg", "1.5 kg", "30,000 kg".
func FormatWeight(g int64) string {
	if g < 1000 && g > -1000 {
		return fmt.Sprintf("%d g", g)
	}
	s := strings.TrimRight(strings.TrimRight(FormatKg(g), "0"), ".")
	return s + " kg"
}

// CheckWeight applies the weight rules to one device's weight: not zero,
// and within PlausibleWeights for its type unless allowUnusual. A nil
// weight (not weighed) passes. It returns a *RuleError (ErrZeroWeight,
// ErrUnusualWeight).
func CheckWeight(t DeviceType, g *int64, allowUnusual bool) error {
	if g == nil {
		return nil
	}
	if *g == 0 {
		return &RuleError{Rule: ErrZeroWeight, Msg: "weight 0 g: a zero weight is not a measurement",
			Hint: "give the weight measured, or leave it empty if the item was not weighed"}
	}
	r, ok := PlausibleWeights[t]
	if !ok || allowUnusual || (*g >= r.Min && *g <= r.Max) {
		return nil
	}
	return &RuleError{Rule: ErrUnusualWeight,
		Msg: fmt.Sprintf("weight %s is outside the plausible range for type %s (%s): check the unit",
			FormatWeight(*g), t, r),
		Hint: "if the weight is right, record it with --allow-unusual-weight or with \"" + UnusualMarker + "\" in the notes"}
}

// checkGross applies the gross weight rules to a destruction run: not
// zero, within GrossWeightRange, and — when items (the device types of its
// disposals) are known — between the sums of their plausible minimum and
// maximum weights, unless allowUnusual.
func checkGross(g *int64, items []DeviceType, allowUnusual bool) error {
	if g == nil {
		return nil
	}
	hint := "if the weight is right, record it with --allow-unusual-weight"
	if *g == 0 {
		return &RuleError{Rule: ErrZeroWeight, Msg: "gross weight 0 g: a zero weight is not a measurement",
			Hint: "give the weight measured, or leave it out if the run was not weighed"}
	}
	if allowUnusual {
		return nil
	}
	if *g < GrossWeightRange.Min || *g > GrossWeightRange.Max {
		return &RuleError{Rule: ErrUnusualWeight, Hint: hint,
			Msg: fmt.Sprintf("gross weight %s is outside the plausible range for a destruction run (%s): check the unit", FormatWeight(*g), GrossWeightRange)}
	}
	if len(items) == 0 {
		return nil
	}
	var env WeightRange
	for _, t := range items {
		r := PlausibleWeights[t]
		env.Min += r.Min
		env.Max += r.Max
	}
	if *g < env.Min || *g > env.Max {
		return &RuleError{Rule: ErrUnusualWeight, Hint: hint,
			Msg: fmt.Sprintf("gross weight %s is outside the plausible range for the run's %s (%s): check the unit",
				FormatWeight(*g), nItems(len(items)), env)}
	}
	return nil
}

// nItems is "1 item" or "230 items".
func nItems(n int) string {
	if n == 1 {
		return "1 item"
	}
	return Thousands(int64(n)) + " items"
}

// EarliestRecordYear is the earliest year a record may be dated.
const EarliestRecordYear = 1990

// CheckRecordDate applies the date rule to a date a record carries (field
// names it in the message): a valid YYYY-MM-DD date, not before 1990, and
// not after today (UTC, from now) with one day of grace for time zones.
// It returns ErrInvalid for a malformed date and a *RuleError
// (ErrDateOutOfRange) for one out of range.
func CheckRecordDate(field, s string, now time.Time) error {
	d, err := ParseDate(s)
	if err != nil {
		return err
	}
	if d.Year() < EarliestRecordYear {
		return &RuleError{Rule: ErrDateOutOfRange,
			Msg:  fmt.Sprintf("%s %s is before %d: itad records dates from %d-01-01", field, d.Format(time.DateOnly), EarliestRecordYear, EarliestRecordYear),
			Hint: "check the year (YYYY-MM-DD)"}
	}
	y, m, dd := now.UTC().Date()
	today := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
	if d.After(today.AddDate(0, 0, 1)) {
		return &RuleError{Rule: ErrDateOutOfRange,
			Msg:  fmt.Sprintf("%s %s is in the future (today is %s UTC, one day of grace)", field, d.Format(time.DateOnly), today.Format(time.DateOnly)),
			Hint: "check the date (YYYY-MM-DD); record a disposal once it has taken place"}
	}
	return nil
}

// lifeEntry is what the life rules need of a device's earlier disposal.
type lifeEntry struct {
	id       int64
	uuid     string
	method   Method
	category Category
	on       string
}

func (e lifeEntry) describe() string {
	return fmt.Sprintf("%s on %s, disposal %s", e.method, e.on, e.uuid)
}

// lifeOf returns the disposals of a device that its life rules count, in
// date then recording order. This is the one place that decides which
// disposals count: a voided disposal (disposal void) must not, so that a
// destruction recorded against the wrong device can be voided and a new
// one recorded. It leaves voided disposals out.
func (t *txn) lifeOf(devID int64) ([]lifeEntry, error) {
	rows, err := t.Query(`SELECT id, uuid, method, category, disposed_on FROM disposals WHERE device_id = ? AND voided_seq = 0 ORDER BY disposed_on, id`, devID)
	if err != nil {
		return nil, fmt.Errorf("read the device's disposals: %w", err)
	}
	defer rows.Close()
	var out []lifeEntry
	for rows.Next() {
		var e lifeEntry
		if err := rows.Scan(&e.id, &e.uuid, &e.method, &e.category, &e.on); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

const amendHint = "'itad disposal amend UUID --reason R' corrects that record; 'itad disposal void UUID --reason R' withdraws it"

// checkLife applies the rules of a device's life to a new disposal p of
// the device serial, given the disposals that count (lifeOf):
//
//  1. the same method on the same day as a recorded disposal is a duplicate;
//  2. nothing follows a destroy-category disposal (a device is destroyed once);
//  3. a new disposal is not dated before the device's latest one.
//
// Corrections (disposal amend, void) are not new disposals: see
// checkLifeAmend. It returns a *RuleError (ErrDuplicateDisposal,
// ErrAlreadyDestroyed, ErrOutOfOrder).
func checkLife(serial string, prior []lifeEntry, p *Disposal) error {
	for _, e := range prior {
		if e.method == p.Method && e.on == p.DisposedOn {
			return &RuleError{Rule: ErrDuplicateDisposal,
				Msg:  fmt.Sprintf("device %s already has a %s disposal on %s (disposal %s): the same method on the same day is a duplicate", serial, e.method, e.on, e.uuid),
				Hint: "if that record is wrong, " + amendHint}
		}
	}
	for _, e := range prior {
		if e.category == Destroy {
			what := "no disposal can follow its destruction"
			if p.Category != Destroy {
				what = fmt.Sprintf("a %s (%s) cannot follow its destruction", p.Category, p.Method)
			}
			return &RuleError{Rule: ErrAlreadyDestroyed,
				Msg:  fmt.Sprintf("device %s was destroyed (%s): %s", serial, e.describe(), what),
				Hint: "if the destruction was recorded in error, " + amendHint}
		}
	}
	if n := len(prior); n > 0 && p.DisposedOn < prior[n-1].on {
		e := prior[n-1]
		return &RuleError{Rule: ErrOutOfOrder,
			Msg: fmt.Sprintf("device %s's latest disposal is dated %s (%s): a new disposal cannot be dated before it (%s)",
				serial, e.on, e.describe(), p.DisposedOn),
			Hint: "check the date; if the earlier record is wrong, " + amendHint}
	}
	return nil
}

// checkLifeAmend applies the life rules that a correction must keep to
// disposal next (row id self) among the device's disposals that count: no
// duplicate, at most one destroy-category disposal, and nothing dated
// after it. A correction may move a date backwards.
func checkLifeAmend(serial string, prior []lifeEntry, self int64, next *Disposal) error {
	var others []lifeEntry
	for _, e := range prior {
		if e.id != self {
			others = append(others, e)
		}
	}
	for _, e := range others {
		if e.method == next.Method && e.on == next.DisposedOn {
			return &RuleError{Rule: ErrDuplicateDisposal,
				Msg:  fmt.Sprintf("device %s already has a %s disposal on %s (disposal %s): the amended record would duplicate it", serial, e.method, e.on, e.uuid),
				Hint: "void one of the two with 'itad disposal void UUID --reason R'"}
		}
	}
	for _, e := range others {
		switch {
		case e.category == Destroy && next.Category == Destroy:
			return &RuleError{Rule: ErrAlreadyDestroyed,
				Msg:  fmt.Sprintf("device %s was destroyed (%s): a device is destroyed once, so this disposal cannot become a %s", serial, e.describe(), next.Method),
				Hint: "void the destruction that is wrong with 'itad disposal void UUID --reason R'"}
		case e.category == Destroy && next.DisposedOn > e.on:
			return &RuleError{Rule: ErrAlreadyDestroyed,
				Msg:  fmt.Sprintf("device %s was destroyed (%s): a %s cannot be dated after it (%s)", serial, e.describe(), next.Method, next.DisposedOn),
				Hint: "check the date; if the destruction is wrong, " + amendHint}
		case next.Category == Destroy && e.on > next.DisposedOn:
			return &RuleError{Rule: ErrAlreadyDestroyed,
				Msg:  fmt.Sprintf("device %s has a %s dated after this destruction (%s): nothing can follow a destruction", serial, e.method, e.describe()),
				Hint: "check the date; if the later record is wrong, " + amendHint}
		}
	}
	return nil
}

// batchItemTypes returns the device type of each disposal in a batch, for
// checkGross. Like lifeOf, it leaves voided disposals out.
func (t *txn) batchItemTypes(batchID int64) ([]DeviceType, error) {
	rows, err := t.tx.Query(`SELECT d.type FROM disposals x JOIN devices d ON d.id = x.device_id WHERE x.batch_id = ? AND x.voided_seq = 0`, batchID)
	if err != nil {
		return nil, fmt.Errorf("read the batch's items: %w", err)
	}
	defer rows.Close()
	var out []DeviceType
	for rows.Next() {
		var dt DeviceType
		if err := rows.Scan(&dt); err != nil {
			return nil, err
		}
		out = append(out, dt)
	}
	return out, rows.Err()
}
