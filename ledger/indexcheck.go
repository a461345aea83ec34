package ledger

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"sort"
	"strings"
)

// The index check
//
// An index is only as good as its entries. Someone holding the file can
// build an index with other contents (a partial one, one on another
// expression or another column, one with entries added or removed) and
// then write the original CREATE INDEX text back into sqlite_master
// (PRAGMA writable_schema): the schema is then exactly what itad expects,
// and every query the planner sends through that index silently omits or
// misplaces rows. PRAGMA integrity_check finds it by looking every row of
// every table up in every one of its indexes (a B-tree search a row and
// an index: on a million-row ledger, most of verify's time). This check
// finds the same class of tampering in two sequential scans:
//
//   - For each index, its entries are read through the index itself
//     (SELECT <the index's columns> FROM t INDEXED BY i, which SQLite runs
//     as a scan of the index's B-tree only, "USING COVERING INDEX": the
//     plan is checked, so the values come from the index, not the table).
//     Each entry is every column the declared index holds, key columns
//     and then the rowid (or, for a WITHOUT ROWID table, its primary key).
//   - The same tuples are computed from the table (SELECT ... FROM t NOT
//     INDEXED: the table's own B-tree, one scan for all of its indexes).
//   - Both sides are folded into an order-independent digest: the count
//     of tuples and two sums, mod 2^64, of a keyed hash (hash/maphash,
//     each seeded at random when verify runs) of each tuple's canonical
//     encoding (storage class and value of each column). The two sides
//     must agree.
//   - Along the index scan, each entry must sort strictly after the one
//     before, in the order the declared index defines (SQLite's order of
//     storage classes, then numbers by value, text by the column's
//     collation, blobs by bytes; DESC columns reversed): a B-tree whose
//     entries are in another order is searched wrongly. A UNIQUE index
//     must not hold two entries with the same key (unless one has a NULL).
//
// Why that covers the class: the entries an index should hold are exactly
// one tuple per row of its table (itad declares no partial index and no
// expression index), and the sorted order is fixed by the declaration.
// An index built partially misses tuples (the counts or digests differ);
// one on another expression or column, or with its columns in another
// order, holds other values in its entries (digests differ, unless every
// value happens to be the same, in which case the index is correct); an
// extra, missing or stale entry (one whose row changed or went away)
// changes the multiset; entries in the wrong order fail the order check.
// Only a multiset with the same count and the same two 64-bit keyed sums
// as the table's passes, and the keys are drawn after the file was
// written, so whoever wrote it cannot aim at them: a chance of about one
// in 2^64 or less. (maphash is not a cryptographic MAC, but it is made to
// resist collisions chosen without knowledge of the seed, which is all
// this needs.)
//
// What it does not replace: the page structure of the file (free list,
// overlapping cells, page counts), which PRAGMA quick_check checks and
// which runs first, on the same connection. PRAGMA integrity_check stays
// available (verify --full, VerifyOptions.Full).

// indexDigest is the order-independent digest of a multiset of tuples.
type indexDigest struct {
	n    int64
	a, b uint64
}

// indexSpec is what an index declares, from PRAGMA index_xinfo and
// index_list.
type indexSpec struct {
	name, table string
	cols        []string // column names, "rowid" for the rowid, in index order
	desc        []bool
	coll        []string // collation of each column
	nKey        int      // key columns; the rest locate the row
	unique      bool
}

// indexCheckResult is what checkIndexes found.
type indexCheckResult struct {
	problems []error
	// unsupported names indexes the check cannot read as it must (an
	// expression or a partial index, a collation it does not know):
	// integrity_check must then run instead.
	unsupported []string
}

// checkIndexes runs the index check on c for every index of objs (the
// schema as read) whose table objs holds, at most maxProblems problems.
func checkIndexes(c *rawConn, objs []schemaObject, maxProblems int) (indexCheckResult, error) {
	var res indexCheckResult
	byTable := map[string][]*indexSpec{}
	var tables []string
	for _, o := range objs {
		if o.typ != "index" {
			continue
		}
		spec, why, err := readIndexSpec(c, o.name, o.table)
		if err != nil {
			return res, fmt.Errorf("index %s: %w", o.name, err)
		}
		if why != "" {
			res.unsupported = append(res.unsupported, o.name+" ("+why+")")
			continue
		}
		if byTable[o.table] == nil {
			tables = append(tables, o.table)
		}
		byTable[o.table] = append(byTable[o.table], spec)
	}
	sort.Strings(tables)
	seed1, seed2 := maphash.MakeSeed(), maphash.MakeSeed()
	for _, t := range tables {
		specs := byTable[t]
		fromTable, err := tableDigests(c, t, specs, seed1, seed2)
		if err != nil {
			return res, fmt.Errorf("table %s: %w", t, err)
		}
		for i, spec := range specs {
			got, probs, err := scanIndex(c, spec, seed1, seed2)
			if err != nil {
				return res, fmt.Errorf("index %s: %w", spec.name, err)
			}
			if got != fromTable[i] {
				why := fmt.Sprintf("its entries are not its table's rows (%d entries, %d rows; their digests differ): the index was built otherwise and relabelled?", got.n, fromTable[i].n)
				if got.n == fromTable[i].n {
					why = fmt.Sprintf("its %d entries are not those of the %d rows of table %s (their digests differ): the index was built otherwise and relabelled?", got.n, fromTable[i].n, t)
				}
				probs = append([]string{why}, probs...)
			}
			for _, p := range probs {
				if len(res.problems) >= maxProblems {
					break
				}
				res.problems = append(res.problems, &DatabaseError{Check: "index_check", Problem: "index " + spec.name + ": " + p})
			}
		}
	}
	return res, nil
}

