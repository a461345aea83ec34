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
