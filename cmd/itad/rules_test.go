package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ledgerRows counts the rows a refused command must not add.
func ledgerRows(t *testing.T, db string) string {
	t.Helper()
	d := openDB(t, db)
	var b strings.Builder
	for _, tb := range []string{"events", "devices", "disposals", "batches", "contractors"} {
		var n int64
		if err := d.QueryRow(`SELECT count(*) FROM ` + tb).Scan(&n); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%d ", tb, n)
	}
	var w string
	d.QueryRow(`SELECT group_concat(coalesce(weight_g, '-') || disposed_on || method) FROM disposals`).Scan(&w)
	var g string
	d.QueryRow(`SELECT group_concat(coalesce(gross_weight_g, '-') || closed_at) FROM batches`).Scan(&g)
	return b.String() + w + " " + g
}

// TestCLI_Rules: units on the command line (usage, exit 2), plausible
// weights and dates, and a device's life in order (exit 1), each refused
// with a message naming the rule and a hint saying how to proceed, the
// ledger unchanged.
func TestCLI_Rules(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "itad.db")
	mustItad(t, db, "init", "--org", "Org")
	mustItad(t, db, "contractor", "add", "Acme")
	for _, d := range [][2]string{{"S1", "ssd"}, {"S2", "ssd"}, {"S3", "ssd"}, {"H1", "hdd"}} {
		mustItad(t, db, "device", "add", d[0], "--type", d[1])
	}
	mustItad(t, db, "batch", "add", "R1", "--contractor", "Acme", "--on", "2021-05-01")
	out := mustItad(t, db, "--json", "dispose", "S2", "--method", "shred", "--on", "2021-05-01", "--contractor", "Acme", "--batch", "R1", "--weight", "60g")
	var p struct{ UUID string }
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	mustItad(t, db, "dispose", "H1", "--method", "incinerate", "--on", "2020-01-01", "--contractor", "Acme")
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("serial,asset_tag,type,make,model,capacity_gb,site,method,standard,tool,verified,contractor,disposed_on,weight_kg,batch,operator,witness,notes\n"+
		"N1,,ssd,,,,,shred,,,,Acme,2021-01-05,620,,,,\n"+
		"N1,,ssd,,,,,overwrite,,,,Acme,2021-01-06,,,,,\n"+
		"N2,,laptop,,,,,overwrite,,,,Acme,2099-01-01,0,,,,\n"), 0o644)
	unusual := filepath.Join(dir, "unusual.csv")
	os.WriteFile(unusual, []byte("serial,asset_tag,type,make,model,capacity_gb,site,method,standard,tool,verified,contractor,disposed_on,weight_kg,batch,operator,witness,notes\n"+
		"U1,,ssd,,,,,shred,,,,Acme,2021-01-05,2.5,,,,\n"), 0o644)
	shred := func(serial, on string, more ...string) []string {
		return append([]string{"dispose", serial, "--method", "shred", "--on", on, "--contractor", "Acme"}, more...)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"ErrWeightNoUnit", shred("S1", "2021-01-01", "--weight", "620"), 2,
			[]string{`itad: error: --weight: weight "620" has no unit: write 620g or 620kg`}},
		{"ErrWeightNoUnitDecimal", shred("S1", "2021-01-01", "--weight", "0.62"), 2, []string{`write 0.62kg or 620g`}},
		{"ErrAmendWeightNoUnit", []string{"disposal", "amend", p.UUID, "--weight", "58", "--reason", "r"}, 2, []string{`--weight: weight "58" has no unit`}},
		{"ErrGrossNoUnit", []string{"batch", "close", "R1", "--gross-weight", "150"}, 2, []string{`--gross-weight: weight "150" has no unit: write 150g or 150kg`}},
		{"ErrUnusualWeight", shred("S1", "2021-01-01", "--weight", "5000kg"), 1,
			[]string{"itad: error: weight 5,000 kg is outside the plausible range for type ssd (3 g to 2 kg): check the unit",
				`itad: hint: if the weight is right, record it with --allow-unusual-weight or with "unusual" in the notes`}},
		{"ErrZeroWeight", shred("S1", "2021-01-01", "--weight", "0kg"), 1,
			[]string{"itad: error: weight 0 g: a zero weight is not a measurement", "itad: hint: give the weight measured, or leave it empty"}},
		{"ErrFutureDate", shred("S1", "2099-01-01"), 1, []string{"itad: error: date 2099-01-01 is in the future (today is ", "itad: hint: check the date"}},
		{"ErrBefore1990", shred("S1", "1989-01-01"), 1, []string{"itad: error: date 1989-01-01 is before 1990"}},
		{"ErrBatchFutureDate", []string{"batch", "add", "R2", "--on", "2099-01-01"}, 1, []string{"itad: error: date 2099-01-01 is in the future"}},
		{"ErrDuplicate", shred("S2", "2021-05-01"), 1,
			[]string{"itad: error: device S2 already has a shred disposal on 2021-05-01 (disposal " + p.UUID + "): the same method on the same day is a duplicate",
				"itad: hint: if that record is wrong, 'itad disposal amend UUID --reason R' corrects that record"}},
		{"ErrShredAfterIncinerate", shred("H1", "2021-01-01"), 1,
			[]string{"itad: error: device H1 was destroyed (incinerate on 2020-01-01, disposal ", "no disposal can follow its destruction",
				"itad: hint: if the destruction was recorded in error", "'itad disposal void UUID --reason R' withdraws it"}},
		{"ErrOverwriteAfterIncinerate", []string{"dispose", "H1", "--method", "overwrite", "--on", "2022-01-01", "--contractor", "Acme"}, 1,
			[]string{"a clear (overwrite) cannot follow its destruction"}},
		{"ErrAmendUnusual", []string{"disposal", "amend", p.UUID, "--weight", "58kg", "--reason", "r"}, 1, []string{"58 kg is outside the plausible range for type ssd"}},
		{"ErrCloseUnusual", []string{"batch", "close", "R1", "--gross-weight", "150kg"}, 1,
			[]string{"itad: error: gross weight 150 kg is outside the plausible range for the run's 1 item (3 g to 2 kg): check the unit",
				"itad: hint: if the weight is right, record it with --allow-unusual-weight"}},
		{"CloseOK", []string{"batch", "close", "R1", "--gross-weight", "150g"}, 0, nil}, // one ssd: 3 g to 2 kg
		{"ErrImport", []string{"import", bad}, 1, []string{
			bad + ":2: weight_kg: weight 620 kg is outside the plausible range for type ssd (3 g to 2 kg): check the unit (if the weight is right, record it with --allow-unusual-weight or with \"unusual\" in the notes)",
			bad + ":4: disposed_on: date 2099-01-01 is in the future",
			"itad: hint: fix the rows named above"}},
		{"ErrImportUnusual", []string{"import", unusual}, 1, []string{unusual + ":2: weight_kg: weight 2.5 kg is outside"}},
		{"ImportUnusualAllowed", []string{"import", unusual, "--allow-unusual-weight"}, 0, nil},
		{"UnusualAllowed", shred("S1", "2021-01-01", "--weight", "5000kg", "--allow-unusual-weight"), 0, nil},
		{"AmendUnusualAllowed", []string{"disposal", "amend", p.UUID, "--weight", "2.5kg", "--reason", "r", "--allow-unusual-weight"}, 0, nil},
		{"BatchAddOK", []string{"batch", "add", "R3", "--on", "2021-05-01", "--gross-weight", "1kg"}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ledgerRows(t, db)
			out, errOut, code := itad(t, db, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, w := range tt.stderr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if code != 0 && ledgerRows(t, db) != before {
				t.Errorf("a refused command changed the ledger: %s -> %s", before, ledgerRows(t, db))
			}
		})
	}
}
