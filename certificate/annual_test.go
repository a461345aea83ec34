package certificate

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/itad/itad/ledger"
)

// annualSample is a report of two years with every grouping, as
// ledger.Store.Reports returns it.
func annualSample(org string, years ...int) AnnualReport {
	r := AnnualReport{Org: org, AsOf: time.Date(2024, 4, 2, 9, 30, 0, 0, time.UTC), WeightRule: ledger.WeightRule}
	row := func(y int, field, v string, n, g, w int64) ledger.ReportRow {
		rr := ledger.ReportRow{Year: y, Fields: map[string]string{}, Count: n, WeightG: g, WeighedCount: w}
		if field != "" {
			rr.Fields[field] = v
		}
		return rr
	}
	for i, y := range years {
		k := int64(i + 1)
		r.ByYear = append(r.ByYear, row(y, "", "", 60*k, 90_500*k, 50*k))
		r.ByType = append(r.ByType, row(y, "type", "hdd", 30*k, 19_500*k, 30*k), row(y, "type", "laptop", 20*k, 35_000*k, 20*k),
			row(y, "type", "phone", 10*k, 0, 0))
		r.ByMethod = append(r.ByMethod, row(y, "method", "shred", 35*k, 20_000*k, 30*k), row(y, "method", "overwrite", 25*k, 70_500*k, 20*k))
		r.ByCategory = append(r.ByCategory, row(y, "category", "destroy", 35*k, 20_000*k, 30*k), row(y, "category", "clear", 25*k, 70_500*k, 20*k))
	}
	return r
}

func TestRenderAnnualReport(t *testing.T) {
	r := annualSample("Gwent Police – Heddlu Gwent, Café Unit, Tŷ Gwŷn, Łódź, Ελλάδα", 2020, 2021)
	pdf, err := RenderAnnualReport(r)
	if err != nil {
		t.Fatal(err)
	}
	// Reproducible: the same report gives the same bytes; the date is
	// AsOf, not the clock.
	again, err := RenderAnnualReport(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pdf, again) {
		t.Error("two renderings of the same report differ")
	}
	if !bytes.Contains(pdf, []byte("/CreationDate (D:20240402093000")) {
		t.Error("the creation date is not AsOf")
	}
	r2 := r
	r2.AsOf = r.AsOf.Add(time.Hour)
	if other, _ := RenderAnnualReport(r2); bytes.Equal(pdf, other) {
		t.Error("a different AsOf gives the same bytes")
	}

	path := writeTemp(t, "annual.pdf", pdf)
	requireTool(t, "qpdf")
	if out, err := runTool(t, "qpdf", "--check", path); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	requireTool(t, "pdftotext")
	text, err := runTool(t, "pdftotext", "-layout", path, "-")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Annual disposal report", "Gwent Police – Heddlu Gwent, Café Unit, Tŷ Gwŷn, Łódź, Ελλάδα",
		"Calendar years 2020 and 2021. Figures as of 2 April 2024 09:30 UTC",
		"Totals by year", "90.500", "50 of 60 items", "All", "271.500", "150 of 180 items",
		"Items disposed of per year by NIST SP 800-88 category", "Clear", "Purge", "Destroy", "Year", "Items (final disposition)",
		"Items by type", "Hard disk drive (HDD)", "Laptop", "Mobile phone", "not recorded", "Items by method", "Shred", "Overwrite",
		"Notes", "Page 1 of 2", "Page 2 of 2",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q:\n%s", want, text)
		}
	}
	// Types in the ledger's order: storage media first.
	if strings.Index(text, "Hard disk drive") > strings.Index(text, "Laptop") {
		t.Error("types are not in the ledger's order")
	}
	requireTool(t, "pdftoppm")
	if out, err := runTool(t, "pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", path, path); err != nil {
		t.Errorf("pdftoppm: %v\n%s", err, out)
	}
}

func TestRenderAnnualReport_Shapes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		r     AnnualReport
		wants []string
	}{
		{"Empty", AnnualReport{Org: "Empty Org", WeightRule: ledger.WeightRule}, []string{"No disposals are recorded for the years asked", "none recorded"}},
		{"OneYear", annualSample("One", 2021), []string{"Calendar year 2021.", "Items by type"}},
		{"TwelveYears", annualSample("Twelve", 2010, 2011, 2012, 2013, 2014, 2015, 2016, 2017, 2018, 2019, 2020, 2021),
			[]string{"Calendar years 2010 to 2021.", "Items by type (2010 to 2015)", "Items by type (2016 to 2021)"}},
		{"Financial", func() AnnualReport {
			r := annualSample("Fin", 2020, 2021)
			r.FinancialYear = true
			for _, rows := range [][]ledger.ReportRow{r.ByYear, r.ByType, r.ByMethod, r.ByCategory} {
				for i := range rows {
					rows[i].FinancialYear = true
				}
			}
			return r
		}(), []string{"UK financial years 2020/21 and 2021/22 (1 April to 31 March)", "Financial year", "2021/22"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pdf, err := RenderAnnualReport(tc.r)
			if err != nil {
				t.Fatal(err)
			}
			if again, _ := RenderAnnualReport(tc.r); !bytes.Equal(pdf, again) {
				t.Error("not reproducible")
			}
			path := writeTemp(t, "annual.pdf", pdf)
			requireTool(t, "qpdf")
			if out, err := runTool(t, "qpdf", "--check", path); err != nil {
				t.Fatalf("qpdf --check: %v\n%s", err, out)
			}
			requireTool(t, "pdftotext")
			text, _ := runTool(t, "pdftotext", "-layout", path, "-")
			for _, w := range tc.wants {
				if !strings.Contains(text, w) {
					t.Errorf("PDF text lacks %q:\n%s", w, text)
				}
			}
		})
	}
}

func TestAnnualStep(t *testing.T) {
	for _, tc := range []struct{ max, want int64 }{{0, 1}, {5, 1}, {7, 2}, {12, 2}, {13, 5}, {45, 10}, {61, 20}, {1203, 500}, {3421, 1000}} {
		if got := annualStep(tc.max); got != tc.want {
			t.Errorf("annualStep(%d) = %d, want %d", tc.max, got, tc.want)
		}
	}
}
