package certificate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/itad/itad/ledger"
)

// TestEncodeContentJSON_Golden pins content version 3: the canonical JSON
// bytes, and that their SHA-256 is the content hash.
func TestEncodeContentJSON_Golden(t *testing.T) {
	for _, tc := range []struct {
		name string
		data ledger.CertificateData
	}{{"device", sampleDevice()}, {"batch", sampleBatch(2)}} {
		t.Run(tc.name, func(t *testing.T) {
			c := sampleContent(tc.data, testFP)
			c.Version = 3
			var buf bytes.Buffer
			if err := EncodeContent(&buf, c); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "content-"+tc.name+"-v3.json", buf.Bytes())
			sum := sha256.Sum256(buf.Bytes())
			if got := ContentHash(c); got != hex.EncodeToString(sum[:]) {
				t.Errorf("ContentHash = %s, not the SHA-256 of the JSON", got)
			}
			if !json.Valid(buf.Bytes()) || !bytes.HasSuffix(buf.Bytes(), []byte("}\n")) || bytes.Count(buf.Bytes(), []byte("\n")) != 1 {
				t.Errorf("not one line of valid JSON:\n%s", buf.Bytes())
			}
		})
	}
}

// TestEncodeContentJSON_Strings: strings escape as documented, and any
// JSON parser reads back the ledger's text.
func TestEncodeContentJSON_Strings(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\x01\x1f", "Tŷ Gwŷn — Łukasz Żółć Ελλάδα Москва", "<&>\u2028", "\x7f"} {
		var e jsonEncoder
		e.str(s)
		var back string
		if err := json.Unmarshal(e.buf, &back); err != nil || back != s {
			t.Errorf("%q encodes as %s, decodes as %q (%v)", s, e.buf, back, err)
		}
	}
	var e jsonEncoder
	e.str("a\"\\\x01é")
	if got, want := string(e.buf), `"a\"\\\u0001é"`; got != want {
		t.Errorf("str = %s, want %s", got, want)
	}
	e.buf = nil
	e.str("bad \xff")
	if got := string(e.buf); got != `"bad \ufffd"` {
		t.Errorf("invalid UTF-8 encodes as %s", got)
	}
}

