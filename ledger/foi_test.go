package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// The -update flag rewrites golden files. Another test file of the package
// may define it too, so it is registered only if missing (package-level
// variables, where such a definition lives, are initialised before init).
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// checkGolden compares got with ../testdata/golden/NAME, rewriting it with
// -update. A missing golden file fails.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "testdata", "golden", name)
	if updateGolden() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file %s: %v (run go test -update to create it)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from its golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

var uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// stableUUIDs replaces each distinct UUID (random in every run) by
// uuid-N, numbered in order of first appearance.
func stableUUIDs(b []byte) []byte {
	seen := map[string]string{}
	return uuidPattern.ReplaceAllFunc(b, func(u []byte) []byte {
		if seen[string(u)] == "" {
			seen[string(u)] = fmt.Sprintf("uuid-%04d", len(seen)+1)
		}
		return []byte(seen[string(u)])
	})
}

// foiContractors are the sample's contractors with their accreditations.
var foiContractors = []Contractor{
	{Name: "Albion ITAD plc", Accreditations: "ADISA, ISO 27001", ContractRef: "NC-2019-114"},
	{Name: "Shredwell Secure Ltd", Accreditations: "NAID AAA, BS EN 15713:2023", ContractRef: "NC-2021-007"},
	{Name: "Northgate Erasure Services", Accreditations: "Cyber Essentials Plus", ContractRef: "NC-2022-031"},
}

// foiSites are the sites of the sample.
var foiSites = []string{"DC-North", "DC-South", "HQ Annex"}

// foiGross are the weighed gross outputs of some of the sample's runs,
// chosen to exercise every case of WeightRule.
var foiGross = map[string]int64{
	"SR-2020-001": 1301, // 2 items, none weighed: 651 + 650
	"SR-2020-002": 2500, // 1 of 4 unweighed: takes 2500 - 1852 = 648
	"SR-2021-005": 200,  // 3 unweighed: 67 + 67 + 66
	"SR-2021-009": 1000, // less than its items' own 1542 g: nothing shared
	"SR-2021-007": 2000, // every item weighed, across 31 March: ignored
	"SR-2021-018": 1281, // 2 g over its items' own 1279 g, 3 unweighed: 1 + 1 + 0
}

