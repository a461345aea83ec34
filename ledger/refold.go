package ledger

import (
	"database/sql"
	"fmt"
	"time"
)

// The keys.refold event (schema migration 5).
//
// Before schema version 5 the key columns held legacySerialKey and
// legacyNameKey (trimmed, lower-cased): "ＷＤ－１２３", "WD‐123" and
// "WD-123" were three devices. From version 5 they hold SerialKey and
// NameKey, which also fold NFKC and Unicode dashes. Migration 5 rewrites,
// in its own transaction, every key whose value folds differently, and
// records what it changed in one keys.refold event whose payload is
//
//	{"changes":[{"table":"devices","uuid":…,"old":…,"new":…}, …],
//	 "kept":[{"table":…,"uuid":…,"key":…}, …]}
//
// A row whose new key another row already holds — two devices an older
// itad kept apart that are now the same serial — keeps its legacy key and
// is listed in kept: the first row (by id) takes the new key. Lookups try
// the legacy key before the new one, so each such row is still found by
// its own spelling, and a new spelling finds the first.
//
// Verify accepts, for every row, either key of its value (serialKeyOf and
// the name_key/ref_key checks in verifyrows.go): both are functions of
// the value the events record, so the refold itself changes nothing the
// replay compares, and keys.refold is registered as an action that changes
// no replayed state. No event is written when nothing changed (a new
// ledger).
const refoldAction = "keys.refold"

func init() { RegisterNoStateAction(refoldAction) }

type refoldChange struct {
	Table string `json:"table"`
	UUID  string `json:"uuid"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

type refoldKept struct {
	Table string `json:"table"`
	UUID  string `json:"uuid"`
	Key   string `json:"key"`
}

// refoldKeys rewrites the key columns to the version 5 fold inside tx.
func refoldKeys(tx *sql.Tx, now time.Time) error {
	var p struct {
		Changes []refoldChange `json:"changes"`
		Kept    []refoldKept   `json:"kept"`
	}
	for _, tb := range []struct {
		table, value, key string
		fold              func(string) string
	}{{"devices", "serial", "serial_key", SerialKey}, {"contractors", "name", "name_key", NameKey}, {"batches", "ref", "ref_key", NameKey}} {
		rows, err := tx.Query(`SELECT id, uuid, ` + tb.value + `, ` + tb.key + ` FROM ` + tb.table + ` ORDER BY id`)
		if err != nil {
			return fmt.Errorf("refold %s: %w", tb.table, err)
		}
		type row struct {
			id               int64
			uuid, value, key string
		}
		var all []row
		taken := map[string]bool{}
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.uuid, &r.value, &r.key); err != nil {
				rows.Close()
				return err
			}
			all = append(all, r)
			taken[r.key] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range all {
			nk := tb.fold(r.value)
			if nk == r.key {
				continue
			}
			if taken[nk] {
				p.Kept = append(p.Kept, refoldKept{tb.table, r.uuid, r.key})
				continue
			}
			if _, err := tx.Exec(`UPDATE `+tb.table+` SET `+tb.key+` = ? WHERE id = ?`, nk, r.id); err != nil {
				return fmt.Errorf("refold %s row %d: %w", tb.table, r.id, err)
			}
			delete(taken, r.key)
			taken[nk] = true
			p.Changes = append(p.Changes, refoldChange{tb.table, r.uuid, r.key, nk})
		}
	}
	if len(p.Changes) == 0 && len(p.Kept) == 0 {
		return nil
	}
	t := &txn{tx: tx, now: now.UTC(), actor: "itad", reason: "schema migration 5: keys fold Unicode look-alikes", stmts: map[string]*sql.Stmt{}}
	defer func() {
		for _, st := range t.stmts {
			st.Close()
		}
	}()
	_, err := t.appendEvent(refoldAction, "keys", p)
	return err
}
