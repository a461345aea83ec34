package ledger

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ImportColumns are the columns of an import file, in any order. Those
// in RequiredColumns must be there; the others may be absent or empty.
// Headers may also be written as in ImportAliases, or mapped with
// ImportOptions.Map.
var ImportColumns = []string{"serial", "asset_tag", "type", "make", "model", "capacity_gb", "site", "method",
	"standard", "tool", "verified", "contractor", "disposed_on", "weight_kg", "batch", "operator", "witness", "notes"}

// ImportAppendixGColumns are the optional NIST SP 800-88 Appendix G
// columns of an import file: the names of AppendixGFields. A row's values
// are recorded on its disposal (an appendix_g.set event after the rows'
// import.rows event, for the rows that fill any of them).
var ImportAppendixGColumns = func() []string {
	var cs []string
	for _, f := range AppendixGFields {
		cs = append(cs, f.Name)
	}
	return cs
}()

// allImportColumns are ImportColumns then ImportAppendixGColumns.
var allImportColumns = append(append([]string(nil), ImportColumns...), ImportAppendixGColumns...)

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
	file := Printable(e.File)
	fmt.Fprintf(&b, "import %s: %s, nothing imported", file, CountOf(int64(len(e.Errors)), "error", "errors"))
	for _, r := range e.Errors {
		fmt.Fprintf(&b, "\n%s:%d: %s: %s", file, r.Line, r.Field, r.Problem)
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
	// Encoding of a CSV file without a byte-order mark: "" or utf-8,
	// windows-1252 or latin1 (ImportEncodings).
	Encoding string
	// Map names columns whose headers are not in ImportAliases:
	// normalised header → column (ParseColumnMap).
	Map map[string]string
	// Sheet is the sheet of an .xlsx workbook to read; "" is the first.
	Sheet string
	// DryRun checks the file and computes the result without keeping
	// anything.
	DryRun bool
}

// errDryRun rolls back a dry run's transaction.
var errDryRun = errors.New("dry run")

// importPayload is the payload of a device.import event: one new device
// with its disposal. itad wrote one such event a row before imports
// committed to their rows by hash (import.rows, importrows.go); Verify
// still replays them.
type importPayload struct {
	Device   Device   `json:"device"`
	Disposal Disposal `json:"disposal"`
}

