package ledger

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Listing devices and disposals
//
// itad device list and itad disposal list answer "which devices ..." with
// filters. They are consultations: a front end sends them through
// Disclose with the actions DeviceListAction and DisposalListAction and
// the filter (ListQuery.Payload) in the event. The queries are
// parameterised and streamed, one consistent snapshot each.

// The consultation actions of the two listings.
const (
	DeviceListAction   = "device.list"
	DisposalListAction = "disposal.list"
)

func init() { RegisterNoStateAction(DeviceListAction, DisposalListAction) }

// ListQuery filters a device or disposal list. Every field set narrows
// the list; the zero ListQuery lists everything.
//
// For a device list, Type and Site are the device's own; Method, Years,
// Contractor, Batch, Since and Uncertified are about its final
// disposition (a device never disposed of matches none of them). For a
// disposal list they are about each disposal and its device.
type ListQuery struct {
	Type       string // a device type, as ParseDeviceType reads it
	Method     string // a method, as ParseMethod reads it
	Years      []int  // calendar years of the disposal date
	Contractor string // a recorded contractor's name
	Site       string // the device's site (case and spacing ignored)
	Batch      string // a batch reference
	Since      string // YYYY-MM-DD: disposed of on or after
	// Uncertified keeps the final dispositions that no current
	// certificate covers: none neither revoked nor superseded covers the
	// device, or every one that does is stale (a later change, such as a
	// new final disposition, marked it: see stale.go).
	Uncertified bool
	// IncludeVoid, for a disposal list, keeps voided disposals (marked
	// void); they are left out otherwise. A device list shows final
	// dispositions, which are never void.
	IncludeVoid bool
	// NeedsDestruction keeps the devices with a failed erasure and no
	// disposal recorded since (evidence.go).
	NeedsDestruction bool
}

// Payload is the filter as the consultation's event records it: the
// fields set, by their flag names.
func (q ListQuery) Payload() map[string]any {
	p := map[string]any{}
	for k, v := range map[string]string{"type": q.Type, "method": q.Method, "contractor": q.Contractor,
		"site": q.Site, "batch": q.Batch, "since": q.Since} {
		if v != "" {
			p[k] = v
		}
	}
	if len(q.Years) > 0 {
		p["years"] = q.Years
	}
	if q.Uncertified {
		p["uncertified"] = true
	}
	if q.IncludeVoid {
		p["include_void"] = true
	}
	if q.NeedsDestruction {
		p["needs_destruction"] = true
	}
	return p
}

// Subject names the filter in the event's subject: "all", or the filters
// set, e.g. "type=hdd years=2023,2024 uncertified".
func (q ListQuery) Subject() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("type", q.Type)
	add("method", q.Method)
	if len(q.Years) > 0 {
		ys := make([]string, len(q.Years))
		for i, y := range q.Years {
			ys[i] = strconv.Itoa(y)
		}
		add("years", strings.Join(ys, ","))
	}
	add("contractor", q.Contractor)
	add("site", q.Site)
	add("batch", q.Batch)
	add("since", q.Since)
	if q.Uncertified {
		parts = append(parts, "uncertified")
	}
	if q.IncludeVoid {
		parts = append(parts, "include-void")
	}
	if q.NeedsDestruction {
		parts = append(parts, "needs-destruction")
	}
	if len(parts) == 0 {
		return "all"
	}
	return strings.Join(parts, " ")
}

// coveredExpr is true when a current certificate that is not stale
// covers the device d. The unary + keeps the stale check on the
// certificate's own events (events_subject): through events_action it
// read every stale mark for each device. TestUncertified_QueryPlans pins
// the plan.
const coveredExpr = `EXISTS (SELECT 1 FROM certificate_devices cd JOIN certificates ct ON ct.id = cd.certificate_id
	WHERE cd.device_id = d.id AND ct.superseded_by = '' AND ct.revoked_at = ''
	AND NOT EXISTS (SELECT 1 FROM events e WHERE e.subject = ct.uuid AND +e.action = '` + CertificateStaleAction + `'))`

