package ledger

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ImportColumns is the header of an import file. Every column must be
// present (in any order); optional ones may be left empty.
var ImportColumns = []string{"serial", "asset_tag", "type", "make", "model", "capacity_gb", "site", "method",
	"standard", "tool", "verified", "contractor", "disposed_on", "weight_kg", "batch", "operator", "witness", "notes"}

// RowError is one problem in an import file.
type RowError struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// ImportError lists every problem found in an import file. Nothing of the
// file was written.
type ImportError struct {
	File   string     `json:"file"`
	Errors []RowError `json:"errors"`
}

// Error lists the problems one a line, as FILE:LINE: field: problem.
func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "import %s: %s, nothing imported", e.File, CountOf(int64(len(e.Errors)), "error", "errors"))
	for _, r := range e.Errors {
		fmt.Fprintf(&b, "\n%s:%d: %s: %s", e.File, r.Line, r.Field, r.Problem)
	}
	return b.String()
}

// ImportResult says what an import changed.
type ImportResult struct {
	File           string   `json:"file"`
	SHA256         string   `json:"sha256"`
	Rows           int      `json:"rows"`
	DevicesAdded   int      `json:"devices_added"`
	DisposalsAdded int      `json:"disposals_added"`
	Unchanged      int      `json:"unchanged"`
	NewContractors []string `json:"new_contractors"`
	NewBatches     []string `json:"new_batches"`
}

// ImportOptions tune an import.
type ImportOptions struct {
	Reason string
	// AllowUnusualWeight accepts weights outside the plausible range of
	// their device type in every row (a row can say so itself with
	// "unusual" in its notes).
	AllowUnusualWeight bool
	// Progress, when set, is called every few thousand rows with the number
	// of bytes read so far.
	Progress func(bytesRead int64)
}

// importPayload is the payload of a device.import event: one new device
// with its disposal. itad wrote one such event a row before imports
// committed to their rows by hash (import.rows, importrows.go); Verify
// still replays them.
type importPayload struct {
	Device   Device   `json:"device"`
	Disposal Disposal `json:"disposal"`
}

// maxImportErrors stops collecting problems past this many (the import is
// refused either way); the message says so.
const maxImportErrors = 10000

// Import reads a CSV file in the import format (see ImportColumns) and
// records its devices and disposals in one transaction. The file is
// streamed; every row is validated, and if any row is bad nothing is
// written and an *ImportError lists every problem. Rows already in the
// ledger with the same data are skipped, so importing a file twice changes
// nothing. New contractors and batches named in the file are created.
func (s *Store) Import(name string, r io.Reader, opts ImportOptions) (ImportResult, error) {
	res := ImportResult{File: name}
	ie := &ImportError{File: name}
	h := sha256.New()
	cr := &countingReader{r: io.TeeReader(r, h)}
	rd := csv.NewReader(cr)
	rd.ReuseRecord = true
	rd.FieldsPerRecord = -1

	header, err := rd.Read()
	if errors.Is(err, io.EOF) {
		return res, &ImportError{File: name, Errors: []RowError{{1, "header", "the file is empty: expected header " + strings.Join(ImportColumns, ",")}}}
	}
	if err != nil {
		return res, &ImportError{File: name, Errors: []RowError{{1, "header", err.Error()}}}
	}
	col, problems := mapHeader(header)
	if len(problems) > 0 {
		for _, p := range problems {
			ie.Errors = append(ie.Errors, RowError{1, "header", p})
		}
		return res, ie
	}

	im := &importer{file: name, res: &res, ie: ie, contractors: map[string]int64{}, batches: map[string]batchInfo{}}
	err = s.write(opts.Reason, func(t *txn) error {
		im.t = t
		rules := rowRules{now: t.now, allowUnusual: opts.AllowUnusualWeight}
		if err := t.loadHead(); err != nil {
			return err
		}
		former, err := formerSerials(t.tx)
		if err != nil {
			return err
		}
		im.former = former
		chunk := make([]parsedRow, 0, importChunk)
		for {
			rec, err := rd.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				im.errOut(pe.StartLine, "csv", pe.Err)
				if !errors.Is(pe.Err, csv.ErrFieldCount) {
					break // the CSV cannot be read past a quoting error
				}
				continue
			} else if err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			line, _ := rd.FieldPos(0)
			res.Rows++
			if opts.Progress != nil && res.Rows%4096 == 0 {
				opts.Progress(cr.n)
			}
			if len(rec) != len(ImportColumns) {
				im.errOut(line, "csv", fmt.Errorf("%d fields, expected %d", len(rec), len(ImportColumns)))
				continue
			}
			dev, disp, field, err := parseImportRow(func(c string) string { return rec[col[c]] }, rules)
			if err != nil {
				im.errOut(line, field, err)
				continue
			}
			chunk = append(chunk, parsedRow{line, dev, disp})
			if len(chunk) == importChunk {
				if err := im.chunk(chunk); err != nil {
					return err
				}
				chunk = chunk[:0]
			}
		}
		if err := im.chunk(chunk); err != nil {
			return err
		}
		if err := im.flush(); err != nil {
			return err
		}
		if len(ie.Errors) > 0 {
			return ie
		}
		res.SHA256 = hex.EncodeToString(h.Sum(nil))
		if res.DevicesAdded+res.DisposalsAdded == 0 {
			return nil // nothing changed: record nothing
		}
		_, err = t.appendEvent("import.file", name, res)
		return err
	})
	if opts.Progress != nil {
		opts.Progress(cr.n)
	}
	if len(ie.Errors) >= maxImportErrors {
		ie.Errors = append(ie.Errors, RowError{0, "file", fmt.Sprintf("more than %d errors: stopped listing", maxImportErrors)})
	}
	return res, err
}

