package certificate

import (
	"bytes"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/itad/itad/ledger"
)

// fakeRecords is a ledger of one certificate.
type fakeRecords struct {
	cert ledger.Certificate
	data ledger.CertificateData
}

func (f *fakeRecords) CertificateByNumber(n string) (ledger.Certificate, error) {
	if n != f.cert.UUID {
		return ledger.Certificate{}, &ledger.NotFoundError{Kind: "certificate", Key: n}
	}
	return f.cert, nil
}

func (f *fakeRecords) CertificateData(kind, subject string) (ledger.CertificateData, error) {
	return f.data, nil
}

// issueFake issues a certificate of data with s and returns it and a
// ledger that recorded it.
func issueFake(t testing.TB, s *Signer, data ledger.CertificateData) (*Issued, *fakeRecords) {
	t.Helper()
	iss, err := Issue(ledger.CertificateDraft{UUID: testUUID(42), IssuedAt: testIssuedAt, IssuedBy: "records.officer", Data: data}, s)
	if err != nil {
		t.Fatal(err)
	}
	h := iss.Hashes()
	return iss, &fakeRecords{
		cert: ledger.Certificate{UUID: testUUID(42), Kind: data.Kind, Subject: data.Subject, ContentHash: h.ContentHash,
			PDFSHA256: h.PDFSHA256, SignerFingerprint: h.SignerFingerprint, IssuedAt: testIssuedAt.Format(ledger.TimeFormat),
			IssuedBy: "records.officer", Devices: 1},
		data: data,
	}
}

