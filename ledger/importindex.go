package ledger

import (
	"fmt"
	"strings"
)

// An import into an empty ledger builds some secondary indexes of the
// disposals table once, after its rows are in, instead of keeping them up
// to date row by row: their keys ((is_final, year), batch_id) arrive in
// no order, and maintaining them took about a quarter of a large
// import's time. Building one from the finished table is a sort.
//
// The indexes are dropped and created again inside the import's
// transaction, so a failed, killed or rolled-back import leaves the
// schema exactly as it was, and a committed one leaves each index as its
// migration created it (the same SQL text, which Open's schema check
// compares). Indexes that the import reads while it runs (disposals by
// device, the unique keys) are kept.

// deferredIndexes are the indexes an import into an empty ledger builds at
// the end. Not disposals_batch: the summary's touch of a device already
// recorded reads its final disposals by device OR by run, and without an
// index on both sides SQLite scans the table once a repeated serial
// (100,000 rows: 3 s with it, 16.5 s without).
var deferredIndexes = []string{"disposals_final_year"}

// droppedIndex is an index dropped for the import, with the statement
// that creates it again.
type droppedIndex struct{ name, sql string }

// dropDeferredIndexes drops deferredIndexes if the ledger has no
// disposals yet, and returns them for restoreIndexes.
func (t *txn) dropDeferredIndexes() ([]droppedIndex, error) {
	var empty bool
	if err := t.tx.QueryRow(`SELECT NOT EXISTS (SELECT 1 FROM disposals)`).Scan(&empty); err != nil {
		return nil, fmt.Errorf("count disposals: %w", err)
	}
	if !empty {
		return nil, nil
	}
	rows, err := t.tx.Query(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'disposals'
		AND sql IS NOT NULL AND name IN (`+strings.TrimSuffix(strings.Repeat("?,", len(deferredIndexes)), ",")+`) ORDER BY name`,
		anySlice(deferredIndexes)...)
	if err != nil {
		return nil, fmt.Errorf("read indexes: %w", err)
	}
	var out []droppedIndex
	for rows.Next() {
		var d droppedIndex
		if err := rows.Scan(&d.name, &d.sql); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read indexes: %w", err)
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read indexes: %w", err)
	}
	for _, d := range out {
		if _, err := t.tx.Exec(`DROP INDEX "` + d.name + `"`); err != nil {
			return nil, fmt.Errorf("drop index %s for the import: %w", d.name, err)
		}
	}
	return out, nil
}

// restoreIndexes creates the dropped indexes again, with the SQL they were
// created with.
func (t *txn) restoreIndexes(ds []droppedIndex) error {
	for _, d := range ds {
		if _, err := t.tx.Exec(d.sql); err != nil {
			return fmt.Errorf("build index %s: %w", d.name, err)
		}
	}
	return nil
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
