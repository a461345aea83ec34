package ledger

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// FOIQuery selects the years of an FOI answer.
type FOIQuery struct {
	Years         []int // empty: every year with a disposal
	FinancialYear bool  // UK April-to-March years, shown as 2020/21
}

// Tally counts items and their weight under WeightRule.
type Tally struct {
	Count             int64 `json:"items"`
	WeightG           int64 `json:"weight_grams"`
	WeighedCount      int64 `json:"weighed_items"`
	BatchWeighedCount int64 `json:"batch_weighed_items"`
}

func (t *Tally) add(o Tally) {
	t.Count += o.Count
	t.WeightG += o.WeightG
	t.WeighedCount += o.WeighedCount
	t.BatchWeighedCount += o.BatchWeighedCount
}

// Answer states the tally with honest coverage: "3 items, 2,199.700 kg
// (weight recorded for 2 of 3 items)", "3 items, weight not recorded for
// any of the 3 items", "1 item, weight not recorded", or a recorded zero,
// "0 items" (a year the ledger holds no records for is not answered with
// a tally: see FOIRecords).
func (t Tally) Answer() string {
	items := countItems(t.Count)
	switch {
	case t.Count == 0:
		return items
	case t.WeighedCount == 0 && t.Count == 1:
		return items + ", weight not recorded"
	case t.WeighedCount == 0:
		return items + ", weight not recorded for any of the " + items
	}
	return items + ", " + FormatKg(t.WeightG) + " kg (" + coverage(t.WeighedCount, t.BatchWeighedCount, t.Count) + ")"
}

// countItems says "0 items", "1 item" or "1,942 items".
func countItems(n int64) string { return CountOf(n, "item", "items") }

// FOICount is a named count in an FOI answer: a contractor, site, method
// or standard and the items it accounts for.
type FOICount struct {
	Name           string `json:"name"`
	Accreditations string `json:"accreditations,omitempty"` // contractors only
	Items          int64  `json:"items"`
	Destroyed      int64  `json:"destroyed"`
	Wiped          int64  `json:"wiped"`
}

// FOIRecords says what the ledger holds for a year of an FOI answer. Under
// the Act "no information is held" and "none were destroyed" are different
// answers: a year outside the ledger's records is not answered with zeros.
type FOIRecords string

const (
	// RecordsComplete: the year has ended and lies within the ledger's
	// records; its figures are final (a zero is a recorded zero).
	RecordsComplete FOIRecords = "complete"
	// RecordsToDate: the year has not ended; its figures are to date, as
	// of FOIAnswer.AsOf.
	RecordsToDate FOIRecords = "to-date"
	// RecordsNone: the year lies before the ledger's earliest disposal
	// record or after its latest (or the ledger holds none): no records
	// are held for it.
	RecordsNone FOIRecords = "none"
	// RecordsNotBegun: the year has not begun, so no records can be held.
	RecordsNotBegun FOIRecords = "not-begun"
)

// Held reports whether the year is answered with figures.
func (r FOIRecords) Held() bool { return r == RecordsComplete || r == RecordsToDate }

// FOIYear holds the answers for one year. Contractors and Sites are nil
// when the field is withheld. When Records is not Held, every figure is
// zero and the year is answered only with NoRecords.
type FOIYear struct {
	Year               int
	Records            FOIRecords
	InProgress         bool       // the year has begun and not ended on FOIAnswer.AsOf
	StorageDestroyed   Tally      // storage media, category destroy
	StorageByMethod    []FOICount // StorageDestroyed by method
	StorageIncinerated Tally      // storage media, method incinerate
	StorageWiped       Tally      // storage media, category clear or purge
	AllDestroyed       Tally      // every type, category destroy
	AllDisposed        Tally      // every type, every category
	Contractors        []FOICount
	Sites              []FOICount
	Standards          []FOICount // "" is "not recorded"
}

// FOIAnswer is a ready-to-publish answer to the data-destruction questions
// of a Freedom of Information request, computed from each device's final
// disposition (the same rule as Report) with weights under WeightRule.
// Withheld fields are absent from it: no value of a field in Withheld is
// anywhere in the answer.
type FOIAnswer struct {
	Org           string
	FinancialYear bool
	Years         []FOIYear
	Withheld      []Exemption
	// AsOf is the date of the answer (YYYY-MM-DD, UTC, from Store.Now):
	// the figures of a year not yet ended are to this date.
	AsOf string
	// First and Last are the earliest and latest disposal dates the
	// ledger holds (YYYY-MM-DD), "" when it holds none.
	First, Last string
}