// readIndexSpec reads what index name on table declares, or why the
// check cannot read it.
func readIndexSpec(c *rawConn, name, table string) (*indexSpec, string, error) {
	spec := &indexSpec{name: name, table: table}
	partial := false
	found := false
	if err := rawRows(c, `PRAGMA index_list(`+quoteIdent(table)+`)`, func(st *rawStmt) {
		// seq, name, unique, origin, partial
		if st.text(1) == name {
			found = true
			spec.unique = st.int64(2) != 0
			partial = st.int64(4) != 0
		}
	}); err != nil {
		return nil, "", err
	}
	if !found {
		return nil, "not in its table's index list", nil
	}
	if partial {
		return nil, "a partial index", nil
	}
	why := ""
	if err := rawRows(c, `PRAGMA index_xinfo(`+quoteIdent(name)+`)`, func(st *rawStmt) {
		// seqno, cid, name, desc, coll, key
		cid := st.int64(1)
		col := st.text(2)
		switch {
		case cid == -1:
			col = "rowid"
		case cid == -2 || st.ctype(2) == colNull:
			why = "an expression index"
		}
		coll := strings.ToUpper(st.text(4))
		if coll != "BINARY" && coll != "NOCASE" && coll != "RTRIM" {
			why = "collation " + coll
		}
		spec.cols = append(spec.cols, col)
		spec.desc = append(spec.desc, st.int64(3) != 0)
		spec.coll = append(spec.coll, coll)
		if st.int64(5) != 0 {
			spec.nKey++
		}
	}); err != nil {
		return nil, "", err
	}
	if len(spec.cols) == 0 {
		why = "no columns"
	}
	return spec, why, nil
}

func rawRows(c *rawConn, q string, fn func(*rawStmt)) error {
	st, err := c.prepare(q)
	if err != nil {
		return err
	}
	defer st.finalize()
	for {
		ok, err := st.step()
		if err != nil || !ok {
			return err
		}
		fn(st)
	}
}

func colList(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		if c == "rowid" {
			q[i] = "rowid"
		} else {
			q[i] = quoteIdent(c)
		}
	}
	return strings.Join(q, ", ")
}

// tupleHasher folds tuples into a digest.
type tupleHasher struct {
	h1, h2 maphash.Hash
	buf    []byte
}

func newTupleHasher(s1, s2 maphash.Seed) *tupleHasher {
	t := &tupleHasher{}
	t.h1.SetSeed(s1)
	t.h2.SetSeed(s2)
	return t
}

// appendValue appends the canonical encoding of one value: its storage
// class, then an integer or float as 8 bytes, text or blob with its
// length first.
func appendValue(buf []byte, typ int32, b []byte, n int64, f float64) []byte {
	buf = append(buf, byte(typ))
	switch typ {
	case colInteger:
		buf = binary.BigEndian.AppendUint64(buf, uint64(n))
	case colFloat:
		buf = binary.BigEndian.AppendUint64(buf, math.Float64bits(f))
	case colText, colBlob:
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(b)))
		buf = append(buf, b...)
	}
	return buf
}

func (t *tupleHasher) add(d *indexDigest, tuple []byte) {
	t.h1.Reset()
	t.h1.Write(tuple)
	t.h2.Reset()
	t.h2.Write(tuple)
	d.n++
	d.a += t.h1.Sum64()
	d.b += t.h2.Sum64()
}

// readValue reads column i of the current row.
func readValue(st *rawStmt, i int) (typ int32, b []byte, n int64, f float64) {
	typ, b, n = st.col(i)
	if typ == colFloat {
		f = st.float64(i)
	}
	return
}

