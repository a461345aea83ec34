package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/itad/itad/ledger"
	_ "modernc.org/sqlite"
)

var update = flag.Bool("update", false, "rewrite golden files")

// itad runs the app in-process and returns stdout, stderr and exit status.
func itad(t *testing.T, db string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"itad", "--db", db, "--actor", "tester"}, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

// mustItad runs the app and fails the test on a non-zero exit.
func mustItad(t *testing.T, db string, args ...string) string {
	t.Helper()
	out, errOut, code := itad(t, db, args...)
	if code != 0 {
		t.Fatalf("itad %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// golden compares got with testdata/golden/NAME, rewriting it with -update.
// A missing golden file fails.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "golden", name)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file %s: %v (run go test -update to create it)", path, err)
	}
	if got != string(want) {
		t.Errorf("%s differs from golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestCLI_ImportAndReportGolden(t *testing.T) {
	db := filepath.Join(t.TempDir(), "itad.db")
	mustItad(t, db, "init", "--org", "Test Constabulary")
	out := mustItad(t, db, "import", "../../testdata/import/sample-disposals.csv")
	golden(t, "import/sample.txt", out)
	for _, tc := range []struct{ name, args string }{
		{"report/by-year.txt", "report"},
		{"report/2020-2021-by-method.json", "report --year 2020 --year 2021 --by method --json"},
		{"report/by-type-category.csv", "report --by type,category --format csv"},
		{"report/by-contractor-site.txt", "report --year 2021 --by contractor --by site"},
		{"report/financial-year.txt", "report --financial-year --by category"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, mustItad(t, db, strings.Fields(tc.args)...))
		})
	}
}

func TestCLI_Errors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "itad.db")
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte(strings.Join(ledger.ImportColumns, ",")+"\nX1,,hdd,,,,,melt,,,,Acme,2021-01-05,,,,,\n"), 0o644)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"NotInitialised", []string{"report"}, 1, []string{"itad: error: ledger not initialised: no ledger at " + db, "itad: hint: create one with 'itad init --org NAME'"}},
		{"Init", []string{"init", "--org", "Org"}, 0, nil},
		{"UnknownFlag", []string{"report", "--colour"}, 2, []string{"itad: error: unknown flag --colour\nitad: hint: see 'itad report --help'\n"}},
		{"MissingFlag", []string{"dispose", "S1", "--on", "2021-01-01", "--contractor", "Acme"}, 2, []string{"itad: error: --method is required\nitad: hint: see 'itad dispose --help'\n"}},
		{"BadBy", []string{"report", "--by", "colour"}, 2, []string{`cannot group by "colour"`}},
		{"UnknownDevice", []string{"dispose", "S9", "--method", "shred", "--on", "2021-01-01", "--contractor", "Acme"}, 1,
			[]string{`itad: error: device "S9" not found`, "itad: hint: record it first with 'itad device add SERIAL --type TYPE'"}},
		{"BadType", []string{"device", "add", "S1", "--type", "fridge"}, 1, []string{`unknown type "fridge" (one of hdd,`}},
		{"AddDevice", []string{"device", "add", "S1", "--type", "Solid State Drive"}, 0, nil},
		{"UnknownContractor", []string{"dispose", "S1", "--method", "shred", "--on", "2021-01-01", "--contractor", "Acme"}, 1,
			[]string{`contractor "Acme" not found`, "itad contractor add NAME"}},
		{"AddContractor", []string{"contractor", "add", "Acme", "--accreditations", "ADISA"}, 0, nil},
		{"DegaussSSD", []string{"dispose", "S1", "--method", "degauss", "--on", "2021-01-01", "--contractor", "acme"}, 1, []string{"degauss does not sanitise ssd"}},
		{"BadWeight", []string{"dispose", "S1", "--method", "shred", "--on", "2021-01-01", "--contractor", "acme", "--weight", "1.2345kg"}, 2, []string{"--weight: "}},
		{"BadDate", []string{"dispose", "S1", "--method", "shred", "--on", "2021-02-30", "--contractor", "acme"}, 2, []string{`itad: error: --on: date "2021-02-30" is not a valid ISO 8601 date`}},
		{"Dispose", []string{"dispose", "S1", "--method", "Shredded", "--on", "2021-02-03", "--contractor", "acme", "--weight", "60g"}, 0, nil},
		{"BadImport", []string{"import", bad}, 1, []string{bad + `:2: method: unknown method "melt"`, "itad: hint: fix the rows named above"}},
		{"TwoArgs", []string{"device", "show", "a", "b"}, 2, []string{"takes exactly one SERIAL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := itad(t, db, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, w := range tt.stderr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
	out := mustItad(t, db, "device", "show", "s1")
	for _, w := range []string{"Serial:     S1", "Type:       Solid-state drive", "2021-02-03  shred   destroy   Acme", "0.060 kg", "final", "device.add", "disposal.record"} {
		if !strings.Contains(out, w) {
			t.Errorf("device show lacks %q:\n%s", w, out)
		}
	}
}

// buildItad compiles the binary once per test that needs real processes.
func buildItad(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "itad")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestE2E_LargeImportOneBadLine: a spreadsheet of several thousand rows
// with one bad line is rejected whole with that line named; fixed, it
// imports, and the JSON report agrees with a direct SQL count.
func TestE2E_LargeImportOneBadLine(t *testing.T) {
	bin := buildItad(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "itad.db")
	data := ledger.DemoCSV(7, 5000, 2019, 2022)
	lines := strings.Split(string(data), "\n")
	badLine := 3001 // file line numbers start at 1 with the header
	fields := strings.Split(lines[badLine-1], ",")
	fields[12] = "2021-02-30"
	orig := lines[badLine-1]
	lines[badLine-1] = strings.Join(fields, ",")
	csvPath := filepath.Join(dir, "year.csv")
	os.WriteFile(csvPath, []byte(strings.Join(lines, "\n")), 0o644)

	runBin := func(args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"--db", db}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := runBin("init", "--org", "E2E"); err != nil {
		t.Fatal(err, out)
	}
	out, err := runBin("import", csvPath)
	if err == nil {
		t.Fatalf("import with a bad line succeeded:\n%s", out)
	}
	want := fmt.Sprintf("%s:%d: disposed_on: date \"2021-02-30\" is not a valid ISO 8601 date", csvPath, badLine)
	if !strings.Contains(out, want) || strings.Count(out, "\n"+csvPath+":") != 1 {
		t.Fatalf("import output does not name exactly line %d:\n%s", badLine, out)
	}
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	conn.QueryRow(`SELECT count(*) FROM devices`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d devices after a failed import, want 0", n)
	}

	lines[badLine-1] = orig
	os.WriteFile(csvPath, []byte(strings.Join(lines, "\n")), 0o644)
	if out, err := runBin("import", csvPath); err != nil {
		t.Fatalf("fixed import: %v\n%s", err, out)
	}
	out, err = runBin("report", "--year", "2020", "--year", "2021", "--by", "method", "--json")
	if err != nil {
		t.Fatal(err, out)
	}
	var rows []struct {
		Year         int    `json:"year"`
		Method       string `json:"method"`
		Count        int64  `json:"count"`
		WeightGrams  int64  `json:"weight_grams"`
		WeighedCount int64  `json:"weighed_count"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, out)
	}
	if len(rows) < 10 {
		t.Fatalf("only %d report rows", len(rows))
	}
	for _, r := range rows {
		var c, w, wc int64
		// Independent SQL: the final disposal of each device is its latest
		// destroy-category disposal, else its latest.
		err := conn.QueryRow(`
			WITH ranked AS (
			  SELECT x.*, row_number() OVER (PARTITION BY device_id
			    ORDER BY category = 'destroy' DESC, disposed_on DESC, id DESC) AS rn
			  FROM disposals x)
			SELECT count(*), coalesce(sum(weight_g), 0), count(weight_g) FROM ranked
			WHERE rn = 1 AND method = ? AND CAST(substr(disposed_on, 1, 4) AS INTEGER) = ?`, r.Method, r.Year).Scan(&c, &w, &wc)
		if err != nil {
			t.Fatal(err)
		}
		if c != r.Count || w != r.WeightGrams || wc != r.WeighedCount {
			t.Errorf("%d %s: report %d items %d g (%d weighed); SQL %d items %d g (%d weighed)", r.Year, r.Method, r.Count, r.WeightGrams, r.WeighedCount, c, w, wc)
		}
	}
}

// TestE2E_ConcurrentProcesses: two itad processes disposing devices at
// once both succeed and nothing is lost.
func TestE2E_ConcurrentProcesses(t *testing.T) {
	bin := buildItad(t)
	db := filepath.Join(t.TempDir(), "itad.db")
	mustItad(t, db, "init", "--org", "Concurrency")
	mustItad(t, db, "contractor", "add", "Acme")
	const perProc = 25
	for i := 0; i < 2*perProc; i++ {
		mustItad(t, db, "device", "add", fmt.Sprintf("C%03d", i), "--type", "hdd")
	}
	var wg sync.WaitGroup
	errs := make(chan string, 2*perProc)
	for p := 0; p < 2; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := p * perProc; i < (p+1)*perProc; i++ {
				out, err := exec.Command(bin, "--db", db, "--actor", fmt.Sprint("proc", p), "dispose", fmt.Sprintf("C%03d", i),
					"--method", "shred", "--on", "2021-06-01", "--contractor", "Acme").CombinedOutput()
				if err != nil {
					errs <- fmt.Sprintf("C%03d: %v %s", i, err, out)
				}
			}
		}(p)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	out := mustItad(t, db, "report", "--json")
	if !strings.Contains(out, fmt.Sprintf(`"count": %d`, 2*perProc)) && !strings.Contains(out, fmt.Sprintf(`"count":%d`, 2*perProc)) {
		t.Fatalf("report after concurrent disposals:\n%s", out)
	}
}

func TestCLI_Demo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	var out, errOut bytes.Buffer
	if code := run([]string{"itad", "demo", dir}, &out, &errOut); code != 0 {
		t.Fatalf("demo: %d %s", code, errOut.String())
	}
	for _, w := range []string{"400 devices", "YEAR  CATEGORY  ITEMS", "2025  all", "weight recorded for", "serve", "sign in as demo-operator"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("demo output lacks %q:\n%s", w, out.String())
		}
	}
	// Running it again changes nothing.
	out.Reset()
	if code := run([]string{"itad", "demo", dir}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "0 destruction runs closed") {
		t.Fatalf("second demo: %d %s", code, out.String())
	}
}

func TestInterspersed(t *testing.T) {
	app := newApp(nil, nil)
	tests := []struct{ in, want string }{
		{"itad dispose S1 --method shred --on 2021-01-01", "itad dispose --method shred --on 2021-01-01 S1"},
		{"itad --db x.db report --year 2020 --by method --json", "itad --json --db x.db report --year 2020 --by method"},
		{"itad device show S1 --json", "itad --json device show S1"},
		{"itad device add -- -S1 --type hdd", "itad device add -- -S1 --type hdd"},
		{"itad import f.csv --reason=audit", "itad import --reason=audit f.csv"},
		{"itad contractor add Acme Ltd --accreditations ADISA", "itad contractor add --accreditations ADISA Acme Ltd"},
	}
	for _, tt := range tests {
		got := strings.Join(interspersed(app, strings.Fields(tt.in)), " ")
		if got != tt.want {
			t.Errorf("interspersed(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCLI_Lists: list commands print a header and a line per record, and
// JSON lists that are empty, never null.
func TestCLI_Lists(t *testing.T) {
	db := filepath.Join(t.TempDir(), "itad.db")
	mustItad(t, db, "init", "--org", "Lists")
	for _, args := range [][]string{{"contractor", "list"}, {"batch", "list"}, {"checkpoint", "list"}} {
		if out := mustItad(t, db, append([]string{"--json"}, args...)...); strings.TrimSpace(out) != "[]" {
			t.Errorf("%v --json on an empty ledger: %q, want []", args, out)
		}
	}
	mustItad(t, db, "contractor", "add", "Acme Ltd", "--accreditations", "ADISA", "--contract", "C-1")
	mustItad(t, db, "batch", "add", "R-1", "--site", "DC1", "--contractor", "Acme Ltd", "--on", "2021-01-05")
	mustItad(t, db, "batch", "close", "R-1", "--gross-weight", "12.5kg")
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"contractor", "list"}, []string{"NAME      ACCREDITATIONS  CONTRACT", "Acme Ltd  ADISA           C-1"}},
		{[]string{"batch", "list"}, []string{"REF  DATE        SITE  CONTRACTOR  GROSS WEIGHT  CLOSED", "R-1  2021-01-05  DC1   Acme Ltd    12.500 kg     20"}},
	}
	for _, tt := range tests {
		out := mustItad(t, db, tt.args...)
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v lacks %q:\n%s", tt.args, w, out)
			}
		}
	}
	var cs []ledger.Contractor
	if err := json.Unmarshal([]byte(mustItad(t, db, "--json", "contractor", "list")), &cs); err != nil || len(cs) != 1 || cs[0].ContractRef != "C-1" {
		t.Fatalf("contractor list --json: %+v, %v", cs, err)
	}
}
