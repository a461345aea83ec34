package ledger

import (
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The maintained summary (issue 17)
//
// Reports, FOI answers and the dashboard ask the same few questions of
// millions of disposals. They read three tables kept with the records
// instead of scanning disposals (schema.sql, migration "the summary reports
// read"):
//
//	weight_shares(disposal_id, share_g)  each final disposition's share of
//	        its weighed run's gross weight under WeightRule, for exactly
//	        the rows weightCTE's alloc gives one
//	summary(year, fin_year, type, method, category, contractor_id, site,
//	        standard; count, weight_g, weighed_count, batch_weighed_count)
//	        per cell, the final dispositions in it: how many, their weight
//	        under WeightRule (own weight, else share), how many of them have
//	        a weight, how many of those a run's share. Cells with no final
//	        disposition are not kept.
//	summary_dates(disposed_on, count)  every disposal (final or not,
//	        voided or not) by date: the span of records FOI states
//
// A disposal's contribution to a cell depends on its own row (finality,
// dates, method, category, contractor, standard, weight, run), its
// device's row (type, site, and serial_key, which orders a run's shares)
// and, through the shares, on every final disposition of its run. So a
// write that changes any of those "touches" the devices and runs
// concerned, before it changes them (touchSummary): what the touched
// devices' and runs' final dispositions contributed is taken off, from
// the rows as they still are. Before commit (flushSummary, called by
// Store.write) their runs' shares are recomputed with the same weightCTE
// that verify uses, and their contributions added back from the rows as
// they now are. The work is bounded by the size of the devices and runs
// touched, never the ledger's. An import adds each chunk's new rows from
// the values it writes (summaryImport), without reading them back.
//
// Verify recomputes the three tables from the rows (verifySummary): the
// shares with weightCTE over every weighed run, the cells and dates in one
// pass over disposals. Any cell that differs is a *TableError naming it.
// Reports trust the summary, as they trust every other table between two
// verifies: a summary cell edited behind itad's back changes a report
// until verify, which fails (exit 3) and names the cell; rebuildSummary
// (itad's migration, and a test's repair) recomputes all three.

// summaryMigration is the description of the migration that creates the
// summary tables; Store.migrate fills them from the rows after it runs.
const summaryMigration = "the summary reports read, maintained with the records"

// sumKey is a cell of the summary.
type sumKey struct {
	year, finYear         int64
	typ, method, category string
	contractor            int64
	site, standard        string
}

// sumVal is what a cell holds.
type sumVal struct{ count, weight, weighed, batch int64 }

func (v *sumVal) add(o sumVal, sign int64) {
	v.count += sign * o.count
	v.weight += sign * o.weight
	v.weighed += sign * o.weighed
	v.batch += sign * o.batch
}

// summaryTx is a write transaction's pending summary changes.
type summaryTx struct {
	devs, batches map[int64]bool     // touched
	delta         map[sumKey]*sumVal // to add to summary at flush
	dates         map[string]int64   // to add to summary_dates at flush
	weighed       map[int64]bool     // import: whether a run has a gross weight
}

func (s *summaryTx) init() {
	if s.delta == nil {
		s.devs, s.batches = map[int64]bool{}, map[int64]bool{}
		s.delta, s.dates = map[sumKey]*sumVal{}, map[string]int64{}
		s.weighed = map[int64]bool{}
	}
}

func (s *summaryTx) addCell(k sumKey, v sumVal, sign int64) {
	c := s.delta[k]
	if c == nil {
		c = &sumVal{}
		s.delta[k] = c
	}
	c.add(v, sign)
}

// idList is ids as a JSON array, for json_each.
func idList(ids map[int64]bool) string {
	var b strings.Builder
	b.WriteByte('[')
	first := true
	for id := range ids {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte(']')
	return b.String()
}

func idSet(ids []int64) map[int64]bool {
	m := map[int64]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// sumCellCols are the columns of a cell, read from disposals x and
// devices d; sumTallySQL its tally, with weight_shares s.
const (
	sumCellCols = `x.year, x.fin_year, d.type, x.method, x.category, x.contractor_id, d.site, x.standard`
	sumTallySQL = `count(*), coalesce(sum(coalesce(x.weight_g, s.share_g)), 0), count(coalesce(x.weight_g, s.share_g)), count(s.share_g)`
)

// sumContribSQL reads, one row each, the final dispositions of the
// devices ?1 or runs ?2 with their cell, weight and whether it is a share.
// +x.is_final keeps the planner on disposals_device and disposals_batch.
const sumContribSQL = `SELECT ` + sumCellCols + `, x.device_id, coalesce(x.batch_id, 0),
	coalesce(x.weight_g, s.share_g), s.share_g IS NOT NULL
	FROM disposals x JOIN devices d ON d.id = x.device_id LEFT JOIN weight_shares s ON s.disposal_id = x.id
	WHERE +x.is_final = 1
	AND (x.device_id IN (SELECT value FROM json_each(?1)) OR x.batch_id IN (SELECT value FROM json_each(?2)))`

// sumDatesSQL counts every disposal of the devices ?1 by date.
const sumDatesSQL = `SELECT disposed_on, count(*) FROM disposals WHERE device_id IN (SELECT value FROM json_each(?1)) GROUP BY 1`

// contrib adds sign times what the final dispositions of devs or batches,
// except those of exDevs or exBatches, contribute to each cell (and, for
// devs, every disposal to its date) to the pending changes. The exclusion
// is made here, not in SQL: the sets touched earlier in a transaction (an
// import's) can be large, the rows read are only those of devs and batches.
func (t *txn) contrib(sign int64, devs, batches, exDevs, exBatches map[int64]bool) error {
	rows, err := t.query(sumContribSQL, idList(devs), idList(batches))
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k sumKey
		var dev, batch int64
		var w sql.NullInt64
		var share bool
		if err := rows.Scan(&k.year, &k.finYear, &k.typ, &k.method, &k.category, &k.contractor, &k.site, &k.standard,
			&dev, &batch, &w, &share); err != nil {
			return fmt.Errorf("summary: %w", err)
		}
		if exDevs[dev] || batch != 0 && exBatches[batch] {
			continue
		}
		v := sumVal{count: 1}
		if w.Valid {
			v.weight, v.weighed = w.Int64, 1
			if share {
				v.batch = 1
			}
		}
		t.sum.addCell(k, v, sign)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	if len(devs) == 0 {
		return nil
	}
	drows, err := t.query(sumDatesSQL, idList(devs))
	if err != nil {
		return fmt.Errorf("summary dates: %w", err)
	}
	defer drows.Close()
	for drows.Next() {
		var on string
		var n int64
		if err := drows.Scan(&on, &n); err != nil {
			return fmt.Errorf("summary dates: %w", err)
		}
		t.sum.dates[on] += sign * n
	}
	return drows.Err()
}

// query runs a query prepared once for the transaction (cached with
// exec's statements): an import touches a device for each repeated serial.
func (t *txn) query(q string, args ...any) (*sql.Rows, error) {
	st, ok := t.stmts[q]
	if !ok {
		var err error
		if st, err = t.tx.Prepare(q); err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		t.stmts[q] = st
	}
	return st.Query(args...)
}

// touchSummary is called before a write changes the disposals of these
// devices, the devices themselves, or these runs (batch ids; 0 is no run):
// it takes off what their final dispositions contribute, from the rows as
// they still are, and marks them for flushSummary. A device's weighed runs
// are touched with it (its changes can move their shares; in a run without
// a gross weight no item's figures depend on another's). Touching again is
// free.
func (t *txn) touchSummary(devs []int64, batches ...int64) error {
	s := &t.sum
	s.init()
	nd, nb := map[int64]bool{}, map[int64]bool{}
	for _, id := range devs {
		if !s.devs[id] {
			nd[id] = true
		}
	}
	for _, id := range batches {
		if id != 0 && !s.batches[id] {
			nb[id] = true
		}
	}
	if len(nd) > 0 {
		rows, err := t.query(`SELECT DISTINCT x.batch_id FROM disposals x JOIN batches b ON b.id = x.batch_id
			WHERE x.device_id IN (SELECT value FROM json_each(?)) AND b.gross_weight_g IS NOT NULL`, idList(nd))
		if err != nil {
			return fmt.Errorf("summary: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("summary: %w", err)
			}
			if !s.batches[id] {
				nb[id] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("summary: %w", err)
		}
	}
	if len(nd)+len(nb) == 0 {
		return nil
	}
	if err := t.contrib(-1, nd, nb, s.devs, s.batches); err != nil {
		return err
	}
	for id := range nd {
		s.devs[id] = true
	}
	for id := range nb {
		s.batches[id] = true
	}
	return nil
}

// touchBatch is touchSummary for one run, nil for none.
func (t *txn) touchBatch(batchID *int64) error {
	if batchID == nil {
		return nil
	}
	return t.touchSummary(nil, *batchID)
}

// summaryImport records in the summary the n new devices and their
// disposals an import chunk is about to write (devArgs and dispArgs as
// importer.flush binds them: 11 and 19 values a row). Rows in a weighed
// run touch it (its shares change), and rows in a touched run are added
// by flushSummary; the others (in no run, or in a run without a gross
// weight, whose other items' figures a new item does not change) are
// added from the values themselves.
func (t *txn) summaryImport(devArgs, dispArgs []any, n int) error {
	s := &t.sum
	s.init()
	byFlush := func(i int) (bool, error) {
		b, ok := argInt64(dispArgs[i*19+13])
		if !ok {
			return false, nil
		}
		w, ok := s.weighed[b]
		if !ok {
			rows, err := t.query(`SELECT gross_weight_g IS NOT NULL FROM batches WHERE id = ?`, b)
			if err != nil {
				return false, fmt.Errorf("summary: %w", err)
			}
			for rows.Next() {
				err = rows.Scan(&w)
			}
			rows.Close()
			if err != nil {
				return false, fmt.Errorf("summary: %w", err)
			}
			s.weighed[b] = w
		}
		if w && !s.batches[b] {
			if err := t.touchSummary(nil, b); err != nil {
				return false, err
			}
		}
		// A touched run's rows, weighed or not, are added by flushSummary.
		return s.batches[b], nil
	}
	for i := 0; i < n; i++ {
		dv, dp := devArgs[i*11:], dispArgs[i*19:]
		on, _ := dp[9].(string)
		s.dates[on]++
		if w, err := byFlush(i); err != nil {
			return err
		} else if w {
			continue // in a touched run: added by flushSummary
		}
		year, _ := argInt64(dp[10])
		finYear, _ := argInt64(dp[11])
		contractor, _ := argInt64(dp[8])
		k := sumKey{year: year, finYear: finYear, contractor: contractor}
		k.typ, _ = dv[5].(string)
		k.site, _ = dv[9].(string)
		k.method, _ = dp[3].(string)
		k.category, _ = dp[4].(string)
		k.standard, _ = dp[5].(string)
		v := sumVal{count: 1}
		if w, ok := argInt64(dp[12]); ok {
			v.weight, v.weighed = w, 1
		}
		t.sum.addCell(k, v, 1)
	}
	return nil
}

// argInt64 is an integer statement argument as the import buffers it
// (int64, int, *int64, or nil for NULL); ok is false for NULL.
func argInt64(a any) (v int64, ok bool) {
	switch x := a.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case *int64:
		if x != nil {
			return *x, true
		}
	}
	return 0, false
}

// flushSummary recomputes the shares of the touched runs, adds back what
// the touched devices' and runs' final dispositions now contribute, and
// writes the pending changes to summary and summary_dates. Store.write
// calls it before commit.
func (t *txn) flushSummary() error {
	s := &t.sum
	if s.delta == nil {
		return nil
	}
	defer func() { *s = summaryTx{} }()
	if len(s.devs)+len(s.batches) > 0 {
		dj, bj := idList(s.devs), idList(s.batches)
		if _, err := t.tx.Exec(`DELETE FROM weight_shares WHERE disposal_id IN (SELECT id FROM disposals
			WHERE device_id IN (SELECT value FROM json_each(?1)) OR batch_id IN (SELECT value FROM json_each(?2)))`, dj, bj); err != nil {
			return fmt.Errorf("summary: weight shares: %w", err)
		}
		if len(s.batches) > 0 {
			ids := make([]int64, 0, len(s.batches))
			for id := range s.batches {
				ids = append(ids, id)
			}
			if _, err := t.tx.Exec(`INSERT INTO weight_shares(disposal_id, share_g) ` + weightCTEFor(ids) + ` SELECT id, share FROM alloc`); err != nil {
				return fmt.Errorf("summary: weight shares: %w", err)
			}
		}
		if err := t.contrib(1, s.devs, s.batches, nil, nil); err != nil {
			return err
		}
	}
	for k, v := range s.delta {
		if *v == (sumVal{}) {
			continue
		}
		args := []any{k.year, k.finYear, k.typ, k.method, k.category, k.contractor, k.site, k.standard}
		if _, err := t.exec(`INSERT INTO summary(year, fin_year, type, method, category, contractor_id, site, standard,
			count, weight_g, weighed_count, batch_weighed_count) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT DO UPDATE SET count = count + excluded.count, weight_g = weight_g + excluded.weight_g,
			weighed_count = weighed_count + excluded.weighed_count, batch_weighed_count = batch_weighed_count + excluded.batch_weighed_count`,
			append(args, v.count, v.weight, v.weighed, v.batch)...); err != nil {
			return fmt.Errorf("summary: %w", err)
		}
		if v.count < 0 {
			if _, err := t.exec(`DELETE FROM summary WHERE year = ? AND fin_year = ? AND type = ? AND method = ? AND category = ?
				AND contractor_id = ? AND site = ? AND standard = ?
				AND count = 0 AND weight_g = 0 AND weighed_count = 0 AND batch_weighed_count = 0`, args...); err != nil {
				return fmt.Errorf("summary: %w", err)
			}
		}
	}
	for on, n := range s.dates {
		if n == 0 {
			continue
		}
		if _, err := t.exec(`INSERT INTO summary_dates(disposed_on, count) VALUES (?, ?)
			ON CONFLICT DO UPDATE SET count = count + excluded.count`, on, n); err != nil {
			return fmt.Errorf("summary dates: %w", err)
		}
		if n < 0 {
			if _, err := t.exec(`DELETE FROM summary_dates WHERE disposed_on = ? AND count = 0`, on); err != nil {
				return fmt.Errorf("summary dates: %w", err)
			}
		}
	}
	return nil
}

// Rebuilding from the rows. The same SQL defines the summary for the
// migration that creates it and for verify's recomputation of the shares.
const (
	sumSharesSQL = weightCTE + ` SELECT id, share FROM alloc`
	sumCellsSQL  = `SELECT ` + sumCellCols + `, ` + sumTallySQL + `
		FROM disposals x JOIN devices d ON d.id = x.device_id LEFT JOIN weight_shares s ON s.disposal_id = x.id
		WHERE x.is_final = 1 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`
	sumDatesAllSQL = `SELECT disposed_on, count(*) FROM disposals GROUP BY 1`
)

// rebuildSummary recomputes weight_shares, summary and summary_dates from
// the rows, in tx: what the migration that creates them does.
func rebuildSummary(tx *sql.Tx) error {
	for _, q := range []string{
		`DELETE FROM weight_shares`, `DELETE FROM summary`, `DELETE FROM summary_dates`,
		`INSERT INTO weight_shares(disposal_id, share_g) ` + sumSharesSQL,
		`INSERT INTO summary(year, fin_year, type, method, category, contractor_id, site, standard,
			count, weight_g, weighed_count, batch_weighed_count) ` + sumCellsSQL,
		`INSERT INTO summary_dates(disposed_on, count) ` + sumDatesAllSQL,
	} {
		if _, err := tx.Exec(q); err != nil {
			return fmt.Errorf("build the summary: %w", err)
		}
	}
	return nil
}

// RebuildSummary recomputes the summary tables from the rows in one
// transaction, recording nothing (they are derived data): for tests and
// for repairing a summary that verify found wrong after the rows
// themselves verified.
func (s *Store) RebuildSummary() error {
	conn, tx, err := s.begin()
	if err != nil {
		return err
	}
	defer conn.Close()
	defer tx.Rollback()
	if err := rebuildSummary(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// describe names a cell for a message.
func (k sumKey) describe() string {
	return fmt.Sprintf("year %d, financial year %s, type %q, method %q, category %q, contractor id %d, site %q, standard %q",
		k.year, FormatFinancialYear(int(k.finYear)), k.typ, k.method, k.category, k.contractor, k.site, k.standard)
}

func (v sumVal) describe() string {
	return fmt.Sprintf("count %d, weight_g %d, weighed_count %d, batch_weighed_count %d", v.count, v.weight, v.weighed, v.batch)
}

// verifySummary recomputes weight_shares, summary and summary_dates from
// the rows on c (a connection in verify's snapshot) and returns a
// *TableError for every share, cell and date that differs from what is
// stored: first the shares (weightCTE over every weighed run, against
// weight_shares), then the cells and dates, recomputed in one pass over
// the disposals with the stored shares (checked just before) and held in
// memory by cell, never by row. It returns an error only if the ledger
// cannot be read.
func verifySummary(c *rawConn) ([]error, error) {
	var probs []error
	// Shares: a full join of what the rule gives and what is stored,
	// keeping the rows that differ.
	st, err := c.prepare(weightCTE + ` SELECT coalesce(a.id, s.disposal_id), a.share, s.share_g
		FROM alloc a FULL JOIN weight_shares s ON s.disposal_id = a.id
		WHERE a.share IS NOT s.share_g ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("verify summary: %w", err)
	}
	for {
		ok, err := st.step()
		if err != nil {
			st.finalize()
			return nil, fmt.Errorf("verify summary: %w", err)
		}
		if !ok {
			break
		}
		e := &TableError{Table: "weight_shares", RowID: st.int64(0), Key: "disposal id " + strconv.FormatInt(st.int64(0), 10)}
		switch {
		case st.ctype(2) == colNull:
			e.RowID = 0
			e.Problem = fmt.Sprintf("missing: the weight rule gives disposal id %d a share of %d g of its run", st.int64(0), st.int64(1))
		case st.ctype(1) == colNull:
			e.Problem = fmt.Sprintf("share_g is %d, but the weight rule gives this disposal no share of a run", st.int64(2))
		default:
			e.Problem = fmt.Sprintf("share_g is %d; the weight rule gives %d", st.int64(2), st.int64(1))
		}
		probs = append(probs, e)
	}
	st.finalize()

	// Cells and dates, in one pass over the disposals.
	type cell struct {
		k sumKey
		v sumVal
	}
	want := map[string]*cell{}
	dates := map[string]int64{}
	st, err = c.prepare(`SELECT ` + sumCellCols + `, x.is_final, x.disposed_on, coalesce(x.weight_g, s.share_g), s.share_g IS NOT NULL
		FROM disposals x JOIN devices d ON d.id = x.device_id LEFT JOIN weight_shares s ON s.disposal_id = x.id`)
	if err != nil {
		return nil, fmt.Errorf("verify summary: %w", err)
	}
	var key []byte
	for {
		ok, err := st.step()
		if err != nil {
			st.finalize()
			return nil, fmt.Errorf("verify summary: %w", err)
		}
		if !ok {
			break
		}
		dates[string(st.bytes(9))]++ // no allocation once the date is known
		if st.int64(8) != 1 {
			continue
		}
		key = key[:0]
		for i := 0; i < 8; i++ {
			typ, b, n := st.col(i)
			if typ == colInteger {
				key = strconv.AppendInt(key, n, 10)
			} else {
				key = append(key, b...)
			}
			key = append(key, 0)
		}
		cl := want[string(key)]
		if cl == nil {
			cl = &cell{k: sumKey{year: st.int64(0), finYear: st.int64(1), typ: st.text(2), method: st.text(3), category: st.text(4),
				contractor: st.int64(5), site: st.text(6), standard: st.text(7)}}
			want[string(key)] = cl
		}
		cl.v.count++
		if st.ctype(10) != colNull {
			cl.v.weighed++
			cl.v.weight += st.int64(10)
			cl.v.batch += st.int64(11)
		}
	}
	st.finalize()
	byKey := map[sumKey]sumVal{}
	for _, cl := range want {
		byKey[cl.k] = cl.v
	}
	st, err = c.prepare(`SELECT year, fin_year, type, method, category, contractor_id, site, standard,
		count, weight_g, weighed_count, batch_weighed_count FROM summary`)
	if err != nil {
		return nil, fmt.Errorf("verify summary: %w", err)
	}
	var cellProbs []string
	cellErr := map[string]*TableError{}
	for {
		ok, err := st.step()
		if err != nil {
			st.finalize()
			return nil, fmt.Errorf("verify summary: %w", err)
		}
		if !ok {
			break
		}
		k := sumKey{year: st.int64(0), finYear: st.int64(1), typ: st.text(2), method: st.text(3), category: st.text(4),
			contractor: st.int64(5), site: st.text(6), standard: st.text(7)}
		have := sumVal{st.int64(8), st.int64(9), st.int64(10), st.int64(11)}
		w, ok := byKey[k]
		delete(byKey, k)
		var p string
		switch {
		case !ok:
			p = fmt.Sprintf("holds %s, but no final disposition is in this cell", have.describe())
		case w != have:
			p = fmt.Sprintf("holds %s; the disposals give %s", have.describe(), w.describe())
		default:
			continue
		}
		d := k.describe()
		cellProbs = append(cellProbs, d)
		cellErr[d] = &TableError{Table: "summary", Key: d, Problem: p}
	}
	st.finalize()
	for k, w := range byKey {
		d := k.describe()
		cellProbs = append(cellProbs, d)
		cellErr[d] = &TableError{Table: "summary", Key: d, Problem: "missing: the disposals give " + w.describe()}
	}
	sort.Strings(cellProbs)
	for _, d := range cellProbs {
		probs = append(probs, cellErr[d])
	}

	st, err = c.prepare(`SELECT disposed_on, count FROM summary_dates`)
	if err != nil {
		return nil, fmt.Errorf("verify summary: %w", err)
	}
	var dateProbs []*TableError
	for {
		ok, err := st.step()
		if err != nil {
			st.finalize()
			return nil, fmt.Errorf("verify summary: %w", err)
		}
		if !ok {
			break
		}
		on, have := st.text(0), st.int64(1)
		w := dates[on]
		delete(dates, on)
		if w != have {
			dateProbs = append(dateProbs, &TableError{Table: "summary_dates", Key: "disposed_on " + on,
				Problem: fmt.Sprintf("count is %d; the disposals give %d", have, w)})
		}
	}
	st.finalize()
	for on, w := range dates {
		dateProbs = append(dateProbs, &TableError{Table: "summary_dates", Key: "disposed_on " + on,
			Problem: fmt.Sprintf("missing: the disposals give count %d", w)})
	}
	sort.Slice(dateProbs, func(i, j int) bool { return dateProbs[i].Key < dateProbs[j].Key })
	for _, e := range dateProbs {
		probs = append(probs, e)
	}
	return probs, nil
}

// summaryCheck is what verifySummary found.
type summaryCheck struct {
	probs []error
	err   error
}

// startSummaryCheck runs verifySummary on c (a connection of verify's
// snapshot) while the replay runs; summaryResult waits for it.
func startSummaryCheck(c *rawConn) <-chan summaryCheck {
	ch := make(chan summaryCheck, 1)
	go func() {
		probs, err := verifySummary(c)
		ch <- summaryCheck{probs, err}
	}()
	return ch
}

// summaryResult waits for the summary check and adds its problems after
// the replay's (they are about no one event). The summary is judged
// against rows that verify: when the replay found rows that are not what
// the events say, the summary (computed from the rows as itad wrote them)
// disagrees with them too, and saying so would only repeat the rows'
// problems, so its problems are left out.
func (v *verifier) summaryResult(ch <-chan summaryCheck) error {
	r := <-ch
	if len(v.problems) > 0 || v.more > 0 {
		return r.err
	}
	for _, p := range r.probs {
		v.add(math.MaxInt64, p)
	}
	return r.err
}
