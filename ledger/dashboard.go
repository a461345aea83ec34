package ledger

import (
	"fmt"
	"sort"
)

// DashboardQuery selects the figures of the web dashboard: a range of
// years and optional filters on a device's type, site and contractor.
type DashboardQuery struct {
	FromYear, ToYear int  // 0: open-ended
	FinancialYear    bool // UK April-to-March years
	Type             string
	Site             string
	Contractor       string
}

// Dashboard is the dashboard's figures, each a list of ReportRows as
// Report gives them (counted by each device's final disposition, weights
// under WeightRule with their coverage).
type Dashboard struct {
	Query DashboardQuery
	// Years are the years the query spans that have disposals, in order.
	Years []int
	// ByYear has one row per year; the others one row per year and value
	// of their field (Fields holds only that field).
	ByYear, ByCategory, ByType, ByMethod, ByContractor, BySite []ReportRow
	// Total sums ByYear (Year 0).
	Total ReportRow
}

// DashboardFields are the fields the dashboard breaks figures down by.
var DashboardFields = []string{"category", "type", "method", "contractor", "site"}

// Dashboard computes the dashboard's figures with one Report query grouped
// by every field (one read of the ledger), folded per breakdown: without
// filters each breakdown is exactly Report grouped by that field; filters
// keep the rows that match before they are summed. It returns ErrInvalid for a
// year range that ends before it starts.
func (s *Store) Dashboard(q DashboardQuery) (Dashboard, error) {
	d := Dashboard{Query: q}
	if q.FromYear != 0 && q.ToYear != 0 && q.ToYear < q.FromYear {
		return d, fmt.Errorf("%w: the year range %d to %d ends before it starts", ErrInvalid, q.FromYear, q.ToYear)
	}
	if (q.FromYear != 0 && (q.FromYear < 1900 || q.FromYear > 9999)) || (q.ToYear != 0 && (q.ToYear < 1900 || q.ToYear > 9999)) {
		return d, fmt.Errorf("%w: years go from 1900 to 9999", ErrInvalid)
	}
	var years []int
	if q.FromYear != 0 && q.ToYear != 0 {
		for y := q.FromYear; y <= q.ToYear; y++ {
			years = append(years, y)
		}
	}
	filter := map[string]string{}
	for f, v := range map[string]string{"type": q.Type, "site": q.Site, "contractor": q.Contractor} {
		if v != "" {
			filter[f] = v
		}
	}
	// One query grouped by every field; each breakdown folds its rows
	// (counts and weights add up), so the ledger is read once.
	rows, err := s.Report(ReportQuery{Years: years, FinancialYear: q.FinancialYear, By: ReportFields})
	if err != nil {
		return d, err
	}
	inRange := func(y int) bool {
		return (q.FromYear == 0 || y >= q.FromYear) && (q.ToYear == 0 || y <= q.ToYear)
	}
	fold := func(rows []ReportRow, field string) []ReportRow {
		var out []ReportRow
		at := map[string]int{}
		for _, r := range rows {
			if !inRange(r.Year) || !matches(r, filter) {
				continue
			}
			key := fmt.Sprint(r.Year)
			fields := map[string]string{}
			if field != "" {
				key += "\x00" + r.Fields[field]
				fields[field] = r.Fields[field]
			}
			i, ok := at[key]
			if !ok {
				at[key] = len(out)
				out = append(out, ReportRow{Year: r.Year, FinancialYear: r.FinancialYear, Fields: fields})
				i = len(out) - 1
			}
			out[i].add(r)
		}
		sort.SliceStable(out, func(i, j int) bool {
			if out[i].Year != out[j].Year {
				return out[i].Year < out[j].Year
			}
			return out[i].Fields[field] < out[j].Fields[field]
		})
		return out
	}
	d.ByYear = fold(rows, "")
	parts := []*[]ReportRow{&d.ByCategory, &d.ByType, &d.ByMethod, &d.ByContractor, &d.BySite}
	for i, f := range DashboardFields {
		*parts[i] = fold(rows, f)
	}
	d.Total = ReportRow{FinancialYear: q.FinancialYear, Fields: map[string]string{}}
	for _, r := range d.ByYear {
		d.Years = append(d.Years, r.Year)
		d.Total.add(r)
	}
	return d, nil
}

func matches(r ReportRow, filter map[string]string) bool {
	for f, v := range filter {
		if r.Fields[f] != v {
			return false
		}
	}
	return true
}

func (r *ReportRow) add(o ReportRow) {
	r.Count += o.Count
	r.WeightG += o.WeightG
	r.WeighedCount += o.WeighedCount
	r.BatchWeighedCount += o.BatchWeighedCount
}

// Coverage says how many of the row's items its weight covers: "weight
// recorded for 1,437 of 1,942 items" (and how many from a run's gross
// weight).
func (r ReportRow) Coverage() string { return coverage(r.WeighedCount, r.BatchWeighedCount, r.Count) }

// Weight is the row's weight in kg, or "not recorded" when no item was
// weighed (never 0).
func (r ReportRow) Weight() string { return weightCell(r.WeightG, r.WeighedCount) }
