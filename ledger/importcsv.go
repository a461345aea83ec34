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
	fmt.Fprintf(&b, "import %s: %d error(s), nothing imported", e.File, len(e.Errors))
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
	// Progress, when set, is called every few thousand rows with the number
	// of bytes read so far.
	Progress func(bytesRead int64)
}

// importPayload is the event of a row that adds a new device with its
// disposal (action "device.import").
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

	contractors := map[string]int64{}
	type batchInfo struct {
		id     int64
		closed bool
	}
	batches := map[string]batchInfo{}
	errOut := func(line int, field string, err error) {
		if len(ie.Errors) < maxImportErrors {
			ie.Errors = append(ie.Errors, RowError{line, field, strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")})
		}
	}

	err = s.write(opts.Reason, func(t *txn) error {
		if err := t.loadHead(); err != nil {
			return err
		}
		for {
			rec, err := rd.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			var line int
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				errOut(pe.StartLine, "csv", pe.Err)
				if !errors.Is(pe.Err, csv.ErrFieldCount) {
					break // the CSV cannot be read past a quoting error
				}
				continue
			} else if err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			line, _ = rd.FieldPos(0)
			res.Rows++
			if opts.Progress != nil && res.Rows%4096 == 0 {
				opts.Progress(cr.n)
			}
			if len(rec) != len(ImportColumns) {
				errOut(line, "csv", fmt.Errorf("%d fields, expected %d", len(rec), len(ImportColumns)))
				continue
			}
			get := func(c string) string { return rec[col[c]] }
			dev, disp, field, err := parseImportRow(get)
			if err != nil {
				errOut(line, field, err)
				continue
			}
			// Contractor: known, or created and reported.
			ck := NameKey(disp.Contractor)
			cID, ok := contractors[ck]
			if !ok {
				if cID, err = t.contractorID(disp.Contractor); errors.Is(err, ErrNotFound) {
					c := Contractor{Name: disp.Contractor}
					if err := c.Validate(); err != nil {
						errOut(line, "contractor", err)
						continue
					}
					if cID, err = t.addContractor(&c); err != nil {
						return err
					}
					res.NewContractors = append(res.NewContractors, c.Name)
				} else if err != nil {
					return err
				}
				contractors[ck] = cID
			}
			// Batch: known, or created from this row and reported.
			var batchID *int64
			var batchClosed bool
			if disp.Batch != "" {
				bk := NameKey(disp.Batch)
				bi, ok := batches[bk]
				if !ok {
					b, id, err := t.batchByRef(disp.Batch)
					switch {
					case errors.Is(err, ErrNotFound):
						b = Batch{Ref: disp.Batch, Site: dev.Site, RunOn: disp.DisposedOn, Witness: disp.Witness}
						if err := b.Validate(); err != nil {
							errOut(line, "batch", err)
							continue
						}
						if id, err = t.insertBatch(&b, &cID); err != nil {
							return err
						}
						res.NewBatches = append(res.NewBatches, b.Ref)
					case err != nil:
						return err
					}
					bi = batchInfo{id, b.ClosedAt != ""}
					batches[bk] = bi
				}
				batchID, batchClosed = &bi.id, bi.closed
			}
			// Device: new (the fast path, one insert), or already recorded.
			dev.UUID = newUUID()
			devID, inserted, err := t.insertDeviceIfNew(&dev, t.seq+1)
			if err != nil {
				return err
			}
			if inserted {
				if batchClosed {
					errOut(line, "batch", fmt.Errorf("batch %s is closed: a new disposal cannot join it", disp.Batch))
					continue
				}
				disp.UUID, disp.Final, disp.Serial = newUUID(), true, dev.Serial
				seq, err := t.appendEvent("device.import", dev.Serial, importPayload{dev, disp})
				if err != nil {
					return err
				}
				if err := t.insertDisposalRow(&disp, devID, cID, batchID, seq, true); err != nil {
					return err
				}
				res.DevicesAdded++
				res.DisposalsAdded++
				continue
			}
			existing, existingID, err := t.deviceBySerial(dev.Serial)
			if err != nil {
				return err
			}
			if !existing.sameData(dev) {
				errOut(line, "serial", fmt.Errorf("serial %s is already in the ledger with different device data: the file has %s; the ledger has %s",
					dev.Serial, dev.describe(), existing.describe()))
				continue
			}
			disp.Serial = existing.Serial
			prior, err := queryDisposals(t.tx, `WHERE x.device_id = ?`, existingID)
			if err != nil {
				return err
			}
			dup := false
			for _, p := range prior {
				if p.sameData(disp) {
					dup = true
					break
				}
			}
			if dup {
				res.Unchanged++
				continue
			}
			if batchClosed {
				errOut(line, "batch", fmt.Errorf("batch %s is closed: a new disposal cannot join it", disp.Batch))
				continue
			}
			if err := t.insertDisposal(&disp, existingID, existing.UUID, cID, batchID, "disposal.record", false); err != nil {
				return err
			}
			res.DisposalsAdded++
		}
		if len(ie.Errors) > 0 {
			return ie
		}
		res.SHA256 = hex.EncodeToString(h.Sum(nil))
		if res.DevicesAdded+res.DisposalsAdded == 0 {
			return nil // nothing changed: record nothing
		}
		_, err := t.appendEvent("import.file", name, res)
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

// insertDeviceIfNew inserts d unless its serial is already recorded,
// reporting whether it did. seq is the event that will record it.
func (t *txn) insertDeviceIfNew(d *Device, seq int64) (int64, bool, error) {
	res, err := t.exec(`INSERT INTO devices(uuid, serial, serial_key, asset_tag, type, make, model, capacity_gb, site, seq)
		VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(serial_key) DO NOTHING`,
		d.UUID, d.Serial, SerialKey(d.Serial), d.AssetTag, string(d.Type), d.Make, d.Model, d.CapacityGB, d.Site, seq)
	if err != nil {
		return 0, false, fmt.Errorf("add device %s: %w", d.Serial, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, false, nil
	}
	id, err := res.LastInsertId()
	return id, true, err
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

// parseImportRow turns one CSV row into a device and a disposal, or names
// the first bad field.
func parseImportRow(get func(string) string) (Device, Disposal, string, error) {
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
