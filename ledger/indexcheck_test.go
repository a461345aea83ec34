package ledger

import "testing"

// TestCompareValues pins the index check's order to SQLite's: NULL,
// then numbers by value (integers and reals mixed), then text by
// collation, then blobs by bytes.
func TestCompareValues(t *testing.T) {
	i := func(n int64) sqlValue { return sqlValue{typ: colInteger, n: n} }
	f := func(x float64) sqlValue { return sqlValue{typ: colFloat, f: x} }
	s := func(x string) sqlValue { return sqlValue{typ: colText, b: []byte(x)} }
	b := func(x string) sqlValue { return sqlValue{typ: colBlob, b: []byte(x)} }
	null := sqlValue{typ: colNull}
	for _, tc := range []struct {
		a, b sqlValue
		coll string
		want int
	}{
		{null, i(-5), "BINARY", -1},
		{i(2), f(2.5), "BINARY", -1},
		{f(3), i(3), "BINARY", 0},
		{i(9), s(""), "BINARY", -1},
		{s("b"), s("a"), "BINARY", 1},
		{s("B"), s("a"), "BINARY", -1},
		{s("B"), s("a"), "NOCASE", 1},
		{s("a "), s("a"), "RTRIM", 0},
		{s("zzz"), b(""), "BINARY", -1},
		{b("\x01"), b("\x00\x02"), "BINARY", 1},
	} {
		if got := compareValues(&tc.a, &tc.b, tc.coll); sign(got) != tc.want {
			t.Errorf("compare(%+v, %+v, %s) = %d, want %d", tc.a, tc.b, tc.coll, got, tc.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// TestCompareEntries: DESC reverses a column; keyEq says whether two
// entries of a UNIQUE index repeat a key (a NULL never does).
func TestCompareEntries(t *testing.T) {
	spec := &indexSpec{cols: []string{"a", "rowid"}, desc: []bool{true, false}, coll: []string{"BINARY", "BINARY"}, nKey: 1}
	e := func(a sqlValue, id int64) []sqlValue { return []sqlValue{a, {typ: colInteger, n: id}} }
	txt := func(x string) sqlValue { return sqlValue{typ: colText, b: []byte(x)} }
	for _, tc := range []struct {
		a, b  []sqlValue
		cmp   int
		keyEq bool
	}{
		{e(txt("b"), 1), e(txt("a"), 2), -1, false}, // DESC: b before a
		{e(txt("a"), 1), e(txt("a"), 2), -1, true},
		{e(txt("a"), 2), e(txt("a"), 1), 1, true},
		{e(sqlValue{typ: colNull}, 1), e(sqlValue{typ: colNull}, 2), -1, false},
	} {
		cmp, keyEq := compareEntries(spec, tc.a, tc.b)
		if sign(cmp) != tc.cmp || keyEq != tc.keyEq {
			t.Errorf("compareEntries(%v, %v) = %d, %v; want %d, %v", tc.a, tc.b, cmp, keyEq, tc.cmp, tc.keyEq)
		}
	}
}

// TestCheckIndexes_Unsupported: an index the check cannot read as it
// must (here a partial one, which itad never creates) makes Verify run
// integrity_check, and the schema comparison names it.
func TestCheckIndexes_Unsupported(t *testing.T) {
	s, _ := verifyFixture(t)
	if _, err := rawDB(t, s).Exec(`CREATE INDEX extra ON disposals(year) WHERE year > 2000`); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(s.Path(), Options{Inspect: true})
	must(t, err)
	defer s2.Close()
	c, err := openRaw(s2.Path(), false)
	must(t, err)
	defer c.close()
	objs, err := readSchemaRaw(c)
	must(t, err)
	ix, err := checkIndexes(c, objs, 10)
	must(t, err)
	if len(ix.unsupported) != 1 || ix.unsupported[0] != "extra (a partial index)" {
		t.Fatalf("unsupported = %v", ix.unsupported)
	}
	db := checkDatabase(c, nil, false, false, objs, 10)
	if db.check != "integrity_check" || len(db.problems) > 0 || db.err != nil {
		t.Fatalf("checkDatabase: %s %v %v, want integrity_check to have run and passed", db.check, db.problems, db.err)
	}
}
