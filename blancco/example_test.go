package blancco_test

import (
	"fmt"
	"strings"

	"github.com/itad/itad/blancco"
)

func ExampleParse() {
	report := `<?xml version="1.0" encoding="UTF-8"?>
<root><report><blancco_data>
  <description>
    <document_id>3f2b9c1e-7a4d-4e0b-9d51-2c6e8a1f0b47</document_id>
    <document_log><log_entry><author>
      <product_name>Blancco Drive Eraser</product_name><product_version>7.16.0</product_version>
    </author></log_entry></document_log>
  </description>
  <blancco_erasure_report><entries name="erasures">
    <entries name="erasure">
      <entry name="state" type="string">Successful</entry>
      <entry name="erasure_standard_name" type="string">NIST 800-88 Purge</entry>
      <entry name="start_time" type="string">2025-06-23T09:00:12+0100</entry>
      <entry name="end_time" type="string">2025-06-23T09:14:02+0100</entry>
      <entry name="verification" type="string">1%</entry>
      <entries name="target">
        <entry name="serial" type="string">S4EVNX0N123456A</entry>
        <entry name="model" type="string">Samsung SSD 970 EVO Plus 500GB</entry>
        <entry name="capacity" type="uint">500107862016</entry>
        <entry name="interface_type" type="string">NVMe</entry>
      </entries>
    </entries>
    <entries name="erasure">
      <entry name="state" type="string">Failed</entry>
      <entry name="erasure_standard_name" type="string">NIST 800-88 Clear</entry>
      <entries name="target"><entry name="serial" type="string">Z9A1B2C3</entry></entries>
    </entries>
  </entries></blancco_erasure_report>
</blancco_data></report></root>`
	es, err := blancco.Parse("report.xml", strings.NewReader(report))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range es {
		fmt.Println(e.Serial, e.Tool(), e.StandardName, e.Method, e.Method.Category(), e.State, e.Sanitised(), e.Verification(), e.End.Sub(e.Start))
	}
	// Output:
	// S4EVNX0N123456A Blancco Drive Eraser 7.16.0 NIST 800-88 Purge block-erase purge Successful true sample 13m50s
	// Z9A1B2C3 Blancco Drive Eraser 7.16.0 NIST 800-88 Clear overwrite clear Failed false no 0s
}

func ExampleDetect() {
	fmt.Println(blancco.Detect([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<root>\n  <report>\n    <blancco_data>")))
	fmt.Println(blancco.Detect([]byte("[2025/03/14 09:15:02]  notice: Found /dev/sdb")))
	// Output:
	// true
	// false
}