// foiLedger builds the ledger of the FOI, export and report tests: the
// sample import (300 devices, 2020-2021), three rows around the financial
// year boundary and with awkward text, and closed runs of foiGross.
func foiLedger(t testing.TB) *Store {
	t.Helper()
	s := mustOpen(t)
	if err := s.Init("Test Constabulary"); err != nil {
		t.Fatal(err)
	}
	for _, c := range foiContractors {
		if _, err := s.AddContractor(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"../testdata/import/sample-disposals.csv", "../testdata/foi/extra.csv"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Import(filepath.Base(f), bytes.NewReader(data), ImportOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ref := range sortedKeys(foiGross) {
		g := foiGross[ref] // chosen for the weight rule's arithmetic, not plausibility
		if _, err := s.CloseBatchOpts(ref, &g, RecordOptions{AllowUnusualWeight: true}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func foiOutput(t testing.TB, a FOIAnswer, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteFOI(&b, format, a); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var foiFormats = map[string]string{"text": "txt", "markdown": "md", "json": "json", "csv": "csv"}

func TestFOI_Golden(t *testing.T) {
	s := foiLedger(t)
	for _, tc := range []struct {
		name     string
		q        FOIQuery
		exempt   []string
		formats  []string
		wantPart string
	}{
		{"2020-2021", FOIQuery{Years: []int{2020, 2021}}, nil, []string{"text", "markdown", "json", "csv"},
			"79.3% destroyed (73 of 92 storage devices; 19 wiped)"},
		{"financial-2020-2021", FOIQuery{Years: []int{2020, 2021}, FinancialYear: true}, nil, []string{"text", "json"}, "2020/21"},
		{"exempt-2021", FOIQuery{Years: []int{2021}}, []string{FieldContractorName, FieldSite}, []string{"text", "markdown", "json", "csv"},
			"Withheld under sections 24(1) and 31(1) of the Freedom of Information Act 2000"},
		// Years with no records held: before the ledger's records, after
		// them, and not begun (the answer is dated 2026-01-02).
		{"empty-2019-2023-2027", FOIQuery{Years: []int{2019, 2023, 2027}}, nil, []string{"text", "markdown", "json", "csv"},
			"No records are held for 2019: the ledger's records begin on 2020-01-08."},
		{"current-2021", FOIQuery{Years: []int{2020, 2021, 2022}}, nil, []string{"text", "markdown", "json", "csv"},
			"2021 to date (as of 2021-12-31)"},
		{"financial-current-2021", FOIQuery{Years: []int{2021}, FinancialYear: true}, nil, []string{"text"},
			"2021/22 to date (as of 2021-12-31)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.Now = func() time.Time { return day(2026, 1, 2) }
			if strings.Contains(tc.name, "current") {
				s.Now = func() time.Time { return day(2021, 12, 31) }
			}
			for _, f := range ExemptFields {
				s.ClearExemption(f, "")
			}
			for _, f := range tc.exempt {
				if _, _, err := s.SetExemption(f, []string{"24(1)", "s. 31(1)"}, "test"); err != nil {
					t.Fatal(err)
				}
			}
			a, err := s.FOI(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			for _, format := range tc.formats {
				got := foiOutput(t, a, format)
				checkGolden(t, "foi/"+tc.name+"."+foiFormats[format], got)
				if format == "text" && !strings.Contains(string(got), tc.wantPart) {
					t.Errorf("text answer lacks %q", tc.wantPart)
				}
				if format == "json" && !json.Valid(got) {
					t.Errorf("invalid JSON:\n%s", got)
				}
			}
		})
	}
}

func TestFOI_Errors(t *testing.T) {
	s := mustOpen(t)
	if err := WriteFOI(&bytes.Buffer{}, "pdf", FOIAnswer{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("format pdf: %v, want ErrInvalid", err)
	}
	// An empty ledger: no records are held, never an error, never zeros.
	a, err := s.FOI(FOIQuery{Years: []int{2019}})
	if err != nil {
		t.Fatal(err)
	}
	text := string(foiOutput(t, a, "text"))
	for _, want := range []string{"Calendar year 2019", "No records are held for 2019: the ledger holds no disposal records."} {
		if !strings.Contains(text, want) {
			t.Errorf("answer for an empty ledger lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "0 items") || strings.Contains(text, "none") {
		t.Errorf("an empty ledger is answered with zeros:\n%s", text)
	}
}

// TestFOI_Records: each year says what is held for it, by the span of the
// ledger's records (2020-01-02 to 2021-12-30 in the sample) and the date
// of the answer.
func TestFOI_Records(t *testing.T) {
	s := foiLedger(t)
	a0, err := s.FOI(FOIQuery{})
	if err != nil {
		t.Fatal(err)
	}
	first, last := a0.First, a0.Last
	if first == "" || first[:4] != "2020" || last[:4] != "2021" {
		t.Fatalf("records span %s to %s, want 2020 to 2021", first, last)
	}
	for _, tc := range []struct {
		name  string
		now   time.Time
		fin   bool
		year  int
		want  FOIRecords
		text  string // in the text answer
		never string // nowhere in the text answer
	}{
		{"before the records", day(2026, 1, 2), false, 2019, RecordsNone,
			"No records are held for 2019: the ledger's records begin on " + first + ".", "0 items"},
		{"after the records", day(2026, 1, 2), false, 2023, RecordsNone,
			"No records are held for 2023: the ledger's latest record is dated " + last + ".", "0 items"},
		{"current year after the records", day(2026, 3, 1), false, 2026, RecordsNone,
			"No records are held for 2026 to date (as of 2026-03-01): the ledger's latest record is dated " + last + ".", "0 items"},
		{"not begun", day(2026, 1, 2), false, 2027, RecordsNotBegun,
			"No records can be held for 2027: the year has not begun.", "0 items"},
		{"held, complete", day(2026, 1, 2), false, 2021, RecordsComplete,
			"\n2021\n  Storage devices shredded or otherwise destroyed: 108 items", "to date"},
		{"held, to date", day(2021, 7, 1), false, 2021, RecordsToDate,
			"\n2021 to date (as of 2021-07-01)\n  Storage devices shredded", "No records"},
		{"held, last day of the year is still to date", day(2021, 12, 31), false, 2021, RecordsToDate, "2021 to date (as of 2021-12-31)", "No records"},
		{"financial, not begun", day(2026, 3, 31), true, 2026, RecordsNotBegun,
			"No records can be held for 2026/27: the year has not begun.", "0 items"},
		{"financial, before the records", day(2026, 1, 2), true, 2018, RecordsNone,
			"No records are held for 2018/19: the ledger's records begin on " + first + ".", "0 items"},
		{"financial, held (2019/20 holds Jan-Mar 2020)", day(2026, 1, 2), true, 2019, RecordsComplete,
			"\n2019/20\n  Storage devices", "No records"},
		{"financial, to date", day(2022, 2, 1), true, 2021, RecordsToDate, "2021/22 to date (as of 2022-02-01)", "No records"},
		{"financial, ended", day(2022, 4, 1), true, 2021, RecordsComplete, "\n2021/22\n", "to date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.Now = func() time.Time { return tc.now }
			a, err := s.FOI(FOIQuery{Years: []int{tc.year}, FinancialYear: tc.fin})
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Years) != 1 || a.Years[0].Records != tc.want {
				t.Fatalf("years %+v, want one with records %q", a.Years, tc.want)
			}
			text := string(foiOutput(t, a, "text"))
			if !strings.Contains(text, tc.text) {
				t.Errorf("text lacks %q:\n%s", tc.text, text)
			}
			if strings.Contains(text, tc.never) {
				t.Errorf("text has %q:\n%s", tc.never, text)
			}
			// Every format says it: json a records field, csv a column.
			var j struct {
				Years []struct {
					Records   string `json:"records"`
					AsOf      string `json:"as_of"`
					Statement string `json:"statement"`
				} `json:"years"`
			}
			if err := json.Unmarshal(foiOutput(t, a, "json"), &j); err != nil || len(j.Years) != 1 || j.Years[0].Records != string(tc.want) {
				t.Errorf("json years %+v (%v), want records %q", j.Years, err, tc.want)
			}
			if msg := a.NoRecords(a.Years[0]); msg != "" && j.Years[0].Statement != msg {
				t.Errorf("json statement %q, want %q", j.Years[0].Statement, msg)
			}
			if a.Years[0].InProgress != (j.Years[0].AsOf != "") {
				t.Errorf("json as_of %q for a year in progress %v", j.Years[0].AsOf, a.Years[0].InProgress)
			}
			csv := string(foiOutput(t, a, "csv"))
			if !strings.Contains(csv, ","+string(tc.want)+",records,") {
				t.Errorf("csv lacks records %q:\n%s", tc.want, csv)
			}
			md := string(foiOutput(t, a, "markdown"))
			if !strings.Contains(md, mdEscape(strings.TrimPrefix(strings.Split(tc.text, "\n  ")[0], "\n"))) {
				t.Errorf("markdown lacks %q:\n%s", tc.text, md)
			}
		})
	}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }

func TestTally_Answer(t *testing.T) {
	for _, tc := range []struct {
		t    Tally
		want string
	}{
		{Tally{}, "0 items"},
		{Tally{Count: 1}, "1 item, weight not recorded"},
		{Tally{Count: 1942}, "1,942 items, weight not recorded for any of the 1,942 items"},
		{Tally{Count: 1942, WeightG: 2199700, WeighedCount: 1437}, "1,942 items, 2,199.700 kg (weight recorded for 1,437 of 1,942 items)"},
		{Tally{Count: 3, WeightG: 1301, WeighedCount: 2, BatchWeighedCount: 2}, "3 items, 1.301 kg (weight recorded for 2 of 3 items, 2 of them from a run's gross weight)"},
		{Tally{Count: 1, WeightG: 0, WeighedCount: 1}, "1 item, 0.000 kg (weight recorded for 1 of 1 item)"},
	} {
		if got := tc.t.Answer(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.t, got, tc.want)
		}
	}
	for _, tc := range []struct {
		n, d int64
		want string
	}{{1203, 1928, "62.4"}, {1, 8, "12.5"}, {1, 3, "33.3"}, {2, 3, "66.7"}, {0, 5, "0.0"}, {5, 5, "100.0"}, {1, 0, "0.0"}, {1, 2000, "0.1"}, {1, 2001, "0.0"}} {
		if got := percent(tc.n, tc.d); got != tc.want {
			t.Errorf("percent(%d, %d) = %s, want %s", tc.n, tc.d, got, tc.want)
		}
	}
}

// independentItem is a final disposition computed without the code under
// test: the ranking and the weight rule are written out again here.
type independentItem struct {
	year, finYear                    int
	serialKey, typ, method, category string
	contractor, site, standard       string
	weight                           *int64
	batchWeighed                     bool
	batchID                          *int64
}

// independentItems finds each device's final disposition with its own SQL
// (latest destroy, else latest, by date then id) and applies WeightRule in
// Go from the raw rows.
func independentItems(t *testing.T, s *Store) []independentItem {
	t.Helper()
	rows, err := s.DB().Query(`
		WITH ranked AS (
		  SELECT x.*, row_number() OVER (PARTITION BY device_id
		    ORDER BY category = 'destroy' DESC, disposed_on DESC, id DESC) AS rn
		  FROM disposals x WHERE voided_seq = 0)
		SELECT CAST(substr(r.disposed_on, 1, 4) AS INTEGER), CAST(substr(r.disposed_on, 6, 2) AS INTEGER),
		  lower(trim(d.serial)), d.type, r.method, r.category, c.name, d.site, r.standard, r.weight_g, r.batch_id
		FROM ranked r JOIN devices d ON d.id = r.device_id JOIN contractors c ON c.id = r.contractor_id
		WHERE r.rn = 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var items []independentItem
	for rows.Next() {
		var it independentItem
		var month int
		if err := rows.Scan(&it.year, &month, &it.serialKey, &it.typ, &it.method, &it.category, &it.contractor, &it.site,
			&it.standard, &it.weight, &it.batchID); err != nil {
			t.Fatal(err)
		}
		it.finYear = it.year
		if month < 4 {
			it.finYear--
		}
		items = append(items, it)
	}
	gross := map[int64]int64{}
	grows, err := s.DB().Query(`SELECT id, gross_weight_g FROM batches WHERE gross_weight_g IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for grows.Next() {
		var id, g int64
		grows.Scan(&id, &g)
		gross[id] = g
	}
	grows.Close()
	// The rule: per weighed run, rest = gross - own weights of its final
	// items; unweighed items share rest, remainder to the first by serial.
	byBatch := map[int64][]int{}
	for i, it := range items {
		if it.batchID != nil {
			byBatch[*it.batchID] = append(byBatch[*it.batchID], i)
		}
	}
	for id, idx := range byBatch {
		g, ok := gross[id]
		if !ok {
			continue
		}
		var own int64
		var unweighed []int
		for _, i := range idx {
			if items[i].weight != nil {
				own += *items[i].weight
			} else {
				unweighed = append(unweighed, i)
			}
		}
		rest := g - own
		if rest <= 0 || len(unweighed) == 0 {
			continue
		}
		sort.Slice(unweighed, func(a, b int) bool { return items[unweighed[a]].serialKey < items[unweighed[b]].serialKey })
		n := int64(len(unweighed))
		for k, i := range unweighed {
			share := rest / n
			if int64(k) < rest%n {
				share++
			}
			items[i].weight, items[i].batchWeighed = &share, true
		}
	}
	return items
}

func (it independentItem) tally() Tally {
	t := Tally{Count: 1}
	if it.weight != nil {
		t.WeightG, t.WeighedCount = *it.weight, 1
	}
	if it.batchWeighed {
		t.BatchWeighedCount = 1
	}
	return t
}

// TestFOI_IndependentSQL recomputes every figure of the FOI answer from
// the raw tables and compares, on ledgers built by import, by single
// commands, and with amendments, voids, serial corrections and run changes.
func TestFOI_IndependentSQL(t *testing.T) {
	for _, sl := range summaryLedgers() { // summary_test.go
		t.Run(sl.name, func(t *testing.T) { testFOIIndependentSQL(t, sl.build(t)) })
	}
}

func testFOIIndependentSQL(t *testing.T, s *Store) {
	items := independentItems(t, s)
	for _, fin := range []bool{false, true} {
		t.Run(fmt.Sprint("financial=", fin), func(t *testing.T) {
			a, err := s.FOI(FOIQuery{Years: []int{2019, 2020, 2021}, FinancialYear: fin})
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Years) != 3 {
				t.Fatalf("%d years, want 3", len(a.Years))
			}
			for _, got := range a.Years {
				want := FOIYear{Year: got.Year}
				contractors, sites, standards := map[string]int64{}, map[string]int64{}, map[string]int64{}
				for _, it := range items {
					y := it.year
					if fin {
						y = it.finYear
					}
					if y != got.Year {
						continue
					}
					storage := map[string]bool{"hdd": true, "ssd": true, "tape": true, "usb": true, "optical": true, "memory-card": true}[it.typ]
					destroyed := it.category == "destroy"
					want.AllDisposed.add(it.tally())
					if destroyed {
						want.AllDestroyed.add(it.tally())
					}
					if storage && destroyed {
						want.StorageDestroyed.add(it.tally())
					}
					if storage && !destroyed {
						want.StorageWiped.add(it.tally())
					}
					if storage && it.method == "incinerate" {
						want.StorageIncinerated.add(it.tally())
					}
					contractors[it.contractor]++
					sites[it.site]++
					standards[it.standard]++
				}
				for _, c := range []struct {
					name      string
					got, want Tally
				}{
					{"storage destroyed", got.StorageDestroyed, want.StorageDestroyed},
					{"storage incinerated", got.StorageIncinerated, want.StorageIncinerated},
					{"storage wiped", got.StorageWiped, want.StorageWiped},
					{"all destroyed", got.AllDestroyed, want.AllDestroyed},
					{"all disposed", got.AllDisposed, want.AllDisposed},
				} {
					if c.got != c.want {
						t.Errorf("%s %s: FOI %+v, independent SQL %+v", a.Label(got.Year), c.name, c.got, c.want)
					}
				}
				for _, c := range []struct {
					name string
					got  []FOICount
					want map[string]int64
				}{{"contractors", got.Contractors, contractors}, {"sites", got.Sites, sites}, {"standards", got.Standards, standards}} {
					m := map[string]int64{}
					for _, n := range c.got {
						m[n.Name] += n.Items
						if n.Destroyed+n.Wiped != n.Items {
							t.Errorf("%s %s %q: %d destroyed + %d wiped != %d", a.Label(got.Year), c.name, n.Name, n.Destroyed, n.Wiped, n.Items)
						}
					}
					if fmt.Sprint(m) != fmt.Sprint(c.want) {
						t.Errorf("%s %s: FOI %v, independent SQL %v", a.Label(got.Year), c.name, m, c.want)
					}
				}
			}
		})
	}
}

// TestFOI_ExemptionLeak: with a field exempt, none of its values (nor a
// contractor's accreditations) appears anywhere in any FOI format, not
// even inside free text such as a standard that quotes it.
func TestFOI_ExemptionLeak(t *testing.T) {
	s := foiLedger(t)
	var names, sites []string
	for _, c := range foiContractors {
		names = append(names, c.Name, c.Accreditations, c.ContractRef)
	}
	sites = append(sites, foiSites...)
	for _, tc := range []struct {
		exempt    []string
		forbidden []string
		shown     []string
	}{
		{[]string{FieldContractorName}, names, sites},
		{[]string{FieldSite}, sites, []string{foiContractors[0].Name}},
		{[]string{FieldContractorName, FieldSite}, append(append([]string{}, names...), sites...), nil},
	} {
		t.Run(strings.Join(tc.exempt, "+"), func(t *testing.T) {
			for _, f := range ExemptFields {
				s.ClearExemption(f, "")
			}
			for _, f := range tc.exempt {
				if _, _, err := s.SetExemption(f, []string{"24(1)", "31(1)"}, "leak test"); err != nil {
					t.Fatal(err)
				}
			}
			for _, fin := range []bool{false, true} {
				a, err := s.FOI(FOIQuery{FinancialYear: fin})
				if err != nil {
					t.Fatal(err)
				}
				for format := range foiFormats {
					out := foiOutput(t, a, format)
					texts := []string{strings.ToLower(string(out))}
					if format == "json" {
						// Also every decoded string, in case of escapes.
						var v any
						if err := json.Unmarshal(out, &v); err != nil {
							t.Fatal(err)
						}
						texts = append(texts, strings.ToLower(strings.Join(jsonStrings(v), "\n")))
					}
					for _, text := range texts {
						for _, f := range tc.forbidden {
							if strings.Contains(text, strings.ToLower(f)) {
								t.Errorf("%s (financial %v): withheld value %q appears", format, fin, f)
							}
						}
					}
					if !strings.Contains(string(out), "Withheld under sections 24(1) and 31(1) of the Freedom of Information Act 2000") {
						t.Errorf("%s: no withholding statement", format)
					}
					for _, f := range tc.shown {
						if !strings.Contains(string(out), f) {
							t.Errorf("%s: %q, which is not withheld, is missing", format, f)
						}
					}
				}
			}
		})
	}
	// A contractor named after a withheld site, accredited "at" another:
	// with sites withheld, neither its name nor its accreditations show.
	for _, f := range ExemptFields {
		s.ClearExemption(f, "")
	}
	s.SetExemption(FieldSite, []string{"24(1)"}, "")
	if _, err := s.AddContractor(Contractor{Name: "HQ Annex Shredding", Accreditations: "ISO 27001 (dc-south)"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddDevice(Device{Serial: "LEAK-1", Type: HDD, Site: "Nowhere Else"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordDisposal(Disposal{Serial: "LEAK-1", Method: Shred, Contractor: "HQ Annex Shredding", DisposedOn: "2021-12-01"}); err != nil {
		t.Fatal(err)
	}
	a, err := s.FOI(FOIQuery{Years: []int{2021}})
	if err != nil {
		t.Fatal(err)
	}
	for format := range foiFormats {
		out := strings.ToLower(string(foiOutput(t, a, format)))
		for _, v := range append([]string{"nowhere else"}, foiSites...) {
			if strings.Contains(out, strings.ToLower(v)) {
				t.Errorf("%s: withheld site %q appears", format, v)
			}
		}
		if !strings.Contains(out, "(text withheld: it names withheld information)") {
			t.Errorf("%s: the contractor named after a site is not withheld:\n%s", format, out)
		}
	}

	// Internal reports and exports are unaffected.
	rows, err := s.Report(ReportQuery{By: []string{"contractor", "site"}})
	if err != nil {
		t.Fatal(err)
	}
	var rb bytes.Buffer
	WriteReport(&rb, "text", []string{"contractor", "site"}, rows)
	var eb bytes.Buffer
	if _, err := s.WriteExport(&eb, ExportQuery{}, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, v := range append([]string{foiContractors[0].Name, foiContractors[0].Accreditations}, foiSites...) {
		if !strings.Contains(eb.String(), v) {
			t.Errorf("export lacks %q with exemptions set", v)
		}
		if !strings.Contains(rb.String(), v) && v != foiContractors[0].Accreditations {
			t.Errorf("report lacks %q with exemptions set", v)
		}
	}
}

// jsonStrings returns every string (keys and values) in a decoded JSON value.
func jsonStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, jsonStrings(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for k, e := range v {
			out = append(append(out, k), jsonStrings(e)...)
		}
		return out
	}
	return nil
}

func TestExemptions(t *testing.T) {
	s := mustOpen(t)
	if _, _, err := s.SetExemption("contractor.address", []string{"24(1)"}, ""); !errors.Is(err, ErrInvalid) ||
		!strings.Contains(err.Error(), "(one of contractor.name, site)") {
		t.Errorf("unknown field: %v", err)
	}
	if _, _, err := s.SetExemption("site", nil, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("no section: %v", err)
	}
	if err := s.ClearExemption("site", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("clear a field not exempt: %v", err)
	}
	e, changed, err := s.SetExemption("contractor.name", []string{"24(1)", "section 31(1)", "24(1)"}, "public interest test 2024-17")
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	if got := e.Statement(); got != "Withheld under sections 24(1) and 31(1) of the Freedom of Information Act 2000" {
		t.Errorf("statement %q", got)
	}
	if _, changed, _ := s.SetExemption("contractor.name", []string{"24(1)", "31(1)"}, ""); changed {
		t.Error("setting the same sections again changed something")
	}
	if _, _, err := s.SetExemption("site", []string{"24(1)"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearExemption("site", "no longer sensitive"); err != nil {
		t.Fatal(err)
	}
	list, err := s.Exemptions()
	if err != nil || len(list) != 1 || list[0].Field != "contractor.name" || strings.Join(list[0].Sections, "|") != "24(1)|31(1)" {
		t.Errorf("Exemptions() = %+v, %v", list, err)
	}
	var secs string
	var seq int64
	s.DB().QueryRow(`SELECT sections, seq FROM exemptions WHERE field = 'contractor.name'`).Scan(&secs, &seq)
	// The event formats agreed with ledger verification, byte for byte.
	var got []string
	evs, _ := s.Events(EventFilter{})
	for _, e := range evs {
		if strings.HasPrefix(e.Action, "exempt.") {
			got = append(got, fmt.Sprintf("%d %s %s %q %s", e.Seq, e.Action, e.Subject, e.Reason, e.Payload))
		}
	}
	want := []string{
		`1 exempt.set contractor.name "public interest test 2024-17" {"field":"contractor.name","sections":["24(1)","31(1)"]}`,
		`2 exempt.set site "" {"field":"site","sections":["24(1)"]}`,
		`3 exempt.clear site "no longer sensitive" {"field":"site"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if secs != "24(1), 31(1)" || seq != 1 {
		t.Errorf("row: sections %q seq %d", secs, seq)
	}
}

func TestParseSection(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"24(1)", "24(1)"}, {" 31(1)(a) ", "31(1)(a)"}, {"s24(1)", "24(1)"}, {"S. 31(1)", "31(1)"},
		{"section 43(2)", "43(2)"}, {"40", "40"}, {"Section 38(1)(b)", "38(1)(b)"},
		{"20(1)", ""}, {"45", ""}, {"24(1", ""}, {"", ""}, {"24(1), 31(1)", ""}, {"s", ""}, {"sx24", ""}, {"24(A)", "24(a)"},
	} {
		got, err := ParseSection(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("ParseSection(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseSection(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseSection(f *testing.F) {
	for _, s := range []string{"24(1)", "s. 31(1)(a)", "section 43", "99", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseSection(s)
		if err != nil {
			return
		}
		// Canonical output parses to itself and cannot break the ", " join.
		if again, err := ParseSection(v); err != nil || again != v || strings.ContainsAny(v, ", ") {
			t.Errorf("ParseSection(%q) = %q, which reparses as %q, %v", s, v, again, err)
		}
	})
}

func TestMentionsAny(t *testing.T) {
	vals := []string{"DC-North", "Albion ITAD plc", "HQ"}
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"HMG IS5 (DC-North annex)", true}, {"albion itad plc procedure 7", true}, {"NIST SP 800-88", false},
		{"HQs policy", false}, {"HQ policy", true}, {"DC-Northern", false}, {"", false},
	} {
		if got := mentionsAny(tc.text, vals); got != tc.want {
			t.Errorf("mentionsAny(%q) = %v", tc.text, got)
		}
	}
}

// TestFOI_RecordedZero: a year between two years of records, with no
// disposal of its own, is a recorded zero ("0 items"), not "no records".
func TestFOI_RecordedZero(t *testing.T) {
	s := mustOpen(t)
	if err := s.Init("Test Org"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddContractor(Contractor{Name: "Albion ITAD plc"}); err != nil {
		t.Fatal(err)
	}
	csv := "serial,asset_tag,type,make,model,capacity_gb,site,method,standard,tool,verified,contractor,disposed_on,weight_kg,batch,operator,witness,notes\n" +
		"Z-1,,hdd,,,,,shred,,,,Albion ITAD plc,2020-05-01,,,,,\n" +
		"Z-2,,ssd,,,,,shred,,,,Albion ITAD plc,2022-05-01,,,,,\n"
	if _, err := s.Import("zero.csv", strings.NewReader(csv), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	a, err := s.FOI(FOIQuery{Years: []int{2021}})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Years) != 1 || a.Years[0].Records != RecordsComplete {
		t.Fatalf("years %+v, want 2021 complete", a.Years)
	}
	text := string(foiOutput(t, a, "text"))
	for _, want := range []string{"Storage devices shredded or otherwise destroyed: 0 items", "All items disposed of (destroyed or wiped): 0 items",
		"The ledger holds disposal records dated 2020-05-01 to 2022-05-01"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "No records") {
		t.Errorf("a recorded zero is answered as no records:\n%s", text)
	}
}
