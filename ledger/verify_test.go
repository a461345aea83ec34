package ledger

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// fakeRender stands in for the PDF renderer in certificate tests.
func fakeRender(d CertificateDraft) (CertificateHashes, error) {
	h := strings.Repeat("ab", 32)
	return CertificateHashes{ContentHash: h, PDFSHA256: strings.Repeat("cd", 32), SignerFingerprint: strings.Repeat("ef", 32)}, nil
}

// testNoteKey returns a checkpoint signer and the self-signed
// certificate of its key (ECDSA P-256), whose note key name it signs
// under.
func testNoteKey(tb testing.TB) (note.Signer, *x509.Certificate) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "itad test"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	sig, err := NewNoteSigner(NoteKeyName(cert), key)
	if err != nil {
		tb.Fatal(err)
	}
	return sig, cert
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// trust lists certificates for VerifyOptions.Trusted.
func trust(certs ...*x509.Certificate) []*x509.Certificate { return certs }

// verifyFixture builds a ledger that touches every table and every kind
// of event: settings, contractors, an import with batches and a device
// disposed of twice, a device added and disposed of by hand, a closed
// batch, amendments, an exemption, certificates issued, superseded and
// revoked, consultations, and a checkpoint with an event after it.
func verifyFixture(tb testing.TB) (*Store, *x509.Certificate) {
	tb.Helper()
	s := mustOpen(tb)
	signer, ver := testNoteKey(tb)
	must(tb, s.Init("Northshire Constabulary"))
	must(tb, s.SetSetting(SettingDestination, "recycled after destruction", "setup"))
	if _, err := s.AddContractor(Contractor{Name: "Albion ITAD plc", Accreditations: "ADISA, ISO 27001"}); err != nil {
		tb.Fatal(err)
	}
	csv := header +
		"SN-A1,,hdd,Seagate,ST4000,4000,DC-North,shred,DIN 66399 H-5,,yes,Albion ITAD plc,2021-03-01,0.650,SR-1,A. Patel,M. Lewis,\n" +
		"SN-A2,NC01,ssd,Samsung,MZ7,960,DC-North,shred,,,yes,albion  itad plc,2021-03-01,0.058,SR-1,A. Patel,M. Lewis,\n" +
		"SN-A3,,hdd,WDC,WD40,4000,DC-South,overwrite,,nwipe 0.35,sample,Shredwell Secure Ltd,2021-04-02,,,J. Okafor,,\n" +
		"SN-A3,,hdd,WDC,WD40,4000,DC-South,shred,,,yes,Shredwell Secure Ltd,2021-06-02,0.640,SR-2,J. Okafor,M. Lewis,shredded after wipe\n"
	if _, err := importString(s, "fixture.csv", csv); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.AddDevice(Device{Serial: "SN-B1", Type: "laptop", Make: "Dell", Model: "Latitude 5490", AssetTag: "NC02"}); err != nil {
		tb.Fatal(err)
	}
	p, err := s.RecordDisposal(Disposal{Serial: "SN-B1", Method: "overwrite", DisposedOn: "2022-01-10", Contractor: "Albion ITAD plc"})
	must(tb, err)
	gross := int64(800)
	_, err = s.CloseBatch("SR-1", &gross)
	must(tb, err)
	_, _, err = s.AmendDevice("SN-A1", map[string]string{"model": "ST4000NM0035"}, "model number mistyped")
	must(tb, err)
	_, _, err = s.AmendDisposal(p.UUID, map[string]string{"weight_grams": "1750", "method": "shred", "batch": "SR-2"}, "shredded, not wiped")
	must(tb, err)
	_, _, err = s.SetExemption("contractor.name", []string{"24(1)", "31(1)"}, "FOI policy")
	must(tb, err)
	c1, err := s.IssueCertificate(CertDevice, "SN-A2", signer, fakeRender)
	must(tb, err)
	if _, err := s.IssueCertificate(CertDevice, "SN-A2", signer, fakeRender); err != nil { // supersedes c1
		tb.Fatal(err)
	}
	if _, err := s.IssueCertificate(CertBatch, "SR-1", signer, fakeRender); err != nil {
		tb.Fatal(err)
	}
	_, err = s.RevokeCertificate(c1.UUID, "issued in error", signer)
	must(tb, err)
	must(tb, s.LogAccess("report", "report", "annual return", nil))
	if _, err := s.CreateCheckpoint(signer, "monthly"); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.AddDevice(Device{Serial: "SN-C1", Type: "phone"}); err != nil {
		tb.Fatal(err)
	}
	return s, ver
}

