package blancco

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itad/itad/ledger"
)

// want is the part of an Erasure a test case pins.
type want struct {
	Line, Index                               int
	DocumentID, Tool                          string
	Serial, Vendor, Model, Type, Interface    string
	CapacityBytes                             int64
	StandardName                              string
	Method                                    ledger.Method
	State                                     string
	Start, End                                string // RFC 3339 with the zone as read
	Zoned                                     bool
	Elapsed                                   time.Duration
	VerificationPercent                       int
	Verification                              string
	OverwritingRounds, FirmwareRounds, Rounds int
	Errors, FailedSectors                     uint64
	FailureMessage                            string
	Failed, Sanitised                         bool
	Err                                       string // substring of Err, "" for none
	ErrIs                                     error
}

func parseFixture(t *testing.T, name string) []Erasure {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "blancco", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	es, err := Parse(name, f)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return es
}

func checkErasures(t *testing.T, got []Erasure, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d erasures, want %d: %+v", len(got), len(wants), got)
	}
	for i, w := range wants {
		e := got[i]
		ts := func(x time.Time) string {
			if x.IsZero() {
				return ""
			}
			return x.Format(time.RFC3339)
		}
		for _, p := range []struct {
			name      string
			got, want any
		}{
			{"Line", e.Line, w.Line}, {"Index", e.Index, w.Index}, {"DocumentID", e.DocumentID, w.DocumentID},
			{"Tool", e.Tool(), w.Tool}, {"Serial", e.Serial, w.Serial}, {"Vendor", e.Vendor, w.Vendor},
			{"Model", e.Model, w.Model}, {"Type", e.Type, w.Type}, {"Interface", e.Interface, w.Interface},
			{"CapacityBytes", e.CapacityBytes, w.CapacityBytes}, {"StandardName", e.StandardName, w.StandardName},
			{"Method", e.Method, w.Method}, {"State", e.State, w.State},
			{"Start", ts(e.Start), w.Start}, {"End", ts(e.End), w.End}, {"Zoned", e.Zoned, w.Zoned},
			{"Elapsed", e.Elapsed, w.Elapsed}, {"VerificationPercent", e.VerificationPercent, w.VerificationPercent},
			{"Verification", e.Verification(), w.Verification},
			{"OverwritingRounds", e.OverwritingRounds, w.OverwritingRounds}, {"FirmwareRounds", e.FirmwareRounds, w.FirmwareRounds},
			{"TotalRounds", e.TotalRounds, w.Rounds}, {"Errors", e.Errors, w.Errors}, {"FailedSectors", e.FailedSectors, w.FailedSectors},
			{"FailureMessage", e.FailureMessage, w.FailureMessage},
			{"Failed", e.Failed(), w.Failed}, {"Sanitised", e.Sanitised(), w.Sanitised},
		} {
			if p.got != p.want {
				t.Errorf("erasure %d %s = %v, want %v", i, p.name, p.got, p.want)
			}
		}
		switch {
		case w.Err == "" && e.Err != nil:
			t.Errorf("erasure %d: unexpected error %v", i, e.Err)
		case w.Err != "" && (e.Err == nil || !strings.Contains(e.Err.Error(), w.Err)):
			t.Errorf("erasure %d: error %v, want one containing %q", i, e.Err, w.Err)
		}
		if w.ErrIs != nil && !errors.Is(e.Err, w.ErrIs) {
			t.Errorf("erasure %d: error %v is not %v", i, e.Err, w.ErrIs)
		}
	}
}