// TestEncodeContentJSON_EveryField: decoding the JSON gives back every
// field of the ledger's records that a certificate covers (a field added
// to ledger.CertificateData, Device, Disposal, Batch, Contractor or Weight
// must be added to EncodeContentJSON, or this fails).
func TestEncodeContentJSON_EveryField(t *testing.T) {
	// Every Appendix G field filled, each place with its own values.
	appG := func(tag string) ledger.AppendixG {
		var g ledger.AppendixG
		for _, f := range ledger.AppendixGFields {
			v := tag + " " + f.Name
			switch f.Name {
			case "data_backed_up":
				v = "unknown"
			case "verification_method":
				v = "sampling"
			case "destination":
				v = "manufacturer"
			case "validated_on":
				v = "2021-03-09"
			case "nist_revision":
				v = "2"
			}
			if err := f.Set(&g, v); err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
		}
		return g
	}
	data := sampleBatch(3)
	data.OrgLocation, data.OrgPhone = "Llanelwy", "+44 1745 000000"
	data.Defaults, data.BatchAppG = appG("default"), appG("batch")
	for i := range data.Items {
		data.Items[i].AppG = appG(fmt.Sprint("item ", i))
	}
	data.Evidence = []ledger.CertificateEvidence{{Serial: "S1", Name: "nwipe.log", Kind: ledger.EvidenceNwipeLog,
		SHA256: strings.Repeat("0f", 32), Tool: "nwipe 0.38", Method: "DoD Short", Verification: "verified (all passes)"}}
	c := sampleContent(data, testFP)
	c.Version = 3
	var got struct {
		Format            string                       `json:"format"`
		Version           int                          `json:"version"`
		Number            string                       `json:"number"`
		IssuedAt          string                       `json:"issued_at"`
		IssuedBy          string                       `json:"issued_by"`
		SignerName        string                       `json:"signer_name"`
		SignerFingerprint string                       `json:"signer_fingerprint"`
		Kind              string                       `json:"kind"`
		Subject           string                       `json:"subject"`
		Org               string                       `json:"org"`
		Destination       string                       `json:"media_destination"`
		OrgLocation       string                       `json:"org_location"`
		OrgPhone          string                       `json:"org_phone"`
		Defaults          ledger.AppendixG             `json:"appendix_g_defaults"`
		Batch             *ledger.Batch                `json:"batch"`
		BatchAppG         ledger.AppendixG             `json:"batch_appendix_g"`
		Contractors       []ledger.Contractor          `json:"contractors"`
		Items             []map[string]json.RawMessage `json:"items"`
		Evidence          []ledger.CertificateEvidence `json:"evidence"`
	}
	dec := json.NewDecoder(bytes.NewReader(contentJSON(c)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Format != contentFormat || got.Version != 3 || got.Number != c.Number || got.Org != c.Data.Org || got.Kind != c.Data.Kind {
		t.Errorf("header %+v", got)
	}
	if !reflect.DeepEqual(got.Batch, c.Data.Batch) || !reflect.DeepEqual(got.Contractors, c.Data.Contractors) {
		t.Errorf("batch or contractors differ: %+v %+v", got.Batch, got.Contractors)
	}
	if got.OrgLocation != data.OrgLocation || got.OrgPhone != data.OrgPhone || got.Defaults != data.Defaults || got.BatchAppG != data.BatchAppG {
		t.Errorf("organisation or Appendix G defaults or batch record differ: %+v", got)
	}
	if !reflect.DeepEqual(got.Evidence, data.Evidence) {
		t.Errorf("evidence differs: %+v", got.Evidence)
	}
	for i, it := range got.Items {
		var v ledger.Device
		var p ledger.Disposal
		var w struct {
			Grams  *int64 `json:"grams"`
			Source string `json:"source"`
		}
		var g ledger.AppendixG
		if len(it) != 4 {
			t.Errorf("item %d has members %v", i, it)
		}
		for k, dst := range map[string]any{"device": &v, "disposal": &p, "weight": &w, "appendix_g": &g} {
			d := json.NewDecoder(bytes.NewReader(it[k]))
			d.DisallowUnknownFields()
			if err := d.Decode(dst); err != nil {
				t.Fatalf("item %d %s: %v", i, k, err)
			}
		}
		want := c.Data.Items[i]
		wp := want.Disposal
		wp.Serial, wp.Final = "", false // the device's serial; derived
		if !reflect.DeepEqual(v, want.Device) || !reflect.DeepEqual(p, wp) || !reflect.DeepEqual(w.Grams, want.Weight.Grams) || w.Source != want.Weight.Source {
			t.Errorf("item %d differs:\n%+v\n%+v", i, p, wp)
		}
		if g != want.AppG {
			t.Errorf("item %d Appendix G differs:\n%+v\n%+v", i, g, want.AppG)
		}
	}
	// Every field of the record types is encoded or named here as
	// deliberately left out.
	left := map[string]bool{"Disposal.Serial": true, "Disposal.Final": true, "Disposal.Void": true}
	js := contentJSON(c)
	for _, typ := range []any{ledger.Device{}, ledger.Disposal{}, ledger.Batch{}, ledger.Contractor{}, ledger.CertificateData{},
		ledger.CertificateItem{}, ledger.AppendixG{}, ledger.CertificateEvidence{}} {
		rt := reflect.TypeOf(typ)
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			if left[rt.Name()+"."+f.Name] || name == "" || name == "-" {
				continue
			}
			if f.Name == "GrossWeightG" || f.Name == "WeightG" || f.Name == "CapacityGB" || rt.Name() == "CertificateData" && f.Name == "Destination" {
				continue // encoded under the names checked above
			}
			if !bytes.Contains(js, []byte(`"`+name+`":`)) {
				t.Errorf("%s.%s (%q) is not in the canonical content", rt.Name(), f.Name, name)
			}
		}
	}
}

// TestEmbeddedContent: a certificate of layout 3 embeds its canonical
// content as an associated file, which EmbeddedContent reads back from
// the signed bytes.
func TestEmbeddedContent(t *testing.T) {
	s := testSigner(t)
	for _, data := range []ledger.CertificateData{sampleDevice(), sampleBatch(300)} {
		d := ledger.CertificateDraft{UUID: testUUID(42), IssuedAt: testIssuedAt, IssuedBy: "records.officer", Data: data}
		iss, err := Issue(d, s)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := VerifyPDF(iss.Signed)
		if err != nil {
			t.Fatal(err)
		}
		got, err := EmbeddedContent(sig.Unsigned)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(got)
		if hex.EncodeToString(sum[:]) != iss.ContentHash {
			t.Errorf("embedded content does not hash to the content hash")
		}
		if !bytes.Equal(got, contentJSON(iss.Content)) {
			t.Errorf("embedded content is not EncodeContentJSON")
		}
		for _, want := range []string{"/AFRelationship /Data", "/Subtype /application#2Fjson", "/AF [", "(" + ContentFileName + ")"} {
			if !bytes.Contains(sig.Unsigned, []byte(want)) {
				t.Errorf("PDF lacks %q", want)
			}
		}
	}
	old, err := RenderLayout(sampleContent(sampleDevice(), testFP), 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EmbeddedContent(old); !errors.Is(err, ErrNoEmbeddedContent) {
		t.Errorf("layout 2: %v, want ErrNoEmbeddedContent", err)
	}
}

// TestParseContentJSON: the canonical JSON parses back to its content;
// anything else (other spacing, order, members, escapes) is refused.
func TestParseContentJSON(t *testing.T) {
	data := withAppG(sampleBatch(3), fullAppG)
	data.Items[1].AppG = ledger.AppendixG{MediaSource: "Hendon"}
	data.BatchAppG, data.OrgLocation = ledger.AppendixG{Classification: "OFFICIAL"}, "London"
	c := sampleContent(data, testFP)
	c.Version = 3
	b := contentJSON(c)
	got, err := ParseContentJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if ContentHash(got) != ContentHash(c) {
		t.Error("parsed content hashes differently")
	}
	for name, bad := range map[string][]byte{
		"spaces":               bytes.Replace(b, []byte(`"version":3`), []byte(`"version": 3`), 1),
		"escape":               bytes.Replace(b, []byte(`"kind":"batch"`), []byte(`"kind":"\u0062atch"`), 1),
		"extra member":         bytes.Replace(b, []byte(`{"format"`), []byte(`{"x":1,"format"`), 1),
		"no newline":           bytes.TrimSuffix(b, []byte("\n")),
		"old version":          bytes.Replace(b, []byte(`"version":3`), []byte(`"version":2`), 1),
		"other format":         bytes.Replace(b, []byte(`"itad-certificate"`), []byte(`"itad-checkpoint"`), 1),
		"trailing data":        append(bytes.Clone(b), "{}"...),
		"appendix_g member":    bytes.Replace(b, []byte(`"appendix_g":{`), []byte(`"appendix_g":{"x":"1",`), 1),
		"appendix_g order":     bytes.Replace(b, []byte(`"batch_appendix_g":{"media_classification":"OFFICIAL"}`), []byte(`"batch_appendix_g":{"media_classification":"OFFICIAL","media_source":""}`), 1),
		"appendix_g not given": bytes.Replace(b, []byte(`,"batch_appendix_g":{"media_classification":"OFFICIAL"}`), nil, 1),
	} {
		if _, err := ParseContentJSON(bad); !errors.Is(err, ErrContentEncoding) {
			t.Errorf("%s: %v, want ErrContentEncoding", name, err)
		}
	}
}

func FuzzParseContentJSON(f *testing.F) {
	c := sampleContent(sampleDevice(), testFP)
	c.Version = 3
	f.Add(contentJSON(c))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseContentJSON(b)
		if err == nil && !bytes.Equal(contentJSON(got), b) {
			t.Fatal("accepted non-canonical bytes")
		}
	})
}