// tableDigests computes, in one scan of table t's own B-tree, the digest
// of the tuples each of specs should hold.
func tableDigests(c *rawConn, t string, specs []*indexSpec, s1, s2 maphash.Seed) ([]indexDigest, error) {
	pos := map[string]int{}
	var cols []string
	where := make([][]int, len(specs))
	for i, spec := range specs {
		for _, col := range spec.cols {
			p, ok := pos[col]
			if !ok {
				p = len(cols)
				pos[col] = p
				cols = append(cols, col)
			}
			where[i] = append(where[i], p)
		}
	}
	st, err := c.prepare(`SELECT ` + colList(cols) + ` FROM ` + quoteIdent(t) + ` NOT INDEXED`)
	if err != nil {
		return nil, err
	}
	defer st.finalize()
	h := newTupleHasher(s1, s2)
	out := make([]indexDigest, len(specs))
	vals := make([][]byte, len(cols)) // each column's encoding, this row
	for {
		ok, err := st.step()
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		for i := range cols {
			typ, b, n, f := readValue(st, i)
			vals[i] = appendValue(vals[i][:0], typ, b, n, f)
		}
		for i := range specs {
			h.buf = h.buf[:0]
			for _, p := range where[i] {
				h.buf = append(h.buf, vals[p]...)
			}
			h.add(&out[i], h.buf)
		}
	}
}

// scanIndex reads spec's entries through the index, returning their
// digest and what is wrong with their order.
func scanIndex(c *rawConn, spec *indexSpec, s1, s2 maphash.Seed) (indexDigest, []string, error) {
	var d indexDigest
	q := `SELECT ` + colList(spec.cols) + ` FROM ` + quoteIdent(spec.table) + ` INDEXED BY ` + quoteIdent(spec.name)
	// The values must come from the index's B-tree alone.
	covering := false
	if err := rawRows(c, `EXPLAIN QUERY PLAN `+q, func(st *rawStmt) {
		if strings.Contains(st.text(3), "COVERING INDEX "+spec.name) {
			covering = true
		}
	}); err != nil {
		return d, nil, err
	}
	if !covering {
		return d, nil, fmt.Errorf("SQLite would not read it as a covering index")
	}
	st, err := c.prepare(q)
	if err != nil {
		return d, nil, err
	}
	defer st.finalize()
	h := newTupleHasher(s1, s2)
	var probs []string
	prev := make([]sqlValue, len(spec.cols))
	cur := make([]sqlValue, len(spec.cols))
	first := true
	for {
		ok, err := st.step()
		if err != nil {
			return d, probs, err
		}
		if !ok {
			return d, probs, nil
		}
		h.buf = h.buf[:0]
		for i := range spec.cols {
			typ, b, n, f := readValue(st, i)
			h.buf = appendValue(h.buf, typ, b, n, f)
			cur[i].set(typ, b, n, f)
		}
		h.add(&d, h.buf)
		if !first && len(probs) < 10 {
			switch cmp, keyEq := compareEntries(spec, prev, cur); {
			case cmp >= 0:
				probs = append(probs, fmt.Sprintf("entry %d is out of order (the index's B-tree is not sorted as it declares): built otherwise and relabelled?", d.n))
			case spec.unique && keyEq:
				probs = append(probs, fmt.Sprintf("entry %d repeats the key of the entry before it in a UNIQUE index", d.n))
			}
		}
		first = false
		prev, cur = cur, prev
	}
}

// sqlValue is a copy of one value, for comparing with the next entry.
type sqlValue struct {
	typ int32
	b   []byte
	n   int64
	f   float64
}

func (v *sqlValue) set(typ int32, b []byte, n int64, f float64) {
	v.typ, v.n, v.f = typ, n, f
	v.b = append(v.b[:0], b...)
}

// typeRank orders storage classes as SQLite does: NULL, numbers, text,
// blob.
func typeRank(t int32) int {
	switch t {
	case colNull:
		return 0
	case colInteger, colFloat:
		return 1
	case colText:
		return 2
	}
	return 3
}

// compareValues compares two values as SQLite orders them under
// collation coll.
func compareValues(a, b *sqlValue, coll string) int {
	ra, rb := typeRank(a.typ), typeRank(b.typ)
	if ra != rb {
		return ra - rb
	}
	switch ra {
	case 0:
		return 0
	case 1:
		if a.typ == colInteger && b.typ == colInteger {
			switch {
			case a.n < b.n:
				return -1
			case a.n > b.n:
				return 1
			}
			return 0
		}
		x, y := a.f, b.f
		if a.typ == colInteger {
			x = float64(a.n)
		}
		if b.typ == colInteger {
			y = float64(b.n)
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case 2:
		x, y := a.b, b.b
		switch coll {
		case "NOCASE":
			return bytes.Compare(asciiLower(x), asciiLower(y))
		case "RTRIM":
			return bytes.Compare(bytes.TrimRight(x, " "), bytes.TrimRight(y, " "))
		}
		return bytes.Compare(x, y)
	}
	return bytes.Compare(a.b, b.b)
}

func asciiLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// compareEntries compares two entries of an index in its order, and
// reports whether their key columns are equal with no NULL among them.
func compareEntries(spec *indexSpec, a, b []sqlValue) (cmp int, keyEq bool) {
	keyEq = true
	for i := range spec.cols {
		c := compareValues(&a[i], &b[i], spec.coll[i])
		if spec.desc[i] {
			c = -c
		}
		if i < spec.nKey && (c != 0 || a[i].typ == colNull) {
			keyEq = false
		}
		if c != 0 {
			return c, keyEq
		}
	}
	return 0, keyEq
}
