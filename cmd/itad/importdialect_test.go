package main

import (
	"path/filepath"
	"testing"
)

// TestCLI_ImportDialects: the import flags, with exact output and exit
// status.
func TestCLI_ImportDialects(t *testing.T) {
	const dir = "../../testdata/import/dialects/"
	db := filepath.Join(t.TempDir(), "itad.db")
	mustItad(t, db, "init", "--org", "Test Constabulary")
	tests := []struct {
		name     string
		args     []string
		out, err string
		code     int
	}{
		{"DryRunXLSX", []string{"import", "--dry-run", dir + "workbook.xlsx"},
			"dry run of " + dir + "workbook.xlsx: 3 rows, 3 devices and 3 disposals would be added, 0 already recorded; nothing was written\n" +
				"new contractors (2): Gwasanaeth Café Ltd; Ångström Recycling\nnew batches (1): B-2021-1\n", "", 0},
		{"DryRunBad", []string{"import", "--dry-run", dir + "repeated-serial.csv"}, "",
			"itad: error: import " + dir + "repeated-serial.csv: 2 errors, nothing imported\n" +
				dir + "repeated-serial.csv:4: serial: serial r1 is also on line 2, with different device data: line 2 has R1 hdd WDC WD40; this line has r1 ssd WDC WD40 (one device a serial: correct one of the lines)\n" +
				dir + "repeated-serial.csv:5: model: model contains a control character (\\x1b): remove it\n" +
				"itad: hint: fix the rows named above and import the file again\n", 1},
		{"BadEncoding", []string{"import", "--encoding", "ebcdic", dir + "source.csv"}, "",
			"itad: error: --encoding \"ebcdic\": use utf-8, windows-1252, latin1\n", 2},
		{"BadMap", []string{"import", "--map", "Kit No", dir + "source.csv"}, "",
			"itad: error: --map \"Kit No\": give it as 'Your Header=column', e.g. 'Kit No=serial'\n", 2},
		{"SemicolonCP1252", []string{"import", "--encoding", "windows-1252", dir + "semicolon-cp1252.csv"},
			"imported " + dir + "semicolon-cp1252.csv: 3 rows, 3 devices added, 3 disposals added, 0 already recorded\n" +
				"new contractors (2): Gwasanaeth Café Ltd; Ångström Recycling\nnew batches (1): B-2021-1\n", "", 0},
		{"SameFromXLSX", []string{"import", dir + "workbook.xlsx"},
			"imported " + dir + "workbook.xlsx: 3 rows, 0 devices added, 0 disposals added, 3 already recorded\n", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := itad(t, db, tt.args...)
			if out != tt.out || errOut != tt.err || code != tt.code {
				t.Errorf("got (exit %d)\n%s\nstderr:\n%s\nwant (exit %d)\n%s\nstderr:\n%s", code, out, errOut, tt.code, tt.out, tt.err)
			}
		})
	}
}
