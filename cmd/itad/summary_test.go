package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// yearTotals is items, weighed items and grams per year.
type yearTotals map[int][3]int64

// reportTotals reads `itad report --json` (financial years with --fy).
func reportTotals(t *testing.T, db string, fy bool) yearTotals {
	t.Helper()
	args := []string{"report", "--json", "--by", "type,method,category,contractor,site"}
	if fy {
		args = append(args, "--financial-year")
	}
	var rows []struct {
		Year    json.RawMessage `json:"year"`
		Count   int64           `json:"count"`
		Grams   int64           `json:"weight_grams"`
		Weighed int64           `json:"weighed_count"`
	}
	if err := json.Unmarshal([]byte(mustItad(t, db, args...)), &rows); err != nil {
		t.Fatal(err)
	}
	out := yearTotals{}
	for _, r := range rows {
		y, err := strconv.Atoi(strings.Trim(string(r.Year), `"`)[:4])
		if err != nil {
			t.Fatal(err)
		}
		v := out[y]
		out[y] = [3]int64{v[0] + r.Count, v[1] + r.Weighed, v[2] + r.Grams}
	}
	return out
}

// exportTotals sums `itad export` (csv) by year.
func exportTotals(t *testing.T, db string, fy bool) yearTotals {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(mustItad(t, db, "export"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	out := yearTotals{}
	for _, r := range recs[1:] {
		y, _ := strconv.Atoi(r[col["year"]])
		if fy {
			y, _ = strconv.Atoi(r[col["financial_year"]][:4])
		}
		v := out[y]
		v[0]++
		if g := r[col["weight_grams"]]; g != "" {
			n, _ := strconv.ParseInt(g, 10, 64)
			v[1]++
			v[2] += n
		}
		out[y] = v
	}
	return out
}

// TestCLI_SummaryAgrees: after each kind of change, made as a user makes
// it, report and export agree year by year (calendar and financial) and
// verify passes; a summary cell edited behind itad's back fails verify
// with exit 3, naming the table.
func TestCLI_SummaryAgrees(t *testing.T) {
	db := sampleLedger(t)
	uuidOf := func(serial string) string {
		var u string
		if err := shell(t, db).QueryRow(`SELECT x.uuid FROM disposals x JOIN devices d ON d.id = x.device_id
			WHERE d.serial = ? AND x.is_final = 1`, serial).Scan(&u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	steps := []struct {
		name string
		args func() []string
	}{
		{"batch close", func() []string {
			return []string{"batch", "close", "SR-2020-002", "--gross-weight", "2.5kg", "--allow-unusual-weight"}
		}},
		{"batch close 2", func() []string {
			return []string{"batch", "close", "SR-2021-005", "--gross-weight", "0.2kg", "--allow-unusual-weight"}
		}},
		{"dispose", func() []string {
			return []string{"dispose", "SLEN00029821", "--method", "shred", "--on", "2022-01-05", "--contractor", "Albion ITAD plc"}
		}},
		{"device amend", func() []string {
			return []string{"device", "amend", "SHP00023821", "--site", "DC-East", "--reason", "moved"}
		}},
		{"disposal amend", func() []string {
			return []string{"disposal", "amend", uuidOf("SMIC00014321"), "--weight", "0.05kg", "--on", "2020-12-30", "--reason", "ticket"}
		}},
		{"disposal void", func() []string {
			return []string{"disposal", "void", uuidOf("SHPE00001920"), "--reason", "wrong serial"}
		}},
		{"serial correction", func() []string {
			return []string{"device", "amend", "SMIC00014321", "--serial", "ZMIC00014321", "--reason", "label misread"}
		}},
		{"batch amend", func() []string {
			return []string{"batch", "amend", "SR-2020-002", "--gross-weight", "3kg", "--allow-unusual-weight", "--reason", "reweighed"}
		}},
	}
	for _, st := range steps {
		out, errOut, code := itad(t, db, st.args()...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", st.name, code, out, errOut)
		}
		for _, fy := range []bool{false, true} {
			if r, e := reportTotals(t, db, fy), exportTotals(t, db, fy); fmt.Sprint(r) != fmt.Sprint(e) {
				t.Fatalf("after %s (financial years %v): report %v, export %v", st.name, fy, r, e)
			}
		}
		if out, errOut, code := itad(t, db, "verify"); code != 0 {
			t.Fatalf("after %s: verify exit %d\n%s%s", st.name, code, out, errOut)
		}
	}
	if _, err := shell(t, db).Exec(`UPDATE summary SET count = count + 1 WHERE year = 2021 AND method = 'shred' AND type = 'hdd'`); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := itad(t, db, "verify")
	if code != exitVerifyFailed || !strings.Contains(errOut, "table summary (year 2021, ") || !strings.Contains(errOut, "the disposals give count") {
		t.Fatalf("verify after a summary cell was edited: exit %d\n%s", code, errOut)
	}
	if _, err := shell(t, db).Exec(`UPDATE summary SET count = count - 1 WHERE year = 2021 AND method = 'shred' AND type = 'hdd'`); err != nil {
		t.Fatal(err)
	}
	if _, err := shell(t, db).Exec(`UPDATE weight_shares SET share_g = share_g + 5 WHERE disposal_id = (SELECT min(disposal_id) FROM weight_shares)`); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = itad(t, db, "verify")
	if code != exitVerifyFailed || !strings.Contains(errOut, "table weight_shares row id ") {
		t.Fatalf("verify after a weight share was edited: exit %d\n%s", code, errOut)
	}
}