// rawDB opens the ledger file as the sqlite3 shell would: no foreign
// keys, so that any row can be changed behind itad's back.
func rawDB(tb testing.TB, s *Store) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+s.Path())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func q1(tb testing.TB, db *sql.DB, query string, args ...any) int64 {
	tb.Helper()
	var n int64
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestVerify_Fixture(t *testing.T) {
	s, ver := verifyFixture(t)
	res, err := s.Verify(VerifyOptions{Trusted: trust(ver)})
	if err != nil {
		t.Fatalf("a ledger written only by itad must verify: %v", err)
	}
	for table, n := range map[string]int64{"devices": 5, "disposals": 5, "contractors": 2, "batches": 2, "settings": 2,
		"exemptions": 1, "certificates": 3, "certificate_devices": 4, "checkpoints": 3} {
		if res.Rows[table] != n {
			t.Errorf("%s: %d rows checked, want %d", table, res.Rows[table], n)
		}
	}
	// The supersession and the revocation each took a checkpoint, then
	// the monthly one.
	if len(res.Checkpoints) != 3 {
		t.Errorf("checkpoints: %+v", res.Checkpoints)
	}
	for _, cp := range res.Checkpoints {
		if cp.Signature != "verified" || cp.Key != NoteKeyName(ver) {
			t.Errorf("checkpoint: %+v", cp)
		}
	}
	var n int64
	s.DB().QueryRow(`SELECT count(*) FROM events`).Scan(&n)
	if res.Events != n {
		t.Errorf("events %d, want %d", res.Events, n)
	}
}

// want describes the first problem Verify should report.
type want struct {
	kind  string // "chain", "table", "checkpoint"
	table string
	rowID int64 // table errors: 0 for a missing row
	seq   int64 // chain errors: the event; table errors: the event involved (0: any)
	text  string
}

func checkFirst(t *testing.T, err error, w want) {
	t.Helper()
	var ve *VerifyError
	if !errors.As(err, &ve) || !errors.Is(err, ErrTampered) {
		t.Fatalf("Verify = %v, want a *VerifyError matching ErrTampered", err)
	}
	first := ve.Problems[0]
	msg := first.Error()
	switch w.kind {
	case "chain":
		ce, ok := first.(*ChainError)
		if !ok || ce.Seq != w.seq {
			t.Fatalf("first problem %q, want a ChainError at event %d\nall: %v", msg, w.seq, ve.Problems)
		}
	case "table":
		te, ok := first.(*TableError)
		if !ok || te.Table != w.table || te.RowID != w.rowID || (w.seq != 0 && te.Seq != w.seq) {
			t.Fatalf("first problem %q, want table %s row %d (event %d)\nall: %v", msg, w.table, w.rowID, w.seq, ve.Problems)
		}
	case "checkpoint":
		if _, ok := first.(*CheckpointError); !ok {
			t.Fatalf("first problem %q, want a CheckpointError\nall: %v", msg, ve.Problems)
		}
	}
	if !strings.Contains(msg, w.text) {
		t.Fatalf("first problem %q does not say %q", msg, w.text)
	}
}

// TestVerify_Tampering changes every table behind itad's back, as the
// sqlite3 shell would, in each way (update, delete, insert, reorder), and
// expects Verify to name the first bad event or row.
func TestVerify_Tampering(t *testing.T) {
	type tcase struct {
		name string
		// tamper changes the ledger and returns what Verify should say.
		tamper func(t *testing.T, db *sql.DB) want
	}
	exec := func(t *testing.T, db *sql.DB, qs ...string) {
		t.Helper()
		for _, q := range qs {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	idOf := func(t *testing.T, db *sql.DB, table, where string) (id, seq int64) {
		t.Helper()
		if err := db.QueryRow(`SELECT rowid, seq FROM `+table+` WHERE `+where).Scan(&id, &seq); err != nil {
			t.Fatalf("%s %s: %v", table, where, err)
		}
		return id, seq
	}
	devOf := func(t *testing.T, db *sql.DB, serial string) (id, seq int64) {
		return idOf(t, db, "devices", "serial = '"+serial+"'")
	}
	dispOf := func(t *testing.T, db *sql.DB, serial string) (id, seq int64) {
		return idOf(t, db, "disposals", "device_id = (SELECT id FROM devices WHERE serial = '"+serial+"') ORDER BY id LIMIT 1")
	}
	cases := []tcase{
		// events
		{"events/update", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `UPDATE events SET actor = 'mallory' WHERE seq = 5`)
			return want{kind: "chain", seq: 5, text: "hash does not match"}
		}},
		{"events/update-payload", func(t *testing.T, db *sql.DB) want {
			_, seq := devOf(t, db, "SN-B1")
			exec(t, db, fmt.Sprintf(`UPDATE events SET payload = CAST(replace(CAST(payload AS TEXT), 'Latitude', 'Vostro') AS BLOB) WHERE seq = %d`, seq))
			return want{kind: "chain", seq: seq, text: "hash does not match"}
		}},
		{"events/update-import-payload", func(t *testing.T, db *sql.DB) want {
			_, seq := devOf(t, db, "SN-A2")
			exec(t, db, fmt.Sprintf(`UPDATE events SET payload = CAST(replace(CAST(payload AS TEXT), '"rows":3', '"rows":2') AS BLOB) WHERE seq = %d`, seq))
			return want{kind: "chain", seq: seq, text: "hash does not match"}
		}},
		{"events/delete", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `DELETE FROM events WHERE seq = 4`)
			return want{kind: "chain", seq: 4, text: "missing"}
		}},
		{"events/delete-last", func(t *testing.T, db *sql.DB) want {
			n := q1(t, db, `SELECT max(seq) FROM events`)
			exec(t, db, fmt.Sprintf(`DELETE FROM events WHERE seq = %d`, n))
			id, _ := devOf(t, db, "SN-C1")
			return want{kind: "table", table: "devices", rowID: id, text: "no event created this row"}
		}},
		{"events/insert", func(t *testing.T, db *sql.DB) want {
			n := q1(t, db, `SELECT max(seq) FROM events`)
			exec(t, db, fmt.Sprintf(`INSERT INTO events(seq, at, actor, action, subject, reason, payload, prev_hash, hash)
				SELECT %d, at, actor, 'report', 'report', '', CAST('{}' AS BLOB), hash, hash FROM events WHERE seq = %d`, n+1, n))
			return want{kind: "chain", seq: n + 1, text: "hash does not match"}
		}},
		{"events/reorder", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `UPDATE events SET seq = -1 WHERE seq = 6`, `UPDATE events SET seq = 6 WHERE seq = 7`, `UPDATE events SET seq = 7 WHERE seq = -1`)
			return want{kind: "chain", seq: 6, text: "prev_hash"}
		}},
		// settings
		{"settings/update", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `UPDATE settings SET value = 'Evil Corp' WHERE key = 'org'`)
			return want{kind: "table", table: "settings", text: `value is "Evil Corp", events say "Northshire Constabulary"`}
		}},
		{"settings/delete", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `DELETE FROM settings WHERE key = 'media_destination'`)
			return want{kind: "table", table: "settings", text: "key media_destination): no row"}
		}},
		{"settings/insert", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `INSERT INTO settings(key, value, seq) VALUES ('require_reason', 'false', 9999)`)
			return want{kind: "table", table: "settings", text: "no event set this row"}
		}},
		{"settings/reorder", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `UPDATE settings SET seq = 2 - seq + 1 WHERE key IN ('org', 'media_destination')`)
			return want{kind: "table", table: "settings", text: "seq is"}
		}},
		// contractors
		{"contractors/update", func(t *testing.T, db *sql.DB) want {
			id, seq := idOf(t, db, "contractors", "name = 'Albion ITAD plc'")
			exec(t, db, `UPDATE contractors SET accreditations = 'NAID AAA' WHERE name = 'Albion ITAD plc'`)
			return want{kind: "table", table: "contractors", rowID: id, seq: seq, text: `accreditations is "NAID AAA"`}
		}},
		{"contractors/delete", func(t *testing.T, db *sql.DB) want {
			_, seq := idOf(t, db, "contractors", "name = 'Shredwell Secure Ltd'")
			exec(t, db, `DELETE FROM contractors WHERE name = 'Shredwell Secure Ltd'`)
			return want{kind: "table", table: "contractors", seq: seq, text: "no row for event"}
		}},
		{"contractors/insert", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `INSERT INTO contractors(uuid, name, name_key, seq) VALUES ('x', 'Cheap Shred', 'cheap shred', 3)`)
			id := q1(t, db, `SELECT id FROM contractors WHERE name = 'Cheap Shred'`)
			return want{kind: "table", table: "contractors", rowID: id, text: "no event created this row"}
		}},
		{"contractors/reorder", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `UPDATE contractors SET id = -1 WHERE id = 1`, `UPDATE contractors SET id = 1 WHERE id = 2`, `UPDATE contractors SET id = 2 WHERE id = -1`)
			return want{kind: "table", table: "contractors", rowID: 2, text: "out of order"}
		}},
		// devices
		{"devices/update", func(t *testing.T, db *sql.DB) want {
			id, seq := devOf(t, db, "SN-A2")
			exec(t, db, `UPDATE devices SET model = 'MZ7-EVIL' WHERE serial = 'SN-A2'`)
			return want{kind: "table", table: "devices", rowID: id, seq: seq, text: "do not hash to what event " + fmt.Sprint(seq) + " recorded"}
		}},
		{"devices/update-added", func(t *testing.T, db *sql.DB) want {
			id, seq := devOf(t, db, "SN-B1")
			exec(t, db, `UPDATE devices SET model = 'Vostro' WHERE serial = 'SN-B1'`)
			return want{kind: "table", table: "devices", rowID: id, seq: seq, text: `model is "Vostro", events say "Latitude 5490"`}
		}},
		{"devices/update-serial-key", func(t *testing.T, db *sql.DB) want {
			id, seq := devOf(t, db, "SN-A2")
			exec(t, db, `UPDATE devices SET serial_key = 'sn-a9' WHERE serial = 'SN-A2'`)
			return want{kind: "table", table: "devices", rowID: id, seq: seq, text: `serial_key is "sn-a9"`}
		}},
		{"devices/update-amended-import", func(t *testing.T, db *sql.DB) want {
			id, seq := devOf(t, db, "SN-A1")
			exec(t, db, `UPDATE devices SET site = 'DC-East' WHERE serial = 'SN-A1'`)
			return want{kind: "table", table: "devices", rowID: id, seq: seq, text: "with the amendments of events "}
		}},
		{"devices/update-amended", func(t *testing.T, db *sql.DB) want {
			id, seq := devOf(t, db, "SN-A1")
			exec(t, db, `UPDATE devices SET model = 'ST4000' WHERE serial = 'SN-A1'`)
			return want{kind: "table", table: "devices", rowID: id, seq: seq, text: `model is "ST4000", events say "ST4000NM0035"`}
		}},
		{"devices/delete", func(t *testing.T, db *sql.DB) want {
			_, seq := devOf(t, db, "SN-A3")
			exec(t, db, `DELETE FROM devices WHERE serial = 'SN-A3'`)
			return want{kind: "table", table: "devices", seq: seq, text: "no row for row 3 of 3 of event"}
		}},
		{"devices/insert", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `INSERT INTO devices(uuid, serial, serial_key, type, seq) VALUES ('u', 'SN-X', 'sn-x', 'hdd', 5)`)
			id, _ := devOf(t, db, "SN-X")
			return want{kind: "table", table: "devices", rowID: id, text: "no event created this row"}
		}},
		{"devices/reorder", func(t *testing.T, db *sql.DB) want {
			a, seqA := devOf(t, db, "SN-A1")
			b, _ := devOf(t, db, "SN-A2")
			exec(t, db, fmt.Sprintf(`UPDATE devices SET id = -1 WHERE id = %d`, a), fmt.Sprintf(`UPDATE devices SET id = %d WHERE id = %d`, a, b),
				fmt.Sprintf(`UPDATE devices SET id = %d WHERE id = -1`, b))
			return want{kind: "table", table: "devices", rowID: a, seq: seqA, text: "do not hash"}
		}},
		{"devices/reorder-added", func(t *testing.T, db *sql.DB) want {
			a, seqA := devOf(t, db, "SN-B1")
			b, _ := devOf(t, db, "SN-C1")
			exec(t, db, fmt.Sprintf(`UPDATE devices SET id = -1 WHERE id = %d`, a), fmt.Sprintf(`UPDATE devices SET id = %d WHERE id = %d`, a, b),
				fmt.Sprintf(`UPDATE devices SET id = %d WHERE id = -1`, b))
			return want{kind: "table", table: "devices", seq: seqA, text: "no row for event"}
		}},
		// disposals
		{"disposals/update", func(t *testing.T, db *sql.DB) want {
			id, seq := dispOf(t, db, "SN-A2")
			exec(t, db, fmt.Sprintf(`UPDATE disposals SET weight_g = 5 WHERE id = %d`, id))
			return want{kind: "table", table: "disposals", rowID: id, seq: seq, text: "do not hash to what event " + fmt.Sprint(seq) + " recorded"}
		}},
		{"disposals/update-added", func(t *testing.T, db *sql.DB) want {
			id, seq := dispOf(t, db, "SN-B1")
			exec(t, db, fmt.Sprintf(`UPDATE disposals SET operator = 'M. Allory' WHERE id = %d`, id))
			return want{kind: "table", table: "disposals", rowID: id, seq: seq, text: `operator is "M. Allory", events say ""`}
		}},
		{"disposals/update-year", func(t *testing.T, db *sql.DB) want {
			id, seq := dispOf(t, db, "SN-A2")
			exec(t, db, fmt.Sprintf(`UPDATE disposals SET year = 2019 WHERE id = %d`, id))
			return want{kind: "table", table: "disposals", rowID: id, seq: seq, text: "year is 2019, events say 2021"}
		}},
		{"disposals/update-device", func(t *testing.T, db *sql.DB) want {
			id, seq := dispOf(t, db, "SN-A2")
			other, _ := devOf(t, db, "SN-A1")
			exec(t, db, fmt.Sprintf(`UPDATE disposals SET device_id = %d WHERE id = %d`, other, id))
			return want{kind: "table", table: "disposals", rowID: id, seq: seq, text: "device_id is"}
		}},
		{"disposals/update-device-recorded", func(t *testing.T, db *sql.DB) want {
			// A disposal.record row pointed at another device: found by
			// the sums of verifyrefs.go, then named.
			// (SN-C1, recorded later, has no disposal.)
			id, seq := dispOf(t, db, "SN-B1")
			other, _ := devOf(t, db, "SN-C1")
			exec(t, db, fmt.Sprintf(`UPDATE disposals SET device_id = %d WHERE id = %d`, other, id))
			return want{kind: "table", table: "disposals", rowID: id, seq: seq, text: fmt.Sprintf("device_id %d is not device ", other)}
		}},
		{"disposals/update-device-none", func(t *testing.T, db *sql.DB) want {
			id, seq := dispOf(t, db, "SN-B1")
			exec(t, db, `PRAGMA foreign_keys = OFF`, fmt.Sprintf(`UPDATE disposals SET device_id = 999 WHERE id = %d`, id))
			return want{kind: "table", table: "disposals", rowID: id, seq: seq, text: "device_id 999 is not device "}
		}},
		{"disposals/update-final", func(t *testing.T, db *sql.DB) want {
			id, seq := dispOf(t, db, "SN-A3")
			exec(t, db, fmt.Sprintf(`UPDATE disposals SET is_final = 1 WHERE id = %d`, id))
			return want{kind: "table", table: "disposals", rowID: id, seq: seq, text: "is_final is 1, events say 0"}
		}},
		{"disposals/update-category", func(t *testing.T, db *sql.DB) want {
			id, seq := dispOf(t, db, "SN-A2")
			exec(t, db, fmt.Sprintf(`UPDATE disposals SET category = 'clear' WHERE id = %d`, id))
			return want{kind: "table", table: "disposals", rowID: id, seq: seq, text: "do not hash"}
		}},
		{"disposals/update-category-recorded", func(t *testing.T, db *sql.DB) want {
			id, seq := dispOf(t, db, "SN-B1")
			exec(t, db, fmt.Sprintf(`UPDATE disposals SET category = 'clear' WHERE id = %d`, id))
			return want{kind: "table", table: "disposals", rowID: id, seq: seq, text: "category"}
		}},
		{"disposals/update-amended", func(t *testing.T, db *sql.DB) want {
			id, seq := dispOf(t, db, "SN-B1")
			exec(t, db, fmt.Sprintf(`UPDATE disposals SET weight_g = NULL WHERE id = %d`, id))
			return want{kind: "table", table: "disposals", rowID: id, seq: seq, text: "weight_g is NULL, events say 1750"}
		}},
		{"disposals/delete", func(t *testing.T, db *sql.DB) want {
			id, seq := dispOf(t, db, "SN-A2")
			exec(t, db, fmt.Sprintf(`DELETE FROM disposals WHERE id = %d`, id))
			return want{kind: "table", table: "disposals", seq: seq, text: "no row for row 2 of 3 of event"}
		}},
		{"disposals/insert", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `INSERT INTO disposals(uuid, device_id, method, category, contractor_id, disposed_on, year, fin_year, is_final, seq)
				VALUES ('u', 1, 'shred', 'destroy', 1, '2021-01-01', 2021, 2020, 1, 4)`)
			id := q1(t, db, `SELECT id FROM disposals WHERE uuid = 'u'`)
			return want{kind: "table", table: "disposals", rowID: id, text: "no event created this row"}
		}},
		{"disposals/reorder", func(t *testing.T, db *sql.DB) want {
			a, seqA := dispOf(t, db, "SN-A1")
			b, _ := dispOf(t, db, "SN-A2")
			exec(t, db, fmt.Sprintf(`UPDATE disposals SET id = -1 WHERE id = %d`, a), fmt.Sprintf(`UPDATE disposals SET id = %d WHERE id = %d`, a, b),
				fmt.Sprintf(`UPDATE disposals SET id = %d WHERE id = -1`, b))
			return want{kind: "table", table: "disposals", rowID: a, seq: seqA, text: "device_id is"}
		}},
		// batches
		{"batches/update", func(t *testing.T, db *sql.DB) want {
			id, seq := idOf(t, db, "batches", "ref = 'SR-1'")
			exec(t, db, `UPDATE batches SET gross_weight_g = 1 WHERE ref = 'SR-1'`)
			return want{kind: "table", table: "batches", rowID: id, seq: seq, text: "gross_weight_g is 1, events say 800"}
		}},
		{"batches/reopen", func(t *testing.T, db *sql.DB) want {
			id, seq := idOf(t, db, "batches", "ref = 'SR-1'")
			exec(t, db, `UPDATE batches SET closed_at = '' WHERE ref = 'SR-1'`)
			return want{kind: "table", table: "batches", rowID: id, seq: seq, text: "closed_at"}
		}},
		{"batches/delete", func(t *testing.T, db *sql.DB) want {
			_, seq := idOf(t, db, "batches", "ref = 'SR-2'")
			exec(t, db, `DELETE FROM batches WHERE ref = 'SR-2'`)
			return want{kind: "table", table: "batches", seq: seq, text: "no row for event"}
		}},
		{"batches/insert", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `INSERT INTO batches(uuid, ref, ref_key, seq) VALUES ('u', 'SR-9', 'sr-9', 2)`)
			id, _ := idOf(t, db, "batches", "ref = 'SR-9'")
			return want{kind: "table", table: "batches", rowID: id, text: "no event created this row"}
		}},
		{"batches/reorder", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `UPDATE batches SET id = -1 WHERE id = 1`, `UPDATE batches SET id = 1 WHERE id = 2`, `UPDATE batches SET id = 2 WHERE id = -1`)
			return want{kind: "table", table: "batches", rowID: 2, text: "out of order"}
		}},
		// certificates
		{"certificates/update", func(t *testing.T, db *sql.DB) want {
			id, seq := idOf(t, db, "certificates", "kind = 'batch'")
			exec(t, db, `UPDATE certificates SET content_hash = 'x' WHERE kind = 'batch'`)
			return want{kind: "table", table: "certificates", rowID: id, seq: seq, text: `content_hash is "x"`}
		}},
		{"certificates/unrevoke", func(t *testing.T, db *sql.DB) want {
			id, seq := idOf(t, db, "certificates", "revoked_at != ''")
			exec(t, db, `UPDATE certificates SET revoked_at = '', revoke_reason = '' WHERE revoked_at != ''`)
			return want{kind: "table", table: "certificates", rowID: id, seq: seq, text: "revoked_at"}
		}},
		{"certificates/unsupersede", func(t *testing.T, db *sql.DB) want {
			id, seq := idOf(t, db, "certificates", "superseded_by != ''")
			exec(t, db, `UPDATE certificates SET superseded_by = '' WHERE id = `+fmt.Sprint(id))
			return want{kind: "table", table: "certificates", rowID: id, seq: seq, text: "superseded_by"}
		}},
		{"certificates/delete", func(t *testing.T, db *sql.DB) want {
			_, seq := idOf(t, db, "certificates", "kind = 'batch'")
			exec(t, db, `DELETE FROM certificates WHERE kind = 'batch'`)
			return want{kind: "table", table: "certificates", seq: seq, text: "no row for event"}
		}},
		{"certificates/insert", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `INSERT INTO certificates(uuid, kind, subject, content_hash, pdf_sha256, signer_fingerprint, issued_at, issued_by, seq)
				VALUES ('u', 'device', 'SN-A1', 'h', 'h', 'f', 'now', 'me', 3)`)
			id, _ := idOf(t, db, "certificates", "uuid = 'u'")
			return want{kind: "table", table: "certificates", rowID: id, text: "no event created this row"}
		}},
		{"certificates/reorder", func(t *testing.T, db *sql.DB) want {
			_, seq := idOf(t, db, "certificates", "id = 1")
			exec(t, db, `UPDATE certificates SET id = -1 WHERE id = 1`, `UPDATE certificates SET id = 1 WHERE id = 2`, `UPDATE certificates SET id = 2 WHERE id = -1`)
			return want{kind: "table", table: "certificates", seq: seq, text: "no row for event"}
		}},
		// certificate_devices
		{"certificate_devices/update", func(t *testing.T, db *sql.DB) want {
			_, seq := idOf(t, db, "certificates", "kind = 'batch'")
			a, _ := devOf(t, db, "SN-A3")
			exec(t, db, fmt.Sprintf(`UPDATE certificate_devices SET device_id = %d WHERE certificate_id = (SELECT id FROM certificates WHERE kind = 'batch')
				AND device_id = (SELECT id FROM devices WHERE serial = 'SN-A1')`, a))
			return want{kind: "table", table: "certificate_devices", seq: seq, text: "the certificate's devices are"}
		}},
		{"certificate_devices/delete", func(t *testing.T, db *sql.DB) want {
			_, seq := idOf(t, db, "certificates", "kind = 'batch'")
			exec(t, db, `DELETE FROM certificate_devices WHERE certificate_id = (SELECT id FROM certificates WHERE kind = 'batch')
				AND device_id = (SELECT id FROM devices WHERE serial = 'SN-A1')`)
			return want{kind: "table", table: "certificate_devices", seq: seq, text: "the certificate's devices are"}
		}},
		{"certificate_devices/insert", func(t *testing.T, db *sql.DB) want {
			_, seq := idOf(t, db, "certificates", "kind = 'batch'")
			exec(t, db, `INSERT INTO certificate_devices(certificate_id, device_id) SELECT id, (SELECT id FROM devices WHERE serial = 'SN-B1') FROM certificates WHERE kind = 'batch'`)
			return want{kind: "table", table: "certificate_devices", seq: seq, text: "the certificate's devices are"}
		}},
		// exemptions
		{"exemptions/update", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `UPDATE exemptions SET sections = '24(1)' WHERE field = 'contractor.name'`)
			return want{kind: "table", table: "exemptions", text: `value is "24(1)", events say "24(1), 31(1)"`}
		}},
		{"exemptions/delete", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `DELETE FROM exemptions`)
			return want{kind: "table", table: "exemptions", text: "no row"}
		}},
		{"exemptions/insert", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `INSERT INTO exemptions(field, sections, seq) VALUES ('site', '31(1)', 7)`)
			return want{kind: "table", table: "exemptions", text: "no event set this row"}
		}},
		// checkpoints
		{"checkpoints/update", func(t *testing.T, db *sql.DB) want {
			id, seq := idOf(t, db, "checkpoints", "1")
			exec(t, db, `UPDATE checkpoints SET size = size - 1`)
			return want{kind: "table", table: "checkpoints", rowID: id, seq: seq, text: "size is"}
		}},
		{"checkpoints/delete", func(t *testing.T, db *sql.DB) want {
			_, seq := idOf(t, db, "checkpoints", "1")
			exec(t, db, `DELETE FROM checkpoints`)
			return want{kind: "table", table: "checkpoints", seq: seq, text: "no row for event"}
		}},
		{"checkpoints/insert", func(t *testing.T, db *sql.DB) want {
			exec(t, db, `INSERT INTO checkpoints(size, root_hash, note, created_at, created_by, seq) SELECT size, root_hash, note, created_at, created_by, 3 FROM checkpoints ORDER BY id DESC LIMIT 1`)
			id := q1(t, db, `SELECT max(id) FROM checkpoints`)
			return want{kind: "table", table: "checkpoints", rowID: id, text: "no event created this row"}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, ver := verifyFixture(t)
			w := tc.tamper(t, rawDB(t, s))
			_, err := s.Verify(VerifyOptions{Trusted: trust(ver)})
			checkFirst(t, err, w)
		})
	}
}