func TestParse_Fixtures(t *testing.T) {
	const doc3 = "3f2b9c1e-7a4d-4e0b-9d51-2c6e8a1f0b47"
	const docMissing = "a61c0f3e-52d8-4b7e-8f09-6b3d21c4e590"
	const docDE = "d4e7a2b0-19c3-4f6e-a8b5-0e2f7c9d1a36"
	for _, tc := range []struct {
		name, file string
		want       []want
	}{
		{"ThreeDrivesOneFailed", "drive-eraser-three-drives.xml", []want{{
			Line: 41, Index: 0, DocumentID: doc3, Tool: "Blancco Drive Eraser 7.16.0",
			Serial: "WD-WCC2E1234567", Vendor: "Western Digital", Model: "WDC WD5000AAKX-00ERMA0", Type: "HDD", Interface: "SATA",
			CapacityBytes: 500107862016, StandardName: "HMG Infosec Standard 5, Higher Standard", Method: ledger.Overwrite,
			State: "Successful", Start: "2025-06-23T09:00:12Z", End: "2025-06-23T11:41:55Z",
			Elapsed: 2*time.Hour + 41*time.Minute + 43*time.Second, VerificationPercent: 100, Verification: "yes",
			OverwritingRounds: 3, Rounds: 3, Sanitised: true,
		}, {
			Line: 65, Index: 1, DocumentID: doc3, Tool: "Blancco Drive Eraser 7.16.0",
			Serial: "S4EVNX0N123456A", Vendor: "Samsung", Model: "Samsung SSD 970 EVO Plus 500GB", Type: "SSD", Interface: "NVMe",
			CapacityBytes: 500107862016, StandardName: "NIST 800-88 Purge", Method: ledger.BlockErase,
			State: "Successful", Start: "2025-06-23T09:00:12Z", End: "2025-06-23T09:14:02Z",
			Elapsed: 13*time.Minute + 50*time.Second, VerificationPercent: 1, Verification: "sample",
			FirmwareRounds: 1, Rounds: 1, Sanitised: true,
		}, {
			Line: 88, Index: 2, DocumentID: doc3, Tool: "Blancco Drive Eraser 7.16.0",
			Serial: "Z9A1B2C3", Vendor: "Seagate", Model: "ST1000DM010-2EP102", Type: "HDD", Interface: "SATA",
			CapacityBytes: 1000204886016, StandardName: "HMG Infosec Standard 5, Higher Standard", Method: ledger.Overwrite,
			State: "Failed", Start: "2025-06-23T09:00:12Z", End: "2025-06-23T10:02:40Z",
			Elapsed: time.Hour + 2*time.Minute + 28*time.Second, VerificationPercent: 100, Verification: "no",
			OverwritingRounds: 1, Rounds: 3, Errors: 3, FailedSectors: 5120,
			FailureMessage: "Write error at sector 512000184", Failed: true,
		}}},
		{"MissingSerialAndUnknownStandard", "missing-serial.xml", []want{{
			Line: 21, DocumentID: docMissing, Tool: "Blancco Drive Eraser 7.9.1",
			Vendor: "JMicron", Model: "Generic", Type: "HDD", Interface: "USB", CapacityBytes: 256060514304,
			StandardName: "NIST 800-88 Clear", Method: ledger.Overwrite, State: "Successful",
			Start: "2024-11-05T13:49:40Z", End: "2024-11-05T14:20:42Z", Elapsed: 31*time.Minute + 2*time.Second,
			VerificationPercent: 100, Verification: "no",
			Err:   "missing-serial.xml:21: erasure 0 of report " + docMissing + ": no readable serial: target serial is empty",
			ErrIs: ErrNoSerial,
		}, {
			Line: 38, Index: 1, DocumentID: docMissing, Tool: "Blancco Drive Eraser 7.9.1",
			Serial: "2049E4A1B2C3", Vendor: "Crucial", Model: "CT500MX500SSD1", Type: "SSD", Interface: "SATA", CapacityBytes: 500107862016,
			StandardName: "Blancco Quantum Erasure", State: "Successful",
			Start: "2024-11-05T13:49:40Z", End: "2024-11-05T13:50:21Z", Elapsed: 41 * time.Second,
			VerificationPercent: -1, Verification: "no",
			Err:   `missing-serial.xml:38: erasure 1 of report ` + docMissing + `: unknown erasure standard "Blancco Quantum Erasure"`,
			ErrIs: ErrUnknownStandard,
		}, {
			Line: 54, Index: 2, DocumentID: docMissing, Tool: "Blancco Drive Eraser 7.9.1",
			Model: "KXG60ZNV512G", Type: "SSD", Interface: "NVMe", CapacityBytes: 512110190592,
			StandardName: "Cryptographic Erase", Method: ledger.CryptoErase, State: "Successful",
			Start: "2024-11-05T13:49:40Z", End: "2024-11-05T13:52:10Z", VerificationPercent: -1, Verification: "no",
			Err: "no readable serial: the target has no serial entry", ErrIs: ErrNoSerial,
		}}},
		{"GermanLocale", "german-locale.xml", []want{{
			Line: 30, DocumentID: docDE, Tool: "Blancco Drive Eraser 7.14.2",
			Serial: "V6KJ2ABC", Vendor: "HGST", Model: "HUS726T4TALS200", Type: "HDD", Interface: "SAS", CapacityBytes: 4000787030016,
			StandardName: "BSI-2011-VS", Method: ledger.Overwrite, State: "Successful",
			Start: "2025-01-15T12:06:59+01:00", End: "2025-01-15T16:05:09+01:00", Zoned: true,
			Elapsed: 3*time.Hour + 58*time.Minute + 10*time.Second, VerificationPercent: 100, Verification: "yes", Sanitised: true,
		}, {
			// A translated state is not "Successful": a failure, never a sanitisation.
			Line: 47, Index: 1, DocumentID: docDE, Tool: "Blancco Drive Eraser 7.14.2",
			Serial: "PHYF8123456A480BGN", Vendor: "Intel", Model: "INTEL SSDSC2KB480G8", Type: "SSD", Interface: "SATA", CapacityBytes: 480103981056,
			StandardName: "Blancco SSD Erasure", Method: ledger.BlockErase, State: "Erfolgreich",
			Start: "2025-01-15T12:06:59+01:00", End: "2025-01-15T12:09:10+01:00", Zoned: true,
			Elapsed: 2*time.Minute + 11*time.Second, VerificationPercent: -1, Verification: "no", Failed: true,
		}}},
		{"ManagementConsoleExport", "management-console-export.xml", []want{{
			Line: 3, DocumentID: "0c9e4b7a-3d21-4f58-b6a0-91e2d7c3f4a8", Tool: "Blancco Drive Eraser 7.16.0",
			Serial: "X3UABC12", Vendor: "Toshiba", Model: "TOSHIBA DT01ACA050", Type: "HDD", CapacityBytes: 500107862016,
			StandardName: "DoD 5220.22-M", Method: ledger.Overwrite, State: "Successful",
			Start: "2025-06-24T08:00:00Z", End: "2025-06-24T08:29:58Z", VerificationPercent: -1, Sanitised: true,
		}, {
			Line: 4, Index: 1, DocumentID: "5b8d2e61-a0f4-4c39-8e7b-d3c1f9a26e05", Tool: "Blancco Drive Eraser 7.16.0",
			Serial: "X3UABC13", Vendor: "Toshiba", Model: "TOSHIBA DT01ACA050", Type: "HDD", CapacityBytes: 500107862016,
			StandardName: "Peter Gutmann's Algorithm", Method: ledger.Overwrite, State: "Aborted",
			Start: "2025-06-24T08:40:00Z", End: "2025-06-24T08:41:00Z", VerificationPercent: -1, Verification: "no", Failed: true,
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErasures(t, parseFixture(t, tc.file), tc.want)
		})
	}
}
