package ledger

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
)

// ExportColumns are the columns of an export, in order. The names are
// stable: auditors' spreadsheets and scripts depend on them.
var ExportColumns = []string{
	"serial", "asset_tag", "type", "make", "model", "capacity_gb", "site",
	"method", "category", "standard", "tool", "verified", "contractor", "accreditations",
	"disposed_on", "year", "financial_year", "weight_grams", "weight_source",
	"batch", "batch_gross_weight_grams", "operator", "witness", "notes",
	"device_uuid", "disposal_uuid",
}

// ExportRow is one final disposition with every field of the device, the
// disposal, its contractor and its batch. WeightG and WeightSource follow
// WeightRule: source "item" (its own weight), "batch" (a share of its
// run's gross weight) or "" (not weighed, WeightG nil).
type ExportRow struct {
	Serial         string `json:"serial"`
	AssetTag       string `json:"asset_tag"`
	Type           string `json:"type"`
	Make           string `json:"make"`
	Model          string `json:"model"`
	CapacityGB     *int64 `json:"capacity_gb"`
	Site           string `json:"site"`
	Method         string `json:"method"`
	Category       string `json:"category"`
	Standard       string `json:"standard"`
	Tool           string `json:"tool"`
	Verified       string `json:"verified"`
	Contractor     string `json:"contractor"`
	Accreditations string `json:"accreditations"`
	DisposedOn     string `json:"disposed_on"`
	Year           int    `json:"year"`
	FinancialYear  string `json:"financial_year"`
	WeightG        *int64 `json:"weight_grams"`
	WeightSource   string `json:"weight_source"`
	Batch          string `json:"batch"`
	BatchGrossG    *int64 `json:"batch_gross_weight_grams"`
	Operator       string `json:"operator"`
	Witness        string `json:"witness"`
	Notes          string `json:"notes"`
	DeviceUUID     string `json:"device_uuid"`
	DisposalUUID   string `json:"disposal_uuid"`
}

// record returns the row's cells in ExportColumns order ("" for NULL).
func (r *ExportRow) record() []string {
	opt := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	return []string{r.Serial, r.AssetTag, r.Type, r.Make, r.Model, opt(r.CapacityGB), r.Site,
		r.Method, r.Category, r.Standard, r.Tool, r.Verified, r.Contractor, r.Accreditations,
		r.DisposedOn, strconv.Itoa(r.Year), r.FinancialYear, opt(r.WeightG), r.WeightSource,
		r.Batch, opt(r.BatchGrossG), r.Operator, r.Witness, r.Notes, r.DeviceUUID, r.DisposalUUID}
}

// ExportQuery selects the final dispositions to export.
type ExportQuery struct {
	Years         []int // empty: every year
	FinancialYear bool  // Years are UK financial years (April to March)
}