// importChunk is how many rows are looked up, and new ones written, per
// statement: per-statement overhead, not SQLite's b-tree work, dominated
// row-at-a-time inserts.
const importChunk = 256

type parsedRow struct {
	line int
	dev  Device
	disp Disposal
}

type batchInfo struct {
	id     int64
	closed bool
}

// importer holds one import's state. New devices are buffered and written
// with multi-row INSERTs (ids assigned here: the transaction holds the
// write lock), with one import.rows event that commits to them by hash;
// rows about devices already recorded flush the buffer and take the
// row-at-a-time path.
type importer struct {
	t           *txn
	file        string
	res         *ImportResult
	ie          *ImportError
	contractors map[string]int64
	batches     map[string]batchInfo

	pendingKeys           map[string]bool
	former                map[string]serialCorrection // serials corrections took away (correct.go)
	devArgs, dispArgs     []any
	devHashes, dispHashes []byte // 32 bytes a pending row
	hbuf                  []byte
	nPending              int
	nextDevID, nextDisID  int64 // 0: read max(id) before use
}

func (im *importer) errOut(line int, field string, err error) {
	if len(im.ie.Errors) < maxImportErrors {
		im.ie.Errors = append(im.ie.Errors, RowError{line, field, rowProblem(err)})
	}
}

// rowProblem is an error as one line of an import report: a rule's
// refusal with its hint, a validation error without its "invalid value"
// prefix.
func rowProblem(err error) string {
	var re *RuleError
	if errors.As(err, &re) {
		return re.Problem()
	}
	return strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
}

// chunk processes parsed rows in file order.
func (im *importer) chunk(rows []parsedRow) error {
	if len(rows) == 0 {
		return nil
	}
	t := im.t
	// Which serials are already recorded: one query for the chunk.
	exists := map[string]bool{}
	keys := make([]any, 0, len(rows))
	for _, r := range rows { // the new key, and the one an older itad wrote
		keys = append(keys, SerialKey(r.dev.Serial))
		if lk := legacySerialKey(r.dev.Serial); lk != SerialKey(r.dev.Serial) {
			keys = append(keys, lk)
		}
	}
	q := `SELECT serial_key FROM devices WHERE serial_key IN (` + strings.TrimSuffix(strings.Repeat("?,", len(keys)), ",") + `)`
	found, err := t.tx.Query(q, keys...)
	if err != nil {
		return fmt.Errorf("look up serials: %w", err)
	}
	for found.Next() {
		var k string
		found.Scan(&k)
		exists[k] = true
	}
	found.Close()
	if err := found.Err(); err != nil {
		return err
	}
	if im.pendingKeys == nil {
		im.pendingKeys = map[string]bool{}
	}
	for _, r := range rows {
		cID, batchID, batchClosed, ok, err := im.resolve(r)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		k := SerialKey(r.dev.Serial)
		if !exists[k] && !exists[legacySerialKey(r.dev.Serial)] && !im.pendingKeys[k] {
			if c, ok := im.former[k]; ok {
				im.errOut(r.line, "serial", fmt.Errorf("serial %s was corrected to %s (event #%d): this row is that device under its old serial; "+
					"correct the file, or if it is another device with that serial record it with 'itad device add' first", r.dev.Serial, c.new, c.seq))
				continue
			}
			if batchClosed {
				im.errOut(r.line, "batch", fmt.Errorf("batch %s is closed: a new disposal cannot join it", r.disp.Batch))
				continue
			}
			if err := im.addNew(r, cID, batchID); err != nil {
				return err
			}
			exists[k] = true // flushed before this chunk ends, maybe
			continue
		}
		if err := im.flush(); err != nil {
			return err
		}
		if err := im.existing(r, cID, batchID, batchClosed); err != nil {
			return err
		}
		exists[k] = true
	}
	return nil
}

