package nwipe

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itad/itad/ledger"
)

// The JSON fixtures (testdata/nwipe/nwipe_report_*.json) were written by
// json-fixtures.c with nwipe PR #729's own cJSON; see the README there.
const (
	jsonOK       = "nwipe_report_2025-03-14-12-40-10_Model_WDC_WD5000AAKX_00ERMA0_Serial_WD_WCC2E1234567_device_sdb.json"
	jsonFailed   = "nwipe_report_2025-04-02-18-22-01_Model_ST1000DM010_2EP102_Serial_Z9A1B2C3_device_sdc.json"
	jsonNoSerial = "nwipe_report_2025-05-20-09-02-40_Model_JMicron_Generic_Serial_unknown_serial_device_sda.json"
	jsonAborted  = "nwipe_report_2025-05-20-09-20-01_Model_Samsung_SSD_970_EVO_Plus_500GB_Serial_S4EVNX0N123456A_device_nvme0n1.json"
	jsonLoop     = "nwipe_report_2026-12-01-22-48-42_Model_Loopback_device_Serial_______device_loop1.json"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "nwipe", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseJSON_Fixtures(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       want
		zone       string // the zone offset Start is shown in
	}{
		{"OK", jsonOK, want{
			Path: "/dev/sdb", Serial: "WD-WCC2E1234567", Model: "WDC WD5000AAKX-00ERMA0", Size: "500 GB", Bus: "ATA",
			SizeBytes: 500107862016, Tool: "nwipe 0.40", MethodName: "DoD Short", Method: ledger.Overwrite,
			Verify: VerifyLast, Rounds: 1, Start: "2025-03-14 09:15:03", End: "2025-03-14 12:40:10",
			Duration: 3*time.Hour + 25*time.Minute + 7*time.Second, Status: StatusErased, Sanitised: true, Verified: true, Line: 1,
		}, "+0000"},
		{"Failed", jsonFailed, want{
			Path: "/dev/sdc", Serial: "Z9A1B2C3", Model: "ST1000DM010-2EP102", Size: "1 TB", Bus: "ATA",
			SizeBytes: 1000204886016, Tool: "nwipe 0.40", MethodName: "PRNG Stream", Method: ledger.Overwrite,
			Verify: VerifyLast, Rounds: 1, Start: "2025-04-02 12:00:11", End: "2025-04-02 16:22:01",
			Duration: 4*time.Hour + 21*time.Minute + 50*time.Second, PassErrors: 1, VerifyErrors: 12, Status: StatusFailed, Line: 1,
		}, "+0200"},
		{"NoSerial", jsonNoSerial, want{
			Path: "/dev/sda", Model: "JMicron Generic", Size: "256 GB", Bus: "USB", SizeBytes: 256060514304,
			Tool: "nwipe 0.40", MethodName: "Fill With Zeros", Method: ledger.Overwrite, Verify: VerifyOff, Rounds: 1,
			Start: "2025-05-20 12:30:01", End: "2025-05-20 13:02:40", Duration: 32*time.Minute + 39*time.Second,
			Status: StatusErased, Line: 1,
			Err: jsonNoSerial + ":1: /dev/sda: $: no readable serial: device.serial_number is empty",
		}, "-0400"},
		{"AbortedNVMe", jsonAborted, want{
			Path: "/dev/nvme0n1", Serial: "S4EVNX0N123456A", Model: "Samsung SSD 970 EVO Plus 500GB", Size: "500 GB", Bus: "NVME-SSD",
			SizeBytes: 500107862016, Tool: "nwipe 0.40", MethodName: "Gutmann Wipe", Method: ledger.Overwrite,
			Verify: VerifyAll, Rounds: 1, Start: "2025-05-20 09:10:01", End: "2025-05-20 09:20:01", Duration: 10 * time.Minute,
			Status: StatusAborted, Line: 1,
		}, "+0000"},
		{"InvalidSerialBytes", jsonLoop, want{
			Path: "/dev/loop1", Model: "Loopback device", Size: "8 MB", Bus: "VIRT", SizeBytes: 8388608,
			Tool: "nwipe 0.40", MethodName: "DoD Short", Method: ledger.Overwrite, Verify: VerifyAll, Rounds: 1,
			Start: "2026-12-01 22:48:40", End: "2026-12-01 22:48:42", Duration: 2 * time.Second, Status: StatusErased, Line: 1,
			Err: "/dev/loop1: $: no readable serial: device.serial_number holds ",
		}, "+0000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := ParseJSON(tc.file, strings.NewReader(string(readFixture(t, tc.file))))
			if err != nil {
				t.Fatal(err)
			}
			check(t, time.UTC, ds, []want{tc.want})
			if got := ds[0].Start.Format("-0700"); got != tc.zone {
				t.Errorf("Start zone = %s, want %s as written", got, tc.zone)
			}
			if tc.want.Err != "" && !errors.Is(ds[0].Err, ErrNoSerial) {
				t.Errorf("error %v does not wrap ErrNoSerial", ds[0].Err)
			}
		})
	}
}