// FuzzDecodePayload: whenever the fast decoder accepts a payload,
// encoding/json (unmarshalling into the types that wrote it) accepts it
// too and gives the same fields; the decode functions, which fall back to
// encoding/json, agree with it on everything.
func FuzzDecodePayload(f *testing.F) {
	s := mustOpen(f)
	if _, err := Demo(s, 40, 2021, 2022); err != nil {
		f.Fatal(err)
	}
	evs, _ := s.Events(EventFilter{})
	for _, e := range evs {
		switch e.Action {
		case "device.add", "disposal.record":
			f.Add(uint8(0), []byte(e.Payload))
			f.Add(uint8(1), []byte(e.Payload))
			f.Add(uint8(2), []byte(e.Payload))
		case ImportRowsAction:
			f.Add(uint8(3), []byte(e.Payload))
		}
	}
	// A device.import payload, as itad wrote before import.rows.
	capacity, weight := int64(4000), int64(650)
	legacy, _ := json.Marshal(importPayload{Device{UUID: "u", Serial: "S1", Type: "hdd", CapacityGB: &capacity},
		Disposal{UUID: "v", Serial: "S1", Method: "shred", Category: "destroy", Contractor: "Acme", DisposedOn: "2021-01-05", WeightG: &weight, Final: true}})
	f.Add(uint8(2), legacy)
	for _, seed := range []string{`{"rows":1,"first_device_id":1,"first_disposal_id":1,"device_sha256":"AAAA","disposal_sha256":null}`,
		`{"rows":1,"device_sha256":"AA=="}`, `{"rows":1,"device_sha256":"A\u0041=="}`, `{"rows":1,"device_sha256":"AA\r\n=="}`,
		`{"rows":1e0}`, `{"rows":1,"rows":2}`, `{"Rows":1}`, `{"device_sha256":"!!!!"}`, `{"device_sha256":1}`} {
		f.Add(uint8(3), []byte(seed))
	}
	for _, seed := range []string{`{}`, `null`, ` {"uuid":"a" , "capacity_gb" : null } `, `{"uuid":"a\u00e9"}`, `{"uuid":"é"}`,
		`{"uuid":"a","uuid":"b"}`, `{"UUID":"a"}`, `{"capacity_gb":1e3}`, `{"capacity_gb":-0}`, `{"capacity_gb":01}`,
		`{"device":null,"disposal":{"final":null,"weight_grams":99999999999999999999}}`, "{\"notes\":\"a\xffb\"}", `{"notes":"a"}x`,
		`{"device":{"serial":"x\"y"}}`, `{"final":true,"device":"d"}`, `[]`, `{"model":"<b>&amp;"}`} {
		for k := uint8(0); k < 3; k++ {
			f.Add(k, []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		switch kind % 4 {
		case 0:
			var fast devFields
			var slow Device
			jerr := json.Unmarshal(b, &slow)
			if fastDevice(b, &fast) && (jerr != nil || fast != fromDevice(slow)) {
				t.Fatalf("device %q: fast %+v, encoding/json %+v %v", b, fast, slow, jerr)
			}
			var d devFields
			if err := decodeDevicePayload(b, &d); (err == nil) != (jerr == nil) || err == nil && d != fromDevice(slow) {
				t.Fatalf("device %q: decode %+v %v, encoding/json %+v %v", b, d, err, slow, jerr)
			}
		case 1:
			var fast dispFields
			var slow disposalEvent
			jerr := json.Unmarshal(b, &slow)
			if fastDisposal(b, &fast, true) && (jerr != nil || fast != fromDisposal(slow.Device, slow.Disposal)) {
				t.Fatalf("disposal %q: fast %+v, encoding/json %+v %v", b, fast, slow, jerr)
			}
			var p dispFields
			if err := decodeDisposalPayload(b, &p); (err == nil) != (jerr == nil) || err == nil && p != fromDisposal(slow.Device, slow.Disposal) {
				t.Fatalf("disposal %q: decode %+v %v", b, p, err)
			}
		case 2:
			var fd devFields
			var fp dispFields
			var slow importPayload
			jerr := json.Unmarshal(b, &slow)
			if fastImport(b, &fd, &fp) && (jerr != nil || fd != fromDevice(slow.Device) || fp != fromDisposal("", slow.Disposal)) {
				t.Fatalf("import %q: fast %+v %+v, encoding/json %+v %v", b, fd, fp, slow, jerr)
			}
			if err := decodeImportPayload(b, &fd, &fp); (err == nil) != (jerr == nil) || err == nil && (fd != fromDevice(slow.Device) || fp != fromDisposal("", slow.Disposal)) {
				t.Fatalf("import %q: decode %v", b, err)
			}
		case 3:
			var fast, slow, dec importRowsPayload
			jerr := json.Unmarshal(b, &slow)
			if fastImportRows(b, &fast) && (jerr != nil || !reflect.DeepEqual(fast, slow)) {
				t.Fatalf("import.rows %q: fast %+v, encoding/json %+v %v", b, fast, slow, jerr)
			}
			err := decodeImportRows(b, &dec)
			if jerr == nil {
				jerr = slow.check()
			}
			if (err == nil) != (jerr == nil) || err == nil && !reflect.DeepEqual(dec, slow) {
				t.Fatalf("import.rows %q: decode %+v %v, encoding/json %+v %v", b, dec, err, slow, jerr)
			}
		}
	})
}

// TestEventHashInput pins Verify's event hashing to EventHash.
func TestEventHashInput(t *testing.T) {
	s, _ := verifyFixture(t)
	evs, _ := s.Events(EventFilter{})
	for _, e := range evs {
		fields := [6][]byte{[]byte(e.At.UTC().Format(TimeFormat)), []byte(e.Actor), []byte(e.Action), []byte(e.Subject), []byte(e.Reason), e.Payload}
		if sum := sha256.Sum256(eventHashInput(nil, e.Seq, e.PrevHash, &fields)); !bytes.Equal(sum[:], EventHash(e.PrevHash, e.Seq, e.At, e.Actor, e.Action, e.Subject, e.Reason, e.Payload)) {
			t.Fatalf("event %d: hashes differ", e.Seq)
		}
	}
}

// BenchmarkVerify verifies a ledger built by importing generated CSV
// (ITAD_BENCH_N devices, default 100,000; bench/verify.sh times the
// command on a million). It reports ns/event.
func BenchmarkVerify(b *testing.B) {
	n := 100_000
	if v := os.Getenv("ITAD_BENCH_N"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil {
			b.Fatal(err)
		}
	}
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{Create: true, CacheKiB: 512 * 1024})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Import("bench.csv", bytes.NewReader(DemoCSV(1, n, 2021, 2025)), ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var events int64
	for i := 0; i < b.N; i++ {
		res, err := s.Verify(VerifyOptions{})
		if err != nil {
			b.Fatal(err)
		}
		events = res.Events
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*events), "ns/event")
}