// withheld returns the exemption of field, if it is withheld.
func (a FOIAnswer) withheld(field string) (Exemption, bool) {
	for _, e := range a.Withheld {
		if e.Field == field {
			return e, true
		}
	}
	return Exemption{}, false
}

// Label shows a year of the answer: "2020" or "2020/21".
func (a FOIAnswer) Label(y int) string {
	if a.FinancialYear {
		return FormatFinancialYear(y)
	}
	return strconv.Itoa(y)
}

// FOI computes the answer for q from one snapshot of the ledger, applying
// the exemptions in force, as of today (Store.Now, UTC). Each year says
// what is held for it (FOIRecords): a year within the ledger's records
// with no disposals is answered with zeros; a year before its earliest or
// after its latest disposal record, with no records held; a year not yet
// begun, with none that can be held. It returns an error only if the
// ledger cannot be read.
func (s *Store) FOI(q FOIQuery) (FOIAnswer, error) {
	a := FOIAnswer{FinancialYear: q.FinancialYear, AsOf: s.Now().UTC().Format(time.DateOnly)}
	err := s.readSnapshot(func(db readQuerier) error {
		var err error
		if a.Org, err = settingIn(db, SettingOrg); err != nil {
			return err
		}
		if a.Withheld, err = checkedExemptions(db); err != nil { // state.go
			return err
		}
		var first, last sql.NullString
		if err := db.QueryRow(foiHeldRange).Scan(&first, &last); err != nil {
			return fmt.Errorf("foi: records held: %w", err)
		}
		a.First, a.Last = first.String, last.String
		if err := foiYears(db, &a, q); err != nil {
			return err
		}
		for i := range a.Years {
			a.Years[i].Records, a.Years[i].InProgress = a.records(a.Years[i].Year)
		}
		return nil
	})
	return a, err
}

// foiHeldRange finds the earliest and latest disposal dates the ledger
// holds: the span of its records, whatever each device's final
// disposition, from summary_dates (every disposal by date; summary.go).
const foiHeldRange = `SELECT min(disposed_on), max(disposed_on) FROM summary_dates`

// period returns the first and last dates of year y (calendar, or the UK
// financial year starting in April of y), as YYYY-MM-DD.
func (a FOIAnswer) period(y int) (start, end string) {
	if a.FinancialYear {
		return fmt.Sprintf("%04d-04-01", y), fmt.Sprintf("%04d-03-31", y+1)
	}
	return fmt.Sprintf("%04d-01-01", y), fmt.Sprintf("%04d-12-31", y)
}

// records says what is held for year y, and whether it is in progress on
// a.AsOf. Dates are YYYY-MM-DD, so text order is date order.
func (a FOIAnswer) records(y int) (FOIRecords, bool) {
	start, end := a.period(y)
	inProgress := start <= a.AsOf && a.AsOf <= end
	switch {
	case start > a.AsOf:
		return RecordsNotBegun, false
	case a.First == "" || end < a.First || start > a.Last:
		return RecordsNone, inProgress
	case inProgress:
		return RecordsToDate, true
	}
	return RecordsComplete, false
}

// Heading shows a year as it heads its answers: "2020", "2020/21", or
// "2026 to date (as of 2026-03-01)" for a year not yet ended.
func (a FOIAnswer) Heading(y FOIYear) string {
	if y.InProgress {
		return a.Label(y.Year) + " to date (as of " + a.AsOf + ")"
	}
	return a.Label(y.Year)
}

// NoRecords is the answer for a year whose records are not held: "No
// records are held for 2019: the ledger's records begin on 2021-06-09",
// "No records are held for 2026 to date (as of 2026-03-01): the ledger's
// latest record is dated 2025-11-30", "No records can be held for 2027:
// the year has not begun". It is "" for a held year.
func (a FOIAnswer) NoRecords(y FOIYear) string {
	switch y.Records {
	case RecordsNotBegun:
		return "No records can be held for " + a.Label(y.Year) + ": the year has not begun"
	case RecordsNone:
		start, _ := a.period(y.Year)
		why := "the ledger holds no disposal records"
		switch {
		case a.First == "":
		case start > a.Last:
			why = "the ledger's latest record is dated " + a.Last
		default:
			why = "the ledger's records begin on " + a.First
		}
		return "No records are held for " + a.Heading(y) + ": " + why
	}
	return ""
}