// report is a minimal org.nwipe.report.v1 object with one field replaced.
func report(serial, status, statusText, method, extra string) string {
	return `{"report_schema": "org.nwipe.report.v1", "report_metadata": {"software": "nwipe", "version": "0.40"},
 "device": {"name": "/dev/sdb", "model": "M", "serial_number": ` + serial + `, "size_bytes": 1000, "type": " ATA    "},
 "wipe": {"successful": ` + map[bool]string{true: "true", false: "false"}[status == "success"] + `, "status": "` + status + `",
  "status_text": "` + statusText + `", "method": "` + method + `", "verify": "last", "rounds_requested": 1,
  "start_time": 1741943703, "end_time": 1741956010` + extra + `,
  "errors": {"pass": 0, "verify": 0, "round": 0, "fsyncdata": 0}}}`
}

func TestParseJSON_Cases(t *testing.T) {
	ok := report(`"S1"`, "success", "ERASED", "Fill With Zeros", "")
	for _, tc := range []struct {
		name, in  string
		n         int      // devices returned
		errs      []string // per device: substring of its error, "" for none
		status    []Status
		sanitised []bool
	}{
		{"OK", ok, 1, []string{""}, []Status{StatusErased}, []bool{true}},
		{"Array", "[" + ok + ",\n" + report(`"  "`, "success", "ERASED", "Fill With Zeros", "") + "]", 2,
			[]string{"", "f.json:7: /dev/sdb: $[1]: no readable serial: device.serial_number is empty"},
			[]Status{StatusErased, StatusErased}, []bool{true, false}},
		{"Concatenated", ok + "\n" + report(`"S2"`, "failure", "FAILED", "DoD Short", ""), 2,
			[]string{"", ""}, []Status{StatusErased, StatusFailed}, []bool{true, false}},
		{"NoSerialKey", strings.Replace(ok, `"serial_number": "S1", `, "", 1), 1,
			[]string{"$: no readable serial: the report has no device.serial_number"}, []Status{StatusErased}, []bool{false}},
		{"VerifyOnly", report(`"S1"`, "success", "ERASED", "Verify Zeros (0x00)", ""), 1, []string{""}, []Status{StatusErased}, []bool{false}},
		{"UnknownMethod", report(`"S1"`, "success", "ERASED", "Magic Wand", ""), 1,
			[]string{`$: unknown nwipe method "Magic Wand"`}, []Status{StatusErased}, []bool{false}},
		{"SuccessButFailedText", report(`"S1"`, "success", "FAILED", "Fill With Zeros", ""), 1, []string{""}, []Status{StatusUnknown}, []bool{false}},
		{"SuccessfulFalse", strings.Replace(ok, `"successful": true`, `"successful": false`, 1), 1, []string{""}, []Status{StatusUnknown}, []bool{false}},
		{"Insanity", report(`"S1"`, "failure", "INSANITY", "Fill With Zeros", ""), 1, []string{""}, []Status{StatusInsanity}, []bool{false}},
		{"UnknownStatus", report(`"S1"`, "pending", "ERASED", "Fill With Zeros", ""), 1, []string{""}, []Status{StatusUnknown}, []bool{false}},
		{"SyncErrors", strings.Replace(ok, `"fsyncdata": 0`, `"fsyncdata": 3`, 1), 1, []string{""}, []Status{StatusErased}, []bool{false}},
		{"NegativeCount", strings.Replace(ok, `"pass": 0`, `"pass": -1`, 1), 1,
			[]string{`$.wipe.errors.pass is "-1", not a count`}, []Status{StatusErased}, []bool{false}},
		{"FractionalCount", strings.Replace(ok, `"verify": 0,`, `"verify": 0.5,`, 1), 1,
			[]string{`$.wipe.errors.verify is "0.5", not a count`}, []Status{StatusErased}, []bool{false}},
		{"TimeTextContradicts", report(`"S1"`, "success", "ERASED", "Fill With Zeros", `, "start_time_text": "2025-03-14T10:15:03+0000"`), 1,
			[]string{"$.wipe.start_time: 1741943703 and \"2025-03-14T10:15:03+0000\" are different times"}, []Status{StatusErased}, []bool{false}},
		{"OtherSchemaInArray", "[" + ok + `, {"report_schema": "org.nwipe.report.v2"}]`, 2,
			[]string{"", `$[1]: report_schema is "org.nwipe.report.v2", not "org.nwipe.report.v1"`},
			[]Status{StatusErased, StatusUnknown}, []bool{true, false}},
		{"NotAnObjectInArray", "[" + ok + `, 5]`, 2, []string{"", "$[1]: not an nwipe report"},
			[]Status{StatusErased, StatusUnknown}, []bool{true, false}},
		{"NoDeviceName", strings.Replace(ok, `"name": "/dev/sdb", `, "", 1), 1,
			[]string{"$: device.name is empty"}, []Status{StatusErased}, []bool{false}},
		{"BOM", "\xef\xbb\xbf" + ok, 1, []string{""}, []Status{StatusErased}, []bool{true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := ParseJSON("f.json", strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != tc.n {
				t.Fatalf("got %d devices, want %d", len(ds), tc.n)
			}
			for i, d := range ds {
				switch {
				case tc.errs[i] == "" && d.Err != nil:
					t.Errorf("device %d: unexpected error %v", i, d.Err)
				case tc.errs[i] != "" && (d.Err == nil || !strings.Contains(d.Err.Error(), tc.errs[i])):
					t.Errorf("device %d: error %v, want one containing %q", i, d.Err, tc.errs[i])
				}
				if d.Status != tc.status[i] {
					t.Errorf("device %d: status %s, want %s", i, d.Status, tc.status[i])
				}
				if d.Sanitised() != tc.sanitised[i] {
					t.Errorf("device %d: Sanitised() = %v, want %v", i, d.Sanitised(), tc.sanitised[i])
				}
			}
		})
	}
}

func TestParseJSON_NotReport(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"Empty", ""},
		{"Log", "[2025/06/01 10:00:00]  notice: Found /dev/sdb, ATA, M, 1 GB, S/N=X\n"},
		{"Broken", `{"report_schema": "org.nwipe.report.v1"`},
		{"OtherJSON", `{"name": "x"}`},
		{"Number", `42`},
		{"EmptyArray", `[]`},
		{"TrailingJunk", `[{"report_schema": "org.nwipe.report.v1"}] x`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJSON("f.json", strings.NewReader(tc.in))
			if !errors.Is(err, ErrNotNwipeJSON) {
				t.Fatalf("err = %v, want ErrNotNwipeJSON", err)
			}
			if !strings.HasPrefix(err.Error(), "parse f.json: ") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
	t.Run("TooBig", func(t *testing.T) {
		big := `{"report_schema": "org.nwipe.report.v1", "pad": "` + strings.Repeat("x", MaxJSONSize) + `"}`
		_, err := ParseJSON("f.json", strings.NewReader(big))
		if !errors.Is(err, ErrNotNwipeJSON) || !strings.Contains(err.Error(), "over") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestDetect(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "nwipe", "*"))
	for _, p := range files {
		var want Format
		switch filepath.Ext(p) {
		case ".txt":
			want = FormatLog
		case ".json":
			want = FormatJSON
		default:
			continue
		}
		t.Run(filepath.Base(p), func(t *testing.T) {
			b := readFixture(t, filepath.Base(p))
			if got := Detect(b); got != want {
				t.Errorf("Detect = %q, want %q", got, want)
			}
			if len(b) > 200 {
				if got := Detect(b[:200]); got != want {
					t.Errorf("Detect(first 200 bytes) = %q, want %q", got, want)
				}
			}
		})
	}
	for _, tc := range []struct {
		name, in string
		want     Format
	}{
		{"Empty", "", FormatUnknown},
		{"CSV", "serial,model\nX1,M\n", FormatUnknown},
		{"OtherJSON", `{"report_schema": "org.other"}`, FormatUnknown},
		{"SchemaAsValueOnly", `{"note": "org.nwipe.report.v1"}`, FormatUnknown},
		{"JSONArray", "[\n\t{\n\t\t\"report_schema\":\t\"org.nwipe.report.v1\"", FormatJSON},
		{"BOMJSON", "\xef\xbb\xbf{\"report_schema\": \"org.nwipe.report.v1\"}", FormatJSON},
		{"XML", `<?xml version="1.0"?><root><report><blancco_data/></report></root>`, FormatUnknown},
		{"StampWithoutLevel", "[2025/06/01 10:00:00] hello\n", FormatUnknown},
		{"BadDate", "[2025/13/01 10:00:00]  notice: Found\n", FormatUnknown},
		{"TableOnly", "\n********************************* Drive Status *********************************\n", FormatLog},
		{"TotalThroughput", "[2025/06/01 10:30:02] Total Throughput  100MB/s, DoD Short, 1R+B+VL\n", FormatLog},
		{"CRLF", "[2025/06/01 10:00:00]  notice: Found /dev/sdb\r\n", FormatLog},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Detect([]byte(tc.in)); got != tc.want {
				t.Errorf("Detect = %q, want %q", got, tc.want)
			}
		})
	}
}