func signCertPDF(t testing.TB, pdf []byte, s *Signer) []byte {
	t.Helper()
	out, err := SignPDF(pdf, s, SignOptions{Time: testIssuedAt})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerify(t *testing.T) {
	s := testSigner(t)
	other, err := GenerateSigner("Someone Else", testNow)
	if err != nil {
		t.Fatal(err)
	}
	chained, root := chainSigner(t, newECKey(t, elliptic.P256()))
	ours := Trust{Certificates: []*x509.Certificate{s.Cert}}
	tests := []struct {
		name string
		// setup returns the document and the trust, and may change the
		// ledger's record.
		setup  func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust)
		signer *Signer
		want   error
	}{
		{"OK", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) { return iss.Signed, ours }, s, nil},
		{"OK/Fingerprint", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			return iss.Signed, Trust{Fingerprints: []string{Fingerprint(s.Cert)}}
		}, s, nil},
		{"OK/ChainToTrustedRoot", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			return iss.Signed, Trust{Certificates: []*x509.Certificate{root}}
		}, chained, nil},
		{"ErrUntrustedSigner", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			return iss.Signed, Trust{Certificates: []*x509.Certificate{other.Cert}}
		}, s, ErrUntrustedSigner},
		{"ErrUntrustedSigner/NoTrust", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			return iss.Signed, Trust{}
		}, s, ErrUntrustedSigner},
		{"ErrUntrustedSigner/ResignedByOther", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			return signCertPDF(t, iss.Unsigned, other), ours
		}, s, ErrUntrustedSigner},
		{"ErrSignerMismatch", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			return signCertPDF(t, iss.Unsigned, other), Trust{Certificates: []*x509.Certificate{s.Cert, other.Cert}}
		}, s, ErrSignerMismatch},
		{"ErrUnknownNumber", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			recs.cert.UUID = testUUID(43)
			return iss.Signed, ours
		}, s, ErrUnknownNumber},
		{"ErrRevoked", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			recs.cert.RevokedAt, recs.cert.RevokeReason = "2021-04-01T00:00:00.000000000Z", "wrong serial"
			return iss.Signed, ours
		}, s, ErrRevoked},
		{"ErrSuperseded", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			recs.cert.SupersededBy = testUUID(44)
			return iss.Signed, ours
		}, s, ErrSuperseded},
		{"ErrDocumentMismatch", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			recs.cert.PDFSHA256 = hex.EncodeToString(make([]byte, 32))
			return iss.Signed, ours
		}, s, ErrDocumentMismatch},
		{"ErrContentChanged", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			recs.data = sampleDevice()
			recs.data.Items[0].Disposal.WeightG = int64p(700)
			return iss.Signed, ours
		}, s, ErrContentChanged},
		{"OK/Layout3NotRerendered", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			// A document of layout 3 that this renderer would not write
			// (as a later gofpdf or compress/zlib would write it): it
			// embeds the recorded content, so it verifies.
			changed := bytes.Replace(iss.Unsigned, []byte(`/Producer (itad \(gofpdf\))`), []byte(`/Producer (itad \(gofpdX\))`), 1)
			if bytes.Equal(changed, iss.Unsigned) {
				t.Fatal("producer not found")
			}
			sum := sha256.Sum256(changed)
			recs.cert.PDFSHA256 = hex.EncodeToString(sum[:])
			return signCertPDF(t, changed, s), ours
		}, s, nil},
		{"ErrEmbeddedContent/Resigned", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			// Other content embedded and signed with the ledger's own key:
			// the embedded content no longer hashes to the recorded hash.
			c := iss.Content
			c.Data = sampleDevice()
			c.Data.Items[0].Device.Serial = "FORGED"
			forged, err := Render(c)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(forged)
			recs.cert.PDFSHA256 = hex.EncodeToString(sum[:]) // even if the ledger's PDF hash were changed too
			return signCertPDF(t, forged, s), ours
		}, s, ErrEmbeddedContent},
		{"ErrSignatureInvalid/EmbeddedChanged", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			// One byte of the embedded file's stream changed, not re-signed.
			i := bytes.Index(iss.Signed, []byte("/Type /EmbeddedFile "))
			j := bytes.Index(iss.Signed[i:], []byte("stream\n"))
			if i < 0 || j < 0 {
				t.Fatal("embedded file not found")
			}
			b := bytes.Clone(iss.Signed)
			b[i+j+len("stream\n")+10] ^= 1
			return b, ours
		}, s, ErrSignatureInvalid},
		{"ErrSignatureInvalid/OneSignedByte", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			b := bytes.Clone(iss.Signed)
			i := bytes.Index(b, []byte("/Keywords"))
			b[i+1] = 'k'
			return b, ours
		}, s, ErrSignatureInvalid},
		{"ErrNoEmbeddedContent", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			changed := bytes.Replace(iss.Unsigned, []byte("/EmbeddedFiles"), []byte("/EmbeddedFilez"), 1)
			sum := sha256.Sum256(changed)
			recs.cert.PDFSHA256 = hex.EncodeToString(sum[:])
			return signCertPDF(t, changed, s), ours
		}, s, ErrNoEmbeddedContent},
		{"ErrNotReproducible", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			// A layout 2 document the ledger recorded but this renderer
			// would not write: same content, one byte of metadata
			// different.
			c2 := iss.Content
			c2.Version = 2
			recs.cert.ContentHash = ContentHash(c2)
			old, err := RenderLayout(c2, 2)
			if err != nil {
				t.Fatal(err)
			}
			changed := bytes.Replace(old, []byte(`/Producer (itad \(gofpdf\))`), []byte(`/Producer (itad \(gofpdX\))`), 1)
			if bytes.Equal(changed, iss.Unsigned) {
				t.Fatal("creator not found")
			}
			sum := sha256.Sum256(changed)
			recs.cert.PDFSHA256 = hex.EncodeToString(sum[:])
			return signCertPDF(t, changed, s), ours
		}, s, ErrNotReproducible},
		{"ErrNotReproducible/UnknownLayout", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			changed := bytes.Replace(iss.Unsigned, []byte(fmt.Sprintf("/Creator (itad certificate layout %d)", RenderVersion)),
				[]byte("/Creator (itad certificate layout 9)"), 1)
			if bytes.Equal(changed, iss.Unsigned) {
				t.Fatal("creator not found")
			}
			sum := sha256.Sum256(changed)
			recs.cert.PDFSHA256 = hex.EncodeToString(sum[:])
			return signCertPDF(t, changed, s), ours
		}, s, ErrNotReproducible},
		{"ErrNotReproducible/ClaimsEarlierLayout", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			// The current layout's bytes naming layout 1 (which Verify
			// re-renders): layout 1 renders other bytes.
			changed := bytes.Replace(iss.Unsigned, []byte(fmt.Sprintf("/Creator (itad certificate layout %d)", RenderVersion)), []byte("/Creator (itad certificate layout 1)"), 1)
			c1 := iss.Content
			c1.Version = 1 // a content hash that layout 1 would check
			recs.cert.ContentHash = ContentHash(c1)
			sum := sha256.Sum256(changed)
			recs.cert.PDFSHA256 = hex.EncodeToString(sum[:])
			return signCertPDF(t, changed, s), ours
		}, s, ErrNotReproducible},
		{"OK/IssuedInLayout2", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			c2 := iss.Content
			c2.Version = 2
			recs.cert.ContentHash = ContentHash(c2)
			old, err := RenderLayout(c2, 2)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(old)
			recs.cert.PDFSHA256 = hex.EncodeToString(sum[:])
			return signCertPDF(t, old, s), ours
		}, s, nil},
		{"OK/IssuedInLayout1", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			// A certificate issued by an itad of layout 1 still verifies.
			c1 := iss.Content
			c1.Version = 1 // its content hash was of content version 1
			recs.cert.ContentHash = ContentHash(c1)
			old, err := RenderLayout(c1, 1)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(old, iss.Unsigned) {
				t.Fatal("layout 1 renders the sample as the current layout does")
			}
			signed, err := SignPDF(old, s, SignOptions{Reason: "Certificate " + iss.Content.Number, Time: iss.Content.IssuedAt})
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(old)
			recs.cert.PDFSHA256 = hex.EncodeToString(sum[:])
			return signed, ours
		}, s, nil},
		{"ErrNotWholeFile", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			return append(bytes.Clone(iss.Signed), "% appended\n"...), ours
		}, s, ErrNotWholeFile},
		{"ErrNoNumber", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			return signCertPDF(t, samplePDF(t, 1, false, false), s), ours
		}, s, ErrNoNumber},
		{"ErrNotSigned", func(t *testing.T, iss *Issued, recs *fakeRecords) ([]byte, Trust) {
			return iss.Unsigned, ours
		}, s, ErrNotSigned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss, recs := issueFake(t, tt.signer, sampleDevice())
			pdf, trust := tt.setup(t, iss, recs)
			number, v, err := Verify(pdf, trust, recs)
			if tt.want == nil {
				if err != nil || v == nil || number != testUUID(42) {
					t.Fatalf("Verify = %q, %v, %v; want success", number, v, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
			if v != nil {
				t.Errorf("Verify returned a result with error %v", err)
			}
		})
	}
}