func settingIn(db readQuerier, k string) (string, error) {
	rows, err := db.Query(`SELECT value FROM settings WHERE key = ?`, k)
	if err != nil {
		return "", fmt.Errorf("read setting %s: %w", k, err)
	}
	defer rows.Close()
	var v string
	if rows.Next() {
		if err := rows.Scan(&v); err != nil {
			return "", err
		}
	}
	return v, rows.Err()
}

// foiYears fills a.Years. Every figure is a GROUP BY over the summary
// cells (summary.go) of the years asked: the final dispositions, with
// weights under WeightRule.
func foiYears(db readQuerier, a *FOIAnswer, q FOIQuery) error {
	yearCol := "x.year"
	if q.FinancialYear {
		yearCol = "x.fin_year"
	}
	where := ` WHERE 1`
	var args []any
	years := map[int]*FOIYear{}
	for _, y := range q.Years {
		years[y] = &FOIYear{Year: y}
	}
	if len(q.Years) > 0 {
		where += ` AND ` + yearCol + ` IN (` + strings.TrimSuffix(strings.Repeat("?,", len(q.Years)), ",") + `)`
		for _, y := range q.Years {
			args = append(args, y)
		}
	}
	year := func(y int) *FOIYear {
		if years[y] == nil {
			years[y] = &FOIYear{Year: y}
		}
		return years[y]
	}
	// x is a cell of the summary; d.type and d.site are its device fields.
	const from = ` FROM summary x JOIN contractors c ON c.id = x.contractor_id `

	// Counts and weights by year, type and method.
	err := eachRow(db, `SELECT `+yearCol+`, x.type, x.method, sum(x.count), sum(x.weight_g),
		sum(x.weighed_count), sum(x.batch_weighed_count)`+from+where+` GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, args,
		func(scan func(...any) error) error {
			var y int
			var typ, method string
			var t Tally
			if err := scan(&y, &typ, &method, &t.Count, &t.WeightG, &t.WeighedCount, &t.BatchWeighedCount); err != nil {
				return err
			}
			fy := year(y)
			m := Method(method)
			destroyed := m.Category() == Destroy
			fy.AllDisposed.add(t)
			if destroyed {
				fy.AllDestroyed.add(t)
			}
			if !DeviceType(typ).StorageMedia() {
				return nil
			}
			if !destroyed {
				fy.StorageWiped.add(t)
				return nil
			}
			fy.StorageDestroyed.add(t)
			fy.StorageByMethod = addCount(fy.StorageByMethod, method, "", t.Count, true)
			if m == Incinerate {
				fy.StorageIncinerated.add(t)
			}
			return nil
		})
	if err != nil {
		return err
	}

	// Contractors, sites and standards: named counts, split by category.
	// Free text that quotes a withheld value (a standard naming the
	// contractor, a contractor named after a withheld site) is withheld
	// too: scrub replaces it.
	withheldValues, err := foiWithheldValues(db, a)
	if err != nil {
		return err
	}
	scrub := func(text, replacement string) string {
		if mentionsAny(text, withheldValues) {
			return replacement
		}
		return text
	}
	const scrubbed = "(text withheld: it names withheld information)"
	named := func(col string, set func(*FOIYear, string, int64, bool)) error {
		return eachRow(db, `SELECT `+yearCol+`, `+col+`, x.category = 'destroy', sum(x.count)`+from+where+
			` GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, args, func(scan func(...any) error) error {
			var y int
			var name string
			var destroyed bool
			var n int64
			if err := scan(&y, &name, &destroyed, &n); err != nil {
				return err
			}
			set(year(y), scrub(name, scrubbed), n, destroyed)
			return nil
		})
	}
	if _, ok := a.withheld(FieldContractorName); !ok {
		err := eachRow(db, `SELECT `+yearCol+`, c.name, c.accreditations, x.category = 'destroy', sum(x.count)`+from+where+
			` GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`, args, func(scan func(...any) error) error {
			var y int
			var name, accr string
			var destroyed bool
			var n int64
			if err := scan(&y, &name, &accr, &destroyed, &n); err != nil {
				return err
			}
			fy := year(y)
			fy.Contractors = addCount(fy.Contractors, scrub(name, scrubbed), scrub(accr, ""), n, destroyed)
			return nil
		})
		if err != nil {
			return err
		}
	}
	if _, ok := a.withheld(FieldSite); !ok {
		if err := named("x.site", func(fy *FOIYear, name string, n int64, destroyed bool) {
			fy.Sites = addCount(fy.Sites, name, "", n, destroyed)
		}); err != nil {
			return err
		}
	}
	if err := named("x.standard", func(fy *FOIYear, name string, n int64, destroyed bool) {
		fy.Standards = addCount(fy.Standards, name, "", n, destroyed)
	}); err != nil {
		return err
	}

	for _, fy := range years {
		fy.Records = RecordsComplete // set by FOI, once the span of the records is known
		sortCounts(fy.StorageByMethod)
		sortCounts(fy.Contractors)
		sortCounts(fy.Sites)
		sortCounts(fy.Standards)
		// A withheld field stays nil; a shown one with no rows is empty.
		if _, ok := a.withheld(FieldContractorName); !ok && fy.Contractors == nil {
			fy.Contractors = []FOICount{}
		}
		if _, ok := a.withheld(FieldSite); !ok && fy.Sites == nil {
			fy.Sites = []FOICount{}
		}
		a.Years = append(a.Years, *fy)
	}
	sort.Slice(a.Years, func(i, j int) bool { return a.Years[i].Year < a.Years[j].Year })
	return nil
}

