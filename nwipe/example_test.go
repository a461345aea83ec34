package nwipe_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/itad/itad/nwipe"
)

func ExampleParse() {
	log := `[2025/03/14 09:15:02]  notice: Found /dev/sdb, ATA, WDC WD5000AAKX, 500 GB, S/N=WD-WCC2E1234567
[2025/03/14 09:15:03]  notice:   banner       = nwipe 0.38
[2025/03/14 09:15:03]  notice:   method       = DoD Short
[2025/03/14 09:15:03]  notice:   rounds       = 1
[2025/03/14 09:15:03]  notice:   verify       = 1 (last pass)
[2025/03/14 09:15:03]  notice: Invoking method 'DoD Short' on /dev/sdb
[2025/03/14 12:40:10]  notice: [SUCCESS] Blanked device /dev/sdb

********************************* Drive Status *********************************
!   Device | Status | Thru-put | HH:MM:SS | Model/Serial Number
--------------------------------------------------------------------------------
       sdb | Erased |  123MB/s | 03:25:07 | WDC WD5000AAKX/WD-WCC2E1234567
--------------------------------------------------------------------------------
[2025/03/14 12:40:11] Total Throughput  123MB/s, DoD Short, 1R+B+VL
`
	ds, err := nwipe.Parse("nwipe_log_20250314-091502.txt", strings.NewReader(log), time.UTC)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range ds {
		fmt.Println(d.Path, d.Serial, d.Tool, d.MethodName, d.Method, d.Verify, d.Status, d.Sanitised(), d.Verified(), d.End.Sub(d.Start))
	}
	// Output:
	// /dev/sdb WD-WCC2E1234567 nwipe 0.38 DoD Short overwrite last erased true true 3h25m7s
}

func ExampleParseJSON() {
	// One report as nwipe's create_json() writes it (abridged).
	report := `{
	"report_schema":	"org.nwipe.report.v1",
	"report_type":	"disk_erase_report",
	"report_metadata":	{"software":	"nwipe", "version":	"0.40"},
	"device":	{"name":	"/dev/sdb", "model":	"WDC WD5000AAKX", "serial_number":	"WD-WCC2E1234567",
		"size_text":	"500 GB", "size_bytes":	500107862016, "type":	" ATA    "},
	"wipe":	{"errors":	{"pass":	0, "verify":	0, "round":	0, "fsyncdata":	0},
		"successful":	true, "status":	"success", "status_text":	"ERASED",
		"method":	"DoD Short", "verify":	"last", "rounds_requested":	1,
		"start_time":	1741943703, "start_time_text":	"2025-03-14T09:15:03+0000",
		"end_time":	1741956010, "end_time_text":	"2025-03-14T12:40:10+0000", "duration_seconds":	12307}
}`
	ds, err := nwipe.ParseJSON("report.json", strings.NewReader(report))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range ds {
		fmt.Println(d.Path, d.Serial, d.Tool, d.MethodName, d.Method, d.Verify, d.Status, d.Sanitised(), d.Verified(), d.Start.Format(time.RFC3339))
	}
	// Output:
	// /dev/sdb WD-WCC2E1234567 nwipe 0.40 DoD Short overwrite last erased true true 2025-03-14T09:15:03Z
}

func ExampleDetect() {
	for _, head := range []string{
		"[2025/03/14 09:15:02]  notice: Found /dev/sdb, ATA, WDC WD5000AAKX, 500 GB, S/N=WD-WCC2E1234567\n",
		"{\n\t\"report_schema\":\t\"org.nwipe.report.v1\",\n",
		"serial,model\n",
	} {
		fmt.Printf("%q\n", nwipe.Detect([]byte(head)))
	}
	// Output:
	// "nwipe-log"
	// "nwipe-json"
	// ""
}
