package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_Words: counts agree with their nouns ("1 row", "1 event"), and
// people read type labels and capacities in one form.
func TestCLI_Words(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "itad.db")
	mustItad(t, db, "init", "--org", "Org")
	mustItad(t, db, "contractor", "add", "Acme")
	mustItad(t, db, "device", "add", "T1", "--type", "tape", "--capacity", "12000")
	show := mustItad(t, db, "device", "show", "T1")
	csv := filepath.Join(dir, "one.csv")
	if err := os.WriteFile(csv, []byte("serial,asset_tag,type,make,model,capacity_gb,site,method,standard,tool,verified,contractor,disposed_on,weight_kg,batch,operator,witness,notes\n"+
		"S1,,ssd,,,960,,shred,,,,Acme,2021-02-03,0.060,,,,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	imp := mustItad(t, db, "import", csv)
	show1 := mustItad(t, db, "device", "show", "S1")
	report := mustItad(t, db, "report", "--by", "type")
	verify := mustItad(t, db, "verify")
	for _, tc := range []struct {
		name, out string
		want      []string
		never     []string
	}{
		{"device show", show, []string{"Type:       Magnetic tape", "Capacity:   12 TB", "History (1 event):"}, []string{"1 events"}},
		{"import", imp, []string{"1 row, 1 device added, 1 disposal added, 0 already recorded"}, []string{"1 rows", "1 devices", "1 disposals"}},
		{"device show 960 GB", show1, []string{"Type:       Solid-state drive", "Capacity:   960 GB", "History (1 event):"}, nil},
		{"report", report, []string{"Solid-state drive", "weight recorded for 1 of 1 item\n"}, []string{"ssd", "1 items"}},
		{"verify", verify, []string{" events, hash chain intact"}, []string{"1 events"}},
	} {
		for _, w := range tc.want {
			if !strings.Contains(tc.out, w) {
				t.Errorf("%s lacks %q:\n%s", tc.name, w, tc.out)
			}
		}
		for _, w := range tc.never {
			if strings.Contains(tc.out, w) {
				t.Errorf("%s has %q:\n%s", tc.name, w, tc.out)
			}
		}
	}
}
