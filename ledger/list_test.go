package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// listFixture: S1 hdd at HQ shredded in 2023 by Acme in batch RUN-1 and
// certified; S2 laptop at DC wiped in 2024 by Beta; S3 hdd at HQ never
// disposed of; S4 ssd at DC with one disposal, voided; S5 hdd at hq
// shredded in 2024 by Acme, its certificate revoked.
func listFixture(t *testing.T) *Store {
	t.Helper()
	s := mustOpen(t)
	if err := s.Init("Test Org"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"Acme", "Beta"} {
		if _, err := s.AddContractor(Contractor{Name: c}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddBatch(Batch{Ref: "RUN-1", Contractor: "Acme"}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []Device{{Serial: "S1", Type: "hdd", Site: "HQ"}, {Serial: "S2", Type: "laptop", Site: "DC"},
		{Serial: "S3", Type: "hdd", Site: "HQ"}, {Serial: "S4", Type: "ssd", Site: "DC"}, {Serial: "S5", Type: "hdd", Site: "hq"}} {
		if _, err := s.AddDevice(d); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []Disposal{
		{Serial: "S1", Method: Shred, DisposedOn: "2023-03-01", Contractor: "Acme", Batch: "RUN-1"},
		{Serial: "S2", Method: Overwrite, DisposedOn: "2024-05-01", Contractor: "Beta"},
		{Serial: "S4", Method: Shred, DisposedOn: "2024-06-01", Contractor: "Acme"},
		{Serial: "S5", Method: Shred, DisposedOn: "2024-07-01", Contractor: "Acme"},
	} {
		got, err := s.RecordDisposal(p)
		if err != nil {
			t.Fatal(err)
		}
		if p.Serial == "S4" {
			if _, err := s.VoidDisposal(got.UUID, "recorded against the wrong drive"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.IssueCertificate(CertDevice, "S1", testSigner, fakeHashes); err != nil {
		t.Fatal(err)
	}
	c5, err := s.IssueCertificate(CertDevice, "S5", testSigner, fakeHashes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeCertificate(c5.UUID, "issued in error", testSigner); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLedger_ListDevices(t *testing.T) {
	s := listFixture(t)
	for _, tc := range []struct {
		name string
		q    ListQuery
		want string // serials in order
	}{
		{"All", ListQuery{}, "S1 S2 S3 S4 S5"},
		{"Type", ListQuery{Type: "HDD"}, "S1 S3 S5"},
		{"Method", ListQuery{Method: "shred"}, "S1 S5"},
		{"Year", ListQuery{Years: []int{2024}}, "S2 S5"},
		{"Years", ListQuery{Years: []int{2023, 2024}}, "S1 S2 S5"},
		{"Contractor", ListQuery{Contractor: " acme "}, "S1 S5"},
		{"Site", ListQuery{Site: "hq"}, "S1 S3 S5"},
		{"Batch", ListQuery{Batch: "run-1"}, "S1"},
		{"Since", ListQuery{Since: "2024-05-01"}, "S2 S5"},
		{"Uncertified", ListQuery{Uncertified: true}, "S2 S5"}, // S5's certificate revoked; S3, S4 not disposed of
		{"Combined", ListQuery{Type: "hdd", Uncertified: true, Years: []int{2024}}, "S5"},
		{"None", ListQuery{Years: []int{2020}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			if err := s.ListDevices(tc.q, func(r *DeviceListRow) error { got = append(got, r.Serial); return nil }); err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got %q, want %q", strings.Join(got, " "), tc.want)
			}
		})
	}
	t.Run("Errors", func(t *testing.T) {
		for _, q := range []ListQuery{{Type: "floppy"}, {Method: "bury"}, {Since: "01/02/2024"}, {Years: []int{24}}} {
			if err := s.ListDevices(q, func(*DeviceListRow) error { return nil }); !errors.Is(err, ErrInvalid) {
				t.Errorf("%+v: %v, want ErrInvalid", q, err)
			}
		}
		var nf *NotFoundError
		for _, q := range []ListQuery{{Contractor: "Nobody"}, {Batch: "RUN-9"}} {
			if err := s.ListDevices(q, func(*DeviceListRow) error { return nil }); !errors.As(err, &nf) {
				t.Errorf("%+v: %v, want NotFoundError", q, err)
			}
		}
	})
}

func TestLedger_ListDisposals(t *testing.T) {
	s := listFixture(t)
	for _, tc := range []struct {
		name string
		q    ListQuery
		want string
	}{
		{"All", ListQuery{}, "S1 S2 S5"},
		{"IncludeVoid", ListQuery{IncludeVoid: true}, "S1 S2 S4 S5"},
		{"TypeVoid", ListQuery{Type: "ssd", IncludeVoid: true}, "S4"},
		{"Method", ListQuery{Method: "overwrite"}, "S2"},
		{"Uncertified", ListQuery{Uncertified: true}, "S2 S5"},
		{"Contractor", ListQuery{Contractor: "ACME", IncludeVoid: true}, "S1 S4 S5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			if err := s.ListDisposals(tc.q, func(r *DisposalListRow) error { got = append(got, r.Serial); return nil }); err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got %q, want %q", strings.Join(got, " "), tc.want)
			}
		})
	}
}

func TestLedger_WriteLists(t *testing.T) {
	s := listFixture(t)
	if _, err := s.AddDevice(Device{Serial: "S6", Type: "usb", Make: "=HYPERLINK(\"http://x\")", Model: "X 1"}); err != nil {
		t.Fatal(err)
	}
	q := ListQuery{Type: "usb"}
	var b bytes.Buffer
	t.Run("Text", func(t *testing.T) {
		b.Reset()
		n, err := s.WriteDeviceList(&b, q, "text")
		if err != nil || n != 1 {
			t.Fatalf("%d rows, %v", n, err)
		}
		want := "SERIAL  TYPE             MAKE                    MODEL  SITE  METHOD  DATE  CONTRACTOR  BATCH  CERTIFIED\n" +
			"S6      USB flash drive  =HYPERLINK(\"http://x\")  X 1    -     -       -     -           -      -\n"
		if b.String() != want {
			t.Errorf("got\n%s\nwant\n%s", b.String(), want)
		}
		b.Reset()
		if _, err := s.WriteDisposalList(&b, ListQuery{Years: []int{1999}}, "text"); err != nil || b.String() != "No disposals match.\n" {
			t.Errorf("empty list: %q, %v", b.String(), err)
		}
	})
	t.Run("CSV", func(t *testing.T) {
		b.Reset()
		if _, err := s.WriteDeviceList(&b, q, "csv"); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(b.String(), "\r\n")
		if lines[0] != strings.Join(DeviceListColumns, ",") || !strings.HasPrefix(lines[1], `S6,,usb,"'=HYPERLINK(""http://x"")",X 1,`) {
			t.Errorf("csv:\n%s", b.String())
		}
	})
	t.Run("JSON", func(t *testing.T) {
		b.Reset()
		if _, err := s.WriteDisposalList(&b, ListQuery{IncludeVoid: true}, "json"); err != nil {
			t.Fatal(err)
		}
		var rows []DisposalListRow
		if err := json.Unmarshal(b.Bytes(), &rows); err != nil {
			t.Fatalf("%v:\n%s", err, b.String())
		}
		var got []string
		for _, r := range rows {
			got = append(got, r.Serial+":"+yesNo(r.Final)+yesNo(r.Void)+yesNo(r.Certified))
		}
		want := []string{"S1:yesnoyes", "S2:yesnono", "S4:noyesno", "S5:yesnono"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		b.Reset()
		if _, err := s.WriteDeviceList(&b, ListQuery{Years: []int{1999}}, "json"); err != nil || b.String() != "[]\n" {
			t.Errorf("empty json: %q, %v", b.String(), err)
		}
	})
	if _, err := s.WriteDeviceList(&b, q, "xml"); !errors.Is(err, ErrInvalid) {
		t.Errorf("xml: %v", err)
	}
}

func TestListQuery_Subject(t *testing.T) {
	if got := (ListQuery{}).Subject(); got != "all" {
		t.Errorf("got %q", got)
	}
	q := ListQuery{Type: "hdd", Years: []int{2023, 2024}, Uncertified: true}
	if got := q.Subject(); got != "type=hdd years=2023,2024 uncertified" {
		t.Errorf("got %q", got)
	}
}