// Import reads a CSV file in the import format (see ImportColumns) and
// records its devices and disposals in one transaction. The file is
// streamed; every row is validated, and if any row is bad nothing is
// written and an *ImportError lists every problem. Rows already in the
// ledger with the same data are skipped, so importing a file twice changes
// nothing. New contractors and batches named in the file are created.
func (s *Store) Import(name string, r io.Reader, opts ImportOptions) (ImportResult, error) {
	res := ImportResult{File: name}
	ie := &ImportError{File: name}
	im := &importer{file: name, res: &res, ie: ie, contractors: map[string]int64{}, batches: map[string]batchInfo{},
		kept: map[string]int{}, counts: map[string]int{}}
	h := sha256.New()
	cr := &countingReader{r: io.TeeReader(r, h)}
	src, err := openSource(name, cr, opts)
	if err != nil {
		return res, err
	}
	defer src.close()

	_, header, err := src.next()
	var le *lineError
	switch {
	case errors.Is(err, io.EOF):
		if x, ok := src.(*xlsxSource); ok {
			return res, fileError(name, x.emptyProblem())
		}
		return res, fileError(name, "the file is empty: expected a header with at least the columns "+strings.Join(RequiredColumns, ","))
	case errors.As(err, &le):
		return res, &ImportError{File: name, Errors: []RowError{{le.line, "header", le.problem}}}
	case err != nil:
		return res, fmt.Errorf("read %s: %w", name, err)
	}
	col, problems := mapHeader(header, opts.Map)
	if len(problems) > 0 {
		for _, p := range problems {
			ie.Errors = append(ie.Errors, RowError{1, "header", p})
		}
		return res, ie
	}
	width := len(header)
	// A semicolon-separated file is from a locale that writes decimals
	// with a comma (Excel in most of Europe): 0,675 kg is 0.675 kg there.
	cs, _ := src.(*csvSource)
	decimalComma := cs != nil && cs.delim == ';'
	get := func(rec []string) func(string) string {
		return func(c string) string {
			i, ok := col[c]
			if !ok || i >= len(rec) {
				return ""
			}
			if v := rec[i]; decimalComma && c == "weight_kg" && strings.Count(v, ",") == 1 && !strings.Contains(v, ".") {
				return strings.Replace(v, ",", ".", 1)
			}
			return rec[i]
		}
	}

	_, im.xlsx = src.(*xlsxSource)
	im.encodingGiven = opts.Encoding != ""
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
		dropped, err := t.dropDeferredIndexes() // an empty ledger: built at the end
		if err != nil {
			return err
		}
		chunk := make([]parsedRow, 0, importChunk)
		for {
			line, rec, err := src.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if errors.As(err, &le) {
				im.errOut(le.line, "csv", errors.New(le.problem))
				continue
			} else if err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			res.Rows++
			if opts.Progress != nil && res.Rows%4096 == 0 {
				opts.Progress(cr.n)
			}
			if len(rec) > width && strings.TrimSpace(strings.Join(rec[width:], "")) != "" {
				im.errOut(line, "csv", fmt.Errorf("%d fields, the header has %d", len(rec), width))
				continue
			}
			if len(rec) < width && !im.xlsx {
				im.errOut(line, "csv", fmt.Errorf("%d fields, the header has %d", len(rec), width))
				continue
			}
			dev, disp, bad := parseImportRow(get(rec), rules)
			if len(bad) > 0 {
				for _, b := range bad {
					im.errOut(line, b.field, b.err)
				}
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
		if err := im.settle(); err != nil {
			return err
		}
		if len(ie.Errors) > 0 {
			ie.Errors = finishErrors(ie.Errors, im.counts)
			return ie
		}
		res.SHA256 = hex.EncodeToString(h.Sum(nil))
		if opts.DryRun {
			return errDryRun
		}
		if err := t.restoreIndexes(dropped); err != nil {
			return err
		}
		if res.DevicesAdded+res.DisposalsAdded == 0 {
			return nil // nothing changed: record nothing
		}
		_, err = t.appendEvent("import.file", name, res)
		return err
	})
	if opts.Progress != nil {
		opts.Progress(cr.n)
	}
	if errors.Is(err, errDryRun) {
		err = nil
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
// rows about devices already recorded wait until the buffer is written
// and then take the row-at-a-time path (settle).
type importer struct {
	t           *txn
	file        string
	res         *ImportResult
	ie          *ImportError
	contractors map[string]int64
	batches     map[string]batchInfo

	pendingKeys           map[string]bool
	deferred              []deferredRow // rows about recorded devices, for settle
	lookupStmt            *sql.Stmt     // the serial lookup, prepared once (lookup)
	lookupArgs            []any
	former                map[string]serialCorrection // serials corrections took away (correct.go)
	devArgs, dispArgs     []any
	devHashes, dispHashes []byte // 32 bytes a pending row
	hbuf                  []byte
	nPending              int
	nextDevID, nextDisID  int64 // 0: read max(id) before use

	// Lines of the devices this import adds, by id from firstDevID: a
	// serial repeated in the file names the line it first appears on.
	firstDevID int64
	devLines   []int32

	appG []pendingAppG // Appendix G records of the pending rows

	xlsx, encodingGiven bool
	stage               int            // 0 reading rows, 1 checking them against the ledger (chunk)
	kept                map[string]int // errors listed, by stage and field
	counts              map[string]int // errors found, by field
}

// pendingAppG is the Appendix G record of a pending imported disposal.
type pendingAppG struct {
	uuid, serial string
	g            AppendixG
}

// errOut records a problem. Each stage finds a field's problems in line
// order, so keeping the first maxPerField of each field from each stage
// keeps the first maxPerField by line once sorted (finishErrors).
func (im *importer) errOut(line int, field string, err error) {
	im.counts[field]++
	k := strconv.Itoa(im.stage) + field
	if im.kept[k] >= maxPerField {
		return
	}
	im.kept[k]++
	p := rowProblem(err)
	if strings.Contains(p, "not valid UTF-8") && !im.encodingGiven {
		p += ": the file is not UTF-8; if it was saved by Excel or another program as Windows-1252 (ANSI), import it with --encoding windows-1252 (or latin1)"
	}
	im.ie.Errors = append(im.ie.Errors, RowError{line, field, Printable(p)})
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
	im.stage = 1
	defer func() { im.stage = 0 }()
	// Which serials are already recorded: one query for the chunk.
	exists, err := im.lookup(rows)
	if err != nil {
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
		// A row about a recorded device waits until the rows before it
		// are written (settle), so that the pending chunk stays whole.
		im.deferred = append(im.deferred, deferredRow{r, cID, batchID, batchClosed})
		exists[k] = true
		if len(im.deferred) == importChunk {
			if err := im.settle(); err != nil {
				return err
			}
		}
	}
	return nil
}

// lookupKeys is the number of placeholders of the serial lookup: two keys
// a row (the new key and the legacy one), padded with NULL, which matches
// nothing, so that one prepared statement serves every chunk.
const lookupKeys = 2 * importChunk

// lookup returns which of the rows' serial keys (and legacy keys) are
// recorded in devices.
func (im *importer) lookup(rows []parsedRow) (map[string]bool, error) {
	if im.lookupStmt == nil {
		q := `SELECT serial_key FROM devices WHERE serial_key IN (` + strings.TrimSuffix(strings.Repeat("?,", lookupKeys), ",") + `)`
		st, err := im.t.tx.Prepare(q)
		if err != nil {
			return nil, fmt.Errorf("look up serials: %w", err)
		}
		im.lookupStmt, im.t.stmts[q] = st, st // closed with the transaction
		im.lookupArgs = make([]any, lookupKeys)
	}
	exists := make(map[string]bool, len(rows))
	keys := im.lookupArgs[:0]
	query := func() error {
		for i := len(keys); i < lookupKeys; i++ {
			im.lookupArgs[i] = nil
		}
		found, err := im.lookupStmt.Query(im.lookupArgs...)
		if err != nil {
			return fmt.Errorf("look up serials: %w", err)
		}
		defer found.Close()
		for found.Next() {
			var k string
			if err := found.Scan(&k); err != nil {
				return fmt.Errorf("look up serials: %w", err)
			}
			exists[k] = true
		}
		keys = im.lookupArgs[:0]
		return found.Err()
	}
	for _, r := range rows { // the new key, and the one an older itad wrote
		if len(keys)+2 > lookupKeys {
			if err := query(); err != nil {
				return nil, err
			}
		}
		k := SerialKey(r.dev.Serial)
		keys = append(keys, k)
		if lk := legacySerialKey(r.dev.Serial); lk != k {
			keys = append(keys, lk)
		}
	}
	if err := query(); err != nil {
		return nil, err
	}
	return exists, nil
}

// deferredRow is a row about a device already recorded (in the ledger,
// or earlier in the file), resolved and waiting for settle.
type deferredRow struct {
	r           parsedRow
	cID         int64
	batchID     *int64
	batchClosed bool
}

// settle writes the pending new rows, then the deferred rows about
// recorded devices, in file order: every earlier row of their devices is
// then in the tables, as existing needs.
func (im *importer) settle() error {
	if err := im.flush(); err != nil {
		return err
	}
	if len(im.deferred) == 0 {
		return nil
	}
	stage := im.stage
	im.stage = 2 // errors in line order among the deferred rows (errOut)
	defer func() { im.stage = stage }()
	for i := range im.deferred {
		d := &im.deferred[i]
		if err := im.existing(d.r, d.cID, d.batchID, d.batchClosed); err != nil {
			return err
		}
	}
	clear(im.deferred)
	im.deferred = im.deferred[:0]
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
	if im.firstDevID == 0 {
		im.firstDevID = im.nextDevID
	}
	im.devLines = append(im.devLines, int32(r.line))
	dev, disp := r.dev, r.disp
	dev.UUID = newUUID()
	disp.UUID, disp.Final, disp.Serial = newUUID(), true, dev.Serial
	if !disp.AppG.IsZero() {
		im.appG = append(im.appG, pendingAppG{disp.UUID, disp.Serial, disp.AppG})
	}
	d, _ := ParseDate(disp.DisposedOn)
	// seq, the last column, is set by flush once the event is written.
	// Pointers go in as int64 or nil: database/sql converts a pointer
	// argument by reflection.
	im.devArgs = append(im.devArgs, im.nextDevID, dev.UUID, dev.Serial, SerialKey(dev.Serial), dev.AssetTag, string(dev.Type),
		dev.Make, dev.Model, derefArg(dev.CapacityGB), dev.Site, nil)
	im.dispArgs = append(im.dispArgs, im.nextDisID, disp.UUID, im.nextDevID, string(disp.Method), string(disp.Category), disp.Standard,
		disp.Tool, disp.Verified, cID, disp.DisposedOn, int64(d.Year()), int64(FinancialYear(d)), derefArg(disp.WeightG), derefArg(batchID),
		disp.Operator, disp.Witness, disp.Notes, int64(1), nil)
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

// derefArg is a nullable integer as a statement argument.
func derefArg(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
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
		return im.settle()
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
	if err := t.summaryImport(im.devArgs, im.dispArgs, n); err != nil {
		return err
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
	// The Appendix G records of the rows just written, each its own event.
	for _, a := range im.appG {
		if err := t.setAppendixG("disposal", a.uuid, a.serial, a.g); err != nil {
			return err
		}
	}
	im.appG = im.appG[:0]
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
	fileLine := 0 // the line of this file that added the device, if one did
	if i := existingID - im.firstDevID; im.firstDevID > 0 && i >= 0 && i < int64(len(im.devLines)) {
		fileLine = int(im.devLines[i])
	}
	if fileLine > 0 && !existing.sameData(dev) {
		im.errOut(r.line, "serial", fmt.Errorf("serial %s is also on line %d, with different device data: line %d has %s; this line has %s "+
			"(one device a serial: correct one of the lines)", dev.Serial, fileLine, fileLine, existing.describe(), dev.describe()))
		return nil
	}
	if !existing.sameData(dev) {
		im.errOut(r.line, "serial", fmt.Errorf("serial %s is already in the ledger with different device data: the file has %s; the ledger has %s",
			dev.Serial, dev.describe(), existing.describe()))
		return nil
	}
	disp.Serial = existing.Serial
	prior, err := queryDisposals(t, `WHERE x.device_id = ?`, existingID)
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

// rowRules is what the rules need to check one import row: the clock
// (for dates) and whether unusual weights are accepted.
type rowRules struct {
	now          time.Time
	allowUnusual bool
}

// fieldErr is one bad field of a row.
type fieldErr struct {
	field string
	err   error
}

// parseImportRow turns one row into a device and a disposal, or lists
// every bad field (one problem a field). Weights and dates go through the
// rules a disposal recorded on the command line does (CheckWeight,
// CheckRecordDate).
func parseImportRow(get func(string) string, rules rowRules) (Device, Disposal, []fieldErr) {
	dev := Device{Serial: get("serial"), AssetTag: get("asset_tag"), Type: DeviceType(get("type")),
		Make: get("make"), Model: get("model"), Site: get("site")}
	disp := Disposal{Method: Method(get("method")), Standard: get("standard"), Tool: get("tool"),
		Verified: get("verified"), Contractor: get("contractor"), DisposedOn: get("disposed_on"),
		Batch: get("batch"), Operator: get("operator"), Witness: get("witness"), Notes: get("notes")}
	var bad []fieldErr
	has := func(f string) bool {
		for _, b := range bad {
			if b.field == f {
				return true
			}
		}
		return false
	}
	add := func(f string, err error) {
		if err != nil && !has(f) {
			bad = append(bad, fieldErr{f, err})
		}
	}
	if strings.TrimSpace(dev.Serial) == "" {
		add("serial", fmt.Errorf("serial is required"))
	}
	if c := strings.TrimSpace(get("capacity_gb")); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 0 {
			add("capacity_gb", fmt.Errorf("capacity %q is not a whole number of GB", c))
		} else {
			dev.CapacityGB = &n
		}
	}
	// Each text field on its own, so that every bad one is named.
	for _, f := range [...][2]string{{"serial", dev.Serial}, {"asset_tag", dev.AssetTag}, {"type", string(dev.Type)},
		{"make", dev.Make}, {"model", dev.Model}, {"site", dev.Site}, {"standard", disp.Standard}, {"tool", disp.Tool},
		{"verified", disp.Verified}, {"contractor", disp.Contractor}, {"batch", disp.Batch},
		{"operator", disp.Operator}, {"witness", disp.Witness}} {
		add(f[0], checkText(f[0], f[1], 1<<20))
	}
	if strings.TrimSpace(disp.Contractor) == "" {
		add("contractor", fmt.Errorf("contractor is required"))
	}
	if err := dev.Validate(); err != nil {
		add(fieldOf(err, "type"), err)
	}
	if w := strings.TrimSpace(get("weight_kg")); w != "" {
		g, err := ParseWeight(w, "kg")
		if err != nil {
			add("weight_kg", err)
		} else {
			disp.WeightG = &g
		}
	}
	if _, err := ParseMethod(string(disp.Method)); err != nil {
		add("method", err)
	}
	if _, err := ParseDate(disp.DisposedOn); err != nil {
		add("disposed_on", err)
	}
	if _, err := ParseVerified(disp.Verified); err != nil {
		add("verified", err)
	}
	if !has("method") && !has("disposed_on") && !has("verified") && !has("weight_kg") {
		if err := disp.Validate(); err != nil {
			add(fieldOf(err, "contractor"), err)
		}
	}
	if !has("method") && !has("type") {
		add("method", CheckMethodForType(disp.Method, dev.Type))
	}
	if !has("disposed_on") {
		add("disposed_on", CheckRecordDate("date", disp.DisposedOn, rules.now))
	}
	if !has("weight_kg") && !has("type") {
		add("weight_kg", CheckWeight(dev.Type, disp.WeightG, rules.allowUnusual || hasUnusualMarker(disp.Notes)))
	}
	for _, f := range AppendixGFields {
		add(f.Name, f.Set(&disp.AppG, get(f.Name)))
	}
	return dev, disp, bad
}

// fieldOf finds which column a validation error is about from its text
// (validation errors start with the field name), else returns def.
func fieldOf(err error, def string) string {
	msg := strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
	for _, c := range allImportColumns {
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