// TestVerify_Layout1 checks that a certificate issued in layout 1, before
// weights followed ledger.WeightRule, still verifies: it is reproduced in
// the layout its document names, with content version 1.
func TestVerify_Layout1(t *testing.T) {
	s := testSigner(t)
	for _, data := range []ledger.CertificateData{sampleDevice(), sampleBatch(40)} {
		t.Run(data.Kind, func(t *testing.T) {
			c := NewContent(ledger.CertificateDraft{UUID: testUUID(42), IssuedAt: testIssuedAt, IssuedBy: "records.officer", Data: data}, s.Cert)
			c.Version = 1
			unsigned, err := Render(c)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(unsigned, []byte("/Creator (itad certificate layout 1)")) {
				t.Fatal("not layout 1")
			}
			sum := sha256.Sum256(unsigned)
			recs := &fakeRecords{data: data, cert: ledger.Certificate{UUID: testUUID(42), Kind: data.Kind, Subject: data.Subject,
				ContentHash: ContentHash(c), PDFSHA256: hex.EncodeToString(sum[:]), SignerFingerprint: Fingerprint(s.Cert),
				IssuedAt: testIssuedAt.Format(ledger.TimeFormat), IssuedBy: "records.officer"}}
			pdf := signCertPDF(t, unsigned, s)
			if _, _, err := Verify(pdf, Trust{Certificates: []*x509.Certificate{s.Cert}}, recs); err != nil {
				t.Fatalf("layout 1 certificate: %v", err)
			}
			// Its content hash is version 1's: the same data in version 2
			// hashes differently.
			if c2 := c; func() bool { c2.Version = 2; return ContentHash(c2) == recs.cert.ContentHash }() {
				t.Error("content versions 1 and 2 hash alike")
			}
		})
	}
}

// TestVerify_FlipSignedBytes flips bytes all over the signed ranges of a
// certificate: Verify must fail for every one.
func TestVerify_FlipSignedBytes(t *testing.T) {
	s := testSigner(t)
	iss, recs := issueFake(t, s, sampleDevice())
	sig, err := VerifyPDF(iss.Signed)
	if err != nil {
		t.Fatal(err)
	}
	gapStart, gapEnd := contentsGap(t, iss.Signed)
	// Every signed offset is [0, gapStart) and [gapEnd, len): walk them in
	// 400 even steps, plus the first and last few bytes of each range.
	signedLen := gapStart + len(iss.Signed) - gapEnd
	var offsets []int
	for k := 0; k < signedLen; k += signedLen / 400 {
		offsets = append(offsets, k)
	}
	offsets = append(offsets, 0, 1, gapStart-1, gapStart, signedLen-1)
	checked := 0
	for _, k := range offsets {
		i := k
		if k >= gapStart {
			i = k - gapStart + gapEnd
		}
		bad := bytes.Clone(iss.Signed)
		bad[i] ^= 0x01
		if _, _, err := Verify(bad, Trust{Certificates: []*x509.Certificate{s.Cert}}, recs); err == nil {
			t.Fatalf("flipping byte %d (%q) still verifies", i, iss.Signed[i])
		}
		checked++
	}
	if checked < 300 || sig.SignedLen != len(iss.Signed) {
		t.Fatalf("checked %d positions", checked)
	}
	// pdfsig must reject them too: a sample across the file (header, page
	// content, xref, signature dictionary on both sides of /Contents, the
	// final newline).
	t.Run("pdfsig", func(t *testing.T) {
		requireTool(t, "pdfsig")
		for _, i := range []int{10, len(iss.Unsigned) / 3, len(iss.Unsigned) - 30, gapStart - 20, gapEnd + 5, len(iss.Signed) - 1} {
			bad := bytes.Clone(iss.Signed)
			bad[i] ^= 0x01
			if valid, total, out := checkPdfsig(t, bad); valid && total {
				t.Errorf("pdfsig accepts byte %d flipped:\n%s", i, out)
			}
		}
	})
}

// contentsGap returns the byte range [a, b) of the signature's /Contents
// value, the only part of the file outside the signed ranges.
func contentsGap(t testing.TB, pdf []byte) (int, int) {
	t.Helper()
	i := bytes.LastIndex(pdf, []byte("/ByteRange ["))
	if i < 0 {
		t.Fatal("no /ByteRange")
	}
	var a0, a, b, c int
	if _, err := fmt.Sscanf(string(pdf[i+len("/ByteRange ["):]), "%d %d %d %d", &a0, &a, &b, &c); err != nil {
		t.Fatal(err)
	}
	return a, b
}