// resolve finds (or creates and reports) the row's contractor and batch.
func (im *importer) resolve(r parsedRow) (cID int64, batchID *int64, closed, ok bool, err error) {
	t := im.t
	// Cached by legacy key: the store's lookup tries it before NameKey.
	ck := legacyNameKey(r.disp.Contractor)
	cID, found := im.contractors[ck]
	if !found {
		if cID, err = t.contractorID(r.disp.Contractor); errors.Is(err, ErrNotFound) {
			c := Contractor{Name: r.disp.Contractor}
			if err := c.Validate(); err != nil {
				im.errOut(r.line, "contractor", err)
				return 0, nil, false, false, nil
			}
			if cID, err = t.addContractor(&c); err != nil {
				return 0, nil, false, false, err
			}
			im.res.NewContractors = append(im.res.NewContractors, c.Name)
		} else if err != nil {
			return 0, nil, false, false, err
		}
		im.contractors[ck] = cID
	}
	if r.disp.Batch == "" {
		return cID, nil, false, true, nil
	}
	bk := legacyNameKey(r.disp.Batch)
	bi, found := im.batches[bk]
	if !found {
		b, id, err := t.batchByRef(r.disp.Batch)
		switch {
		case errors.Is(err, ErrNotFound):
			b = Batch{Ref: r.disp.Batch, Contractor: r.disp.Contractor, Site: r.dev.Site, RunOn: r.disp.DisposedOn, Witness: r.disp.Witness}
			if err := b.Validate(); err != nil {
				im.errOut(r.line, "batch", err)
				return 0, nil, false, false, nil
			}
			if id, err = t.insertBatch(&b, &cID); err != nil {
				return 0, nil, false, false, err
			}
			im.res.NewBatches = append(im.res.NewBatches, b.Ref)
		case err != nil:
			return 0, nil, false, false, err
		}
		bi = batchInfo{id, b.ClosedAt != ""}
		im.batches[bk] = bi
	}
	return cID, &bi.id, bi.closed, true, nil
}

// addNew buffers a new device and its disposal, and hashes their rows.
func (im *importer) addNew(r parsedRow, cID int64, batchID *int64) error {
	t := im.t
	if im.nextDevID == 0 {
		if err := t.tx.QueryRow(`SELECT coalesce(max(id),0)+1 FROM devices`).Scan(&im.nextDevID); err != nil {
			return err
		}
		if err := t.tx.QueryRow(`SELECT coalesce(max(id),0)+1 FROM disposals`).Scan(&im.nextDisID); err != nil {
			return err
		}
	}
	dev, disp := r.dev, r.disp
	dev.UUID = newUUID()
	disp.UUID, disp.Final, disp.Serial = newUUID(), true, dev.Serial
	d, _ := ParseDate(disp.DisposedOn)
	// seq, the last column, is set by flush once the event is written.
	im.devArgs = append(im.devArgs, im.nextDevID, dev.UUID, dev.Serial, SerialKey(dev.Serial), dev.AssetTag, string(dev.Type),
		dev.Make, dev.Model, dev.CapacityGB, dev.Site, nil)
	im.dispArgs = append(im.dispArgs, im.nextDisID, disp.UUID, im.nextDevID, string(disp.Method), string(disp.Category), disp.Standard,
		disp.Tool, disp.Verified, cID, disp.DisposedOn, d.Year(), FinancialYear(d), disp.WeightG, batchID, disp.Operator,
		disp.Witness, disp.Notes, 1, nil)
	// The rows' hashes, over exactly the values just buffered.
	if !recordImportEvents {
		return im.added(dev.Serial)
	}
	var h [32]byte
	df := fromDevice(dev)
	h, im.hbuf = deviceRowHash(im.hbuf, &df)
	im.devHashes = append(im.devHashes, h[:]...)
	x := dispExp{f: fromDisposal("", disp), contractorID: cID, batchNull: batchID == nil}
	if batchID != nil {
		x.batchID = *batchID
	}
	h, im.hbuf = disposalRowHash(im.hbuf, &x)
	im.dispHashes = append(im.dispHashes, h[:]...)
	return im.added(dev.Serial)
}

