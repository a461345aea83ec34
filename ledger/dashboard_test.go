package ledger

import (
	"errors"
	"fmt"
	"testing"
)

// TestDashboard_FoldsReport: each breakdown equals Report grouped by its
// field, a filter equals the matching rows of a report grouped by the
// filtered field, and a bad range is ErrInvalid.
func TestDashboard_FoldsReport(t *testing.T) {
	s := mustOpen(t)
	must(t, s.Init("Org"))
	for _, c := range []string{"A Ltd", "B Ltd"} {
		_, err := s.AddContractor(Contractor{Name: c})
		must(t, err)
	}
	for i, d := range []struct {
		typ    DeviceType
		site   string
		method Method
		on     string
		con    string
	}{
		{HDD, "North", Shred, "2020-01-02", "A Ltd"}, {SSD, "South", CryptoErase, "2020-04-02", "B Ltd"},
		{HDD, "South", Overwrite, "2021-03-31", "B Ltd"}, {HDD, "North", Shred, "2021-04-01", "A Ltd"},
		{USB, "North", Incinerate, "2022-07-01", "A Ltd"},
	} {
		sn := fmt.Sprintf("S%d", i)
		_, err := s.AddDevice(Device{Serial: sn, Type: d.typ, Site: d.site})
		must(t, err)
		_, err = s.RecordDisposal(Disposal{Serial: sn, Method: d.method, Contractor: d.con, DisposedOn: d.on})
		must(t, err)
	}
	for _, fin := range []bool{false, true} {
		d, err := s.Dashboard(DashboardQuery{FromYear: 2020, ToYear: 2021, FinancialYear: fin})
		must(t, err)
		got := map[string][]ReportRow{"": d.ByYear, "category": d.ByCategory, "type": d.ByType, "method": d.ByMethod, "contractor": d.ByContractor, "site": d.BySite}
		for field, rows := range got {
			var by []string
			if field != "" {
				by = []string{field}
			}
			want, err := s.Report(ReportQuery{Years: []int{2020, 2021}, FinancialYear: fin, By: by})
			must(t, err)
			if fmt.Sprint(rows) != fmt.Sprint(want) {
				t.Errorf("fin %v by %q: %v, want %v", fin, field, rows, want)
			}
		}
	}
	// Open-ended: from 2021 on.
	d, err := s.Dashboard(DashboardQuery{FromYear: 2021})
	must(t, err)
	if fmt.Sprint(d.Years) != "[2021 2022]" || d.Total.Count != 3 {
		t.Errorf("from 2021: years %v, total %d", d.Years, d.Total.Count)
	}
	d, err = s.Dashboard(DashboardQuery{Type: "hdd", Site: "North"})
	must(t, err)
	if d.Total.Count != 2 || len(d.ByContractor) != 2 || d.ByContractor[0].Fields["contractor"] != "A Ltd" {
		t.Errorf("filtered: total %d, by contractor %v", d.Total.Count, d.ByContractor)
	}
	for _, q := range []DashboardQuery{{FromYear: 2022, ToYear: 2020}, {FromYear: 20}} {
		if _, err := s.Dashboard(q); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", q, err)
		}
	}
}