// eachRow runs a query and calls fn with each row's Scan.
func eachRow(db readQuerier, query string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := db.Query(query, args...)
	if err != nil {
		return fmt.Errorf("foi: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// addCount adds n items to the entry named name (created at the end if
// new), counting them as destroyed or wiped.
func addCount(cs []FOICount, name, accr string, n int64, destroyed bool) []FOICount {
	i := len(cs)
	for j := range cs {
		if cs[j].Name == name {
			i = j
			break
		}
	}
	if i == len(cs) {
		cs = append(cs, FOICount{Name: name, Accreditations: accr})
	}
	cs[i].Items += n
	if destroyed {
		cs[i].Destroyed += n
	} else {
		cs[i].Wiped += n
	}
	return cs
}

// sortCounts orders named counts by items, most first, then by name.
func sortCounts(cs []FOICount) {
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].Items != cs[j].Items {
			return cs[i].Items > cs[j].Items
		}
		return cs[i].Name < cs[j].Name
	})
}

// foiWithheldValues lists every value of the withheld fields anywhere in
// the ledger (every contractor name; every device and batch site), so that
// free text quoting one of them can be kept out of the answer.
func foiWithheldValues(db readQuerier, a *FOIAnswer) ([]string, error) {
	var qs []string
	if _, ok := a.withheld(FieldContractorName); ok {
		qs = append(qs, `SELECT name FROM contractors`)
	}
	if _, ok := a.withheld(FieldSite); ok {
		qs = append(qs, `SELECT DISTINCT site FROM devices`, `SELECT DISTINCT site FROM batches`)
	}
	var out []string
	for _, q := range qs {
		if err := eachRow(db, q, nil, func(scan func(...any) error) error {
			var v string
			if err := scan(&v); err != nil {
				return err
			}
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// mentionsAny reports whether text contains one of values, compared
// case-insensitively, as a whole word or phrase (not inside a longer word).
func mentionsAny(text string, values []string) bool {
	lt := strings.ToLower(text)
	for _, v := range values {
		lv := strings.ToLower(v)
		for off := 0; ; {
			i := strings.Index(lt[off:], lv)
			if i < 0 {
				break
			}
			start, end := off+i, off+i+len(lv)
			before, _ := utf8.DecodeLastRuneInString(lt[:start])
			after, _ := utf8.DecodeRuneInString(lt[end:])
			if !isWordRune(before) && !isWordRune(after) {
				return true
			}
			off = start + 1
		}
	}
	return false
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// percent shows n/d as a percentage with one decimal, rounded half up in
// integer arithmetic: 1203/1928 is "62.4".
func percent(n, d int64) string {
	if d == 0 {
		return "0.0"
	}
	tenths := (n*2000 + d) / (2 * d)
	return fmt.Sprintf("%d.%d", tenths/10, tenths%10)
}

// storageTotal is how many storage devices were destroyed or wiped.
func (y FOIYear) storageTotal() int64 { return y.StorageDestroyed.Count + y.StorageWiped.Count }

// DestroyedProportion answers "what proportion of storage devices are
// destroyed": "62.4% destroyed (1,203 of 1,928 storage devices; 725 wiped)".
func (y FOIYear) DestroyedProportion() string {
	total := y.storageTotal()
	if total == 0 {
		return "no storage devices were disposed of"
	}
	return fmt.Sprintf("%s%% destroyed (%s of %s storage devices; %s wiped)", percent(y.StorageDestroyed.Count, total),
		Thousands(y.StorageDestroyed.Count), Thousands(total), Thousands(y.StorageWiped.Count))
}

// IncineratedProportion answers "what proportion are incinerated": "1.0%
// incinerated (12 of 1,203 storage devices destroyed)".
func (y FOIYear) IncineratedProportion() string {
	if y.StorageDestroyed.Count == 0 {
		return "no storage devices were destroyed"
	}
	return fmt.Sprintf("%s%% incinerated (%s of %s storage devices destroyed)", percent(y.StorageIncinerated.Count, y.StorageDestroyed.Count),
		Thousands(y.StorageIncinerated.Count), Thousands(y.StorageDestroyed.Count))
}

// byMethodText lists storage destroyed by method: "shred 10, incinerate 2".
func (y FOIYear) byMethodText() string {
	var parts []string
	for _, c := range y.StorageByMethod {
		parts = append(parts, c.Name+" "+Thousands(c.Items))
	}
	return strings.Join(parts, ", ")
}

// line shows a contractor, site or standard with its items.
func (c FOICount) line(notRecorded string) string {
	name := c.Name
	if name == "" {
		name = notRecorded
	}
	if c.Accreditations != "" {
		name += " (" + c.Accreditations + ")"
	}
	return fmt.Sprintf("%s: %s (%s destroyed, %s wiped)", name, countItems(c.Items), Thousands(c.Destroyed), Thousands(c.Wiped))
}

// foiStorageTypes names the storage media in the answer's wording: "hard
// disk drives, solid-state drives, ... and memory cards".
func foiStorageTypes() string {
	var ts []string
	for _, t := range DeviceTypes {
		if t.StorageMedia() {
			ts = append(ts, t.Nouns())
		}
	}
	return JoinAnd(ts)
}

// The questions, in the order every format answers them.
const (
	qStorageDestroyed = "Storage devices shredded or otherwise destroyed"
	qIncinerated      = "Storage devices incinerated"
	qIncinProportion  = "Proportion of destroyed storage devices incinerated"
	qProportion       = "Proportion of storage devices destroyed rather than wiped"
	qStorageWiped     = "Storage devices wiped (NIST SP 800-88 clear or purge)"
	qAllDestroyed     = "All items of electronics and hardware destroyed"
	qAllDisposed      = "All items disposed of (destroyed or wiped)"
	qContractors      = "Contractors that carried out the work"
	qSites            = "Sites where the work was done"
	qStandards        = "Sanitisation standards used"
)

// foiQA is one question and its answer for a year, with the tally behind
// it when there is one.
type foiQA struct {
	topic, question, answer string
	tally                   *Tally
}

func (a FOIAnswer) questions(y FOIYear) []foiQA {
	return []foiQA{
		{"storage_destroyed", qStorageDestroyed, y.StorageDestroyed.Answer(), &y.StorageDestroyed},
		{"storage_destroyed_proportion", qProportion, y.DestroyedProportion(), nil},
		{"storage_wiped", qStorageWiped, y.StorageWiped.Answer(), &y.StorageWiped},
		{"storage_incinerated", qIncinerated, y.StorageIncinerated.Answer(), &y.StorageIncinerated},
		{"storage_incinerated_proportion", qIncinProportion, y.IncineratedProportion(), nil},
		{"all_destroyed", qAllDestroyed, y.AllDestroyed.Answer(), &y.AllDestroyed},
		{"all_disposed", qAllDisposed, y.AllDisposed.Answer(), &y.AllDisposed},
	}
}

// notes are printed after the answers in every format.
func (a FOIAnswer) notes() []string {
	basis := "Years are calendar years."
	if a.FinancialYear {
		basis = "Years are UK financial years, 1 April to 31 March (2020/21 is 1 April 2020 to 31 March 2021)."
	}
	held := "The ledger holds no disposal records."
	if a.First != "" {
		held = "The ledger holds disposal records dated " + a.First + " to " + a.Last + "; a year outside them is answered \"no records are held\", not with zeros."
	}
	return []string{
		basis + " Each device is counted once, by its final disposition: its latest destruction, else its latest wipe.",
		held,
		"Storage devices are " + foiStorageTypes() + ". Destroyed means shredded, disintegrated, pulverised or incinerated " +
			"(NIST SP 800-88 destroy); wiped means overwritten (clear), block-erased, crypto-erased or degaussed (purge).",
		"Weights: " + strings.ReplaceAll(WeightRule, "\n", " "),
		"The disposal of each device is recorded with its serial number in the organisation's disposal ledger.",
	}
}

// yearsText names the years answered: "Calendar years 2020 to 2025".
func (a FOIAnswer) yearsText() string {
	var ys []int
	for _, y := range a.Years {
		ys = append(ys, y.Year)
	}
	return YearsPhrase(ys, a.FinancialYear)
}

const foiTitle = "Freedom of Information Act 2000: disposal of IT equipment and data-storage devices"

// WriteFOI writes the answer as text, markdown, json or csv. Every format
// gives the same answers; none contains a withheld value. It returns
// ErrInvalid for another format.
func WriteFOI(w io.Writer, format string, a FOIAnswer) error {
	bw := bufio.NewWriter(w)
	var err error
	switch format {
	case "text", "":
		err = writeFOIText(PrintableWriter{bw}, a)
	case "markdown", "md":
		err = writeFOIMarkdown(PrintableWriter{bw}, a)
	case "json":
		err = writeFOIJSON(bw, a)
	case "csv":
		err = writeFOICSV(bw, a)
	default:
		return fmt.Errorf("%w: format %q (one of text, markdown, json, csv)", ErrInvalid, format)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// namedLines lists a contractor, site or standard answer: its lines, or the
// withholding statement when field is withheld.
func (a FOIAnswer) namedLines(field string, cs []FOICount, notRecorded string) []string {
	if e, ok := a.withheld(field); ok && field != "" {
		return []string{e.Statement() + "."}
	}
	if len(cs) == 0 {
		return []string{"none"}
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.line(notRecorded))
	}
	return out
}

// sections returns the three named answers of a year in order.
func (a FOIAnswer) sections(y FOIYear) []struct {
	question string
	lines    []string
} {
	return []struct {
		question string
		lines    []string
	}{
		{qContractors, a.namedLines(FieldContractorName, y.Contractors, "not recorded")},
		{qSites, a.namedLines(FieldSite, y.Sites, "site not recorded")},
		{qStandards, a.namedLines("", y.Standards, "standard not recorded")},
	}
}

func writeFOIText(w io.Writer, a FOIAnswer) error {
	fmt.Fprintln(w, foiTitle)
	if a.Org != "" {
		fmt.Fprintf(w, "Organisation: %s\n", a.Org)
	}
	fmt.Fprintf(w, "%s\n", a.yearsText())
	for _, y := range a.Years {
		fmt.Fprintf(w, "\n%s\n", a.Heading(y))
		if !y.Records.Held() {
			fmt.Fprintf(w, "  %s.\n", a.NoRecords(y))
			continue
		}
		for _, qa := range a.questions(y) {
			fmt.Fprintf(w, "  %s: %s\n", qa.question, qa.answer)
			if qa.topic == "storage_destroyed" && len(y.StorageByMethod) > 0 {
				fmt.Fprintf(w, "    by method: %s\n", y.byMethodText())
			}
		}
		for _, sec := range a.sections(y) {
			fmt.Fprintf(w, "  %s:\n", sec.question)
			for _, l := range sec.lines {
				fmt.Fprintf(w, "    %s\n", l)
			}
		}
	}
	fmt.Fprintln(w, "\nNotes")
	for _, n := range a.notes() {
		fmt.Fprintf(w, "- %s\n", n)
	}
	return nil
}

// mdEscape escapes the characters that Markdown would interpret in a
// table cell or list item.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>|#", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func writeFOIMarkdown(w io.Writer, a FOIAnswer) error {
	fmt.Fprintf(w, "# %s\n\n", foiTitle)
	if a.Org != "" {
		fmt.Fprintf(w, "**Organisation:** %s  \n", mdEscape(a.Org))
	}
	fmt.Fprintf(w, "**%s**\n", a.yearsText())
	for _, y := range a.Years {
		if !y.Records.Held() {
			fmt.Fprintf(w, "\n## %s\n\n%s.\n", a.Heading(y), mdEscape(a.NoRecords(y)))
			continue
		}
		fmt.Fprintf(w, "\n## %s\n\n| Question | Answer |\n|---|---|\n", a.Heading(y))
		for _, qa := range a.questions(y) {
			ans := mdEscape(qa.answer)
			if qa.topic == "storage_destroyed" && len(y.StorageByMethod) > 0 {
				ans += "; by method: " + mdEscape(y.byMethodText())
			}
			fmt.Fprintf(w, "| %s | %s |\n", qa.question, ans)
		}
		for _, sec := range a.sections(y) {
			fmt.Fprintf(w, "\n### %s\n\n", sec.question)
			for _, l := range sec.lines {
				fmt.Fprintf(w, "- %s\n", mdEscape(l))
			}
		}
	}
	fmt.Fprintf(w, "\n## Notes\n\n")
	for _, n := range a.notes() {
		fmt.Fprintf(w, "- %s\n", mdEscape(n))
	}
	return nil
}

// foiJSONTally is a tally in JSON: weight_grams is null when no item was
// weighed.
type foiJSONTally struct {
	Items             int64  `json:"items"`
	WeightGrams       *int64 `json:"weight_grams"`
	WeighedItems      int64  `json:"weighed_items"`
	BatchWeighedItems int64  `json:"batch_weighed_items"`
	Answer            string `json:"answer"`
}

func jsonTally(t Tally) foiJSONTally {
	j := foiJSONTally{Items: t.Count, WeighedItems: t.WeighedCount, BatchWeighedItems: t.BatchWeighedCount, Answer: t.Answer()}
	if t.WeighedCount > 0 {
		w := t.WeightG
		j.WeightGrams = &w
	}
	return j
}

type foiJSONProportion struct {
	Percent string `json:"percent"`
	Answer  string `json:"answer"`
}

// foiJSONNoRecords is a year whose records are not held: no figures, so
// that nothing reads as a zero.
type foiJSONNoRecords struct {
	Year      json.RawMessage `json:"year"`
	Records   FOIRecords      `json:"records"`
	AsOf      string          `json:"as_of,omitempty"`
	Statement string          `json:"statement"`
}

type foiJSONYear struct {
	Year                         json.RawMessage   `json:"year"`
	Records                      FOIRecords        `json:"records"`
	AsOf                         string            `json:"as_of,omitempty"`
	StorageDestroyed             foiJSONTally      `json:"storage_destroyed"`
	StorageDestroyedByMethod     []foiJSONMethod   `json:"storage_destroyed_by_method"`
	StorageIncinerated           foiJSONTally      `json:"storage_incinerated"`
	StorageIncineratedProportion foiJSONProportion `json:"storage_incinerated_proportion"`
	StorageDestroyedProportion   foiJSONProportion `json:"storage_destroyed_proportion"`
	StorageWiped                 foiJSONTally      `json:"storage_wiped"`
	AllDestroyed                 foiJSONTally      `json:"all_destroyed"`
	AllDisposed                  foiJSONTally      `json:"all_disposed"`
	Contractors                  []FOICount        `json:"contractors"`
	ContractorsWithheld          string            `json:"contractors_withheld,omitempty"`
	Sites                        []FOICount        `json:"sites"`
	SitesWithheld                string            `json:"sites_withheld,omitempty"`
	Standards                    []FOICount        `json:"standards"`
}

type foiJSONMethod struct {
	Method string `json:"method"`
	Items  int64  `json:"items"`
}

type foiJSONExemption struct {
	Field     string   `json:"field"`
	Sections  []string `json:"sections"`
	Statement string   `json:"statement"`
}

type foiJSON struct {
	Title         string             `json:"title"`
	Organisation  string             `json:"organisation"`
	FinancialYear bool               `json:"financial_year"`
	RecordsFrom   string             `json:"records_from"` // earliest disposal date held, "" for none
	RecordsTo     string             `json:"records_to"`   // latest disposal date held
	Years         []any              `json:"years"`        // foiJSONYear or foiJSONNoRecords
	Exemptions    []foiJSONExemption `json:"exemptions"`
	Notes         []string           `json:"notes"`
}

func writeFOIJSON(w io.Writer, a FOIAnswer) error {
	out := foiJSON{Title: foiTitle, Organisation: a.Org, FinancialYear: a.FinancialYear,
		RecordsFrom: a.First, RecordsTo: a.Last, Years: []any{}, Exemptions: []foiJSONExemption{}, Notes: a.notes()}
	for _, y := range a.Years {
		label, _ := json.Marshal(y.Year)
		if a.FinancialYear {
			label, _ = json.Marshal(a.Label(y.Year))
		}
		asOf := ""
		if y.InProgress {
			asOf = a.AsOf
		}
		if !y.Records.Held() {
			out.Years = append(out.Years, foiJSONNoRecords{Year: label, Records: y.Records, AsOf: asOf, Statement: a.NoRecords(y)})
			continue
		}
		jy := foiJSONYear{Year: label, Records: y.Records, AsOf: asOf,
			StorageDestroyed:             jsonTally(y.StorageDestroyed),
			StorageDestroyedByMethod:     []foiJSONMethod{},
			StorageIncinerated:           jsonTally(y.StorageIncinerated),
			StorageIncineratedProportion: foiJSONProportion{percent(y.StorageIncinerated.Count, y.StorageDestroyed.Count), y.IncineratedProportion()},
			StorageDestroyedProportion:   foiJSONProportion{percent(y.StorageDestroyed.Count, y.storageTotal()), y.DestroyedProportion()},
			StorageWiped:                 jsonTally(y.StorageWiped),
			AllDestroyed:                 jsonTally(y.AllDestroyed),
			AllDisposed:                  jsonTally(y.AllDisposed),
			Contractors:                  y.Contractors,
			Sites:                        y.Sites,
			Standards:                    y.Standards,
		}
		if jy.Standards == nil {
			jy.Standards = []FOICount{}
		}
		for _, m := range y.StorageByMethod {
			jy.StorageDestroyedByMethod = append(jy.StorageDestroyedByMethod, foiJSONMethod{m.Name, m.Items})
		}
		if e, ok := a.withheld(FieldContractorName); ok {
			jy.Contractors, jy.ContractorsWithheld = nil, e.Statement()
		}
		if e, ok := a.withheld(FieldSite); ok {
			jy.Sites, jy.SitesWithheld = nil, e.Statement()
		}
		out.Years = append(out.Years, jy)
	}
	for _, e := range a.Withheld {
		out.Exemptions = append(out.Exemptions, foiJSONExemption{e.Field, e.Sections, e.Statement()})
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// FOICSVColumns is the header of the CSV answer: one row per answer.
// Column records is the year's FOIRecords; a year whose records are not
// held has one row, topic "records", its statement as the answer.
var FOICSVColumns = []string{"year", "records", "topic", "name", "items", "weight_grams", "weighed_items", "batch_weighed_items", "answer"}

func writeFOICSV(w io.Writer, a FOIAnswer) error {
	cw := &csvWriter{w: w}
	cw.record(FOICSVColumns)
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	for _, y := range a.Years {
		label, recs := a.Label(y.Year), string(y.Records)
		row := func(topic, name, items, grams, weighed, batch, answer string) {
			cw.record([]string{label, recs, topic, name, items, grams, weighed, batch, answer})
		}
		switch {
		case !y.Records.Held():
			row("records", "", "", "", "", "", a.NoRecords(y))
			continue
		case y.InProgress:
			row("records", "", "", "", "", "", "Records held for "+a.Heading(y))
		default:
			row("records", "", "", "", "", "", "Records held for "+a.Label(y.Year))
		}
		for _, qa := range a.questions(y) {
			rec := []string{"", "", "", "", qa.answer}
			if t := qa.tally; t != nil {
				rec[0], rec[2], rec[3] = i64(t.Count), i64(t.WeighedCount), i64(t.BatchWeighedCount)
				if t.WeighedCount > 0 {
					rec[1] = i64(t.WeightG)
				}
			}
			row(qa.topic, "", rec[0], rec[1], rec[2], rec[3], rec[4])
			if qa.topic == "storage_destroyed" {
				for _, m := range y.StorageByMethod {
					row("storage_destroyed_by_method", m.Name, i64(m.Items), "", "", "", countItems(m.Items))
				}
			}
		}
		for _, part := range []struct {
			topic, field string
			cs           []FOICount
			notRecorded  string
		}{
			{"contractor", FieldContractorName, y.Contractors, "not recorded"},
			{"site", FieldSite, y.Sites, "site not recorded"},
			{"standard", "", y.Standards, "standard not recorded"},
		} {
			if e, ok := a.withheld(part.field); ok && part.field != "" {
				row(part.topic, "", "", "", "", "", e.Statement())
				continue
			}
			for _, c := range part.cs {
				row(part.topic, c.Name, i64(c.Items), "", "", "", c.line(part.notRecorded))
			}
		}
	}
	return cw.err
}