// added counts a buffered row, flushing a full buffer.
func (im *importer) added(serial string) error {
	im.nextDevID++
	im.nextDisID++
	im.nPending++
	im.pendingKeys[SerialKey(serial)] = true
	im.res.DevicesAdded++
	im.res.DisposalsAdded++
	if im.nPending == importChunk {
		return im.flush()
	}
	return nil
}

// flush writes the buffered new devices and disposals with their
// import.rows event.
func (im *importer) flush() error {
	if im.nPending == 0 {
		return nil
	}
	t, n := im.t, im.nPending
	seq, err := int64(0), error(nil)
	if recordImportEvents {
		seq, err = t.appendEvent(ImportRowsAction, im.file, importRowsPayload{Rows: n,
			FirstDevice: im.devArgs[0].(int64), FirstDisposal: im.dispArgs[0].(int64),
			DeviceSHA256: im.devHashes, DisposalSHA256: im.dispHashes})
		if err != nil {
			return err
		}
	}
	for i := 0; i < n; i++ {
		im.devArgs[i*11+10], im.dispArgs[i*19+18] = seq, seq
	}
	type table struct {
		head, row string
		args      []any
		width     int
	}
	tables := []table{
		{`INSERT INTO devices(id, uuid, serial, serial_key, asset_tag, type, make, model, capacity_gb, site, seq) VALUES `,
			`(?,?,?,?,?,?,?,?,?,?,?)`, im.devArgs, 11},
		{`INSERT INTO disposals(id, uuid, device_id, method, category, standard, tool, verified, contractor_id,
			disposed_on, year, fin_year, weight_g, batch_id, operator, witness, notes, is_final, seq) VALUES `,
			`(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, im.dispArgs, 19},
	}
	for _, tb := range tables {
		// Write in groups of a few fixed sizes so that every statement is
		// prepared once and reused (a partial flush of any size would
		// otherwise prepare a new statement each time).
		done := 0
		for _, size := range []int{importChunk, 32, 1} {
			for n-done >= size {
				q := tb.head + strings.TrimSuffix(strings.Repeat(tb.row+",", size), ",")
				if _, err := t.exec(q, tb.args[done*tb.width:(done+size)*tb.width]...); err != nil {
					return fmt.Errorf("write imported rows: %w", err)
				}
				done += size
			}
		}
	}
	im.devArgs, im.dispArgs = im.devArgs[:0], im.dispArgs[:0]
	im.devHashes, im.dispHashes = im.devHashes[:0], im.dispHashes[:0]
	im.nPending = 0
	clear(im.pendingKeys)
	return nil
}

// existing handles a row whose serial is already recorded: the same device
// data is required; an identical disposal is skipped; a new one is added.
func (im *importer) existing(r parsedRow, cID int64, batchID *int64, batchClosed bool) error {
	t, dev, disp := im.t, r.dev, r.disp
	existing, existingID, err := t.deviceBySerial(dev.Serial)
	if err != nil {
		return err
	}
	if !existing.sameData(dev) {
		im.errOut(r.line, "serial", fmt.Errorf("serial %s is already in the ledger with different device data: the file has %s; the ledger has %s",
			dev.Serial, dev.describe(), existing.describe()))
		return nil
	}
	disp.Serial = existing.Serial
	prior, err := queryDisposals(t.tx, `WHERE x.device_id = ?`, existingID)
	if err != nil {
		return err
	}
	for _, p := range prior {
		if p.sameData(disp) {
			im.res.Unchanged++
			return nil
		}
	}
	if batchClosed {
		im.errOut(r.line, "batch", fmt.Errorf("batch %s is closed: a new disposal cannot join it", disp.Batch))
		return nil
	}
	// The device's life in order, rows of one file in file order: earlier
	// rows for this device are already written (flush above).
	life, err := t.lifeOf(existingID)
	if err != nil {
		return err
	}
	if err := checkLife(existing.Serial, life, &disp); err != nil {
		field := "method"
		if errors.Is(err, ErrOutOfOrder) {
			field = "disposed_on"
		}
		im.errOut(r.line, field, err)
		return nil
	}
	if err := t.insertDisposal(&disp, existingID, existing.UUID, cID, batchID, "disposal.record", false); err != nil {
		return err
	}
	im.nextDevID, im.nextDisID = 0, 0 // ids moved on: read them again
	im.res.DisposalsAdded++
	return nil
}

// mapHeader maps column names to positions and lists what is wrong with
// the header: unknown, duplicated or missing columns.
func mapHeader(h []string) (map[string]int, []string) {
	col := map[string]int{}
	var problems []string
	known := map[string]bool{}
	for _, c := range ImportColumns {
		known[c] = true
	}
	for i, c := range h {
		c = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(c, "\ufeff")))
		if !known[c] {
			problems = append(problems, fmt.Sprintf("unknown column %q (the columns are %s)", c, strings.Join(ImportColumns, ",")))
			continue
		}
		if _, dup := col[c]; dup {
			problems = append(problems, fmt.Sprintf("column %q appears twice", c))
			continue
		}
		col[c] = i
	}
	for _, c := range ImportColumns {
		if _, ok := col[c]; !ok {
			problems = append(problems, fmt.Sprintf("missing column %q", c))
		}
	}
	return col, problems
}

// rowRules is what the rules need to check one import row: the clock
// (for dates) and whether unusual weights are accepted.
type rowRules struct {
	now          time.Time
	allowUnusual bool
}

// parseImportRow turns one CSV row into a device and a disposal, or names
// the first bad field. Weights and dates go through the rules a disposal
// recorded on the command line does (CheckWeight, CheckRecordDate).
func parseImportRow(get func(string) string, rules rowRules) (Device, Disposal, string, error) {
	dev := Device{Serial: get("serial"), AssetTag: get("asset_tag"), Type: DeviceType(get("type")),
		Make: get("make"), Model: get("model"), Site: get("site")}
	disp := Disposal{Method: Method(get("method")), Standard: get("standard"), Tool: get("tool"),
		Verified: get("verified"), Contractor: get("contractor"), DisposedOn: get("disposed_on"),
		Batch: get("batch"), Operator: get("operator"), Witness: get("witness"), Notes: get("notes")}
	if strings.TrimSpace(dev.Serial) == "" {
		return dev, disp, "serial", fmt.Errorf("serial is required")
	}
	if c := strings.TrimSpace(get("capacity_gb")); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 0 {
			return dev, disp, "capacity_gb", fmt.Errorf("capacity %q is not a whole number of GB", c)
		}
		dev.CapacityGB = &n
	}
	if err := dev.Validate(); err != nil {
		return dev, disp, fieldOf(err, "type"), err
	}
	if w := strings.TrimSpace(get("weight_kg")); w != "" {
		g, err := ParseWeight(w, "kg")
		if err != nil {
			return dev, disp, "weight_kg", err
		}
		disp.WeightG = &g
	}
	if _, err := ParseMethod(string(disp.Method)); err != nil {
		return dev, disp, "method", err
	}
	if _, err := ParseDate(disp.DisposedOn); err != nil {
		return dev, disp, "disposed_on", err
	}
	if _, err := ParseVerified(disp.Verified); err != nil {
		return dev, disp, "verified", err
	}
	if err := disp.Validate(); err != nil {
		return dev, disp, fieldOf(err, "contractor"), err
	}
	if err := CheckMethodForType(disp.Method, dev.Type); err != nil {
		return dev, disp, "method", err
	}
	if err := CheckRecordDate("date", disp.DisposedOn, rules.now); err != nil {
		return dev, disp, "disposed_on", err
	}
	if err := CheckWeight(dev.Type, disp.WeightG, rules.allowUnusual || hasUnusualMarker(disp.Notes)); err != nil {
		return dev, disp, "weight_kg", err
	}
	return dev, disp, "", nil
}

// fieldOf finds which column a validation error is about from its text
// (validation errors start with the field name), else returns def.
func fieldOf(err error, def string) string {
	msg := strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
	for _, c := range ImportColumns {
		if strings.HasPrefix(msg, c+" ") {
			return c
		}
	}
	if strings.HasPrefix(msg, "notes") {
		return "notes"
	}
	return def
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