// Export calls fn with each final disposition of q's years, ordered by
// date then serial. Rows are streamed from one query (one consistent
// snapshot) and fn's row is reused between calls. It returns fn's error,
// or an error if the ledger cannot be read.
func (s *Store) Export(q ExportQuery, fn func(*ExportRow) error) error {
	yearCol := "x.year"
	if q.FinancialYear {
		yearCol = "x.fin_year"
	}
	// Weights: the item's own, else its run's share, precomputed in
	// weight_shares (summary.go): no weight rule runs here.
	var args []any
	query := `SELECT d.serial, d.asset_tag, d.type, d.make, d.model, d.capacity_gb, d.site,
		x.method, x.category, x.standard, x.tool, x.verified, c.name, c.accreditations,
		x.disposed_on, x.year, x.fin_year, coalesce(x.weight_g, a.share_g),
		CASE WHEN x.weight_g IS NOT NULL THEN 'item' WHEN a.share_g IS NOT NULL THEN 'batch' ELSE '' END,
		coalesce(b.ref, ''), b.gross_weight_g, x.operator, x.witness, x.notes, d.uuid, x.uuid
		FROM disposals x JOIN devices d ON d.id = x.device_id JOIN contractors c ON c.id = x.contractor_id
		LEFT JOIN batches b ON b.id = x.batch_id LEFT JOIN weight_shares a ON a.disposal_id = x.id
		WHERE x.is_final = 1`
	if len(q.Years) > 0 {
		query += ` AND ` + yearCol + ` IN (` + strings.TrimSuffix(strings.Repeat("?,", len(q.Years)), ",") + `)`
		for _, y := range q.Years {
			args = append(args, y)
		}
	}
	rows, err := s.db.Query(query+` ORDER BY x.disposed_on, d.serial_key`, args...)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer rows.Close()
	var r ExportRow
	for rows.Next() {
		var capGB, w, gross sql.NullInt64
		var fy int
		if err := rows.Scan(&r.Serial, &r.AssetTag, &r.Type, &r.Make, &r.Model, &capGB, &r.Site,
			&r.Method, &r.Category, &r.Standard, &r.Tool, &r.Verified, &r.Contractor, &r.Accreditations,
			&r.DisposedOn, &r.Year, &fy, &w, &r.WeightSource, &r.Batch, &gross, &r.Operator, &r.Witness, &r.Notes,
			&r.DeviceUUID, &r.DisposalUUID); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		r.FinancialYear = FormatFinancialYear(fy)
		r.CapacityGB, r.WeightG, r.BatchGrossG = nullInt(capGB), nullInt(w), nullInt(gross)
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

func nullInt(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

// ExportOptions choose an export's format.
type ExportOptions struct {
	Format string // "csv" (default) or "json"
	// Excel, for CSV only, starts the file with a UTF-8 byte order mark.
	// (Cells a spreadsheet would run as a formula are neutralised in every
	// CSV itad writes: see csvWriter.)
	Excel bool
	// Progress, when set, is called every 1,024 rows with the rows written.
	Progress func(rows int64)
}

// ExportSummary totals what an export wrote.
type ExportSummary struct {
	Rows         int64 `json:"rows"`
	WeightG      int64 `json:"weight_grams"`
	WeighedRows  int64 `json:"weighed_rows"`
	BatchWeighed int64 `json:"batch_weighed_rows"`
}

// WriteExport streams q's final dispositions to w as CSV or JSON and
// returns their totals, which equal Report's for the same years.
//
// CSV is RFC 4180: a header of ExportColumns, then one record per row,
// each line ended by CRLF; a field is quoted ("...", with " doubled) when it
// holds a comma, a quote, CR or LF, and every other byte is written as it
// is (UTF-8). Empty fields are NULLs (capacity_gb, weight_grams,
// batch_gross_weight_grams). With Excel, the file starts with the UTF-8 BOM
// EF BB BF and a cell starting with = + - @ TAB or CR gets a leading ' so
// that a spreadsheet shows it as text instead of evaluating it.
//
// JSON is an array with one object per line, keys in ExportColumns order,
// numbers or null for the numeric columns, HTML characters not escaped.
// It returns ErrInvalid for another format or Excel with JSON.
func (s *Store) WriteExport(w io.Writer, q ExportQuery, opts ExportOptions) (ExportSummary, error) {
	var sum ExportSummary
	format := opts.Format
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "json" {
		return sum, fmt.Errorf("%w: format %q (one of csv, json)", ErrInvalid, format)
	}
	if opts.Excel && format != "csv" {
		return sum, fmt.Errorf("%w: the Excel option applies to CSV only", ErrInvalid)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	tally := func(r *ExportRow) {
		sum.Rows++
		if opts.Progress != nil && sum.Rows%1024 == 0 {
			opts.Progress(sum.Rows)
		}
		if r.WeightG != nil {
			sum.WeightG += *r.WeightG
			sum.WeighedRows++
		}
		if r.WeightSource == "batch" {
			sum.BatchWeighed++
		}
	}
	var err error
	if format == "csv" {
		cw := &csvWriter{w: bw}
		if opts.Excel {
			bw.WriteString("\ufeff")
		}
		cw.record(ExportColumns)
		err = s.Export(q, func(r *ExportRow) error {
			tally(r)
			cw.record(r.record())
			return cw.err
		})
	} else {
		// "[", then each object on its own line, separated by ",", then "]".
		var obj bytes.Buffer
		enc := json.NewEncoder(&obj)
		enc.SetEscapeHTML(false)
		bw.WriteString("[")
		err = s.Export(q, func(r *ExportRow) error {
			if sum.Rows > 0 {
				bw.WriteString(",")
			}
			tally(r)
			obj.Reset()
			if err := enc.Encode(r); err != nil {
				return err
			}
			bw.WriteString("\n")
			_, err := bw.Write(bytes.TrimSuffix(obj.Bytes(), []byte("\n")))
			return err
		})
		if sum.Rows > 0 {
			bw.WriteString("\n")
		}
		bw.WriteString("]\n")
	}
	if err != nil {
		return sum, err
	}
	return sum, bw.Flush()
}

// csvWriter writes RFC 4180 records ended by CRLF, bytes unchanged inside
// quoted fields (encoding/csv would rewrite a lone CR or LF in a field).
// The first write error is kept in err and later writes are skipped.
//
// Every CSV itad writes is opened by people in spreadsheets (auditors, FOI
// requesters), so a cell is prefixed with ' and a spreadsheet shows it as
// text instead of running it as a formula (=HYPERLINK(...) and the like,
// from imported data) when it starts with TAB or CR, or when its first
// visible character — after any white space, NBSP and other space
// separators, and invisible format characters (U+200B, U+FEFF, U+00AD,
// bidi controls ...) — is = + - or @, or when any part of it after a ;
// is (European-locale Excel splits cells on ;). A cell containing , ; "
// CR or LF is quoted. Control characters other than TAB, CR and LF, and
// bidi controls, are escaped as \x1b or \u202e (Printable): the CSV is
// for people; the JSON export keeps the exact bytes. Numbers itad writes
// are never negative, so no figure is changed.
type csvWriter struct {
	w   io.Writer
	err error
	buf []byte
}

// NeutraliseCell returns f as a spreadsheet will show it as text: its
// controls escaped (except TAB, CR and LF), and prefixed with ' when it,
// or a part of it after a ;, would start a formula (see csvWriter).
func NeutraliseCell(f string) string {
	f = printable(f, "\t\r\n")
	if f == "" {
		return f
	}
	if f[0] == '\t' || f[0] == '\r' || formulaAfterInvisibles(f) {
		return "'" + f
	}
	for rest := f; ; {
		i := strings.IndexByte(rest, ';')
		if i < 0 {
			return f
		}
		if rest = rest[i+1:]; formulaAfterInvisibles(rest) {
			return "'" + f
		}
	}
}

func (c *csvWriter) record(fields []string) {
	if c.err != nil {
		return
	}
	b := c.buf[:0]
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		f = NeutraliseCell(f)
		if !strings.ContainsAny(f, ",;\"\r\n") {
			b = append(b, f...)
			continue
		}
		b = append(b, '"')
		b = append(b, strings.ReplaceAll(f, `"`, `""`)...)
		b = append(b, '"')
	}
	b = append(b, '\r', '\n')
	c.buf = b
	_, c.err = c.w.Write(b)
}

// OutputDigest is an io.Writer that passes bytes on to W while counting
// them and computing their SHA-256, so that the access log can record
// exactly what was disclosed.
type OutputDigest struct {
	w io.Writer
	h hash.Hash
	n int64
}

// NewOutputDigest returns an OutputDigest writing to w.
func NewOutputDigest(w io.Writer) *OutputDigest { return &OutputDigest{w: w, h: sha256.New()} }

// Write writes p to the underlying writer and adds what was written to the
// digest.
func (d *OutputDigest) Write(p []byte) (int, error) {
	n, err := d.w.Write(p)
	d.h.Write(p[:n])
	d.n += int64(n)
	return n, err
}

// SHA256 returns the hex SHA-256 of the bytes written so far.
func (d *OutputDigest) SHA256() string { return hex.EncodeToString(d.h.Sum(nil)) }

// Len returns how many bytes were written.
func (d *OutputDigest) Len() int64 { return d.n }
