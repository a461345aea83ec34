package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/itad/itad/ledger"
)

// TestCLI_OneWeightRule: a batch certificate, `batch show`, `report` and
// `export` count the same weights for the same run, to the gram, item by
// item and by type: some items weighed, some not, and a weighed gross whose
// rest does not divide evenly among the unweighed items.
func TestCLI_OneWeightRule(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "itad.db")
	mustItad(t, db, "init", "--org", "Test Constabulary")
	mustItad(t, db, "contractor", "add", "Shredco Ltd")
	// A device of another year, outside the run: report and export of 2021
	// are then the run alone.
	mustItad(t, db, "device", "add", "OTHER-1", "--type", "hdd")
	mustItad(t, db, "dispose", "OTHER-1", "--method", "shred", "--on", "2020-02-02", "--contractor", "Shredco Ltd", "--weight", "0.6kg")
	mustItad(t, db, "batch", "add", "RUN-7", "--on", "2021-05-01", "--contractor", "Shredco Ltd")
	var b strings.Builder
	b.WriteString("serial,asset_tag,type,make,model,capacity_gb,site,method,standard,tool,verified,contractor,disposed_on,weight_kg,batch,operator,witness,notes\n")
	const n = 23
	for i := 1; i <= n; i++ {
		typ, w := "ssd", "0.055"
		if i%3 == 0 {
			typ, w = "hdd", "0.650"
		}
		if i%4 == 0 {
			w = "" // not weighed: a share of the gross
		}
		fmt.Fprintf(&b, "W%03d,,%s,,,,,shred,,,,Shredco Ltd,2021-05-01,%s,RUN-7,,,\n", i, typ, w)
	}
	csvPath := filepath.Join(dir, "run.csv")
	if err := os.WriteFile(csvPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	mustItad(t, db, "import", csvPath)
	mustItad(t, db, "batch", "close", "RUN-7", "--gross-weight", "9.007kg")
	mustItad(t, db, "key", "init")

	type tot struct{ items, weighed, grams int64 }
	// batch show: per item and the total.
	var bd ledger.BatchDetail
	if err := json.Unmarshal([]byte(mustItad(t, db, "--json", "batch", "show", "RUN-7")), &bd); err != nil {
		t.Fatal(err)
	}
	show := map[string]int64{}
	showType := map[string]*tot{}
	var shares int
	for i, p := range bd.Disposals {
		w := bd.Weights[i]
		typ := string(bd.Devices[i].Type)
		if showType[typ] == nil {
			showType[typ] = &tot{}
		}
		showType[typ].items++
		if w.Grams != nil {
			show[p.Serial] = *w.Grams
			showType[typ].weighed++
			showType[typ].grams += *w.Grams
		}
		if w.Source == ledger.WeightBatch {
			shares++
		}
	}
	if shares != n/4 || bd.Total.WeightG != 9007 || bd.Total.WeighedCount != n {
		t.Fatalf("batch show: %d shares, total %+v; want %d shares of 9,007 g over %d items", shares, bd.Total, n/4, n)
	}

	// The certificate's data, item by item.
	s, err := ledger.Open(db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := s.CertificateData(ledger.CertBatch, "RUN-7")
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range data.Items {
		if it.Weight.Grams == nil || *it.Weight.Grams != show[it.Device.Serial] {
			t.Errorf("certificate %s weighs %v, batch show %d g", it.Device.Serial, it.Weight.Grams, show[it.Device.Serial])
		}
	}

	// export: per item and by type.
	recs, err := csv.NewReader(strings.NewReader(mustItad(t, db, "export", "--year", "2021"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	exportType := map[string]*tot{}
	for _, r := range recs[1:] {
		typ := r[col["type"]]
		if exportType[typ] == nil {
			exportType[typ] = &tot{}
		}
		exportType[typ].items++
		g, err := strconv.ParseInt(r[col["weight_grams"]], 10, 64)
		if err != nil {
			t.Fatalf("export %s: weight %q", r[0], r[col["weight_grams"]])
		}
		exportType[typ].weighed++
		exportType[typ].grams += g
		if g != show[r[col["serial"]]] {
			t.Errorf("export %s: %d g, batch show %d g", r[0], g, show[r[0]])
		}
	}

	// report, by type.
	var rep []struct {
		Type         string `json:"type"`
		Count        int64  `json:"count"`
		WeightGrams  int64  `json:"weight_grams"`
		WeighedCount int64  `json:"weighed_count"`
	}
	if err := json.Unmarshal([]byte(mustItad(t, db, "report", "--json", "--year", "2021", "--by", "type")), &rep); err != nil {
		t.Fatal(err)
	}
	reportType := map[string]*tot{}
	for _, r := range rep {
		reportType[r.Type] = &tot{r.Count, r.WeighedCount, r.WeightGrams}
	}

	// The certificate as printed: its totals by type.
	number, file := certFixture{db: db, out: dir}.issue(t, "--batch", "RUN-7")
	certType := map[string]*tot{}
	requireTool(t, "pdftotext")
	text, err := toolOutput(t, "pdftotext", "-layout", file, "-")
	if err != nil {
		t.Fatal(err, text)
	}
	names := map[string]string{"Hard disk drive (HDD)": "hdd", "Solid-state drive (SSD)": "ssd", "Total": "total"}
	rowRe := regexp.MustCompile(`(?m)^\s*(Hard disk drive \(HDD\)|Solid-state drive \(SSD\)|Total)\s+(\d+)\s+(\d+)\s+(\d+)\.(\d{3})\s*$`)
	for _, m := range rowRe.FindAllStringSubmatch(text, -1) {
		items, _ := strconv.ParseInt(m[2], 10, 64)
		weighed, _ := strconv.ParseInt(m[3], 10, 64)
		kg, _ := strconv.ParseInt(m[4], 10, 64)
		g, _ := strconv.ParseInt(m[5], 10, 64)
		certType[names[m[1]]] = &tot{items, weighed, kg*1000 + g}
	}
	if c := certType["total"]; c == nil || *c != (tot{n, n, 9007}) {
		t.Errorf("certificate total %+v, want %d items, 9.007 kg\n%s", c, n, text)
	}
	delete(certType, "total")
	for _, typ := range []string{"hdd", "ssd"} {
		sh, ex, re, ce := showType[typ], exportType[typ], reportType[typ], certType[typ]
		if sh == nil || ex == nil || re == nil || ce == nil || *sh != *ex || *sh != *re || *sh != *ce {
			t.Errorf("%s: batch show %v, export %v, report %v, certificate %v", typ, sh, ex, re, ce)
		}
	}
	// And the certificate verifies.
	if out, errOut, code := itad(t, db, "cert", "verify", file); code != 0 {
		t.Errorf("cert verify %s: exit %d\n%s%s", number, code, out, errOut)
	}
}
