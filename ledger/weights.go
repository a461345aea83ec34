package ledger

import (
	"fmt"
	"strconv"
	"strings"
)

// Weight is an item's weight under WeightRule: its own (Source "item"), an
// equal share of its destruction run's weighed gross output (Source
// "batch"), or none (Grams nil, Source "").
type Weight struct {
	Grams  *int64 `json:"weight_grams"`
	Source string `json:"weight_source"`
}

// Weight sources.
const (
	WeightItem  = "item"
	WeightBatch = "batch"
)

// ownWeight is the weight of a disposal that is in no weighed run.
func ownWeight(p Disposal) Weight {
	if p.WeightG == nil {
		return Weight{}
	}
	g := *p.WeightG
	return Weight{Grams: &g, Source: WeightItem}
}

// weightCTEFor is weightCTE computed for the runs with these batch ids
// only: a run's shares depend only on its own disposals, so a certificate
// or `batch show` need not compute every run of the ledger.
func weightCTEFor(batchIDs []int64) string {
	ids := make([]string, len(batchIDs))
	for i, id := range batchIDs {
		ids[i] = strconv.FormatInt(id, 10)
	}
	if len(ids) == 0 {
		ids = []string{"NULL"}
	}
	return strings.ReplaceAll(weightCTE, "/*runs*/", "AND r.id IN ("+strings.Join(ids, ", ")+")")
}

// runWeights returns the weight under WeightRule of every disposal
// recorded in the runs with these batch ids, by disposal uuid: the same
// SQL as Report, FOI and Export, so that what a certificate or `batch
// show` says agrees with them to the gram.
func runWeights(q querier, batchIDs []int64) (map[string]Weight, error) {
	out := map[string]Weight{}
	if len(batchIDs) == 0 {
		return out, nil
	}
	rows, err := q.Query(runWeightsSQL(batchIDs))
	if err != nil {
		return nil, fmt.Errorf("read run weights: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var uuid, src string
		var g *int64
		if err := rows.Scan(&uuid, &g, &src); err != nil {
			return nil, err
		}
		out[uuid] = Weight{Grams: g, Source: src}
	}
	return out, rows.Err()
}

// runWeightsSQL is the query runWeights runs.
func runWeightsSQL(batchIDs []int64) string {
	ids := make([]string, len(batchIDs))
	for i, id := range batchIDs {
		ids[i] = strconv.FormatInt(id, 10)
	}
	return weightCTEFor(batchIDs) + ` SELECT x.uuid, ` + weightExpr + `, ` + sourceExpr + `
		FROM disposals x ` + weightJoin + ` WHERE x.batch_id IN (` + strings.Join(ids, ", ") + `)`
}

// Total sums weights as Report and FOI do: Count items, WeightG grams over
// the WeighedCount that have a weight, BatchWeighedCount of them a run's
// share.
func Total(ws []Weight) Tally {
	var t Tally
	for _, w := range ws {
		t.Count++
		if w.Grams != nil {
			t.WeighedCount++
			t.WeightG += *w.Grams
			if w.Source == WeightBatch {
				t.BatchWeighedCount++
			}
		}
	}
	return t
}