// where builds the conditions of q on devices d, disposals x, contractors
// c and batches b, checking each value first (ErrInvalid, or
// NotFoundError for a contractor or batch that is not recorded).
func (s *Store) listWhere(q ListQuery) (string, []any, error) {
	var conds []string
	var args []any
	if q.Type != "" {
		t, err := ParseDeviceType(q.Type)
		if err != nil {
			return "", nil, err
		}
		conds, args = append(conds, `d.type = ?`), append(args, string(t))
	}
	if q.Method != "" {
		m, err := ParseMethod(q.Method)
		if err != nil {
			return "", nil, err
		}
		conds, args = append(conds, `x.method = ?`), append(args, string(m))
	}
	if len(q.Years) > 0 {
		conds = append(conds, `x.year IN (`+strings.TrimSuffix(strings.Repeat("?,", len(q.Years)), ",")+`)`)
		for _, y := range q.Years {
			if y < 1000 || y > 9999 {
				return "", nil, fmt.Errorf("%w: year %d (four digits, e.g. 2024)", ErrInvalid, y)
			}
			args = append(args, y)
		}
	}
	if q.Contractor != "" {
		var id int64
		err := s.db.QueryRow(`SELECT id FROM contractors WHERE name_key IN (?, ?) ORDER BY name_key <> ? LIMIT 1`,
			legacyNameKey(q.Contractor), NameKey(q.Contractor), legacyNameKey(q.Contractor)).Scan(&id)
		if err == sql.ErrNoRows {
			return "", nil, notFound("contractor", q.Contractor)
		} else if err != nil {
			return "", nil, fmt.Errorf("read contractor: %w", err)
		}
		conds, args = append(conds, `x.contractor_id = ?`), append(args, id)
	}
	if q.Site != "" {
		conds, args = append(conds, `lower(trim(d.site)) = lower(?)`), append(args, strings.Join(strings.Fields(q.Site), " "))
	}
	if q.Batch != "" {
		var id int64
		err := s.db.QueryRow(`SELECT id FROM batches WHERE ref_key IN (?, ?) ORDER BY ref_key <> ? LIMIT 1`,
			legacyNameKey(q.Batch), NameKey(q.Batch), legacyNameKey(q.Batch)).Scan(&id)
		if err == sql.ErrNoRows {
			return "", nil, notFound("batch", q.Batch)
		} else if err != nil {
			return "", nil, fmt.Errorf("read batch: %w", err)
		}
		conds, args = append(conds, `x.batch_id = ?`), append(args, id)
	}
	if q.Since != "" {
		d, err := ParseDate(q.Since)
		if err != nil {
			return "", nil, fmt.Errorf("since: %w", err)
		}
		conds, args = append(conds, `x.disposed_on >= ?`), append(args, d.Format("2006-01-02"))
	}
	if q.Uncertified {
		conds = append(conds, `x.is_final = 1 AND NOT `+coveredExpr)
	}
	if q.NeedsDestruction {
		conds = append(conds, needsDestructionExpr)
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " AND " + strings.Join(conds, " AND "), args, nil
}

// DeviceListColumns are the columns of a device list, in order.
var DeviceListColumns = []string{"serial", "asset_tag", "type", "make", "model", "capacity_gb", "site",
	"method", "disposed_on", "contractor", "batch", "certified", "device_uuid", "disposal_uuid"}

// DeviceListRow is one device with its final disposition (empty when it
// has none). Certified says that a current certificate that is not stale
// covers it.
type DeviceListRow struct {
	Serial       string `json:"serial"`
	AssetTag     string `json:"asset_tag"`
	Type         string `json:"type"`
	Make         string `json:"make"`
	Model        string `json:"model"`
	CapacityGB   *int64 `json:"capacity_gb"`
	Site         string `json:"site"`
	Method       string `json:"method"`
	DisposedOn   string `json:"disposed_on"`
	Contractor   string `json:"contractor"`
	Batch        string `json:"batch"`
	Certified    bool   `json:"certified"`
	DeviceUUID   string `json:"device_uuid"`
	DisposalUUID string `json:"disposal_uuid"`
}

func (r *DeviceListRow) record() []string {
	return []string{r.Serial, r.AssetTag, r.Type, r.Make, r.Model, optInt(r.CapacityGB), r.Site,
		r.Method, r.DisposedOn, r.Contractor, r.Batch, yesNo(r.Certified), r.DeviceUUID, r.DisposalUUID}
}

// ListDevices calls fn with each device that q selects, by serial, with
// its final disposition. fn's row is reused between calls.
func (s *Store) ListDevices(q ListQuery, fn func(*DeviceListRow) error) error {
	where, args, err := s.listWhere(q)
	if err != nil {
		return err
	}
	rows, err := s.db.Query(`SELECT d.serial, d.asset_tag, d.type, d.make, d.model, d.capacity_gb, d.site,
		coalesce(x.method, ''), coalesce(x.disposed_on, ''), coalesce(c.name, ''), coalesce(b.ref, ''),
		x.id IS NOT NULL AND `+coveredExpr+`, d.uuid, coalesce(x.uuid, '')
		FROM devices d LEFT JOIN disposals x ON x.device_id = d.id AND x.is_final = 1
		LEFT JOIN contractors c ON c.id = x.contractor_id LEFT JOIN batches b ON b.id = x.batch_id
		WHERE 1 = 1`+where+` ORDER BY d.serial_key`, args...)
	if err != nil {
		return fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	var r DeviceListRow
	for rows.Next() {
		var capGB sql.NullInt64
		if err := rows.Scan(&r.Serial, &r.AssetTag, &r.Type, &r.Make, &r.Model, &capGB, &r.Site, &r.Method,
			&r.DisposedOn, &r.Contractor, &r.Batch, &r.Certified, &r.DeviceUUID, &r.DisposalUUID); err != nil {
			return fmt.Errorf("list devices: %w", err)
		}
		r.CapacityGB = nullInt(capGB)
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list devices: %w", err)
	}
	return nil
}

// DisposalListColumns are the columns of a disposal list, in order.
var DisposalListColumns = []string{"disposed_on", "serial", "type", "site", "method", "category", "contractor",
	"batch", "weight_grams", "final", "void", "certified", "disposal_uuid", "device_uuid"}

// DisposalListRow is one disposal. WeightG is its own recorded weight
// (nil when not weighed; a batch's share is not computed here). Final
// says it is its device's final disposition, Void that it was voided
// (listed only with IncludeVoid), Certified that it is final and a
// current certificate that is not stale covers its device.
type DisposalListRow struct {
	DisposedOn   string `json:"disposed_on"`
	Serial       string `json:"serial"`
	Type         string `json:"type"`
	Site         string `json:"site"`
	Method       string `json:"method"`
	Category     string `json:"category"`
	Contractor   string `json:"contractor"`
	Batch        string `json:"batch"`
	WeightG      *int64 `json:"weight_grams"`
	Final        bool   `json:"final"`
	Void         bool   `json:"void"`
	Certified    bool   `json:"certified"`
	DisposalUUID string `json:"disposal_uuid"`
	DeviceUUID   string `json:"device_uuid"`
}

func (r *DisposalListRow) record() []string {
	return []string{r.DisposedOn, r.Serial, r.Type, r.Site, r.Method, r.Category, r.Contractor, r.Batch,
		optInt(r.WeightG), yesNo(r.Final), yesNo(r.Void), yesNo(r.Certified), r.DisposalUUID, r.DeviceUUID}
}

// ListDisposals calls fn with each disposal that q selects, by date,
// serial and order of recording; voided ones only with q.IncludeVoid.
// fn's row is reused between calls.
func (s *Store) ListDisposals(q ListQuery, fn func(*DisposalListRow) error) error {
	where, args, err := s.listWhere(q)
	if err != nil {
		return err
	}
	if !q.IncludeVoid {
		where += ` AND x.voided_seq = 0`
	}
	rows, err := s.db.Query(`SELECT x.disposed_on, d.serial, d.type, d.site, x.method, x.category, c.name,
		coalesce(b.ref, ''), x.weight_g, x.is_final = 1, x.voided_seq <> 0, x.is_final = 1 AND `+coveredExpr+`, x.uuid, d.uuid
		FROM disposals x JOIN devices d ON d.id = x.device_id JOIN contractors c ON c.id = x.contractor_id
		LEFT JOIN batches b ON b.id = x.batch_id
		WHERE 1 = 1`+where+` ORDER BY x.disposed_on, d.serial_key, x.seq`, args...)
	if err != nil {
		return fmt.Errorf("list disposals: %w", err)
	}
	defer rows.Close()
	var r DisposalListRow
	for rows.Next() {
		var w sql.NullInt64
		if err := rows.Scan(&r.DisposedOn, &r.Serial, &r.Type, &r.Site, &r.Method, &r.Category, &r.Contractor,
			&r.Batch, &w, &r.Final, &r.Void, &r.Certified, &r.DisposalUUID, &r.DeviceUUID); err != nil {
			return fmt.Errorf("list disposals: %w", err)
		}
		r.WeightG = nullInt(w)
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list disposals: %w", err)
	}
	return nil
}

// WriteDeviceList writes the devices q selects to w in format text (a
// table for people, stored text escaped by Printable), csv (a header of
// DeviceListColumns, then RFC 4180 records, cells neutralised as in
// every CSV itad writes: see csvWriter) or json (an array, one object a
// line). It returns how many devices it wrote.
func (s *Store) WriteDeviceList(w io.Writer, q ListQuery, format string) (int64, error) {
	lw, err := newListWriter(w, format, DeviceListColumns,
		"SERIAL\tTYPE\tMAKE\tMODEL\tSITE\tMETHOD\tDATE\tCONTRACTOR\tBATCH\tCERTIFIED", "No devices match.")
	if err != nil {
		return 0, err
	}
	err = s.ListDevices(q, func(r *DeviceListRow) error {
		return lw.row(r, r.record, func() []string {
			return []string{r.Serial, DeviceType(r.Type).Label(), r.Make, r.Model, r.Site, r.Method, r.DisposedOn, r.Contractor, r.Batch,
				certifiedCell(r.DisposalUUID != "", r.Certified)}
		})
	})
	if err != nil {
		return lw.n, err
	}
	return lw.n, lw.close()
}

// WriteDisposalList writes the disposals q selects to w in format text,
// csv (a header of DisposalListColumns) or json, as WriteDeviceList does.
func (s *Store) WriteDisposalList(w io.Writer, q ListQuery, format string) (int64, error) {
	lw, err := newListWriter(w, format, DisposalListColumns,
		"DATE\tSERIAL\tTYPE\tSITE\tMETHOD\tCONTRACTOR\tBATCH\tWEIGHT\tFINAL\tCERTIFIED\tDISPOSAL", "No disposals match.")
	if err != nil {
		return 0, err
	}
	err = s.ListDisposals(q, func(r *DisposalListRow) error {
		return lw.row(r, r.record, func() []string {
			wt, final := "-", "no"
			if r.WeightG != nil {
				wt = FormatKg(*r.WeightG) + " kg"
			}
			if r.Void {
				final = "void"
			} else if r.Final {
				final = "yes"
			}
			return []string{r.DisposedOn, r.Serial, DeviceType(r.Type).Label(), r.Site, r.Method, r.Contractor, r.Batch, wt, final,
				certifiedCell(r.Final && !r.Void, r.Certified), r.DisposalUUID}
		})
	})
	if err != nil {
		return lw.n, err
	}
	return lw.n, lw.close()
}

func certifiedCell(applies, certified bool) string {
	switch {
	case !applies:
		return "-"
	case certified:
		return "yes"
	}
	return "no"
}

// listWriter writes the rows of a list in one of its formats.
type listWriter struct {
	format string
	bw     *bufio.Writer
	cw     *csvWriter
	tw     *tabwriter.Writer
	obj    bytes.Buffer
	enc    *json.Encoder
	header string
	empty  string
	n      int64
}

func newListWriter(w io.Writer, format string, columns []string, header, empty string) (*listWriter, error) {
	lw := &listWriter{format: format, bw: bufio.NewWriterSize(w, 64<<10), header: header, empty: empty}
	switch format {
	case "text", "":
		lw.format = "text"
		lw.tw = tabwriter.NewWriter(PrintableWriter{W: lw.bw}, 0, 0, 2, ' ', 0)
	case "csv":
		lw.cw = &csvWriter{w: lw.bw}
		lw.cw.record(columns)
	case "json":
		lw.enc = json.NewEncoder(&lw.obj)
		lw.enc.SetEscapeHTML(false)
		lw.bw.WriteString("[")
	default:
		return nil, fmt.Errorf("%w: format %q (one of text, csv, json)", ErrInvalid, format)
	}
	return lw, nil
}

// row writes one row: v as a JSON object, record() as a CSV record, or
// cells() as a line of the table (a dash for an empty cell).
func (lw *listWriter) row(v any, record, cells func() []string) error {
	lw.n++
	switch lw.format {
	case "csv":
		lw.cw.record(record())
		return lw.cw.err
	case "json":
		if lw.n > 1 {
			lw.bw.WriteString(",")
		}
		lw.bw.WriteString("\n")
		lw.obj.Reset()
		if err := lw.enc.Encode(v); err != nil {
			return err
		}
		_, err := lw.bw.Write(bytes.TrimSuffix(lw.obj.Bytes(), []byte("\n")))
		return err
	}
	if lw.n == 1 {
		fmt.Fprintln(lw.tw, lw.header)
	}
	cs := cells()
	for i, c := range cs {
		if c = strings.Join(strings.Fields(c), " "); c == "" {
			c = "-"
		}
		cs[i] = strings.ReplaceAll(c, "\t", " ")
	}
	_, err := fmt.Fprintln(lw.tw, strings.Join(cs, "\t"))
	return err
}

func (lw *listWriter) close() error {
	switch lw.format {
	case "csv":
		if lw.cw.err != nil {
			return lw.cw.err
		}
	case "json":
		if lw.n > 0 {
			lw.bw.WriteString("\n")
		}
		lw.bw.WriteString("]\n")
	default:
		if lw.n == 0 {
			fmt.Fprintln(lw.tw, lw.empty)
		}
		if err := lw.tw.Flush(); err != nil {
			return err
		}
	}
	return lw.bw.Flush()
}

func optInt(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
