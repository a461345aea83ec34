package ledger

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// appGFixture records Appendix G fields every way itad writes them: with
// a disposal (dispose flags), with a batch (batch add flags), afterwards
// (validate), from CSV import columns, and ledger-wide defaults.
func appGFixture(t *testing.T) *Store {
	t.Helper()
	s := mustOpen(t)
	must(t, s.Init("Heddlu Gogledd Cymru"))
	must(t, s.SetSetting(SettingOrgLocation, "Llanelwy", "setup"))
	must(t, s.SetSetting(SettingOrgPhone, "01492 517171", "setup"))
	must(t, s.SetSetting(SettingClassification, "OFFICIAL", "setup"))
	if _, err := s.AddContractor(Contractor{Name: "Albion ITAD plc"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddBatchOpts(Batch{Ref: "SR-9", RunOn: "2024-05-01", AppG: AppendixG{OperatorTitle: "Shredder operator",
		Destination: "recycling", DestinationDetails: "Albion, Wrexham"}}, RecordOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, serial := range []string{"D1", "B1"} {
		if _, err := s.AddDevice(Device{Serial: serial, Type: "hdd"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.RecordDisposal(Disposal{Serial: "D1", Method: "overwrite", DisposedOn: "2024-05-01", Contractor: "Albion ITAD plc",
		Operator: "Łukasz Nowak", AppG: AppendixG{OperatorTitle: "Technician", OperatorOrg: "Albion ITAD plc",
			DataBackedUp: "n", VerificationMethod: "quick sampling", NISTRevision: "Rev. 2", MethodDetails: "1 pass, zeros"}})
	must(t, err)
	_, err = s.RecordDisposal(Disposal{Serial: "B1", Method: "shred", DisposedOn: "2024-05-01", Contractor: "Albion ITAD plc", Batch: "SR-9"})
	must(t, err)
	must(t, s.SetDisposalAppendixG("D1", AppendixG{ValidatorName: "Siân Jones", ValidatorTitle: "Inspector", ValidatedOn: "2024-05-02"}, "checked"))
	csv := strings.TrimSuffix(header, "\n") + ",media_source,data_backed_up,destination,validated_on\n" +
		"I1,,ssd,Samsung,PM883,960,HQ,shred,,,yes,Albion ITAD plc,2024-05-03,,,,,,Finance,yes,external-reuse,\n" +
		"I2,,ssd,Samsung,PM883,960,HQ,shred,,,yes,Albion ITAD plc,2024-05-03,,,,,,,,,\n"
	if _, err := importString(s, "g.csv", csv); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAppendixG_RecordAndCertify(t *testing.T) {
	s := appGFixture(t)
	d, err := s.CertificateData(CertDevice, "D1")
	must(t, err)
	if d.OrgLocation != "Llanelwy" || d.OrgPhone != "01492 517171" || d.Defaults.Classification != "OFFICIAL" {
		t.Errorf("defaults: %q %q %+v", d.OrgLocation, d.OrgPhone, d.Defaults)
	}
	want := AppendixG{OperatorTitle: "Technician", OperatorOrg: "Albion ITAD plc", DataBackedUp: "no", VerificationMethod: "sampling",
		NISTRevision: "2", MethodDetails: "1 pass, zeros", ValidatorName: "Siân Jones", ValidatorTitle: "Inspector", ValidatedOn: "2024-05-02"}
	if got := d.Items[0].AppG; !reflect.DeepEqual(got, want) {
		t.Errorf("D1 record:\n got %+v\nwant %+v", got, want)
	}
	if g := d.Effective(d.Items[0]); g.Classification != "OFFICIAL" || !g.Validated() {
		t.Errorf("D1 effective: %+v", g)
	}
	// A batch's record applies to its items; the ledger's defaults under it.
	must(t, s.SetBatchAppendixG("SR-9", AppendixG{PostClassification: "UNCLASSIFIED"}, ""))
	_, err = s.CloseBatch("SR-9", nil)
	must(t, err)
	b, err := s.CertificateData(CertBatch, "SR-9")
	must(t, err)
	g := b.Effective(b.Items[0])
	if g.OperatorTitle != "Shredder operator" || g.Destination != "recycling" || g.PostClassification != "UNCLASSIFIED" ||
		g.Classification != "OFFICIAL" || g.Validated() {
		t.Errorf("B1 effective: %+v", g)
	}
	// Import columns.
	i1, err := s.DisposalAppendixG("I1")
	must(t, err)
	if (i1 != AppendixG{MediaSource: "Finance", DataBackedUp: "yes", Destination: "external-reuse"}) {
		t.Errorf("I1: %+v", i1)
	}
	if i2, err := s.DisposalAppendixG("I2"); err != nil || !i2.IsZero() {
		t.Errorf("I2: %+v, %v", i2, err)
	}
	res, err := s.Verify(VerifyOptions{})
	if err != nil {
		t.Fatalf("a ledger with Appendix G records must verify: %v", err)
	}
	if n := res.Rows["appendix_g"]; n != 16 {
		t.Errorf("appendix_g: %d rows checked, want 16", n)
	}
}

func TestAppendixG_Errors(t *testing.T) {
	s := appGFixture(t)
	for name, tc := range map[string]struct {
		err  error
		want string
	}{
		"ErrInvalid/backed up": {s.SetDisposalAppendixG("D1", AppendixG{DataBackedUp: "maybe"}, ""), "yes, no or unknown"},
		"ErrInvalid/destination": {s.SetDisposalAppendixG("D1", AppendixG{Destination: "landfill"}, ""),
			"internal-reuse, external-reuse, recycling, manufacturer or other"},
		"ErrInvalid/date":   {s.SetDisposalAppendixG("D1", AppendixG{ValidatedOn: "2024-02-30"}, ""), "not a valid ISO 8601 date"},
		"ErrInvalid/empty":  {s.SetDisposalAppendixG("D1", AppendixG{}, ""), "nothing to record"},
		"ErrInvalid/future": {s.SetDisposalAppendixG("D1", AppendixG{ValidatedOn: "2099-01-01"}, ""), "2099-01-01"},
		"ErrNotFound":       {s.SetDisposalAppendixG("NOPE", AppendixG{ValidatorName: "x", ValidatedOn: "2024-01-01"}, ""), "NOPE"},
		"ErrNoDisposal": {func() error {
			s.AddDevice(Device{Serial: "N1", Type: "hdd"})
			return s.SetDisposalAppendixG("N1", AppendixG{MediaSource: "x"}, "")
		}(), "no disposal"},
		"ErrNotFound/batch":   {s.SetBatchAppendixG("SR-0", AppendixG{MediaSource: "x"}, ""), "SR-0"},
		"ErrInvalid/revision": {s.SetBatchAppendixG("SR-9", AppendixG{NISTRevision: "3"}, ""), "1 or 2"},
	} {
		t.Run(name, func(t *testing.T) {
			if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
				t.Errorf("err = %v, want one saying %q", tc.err, tc.want)
			}
		})
	}
	bad := strings.TrimSuffix(header, "\n") + ",data_backed_up\n" +
		"X1,,ssd,Samsung,PM883,960,HQ,shred,,,yes,Albion ITAD plc,2024-05-03,,,,,,perhaps\n"
	_, err := importString(s, "bad.csv", bad)
	var ie *ImportError
	if !errors.As(err, &ie) || ie.Errors[0].Field != "data_backed_up" || ie.Errors[0].Line != 2 {
		t.Errorf("import of a bad data_backed_up: %v", err)
	}
}

// TestAppendixG_Tampering edits appendix_g rows and events behind itad's
// back and expects Verify to name them.
func TestAppendixG_Tampering(t *testing.T) {
	for _, tc := range []struct {
		name, sql, text string
	}{
		{"update", `UPDATE appendix_g SET value = '2024-04-01' WHERE field = 'validated_on'`, `value is "2024-04-01", events say "2024-05-02"`},
		{"delete", `DELETE FROM appendix_g WHERE field = 'validator_name'`, "no row, but event"},
		{"insert", `INSERT INTO appendix_g(owner, uuid, field, value, seq) SELECT 'disposal', uuid, 'validated_on', '2024-05-09', 3 FROM disposals WHERE id = (SELECT max(id) FROM disposals)`, "no event set this row"},
		{"seq", `UPDATE appendix_g SET seq = seq + 1 WHERE field = 'operator_title' AND owner = 'disposal'`, "seq is"},
		{"event", `UPDATE events SET payload = CAST(replace(CAST(payload AS TEXT), 'Siân Jones', 'Mallory') AS BLOB) WHERE action = 'appendix_g.set'`, "hash does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := appGFixture(t)
			db := rawDB(t, s)
			if _, err := db.Exec(tc.sql); err != nil {
				t.Fatal(err)
			}
			_, err := s.Verify(VerifyOptions{})
			var ve *VerifyError
			if !errors.As(err, &ve) || !errors.Is(err, ErrTampered) || !strings.Contains(ve.Problems[0].Error(), tc.text) {
				t.Fatalf("Verify = %v, want a problem saying %q", err, tc.text)
			}
			if tc.name != "event" {
				if te, ok := ve.Problems[0].(*TableError); !ok || te.Table != "appendix_g" {
					t.Errorf("first problem %v, want one of table appendix_g", ve.Problems[0])
				}
			}
		})
	}
}

// TestAppendixG_EventChanges pins the replay definition the writer and
// verify share: the fields of an event become rows keyed owner, uuid and
// field; payloads itad never writes are refused.
func TestAppendixG_EventChanges(t *testing.T) {
	e := newAppendixGEvent("disposal", "u1", AppendixG{ValidatorName: "A", ValidatedOn: "2024-01-02"})
	ch, err := e.changes()
	if err != nil {
		t.Fatal(err)
	}
	if want := []appendixGChange{{"disposal", "u1", "validator_name", "A"}, {"disposal", "u1", "validated_on", "2024-01-02"}}; !reflect.DeepEqual(ch, want) {
		t.Errorf("changes = %+v", ch)
	}
	for _, bad := range []appendixGEvent{
		{Owner: "device", UUID: "u", Fields: [][2]string{{"validator_name", "A"}}},
		{Owner: "batch", UUID: "", Fields: [][2]string{{"validator_name", "A"}}},
		{Owner: "batch", UUID: "u", Fields: [][2]string{{"colour", "red"}}},
		{Owner: "batch", UUID: "u", Fields: [][2]string{{"validator-name", "A"}}},
		{Owner: "batch", UUID: "u", Fields: [][2]string{{"validator_name", ""}}},
		{Owner: "batch", UUID: "u"},
	} {
		if _, err := bad.changes(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	// Every field of AppendixG has an entry in AppendixGFields.
	if n := reflect.TypeOf(AppendixG{}).NumField(); n != len(AppendixGFields) {
		t.Errorf("AppendixG has %d fields, AppendixGFields %d", n, len(AppendixGFields))
	}
}

// TestAppendixG_EmptyIsValid: a record with nothing in it validates as
// it is (the fast path every import row without Appendix G columns takes
// agrees with checking each field).
func TestAppendixG_EmptyIsValid(t *testing.T) {
	var g AppendixG
	for _, f := range AppendixGFields {
		if err := f.Set(&g, ""); err != nil {
			t.Fatalf("%s: empty value refused: %v", f.Name, err)
		}
	}
	if g != (AppendixG{}) {
		t.Fatalf("setting every field empty gave %+v", g)
	}
	if err := g.Validate(); err != nil || g != (AppendixG{}) {
		t.Fatalf("Validate of the empty record: %v, %+v", err, g)
	}
}
