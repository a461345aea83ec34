package ledger

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The replay of each table (see verify.go).

// ---- devices ----

type devRow struct {
	id, seq                                                   int64
	uuid, serial, serialKey, assetTag, typ, make, model, site string
	cap                                                       int64
	capNull                                                   bool
	bad                                                       string
}

func scanDevRow(st *rawStmt, a *arena, r *devRow) {
	c := rowScan{st: st, a: a}
	r.id = c.int(0, "id")
	r.uuid, r.serial, r.serialKey, r.assetTag = c.text(1, "uuid"), c.text(2, "serial"), c.text(3, "serial_key"), c.text(4, "asset_tag")
	r.typ, r.make, r.model = c.text(5, "type"), c.text(6, "make"), c.text(7, "model")
	r.cap, r.capNull = c.nullInt(8, "capacity_gb")
	r.site, r.seq = c.text(9, "site"), c.int(10, "seq")
	r.bad = c.bad
}

// rowScan reads the columns of a row, checking their storage class.
type rowScan struct {
	st  *rawStmt
	a   *arena
	bad string
}

func (c *rowScan) wrong(col string) { c.bad += col + " has the wrong type; " }

func (c *rowScan) text(i int, col string) string {
	typ, b, _ := c.st.col(i)
	if typ != colText {
		c.wrong(col)
	}
	return c.a.str(b)
}

func (c *rowScan) blob(i int, col string) []byte {
	typ, b, _ := c.st.col(i)
	if typ != colBlob {
		c.wrong(col)
	}
	return c.a.bytes(b)
}

func (c *rowScan) int(i int, col string) int64 {
	typ, _, n := c.st.col(i)
	if typ != colInteger {
		c.wrong(col)
	}
	return n
}

func (c *rowScan) nullInt(i int, col string) (int64, bool) {
	switch typ, _, n := c.st.col(i); typ {
	case colNull:
		return 0, true
	case colInteger:
		return n, false
	}
	c.wrong(col)
	return 0, false
}

func devInfo(r *devRow) (int64, int64) { return r.id, r.seq }
func devKey(r *devRow) string          { return "serial " + r.serial }

type devPending struct {
	seq int64
	exp devFields
	row devRow
	// hash, for a row an import.rows event created, is the hash it
	// recorded, which the row did not have: exp is then the row itself,
	// to be hashed again once its amendments are undone.
	hash *[32]byte
}

// devProblem returns how row differs from the device d, or "".
func devProblem(r *devRow, d *devFields) string {
	switch {
	case r.bad != "":
		return strings.TrimSuffix(r.bad, "; ")
	case r.uuid != d.UUID:
		return colMismatch("uuid", r.uuid, d.UUID)
	case r.serial != d.Serial:
		return colMismatch("serial", r.serial, d.Serial)
	case !serialKeyOf(r.serialKey, d.Serial):
		return colMismatch("serial_key", r.serialKey, SerialKey(d.Serial))
	case r.assetTag != d.AssetTag:
		return colMismatch("asset_tag", r.assetTag, d.AssetTag)
	case r.typ != d.Type:
		return colMismatch("type", r.typ, d.Type)
	case r.make != d.Make:
		return colMismatch("make", r.make, d.Make)
	case r.model != d.Model:
		return colMismatch("model", r.model, d.Model)
	case r.capNull != d.CapNull || r.cap != d.Cap:
		return colMismatch("capacity_gb", verifyNullInt(r.cap, r.capNull), verifyNullInt(d.Cap, d.CapNull))
	case r.site != d.Site:
		return colMismatch("site", r.site, d.Site)
	}
	return ""
}

func verifyNullInt(n int64, null bool) any {
	if null {
		return nil
	}
	return n
}

// serialKeyOf reports whether key is SerialKey(serial), or the
// legacySerialKey an older itad wrote (kept by refoldKeys where the new
// fold would merge two devices), without allocating for ASCII serials,
// whose two keys are the same.
func serialKeyOf(key, serial string) bool {
	for i := 0; i < len(serial); i++ {
		if serial[i] >= utf8.RuneSelf {
			return key == SerialKey(serial) || key == legacySerialKey(serial)
		}
	}
	s := serial
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r' || s[0] == '\v' || s[0] == '\f') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t' || s[len(s)-1] == '\n' || s[len(s)-1] == '\r' || s[len(s)-1] == '\v' || s[len(s)-1] == '\f') {
		s = s[:len(s)-1]
	}
	if len(key) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if key[i] != c {
			return false
		}
	}
	return true
}

// deviceCreated checks the row event e created for device d, returning
// its id (0 when there is none).
func (v *verifier) deviceCreated(e *evRec, d *devFields) int64 {
	r := takeRow(v, v.devs, "devices", e, devInfo, devKey)
	if r == nil {
		return 0
	}
	v.nDevices++
	v.deviceSeen(r.id, d.UUID)
	if devProblem(r, d) != "" {
		v.pendingDev[r.id] = &devPending{seq: e.seq, exp: cloneDev(*d), row: cloneDevRow(*r)}
	}
	return r.id
}

// deviceUUID returns the uuid of devices row id, as the row holds it
// (the devices stream checks it against its event), and false when
// there is no such row.
func (v *verifier) deviceUUID(id int64) (string, bool, error) {
	if v.uuidStmt == nil {
		st, err := v.main.prepare(`SELECT uuid FROM devices WHERE id = ?`)
		if err != nil {
			return "", false, fmt.Errorf("verify: %w", err)
		}
		v.uuidStmt = st
	}
	st := v.uuidStmt
	st.reset()
	if err := st.bindInt64(1, id); err != nil {
		return "", false, fmt.Errorf("verify: %w", err)
	}
	ok, err := st.step()
	if err != nil || !ok {
		return "", false, err
	}
	return st.text(0), true, nil
}

// deviceIs reports whether devices row id is the device uuid.
func (v *verifier) deviceIs(id int64, uuid string) bool {
	u, ok, err := v.deviceUUID(id)
	if err != nil {
		v.readErr = err
	}
	return ok && u == uuid
}

func cloneDev(d devFields) devFields {
	for _, p := range []*string{&d.UUID, &d.Serial, &d.AssetTag, &d.Type, &d.Make, &d.Model, &d.Site} {
		*p = strings.Clone(*p)
	}
	return d
}

func cloneDevRow(r devRow) devRow {
	for _, p := range []*string{&r.uuid, &r.serial, &r.serialKey, &r.assetTag, &r.typ, &r.make, &r.model, &r.site} {
		*p = strings.Clone(*p)
	}
	return r
}

// ---- disposals ----

type dispRow struct {
	id, seq, deviceID, contractorID, year, finYear, weight, batchID, isFinal int64
	voidedSeq                                                                int64
	uuid, method, category, standard, tool, verified, disposedOn             string
	operator, witness, notes                                                 string
	weightNull, batchNull                                                    bool
	bad                                                                      string
}

func scanDispRow(st *rawStmt, a *arena, r *dispRow) {
	c := rowScan{st: st, a: a}
	r.id, r.uuid, r.deviceID = c.int(0, "id"), c.text(1, "uuid"), c.int(2, "device_id")
	r.method, r.category, r.standard = c.text(3, "method"), c.text(4, "category"), c.text(5, "standard")
	r.tool, r.verified, r.contractorID = c.text(6, "tool"), c.text(7, "verified"), c.int(8, "contractor_id")
	r.disposedOn, r.year, r.finYear = c.text(9, "disposed_on"), c.int(10, "year"), c.int(11, "fin_year")
	r.weight, r.weightNull = c.nullInt(12, "weight_g")
	r.batchID, r.batchNull = c.nullInt(13, "batch_id")
	r.operator, r.witness, r.notes = c.text(14, "operator"), c.text(15, "witness"), c.text(16, "notes")
	r.isFinal, r.seq = c.int(17, "is_final"), c.int(18, "seq")
	r.voidedSeq = c.int(19, "voided_seq")
	r.bad = c.bad
}

func dispInfo(r *dispRow) (int64, int64) { return r.id, r.seq }
func dispKey(r *dispRow) string          { return "uuid " + r.uuid }

// dispExp is what a disposals row should hold: the event's fields with
// the contractor and batch resolved to row ids.
type dispExp struct {
	f            dispFields
	contractorID int64
	batchID      int64
	batchNull    bool
}

type dispPending struct {
	seq  int64
	exp  dispExp
	row  dispRow
	hash *[32]byte // as in devPending
}

// addNameKeys indexes a contractor or batch row as the store finds it
// (lookupName): by its legacy key, marked with a leading NUL, and by its
// NameKey unless an earlier row has it — refoldKeys gives the new key to
// the first row of those an older itad kept apart, the others keeping
// their legacy keys.
func addNameKeys(byKey map[string]rowRef, name string, r rowRef) {
	byKey["\x00"+legacyNameKey(name)] = r
	if _, taken := byKey[NameKey(name)]; !taken {
		byKey[NameKey(name)] = r
	}
}

// resolve finds the row of a contractor or batch by the name an event
// gives, as it stood at event seq, as the store does: by legacy key
// first, then by NameKey. cache is keyed by the exact name.
func resolveName(cache map[string]rowRef, byKey map[string]rowRef, name string, seq int64) (rowRef, bool) {
	r, ok := cache[name]
	if !ok {
		if r, ok = byKey["\x00"+legacyNameKey(name)]; !ok {
			r, ok = byKey[NameKey(name)]
		}
		if ok {
			cache[strings.Clone(name)] = r
		}
	}
	return r, ok && r.seq < seq
}

func (v *verifier) expectDisposal(f *dispFields, seq int64) dispExp {
	x := dispExp{f: *f, batchNull: true}
	if r, ok := resolveName(v.cCache, v.cByKey, f.Contractor, seq); ok {
		x.contractorID = r.id
	}
	if f.Batch != "" {
		if r, ok := resolveName(v.bCache, v.bByKey, f.Batch, seq); ok {
			x.batchID, x.batchNull = r.id, false
		} else {
			x.batchID, x.batchNull = 0, false // names a batch that does not exist: no row matches
		}
	}
	return x
}

// dispProblem returns how row differs from x, or "". names resolves ids
// to names for messages.
func (v *verifier) dispProblem(r *dispRow, x *dispExp) string {
	f := &x.f
	year, finYear := dateYears(f.DisposedOn)
	switch {
	case r.bad != "":
		return strings.TrimSuffix(r.bad, "; ")
	case r.uuid != f.UUID:
		return colMismatch("uuid", r.uuid, f.UUID)
	case r.method != f.Method:
		return colMismatch("method", r.method, f.Method)
	case r.category != f.Category:
		return colMismatch("category", r.category, f.Category)
	case r.standard != f.Standard:
		return colMismatch("standard", r.standard, f.Standard)
	case r.tool != f.Tool:
		return colMismatch("tool", r.tool, f.Tool)
	case r.verified != f.Verified:
		return colMismatch("verified", r.verified, f.Verified)
	case r.contractorID != x.contractorID:
		return fmt.Sprintf("contractor_id is %d (%s), events say contractor %q", r.contractorID, v.nameOf(v.cNameByID, r.contractorID), f.Contractor)
	case r.disposedOn != f.DisposedOn:
		return colMismatch("disposed_on", r.disposedOn, f.DisposedOn)
	case r.year != year:
		return colMismatch("year", r.year, year)
	case r.finYear != finYear:
		return colMismatch("fin_year", r.finYear, finYear)
	case r.weightNull != f.WeightNull || r.weight != f.Weight:
		return colMismatch("weight_g", verifyNullInt(r.weight, r.weightNull), verifyNullInt(f.Weight, f.WeightNull))
	case r.batchNull != x.batchNull || r.batchID != x.batchID:
		if r.batchNull {
			return fmt.Sprintf("batch_id is NULL, events say batch %q", f.Batch)
		}
		return fmt.Sprintf("batch_id is %d (%s), events say batch %q", r.batchID, v.nameOf(v.bRefByID, r.batchID), f.Batch)
	case r.operator != f.Operator:
		return colMismatch("operator", r.operator, f.Operator)
	case r.witness != f.Witness:
		return colMismatch("witness", r.witness, f.Witness)
	case r.notes != f.Notes:
		return colMismatch("notes", r.notes, f.Notes)
	case r.isFinal != 0 && r.isFinal != 1:
		return fmt.Sprintf("is_final is %d", r.isFinal)
	}
	return ""
}

func (v *verifier) nameOf(keys map[int64]string, id int64) string {
	if k, ok := keys[id]; ok {
		return strconv.Quote(k)
	}
	return "no such row"
}

// dateYears returns the calendar and UK financial year of an ISO date as
// the writer computes them (ParseDate; an invalid date gives year 1 and
// financial year 0).
func dateYears(s string) (int64, int64) {
	var y, m, d int
	fast := len(s) == 10 && s[4] == '-' && s[7] == '-'
	for i := 0; fast && i < 10; i++ {
		if i != 4 && i != 7 && (s[i] < '0' || s[i] > '9') {
			fast = false
		}
	}
	if fast {
		y = int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
		m = int(s[5]-'0')*10 + int(s[6]-'0')
		d = int(s[8]-'0')*10 + int(s[9]-'0')
		days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			days[2] = 29
		}
		if m < 1 || m > 12 || d < 1 || d > days[m] || y < 1950 || y > 2200 {
			return 1, 0
		}
	} else {
		t, _ := ParseDate(s)
		y, m = t.Year(), int(t.Month())
	}
	if m < 4 {
		return int64(y), int64(y - 1)
	}
	return int64(y), int64(y)
}

// disposalCreated checks the row event e created for disposal f of
// device devUUID; devID, when not 0, is that device's row, created by the
// same event.
func (v *verifier) disposalCreated(e *evRec, f *dispFields, devUUID string, devID int64) {
	r := takeRow(v, v.disps, "disposals", e, dispInfo, dispKey)
	if r == nil {
		return
	}
	if devID != 0 && r.deviceID != devID {
		v.tableProblem(e.seq, &TableError{Table: "disposals", RowID: r.id, Key: "uuid " + r.uuid, Seq: e.seq,
			Problem: fmt.Sprintf("device_id %d is not device %s that event %d names", r.deviceID, devUUID, e.seq)})
	}
	// That the row device_id names is device devUUID is checked for all
	// disposals at once (deviceRefs).
	v.refs.disposal(r.deviceID, devUUID)
	x := v.expectDisposal(f, e.seq)
	v.disposalChecked(e, r, &x, nil)
}

// disposalChecked checks the row r that event e created against x, or,
// with hash (an imported row that did not hash to it), leaves it to be
// settled; it notes the device's disposals for its final disposition.
func (v *verifier) disposalChecked(e *evRec, r *dispRow, x *dispExp, hash *[32]byte) {
	v.nDisposals++
	if hash != nil || v.dispProblem(r, x) != "" {
		v.pendingDisp[r.id] = &dispPending{seq: e.seq, exp: cloneDispExp(*x), row: cloneDispRow(*r), hash: hash}
	}
	// A device's only disposal is final; with more, settleFinal decides.
	// A void one never is (settleVoids checks voided_seq).
	m := dispMini{id: r.id, seq: r.seq, final: r.isFinal, dest: r.category == string(Destroy), date: dateKey(r.disposedOn),
		void: r.voidedSeq != 0}
	if m.void {
		v.voidRows[r.id] = voidRow{uuid: strings.Clone(r.uuid), seq: r.seq, voidedSeq: r.voidedSeq}
	}
	v.finalSeen(r.deviceID, m)
}

func cloneDispExp(x dispExp) dispExp {
	f := &x.f
	for _, p := range []*string{&f.Device, &f.UUID, &f.Serial, &f.Method, &f.Category, &f.Standard, &f.Tool, &f.Verified,
		&f.Contractor, &f.DisposedOn, &f.Batch, &f.Operator, &f.Witness, &f.Notes} {
		*p = strings.Clone(*p)
	}
	return x
}

func cloneDispRow(r dispRow) dispRow {
	for _, p := range []*string{&r.uuid, &r.method, &r.category, &r.standard, &r.tool, &r.verified, &r.disposedOn,
		&r.operator, &r.witness, &r.notes} {
		*p = strings.Clone(*p)
	}
	return r
}

// ---- amendments ----

// amendOp is one device.amend or disposal.amend event.
type amendOp struct {
	seq     int64
	action  string // device.amend, device.serial or disposal.amend
	device  string // device uuid (disposal.amend)
	changes []Change
}

func (v *verifier) amended(e *evRec) {
	var p amendPayload
	if !v.decode(e, &p) {
		return
	}
	op := amendOp{seq: e.seq, action: e.action, device: p.Device, changes: p.Changes}
	if e.action == SerialAction && (len(p.Changes) != 1 || p.Changes[0].Field != serialField) {
		v.chainProblem(e.seq, "%s must change the serial and nothing else", e.action)
		return
	}
	if e.action != "disposal.amend" {
		v.devMods[p.Device] = append(v.devMods[p.Device], op)
	} else {
		v.dispMods[p.Disposal] = append(v.dispMods[p.Disposal], op)
	}
}

// ---- contractors, batches, settings, exemptions, checkpoints ----

type contractorRow struct {
	id, seq                            int64
	uuid, name, nameKey, acc, contract string
	order                              string
	matched                            bool
}

func (v *verifier) readContractors() error {
	v.contractors = map[int64]*contractorRow{}
	var last int64
	return v.readRows("contractors", `SELECT id, seq, uuid, name, name_key, accreditations, contract_ref FROM contractors ORDER BY id`,
		func(st *rawStmt) {
			r := &contractorRow{id: st.int64(0), seq: st.int64(1), uuid: st.text(2), name: st.text(3), nameKey: st.text(4),
				acc: st.text(5), contract: st.text(6)}
			if v.contractors[r.seq] != nil {
				v.extraRow("contractors", r.id, "name "+r.name, r.seq)
				return
			}
			r.order = outOfOrder(r.seq, &last)
			v.contractors[r.seq] = r
		})
}

func (v *verifier) contractorAdded(e *evRec) {
	var c Contractor
	if !v.decode(e, &c) {
		return
	}
	r := v.contractors[e.seq]
	if r == nil {
		v.tableProblem(e.seq, &TableError{Table: "contractors", Seq: e.seq, Key: "name " + c.Name,
			Problem: fmt.Sprintf("no row for event %d (contractor.add %s): deleted, or its seq changed", e.seq, c.Name)})
		return
	}
	r.matched = true
	v.res.Rows["contractors"]++
	addNameKeys(v.cByKey, c.Name, rowRef{r.id, e.seq})
	v.cNameByID[r.id] = c.Name
	why := r.order
	switch {
	case why != "":
	case r.uuid != c.UUID:
		why = colMismatch("uuid", r.uuid, c.UUID)
	case r.name != c.Name:
		why = colMismatch("name", r.name, c.Name)
	case r.nameKey != NameKey(c.Name) && r.nameKey != legacyNameKey(c.Name):
		why = colMismatch("name_key", r.nameKey, NameKey(c.Name))
	case r.acc != c.Accreditations:
		why = colMismatch("accreditations", r.acc, c.Accreditations)
	case r.contract != c.ContractRef:
		why = colMismatch("contract_ref", r.contract, c.ContractRef)
	}
	if why != "" {
		v.tableProblem(e.seq, &TableError{Table: "contractors", RowID: r.id, Key: "name " + r.name, Seq: e.seq, Problem: why})
	}
}

type batchRow struct {
	id, seq                                         int64
	uuid, ref, refKey, site, runOn, witness, closed string
	contractorID, gross                             *int64
	order                                           string
	matched                                         bool
}

// batchExp is a batch as the events so far leave it.
type batchExp struct {
	row                                                 *batchRow
	seq                                                 int64
	uuid, ref, site, runOn, witness, closed, contractor string
	contractorID, gross                                 *int64
	// setBy names the batch.amend event that last set a field, by field
	// name, for messages (a value set by batch.add or batch.close is
	// named by batch.add's seq).
	setBy map[string]int64
}

func (v *verifier) readBatches() error {
	v.batches = map[int64]*batchRow{}
	var last int64
	return v.readRows("batches", `SELECT id, seq, uuid, ref, ref_key, site, contractor_id, run_on, witness, gross_weight_g, closed_at FROM batches ORDER BY id`,
		func(st *rawStmt) {
			r := &batchRow{id: st.int64(0), seq: st.int64(1), uuid: st.text(2), ref: st.text(3), refKey: st.text(4), site: st.text(5),
				runOn: st.text(7), witness: st.text(8), closed: st.text(10)}
			if st.ctype(6) != colNull {
				n := st.int64(6)
				r.contractorID = &n
			}
			if st.ctype(9) != colNull {
				n := st.int64(9)
				r.gross = &n
			}
			if v.batches[r.seq] != nil {
				v.extraRow("batches", r.id, "ref "+r.ref, r.seq)
				return
			}
			r.order = outOfOrder(r.seq, &last)
			v.batches[r.seq] = r
		})
}

func (v *verifier) batchAdded(e *evRec) {
	var b Batch
	if !v.decode(e, &b) {
		return
	}
	x := &batchExp{seq: e.seq, uuid: b.UUID, ref: b.Ref, site: b.Site, runOn: b.RunOn, witness: b.Witness,
		closed: b.ClosedAt, gross: b.GrossWeightG, contractor: b.Contractor}
	if b.Contractor != "" {
		id := int64(0)
		if r, ok := resolveName(v.cCache, v.cByKey, b.Contractor, e.seq); ok {
			id = r.id
		}
		x.contractorID = &id
	}
	v.batchByUUID[b.UUID] = x
	r := v.batches[e.seq]
	if r == nil {
		v.tableProblem(e.seq, &TableError{Table: "batches", Seq: e.seq, Key: "ref " + b.Ref,
			Problem: fmt.Sprintf("no row for event %d (batch.add %s): deleted, or its seq changed", e.seq, b.Ref)})
		return
	}
	r.matched, x.row = true, r
	v.res.Rows["batches"]++
	addNameKeys(v.bByKey, b.Ref, rowRef{r.id, e.seq})
	v.bRefByID[r.id] = b.Ref
}

func (v *verifier) batchClosed(e *evRec) {
	var p struct {
		Batch    string `json:"batch"`
		Gross    *int64 `json:"gross_weight_grams"`
		ClosedAt string `json:"closed_at"`
	}
	if !v.decode(e, &p) {
		return
	}
	x := v.batchByUUID[p.Batch]
	if x == nil {
		v.chainProblem(e.seq, "batch.close names batch %s, which no event created", p.Batch)
		return
	}
	x.closed, x.gross = p.ClosedAt, p.Gross
	delete(x.setBy, grossWeightField)
}

func eqIntPtr(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

type settingRow struct {
	value string
	seq   int64
	bad   string
}

func (v *verifier) readKeyed(table, query string) (map[string]settingRow, error) {
	out := map[string]settingRow{}
	err := v.readRows(table, query, func(st *rawStmt) {
		r := settingRow{value: st.text(1), seq: st.int64(2)}
		if st.text(3) != "text" || st.text(4) != "integer" {
			r.bad = "a column has the wrong type"
		}
		out[st.text(0)] = r
	})
	return out, err
}

// settleKeyed compares a replayed key-value table with its rows.
func (v *verifier) settleKeyed(table, keyName string, rows, replay map[string]settingRow) {
	for _, k := range sortedKeys(replay) {
		want := replay[k]
		got, ok := rows[k]
		key := keyName + " " + k
		switch {
		case !ok:
			v.tableProblem(want.seq, &TableError{Table: table, Key: key, Seq: want.seq, Problem: fmt.Sprintf("no row, but event %d set it", want.seq)})
		case got.bad != "":
			v.tableProblem(want.seq, &TableError{Table: table, Key: key, Seq: want.seq, Problem: got.bad})
		case got.value != want.value:
			v.tableProblem(want.seq, &TableError{Table: table, Key: key, Seq: want.seq, Problem: colMismatch("value", got.value, want.value)})
		case got.seq != want.seq:
			v.tableProblem(want.seq, &TableError{Table: table, Key: key, Seq: want.seq, Problem: colMismatch("seq", got.seq, want.seq)})
		}
		v.res.Rows[table]++
	}
	for _, k := range sortedKeys(rows) {
		if _, ok := replay[k]; !ok {
			v.tableProblem(rows[k].seq, &TableError{Table: table, Key: keyName + " " + k, Seq: rows[k].seq,
				Problem: "no event set this row (inserted, or its deletion was not recorded)"})
		}
	}
}

type checkpointRow struct {
	id, seq, size                         int64
	root, note, createdAt, createdBy, bad string
	order                                 string
	matched                               bool
}

func (v *verifier) readCheckpoints() error {
	v.checkpoints = map[int64]*checkpointRow{}
	var last int64
	return v.readRows("checkpoints", `SELECT id, seq, size, root_hash, note, created_at, created_by FROM checkpoints ORDER BY id`,
		func(st *rawStmt) {
			r := &checkpointRow{id: st.int64(0), seq: st.int64(1), size: st.int64(2), root: st.text(3), note: st.text(4),
				createdAt: st.text(5), createdBy: st.text(6)}
			if v.checkpoints[r.seq] != nil {
				v.extraRow("checkpoints", r.id, fmt.Sprintf("size %d", r.size), r.seq)
				return
			}
			r.order = outOfOrder(r.seq, &last)
			v.checkpoints[r.seq] = r
		})
}

func (v *verifier) checkpointRecorded(e *evRec) {
	var p checkpointPayload
	if !v.decode(e, &p) {
		return
	}
	key := fmt.Sprintf("size %d", p.Size)
	if r := v.checkpoints[e.seq]; r == nil {
		v.tableProblem(e.seq, &TableError{Table: "checkpoints", Seq: e.seq, Key: key,
			Problem: fmt.Sprintf("no row for event %d (checkpoint of %d events): deleted, or its seq changed", e.seq, p.Size)})
	} else {
		r.matched = true
		v.res.Rows["checkpoints"]++
		why := r.order
		switch {
		case why != "":
		case r.size != p.Size:
			why = colMismatch("size", r.size, p.Size)
		case r.root != p.RootHash:
			why = colMismatch("root_hash", r.root, p.RootHash)
		case r.note != p.Note:
			why = "note is not the note event " + strconv.FormatInt(e.seq, 10) + " recorded"
		case r.createdAt != e.at:
			why = colMismatch("created_at", r.createdAt, e.at)
		case r.createdBy != e.actor:
			why = colMismatch("created_by", r.createdBy, e.actor)
		}
		if why != "" {
			v.tableProblem(e.seq, &TableError{Table: "checkpoints", RowID: r.id, Key: key, Seq: e.seq, Problem: why})
		}
	}
	// The note itself: it must state this ledger, the events before it
	// and their tree root, and carry a good signature.
	fail := func(why string) { v.add(e.seq, &CheckpointError{Source: "ledger", Size: p.Size, Problem: why}) }
	text, err := splitNote(p.Note)
	if err != nil {
		fail(err.Error())
		return
	}
	origin, size, root, err := parseCheckpointBody(text)
	if err != nil {
		fail(err.Error())
		return
	}
	// Batches holding a checkpoint event are added to the tree leaf by
	// leaf, so here it holds exactly the events before this one, up to
	// the last checkpoint with a row.
	if v.tree.n < e.seq-1 && e.seq-1 > v.treeLimit {
		return // its row is missing, reported above: the tree stopped short
	}
	have, ok := v.tree.root(), v.tree.n == e.seq-1
	switch {
	case origin != v.origin:
		fail(fmt.Sprintf("origin %q is not this ledger's %q", origin, v.origin))
		return
	case size != p.Size || size != e.seq-1:
		fail(fmt.Sprintf("it covers %d events but was recorded as event %d", size, e.seq))
		return
	case base64.StdEncoding.EncodeToString(root[:]) != p.RootHash:
		fail("root_hash of the event differs from the note's")
		return
	case !ok || have != root:
		fail("its root hash is not the tree hash of the events before it")
		return
	}
	v.cpTimes[size] = e.at
	check := CheckpointCheck{Source: "ledger", Size: size, Root: p.RootHash, Signature: "not checked"}
	if len(v.trustNames) > 0 {
		_, key, err := openNote([]byte(p.Note), v.trust, v.trustNames)
		switch {
		case err == nil:
			check.Signature, check.Key = "verified", key
			if v.res.Pinning.Stored == nil || size > v.res.Pinning.Stored.Size {
				v.res.Pinning.Stored = &PinnedBy{Source: "ledger", Size: size, Key: key, CreatedAt: e.at}
			}
		case errors.Is(err, ErrUntrustedCheckpoint):
			v.add(e.seq, &CheckpointError{Source: "ledger", Size: p.Size, Untrusted: true,
				Problem: "consistent with the log, but " + err.Error()})
			return
		default:
			fail(err.Error())
			return
		}
	}
	v.res.Checkpoints = append(v.res.Checkpoints, check)
}

// checkExternal checks checkpoints given from outside against the log:
// their signatures when there are trusted keys, and that the log extends
// them.
func (v *verifier) checkExternal() {
	for _, x := range v.opts.External {
		var cp Checkpoint
		key, err := "", error(nil)
		if len(v.trustNames) > 0 {
			cp, key, err = v.openExternal(x.Note)
		} else {
			cp, err = ParseCheckpointText(x.Note)
		}
		if err != nil {
			v.add(v.events+1, &CheckpointError{Source: x.Source, Problem: err.Error(), Untrusted: errors.Is(err, ErrUntrustedCheckpoint)})
			continue
		}
		fail := func(why string) { v.add(cp.Size, &CheckpointError{Source: x.Source, Size: cp.Size, Problem: why}) }
		root, ok := v.roots[cp.Size]
		switch {
		case cp.Origin != v.origin:
			fail(fmt.Sprintf("it is of ledger %q, not this one (%q)", cp.Origin, v.origin))
		case cp.Size > v.events:
			missing := fmt.Sprintf("events %d to %d are missing", v.events+1, cp.Size)
			if v.events+1 == cp.Size {
				missing = fmt.Sprintf("event %d is missing", cp.Size)
			}
			fail(fmt.Sprintf("the log now holds only %d events: history truncated, %s", v.events, missing))
		case !ok || root != cp.Root:
			fail("the events it covers have changed since it was signed: history rewritten")
		default:
			check := CheckpointCheck{Source: x.Source, Size: cp.Size, Root: base64.StdEncoding.EncodeToString(cp.Root[:]), Signature: "not checked"}
			if key != "" {
				check.Signature, check.Key = "verified", key
				if o := v.res.Pinning.Outside; o == nil || cp.Size > o.Size {
					v.res.Pinning.Outside = &PinnedBy{Source: x.Source, Size: cp.Size, Key: key, CreatedAt: v.cpTimes[cp.Size]}
				}
			}
			v.res.Checkpoints = append(v.res.Checkpoints, check)
		}
	}
}

func (v *verifier) openExternal(msg []byte) (Checkpoint, string, error) {
	text, key, err := openNote(msg, v.trust, v.trustNames)
	if err != nil {
		return Checkpoint{}, "", err
	}
	origin, size, root, err := parseCheckpointBody(text)
	return Checkpoint{Origin: origin, Size: size, Root: root}, key, err
}

// pinning completes the pinning summary (see Pinning).
func (v *verifier) pinning() {
	p := &v.res.Pinning
	for _, by := range []*PinnedBy{p.Outside, p.Stored} {
		if by != nil {
			p.Pinned = max(p.Pinned, by.Size)
		}
	}
	p.NotPinned = v.events - p.Pinned
	p.LastChange, p.LastChangeAction = v.lastChange, v.lastAction
	p.Complete = v.events > 0 && p.Outside != nil && p.Outside.Size >= v.lastChange
}

// readRows runs query on the main connection, calling fn per row.
func (v *verifier) readRows(table, query string, fn func(*rawStmt)) error {
	st, err := v.main.prepare(query)
	if err != nil {
		return fmt.Errorf("verify: read %s: %w", table, err)
	}
	defer st.finalize()
	for {
		ok, err := st.step()
		if err != nil {
			return fmt.Errorf("verify: read %s: %w", table, err)
		}
		if !ok {
			return nil
		}
		fn(st)
	}
}

// ---- certificates ----

type certRow struct {
	id, seq                                                              int64
	uuid, kind, subject, contentHash, pdfSHA, signer, issuedAt, issuedBy string
	supersededBy, revokedAt, revokeReason                                string
}

func scanCertRow(st *rawStmt, a *arena, r *certRow) {
	r.id, r.seq = st.int64(0), st.int64(12)
	for i, p := range []*string{&r.uuid, &r.kind, &r.subject, &r.contentHash, &r.pdfSHA, &r.signer, &r.issuedAt, &r.issuedBy,
		&r.supersededBy, &r.revokedAt, &r.revokeReason} {
		*p = a.str(st.bytes(i + 1))
	}
}

func certInfo(r *certRow) (int64, int64) { return r.id, r.seq }
func certKey(r *certRow) string          { return "uuid " + r.uuid }

type certDevRow struct{ certID, deviceID int64 }

func scanCertDevRow(st *rawStmt, _ *arena, r *certDevRow) {
	r.certID, r.deviceID = st.int64(0), st.int64(1)
}

// certMod is a later change to a certificate: superseded or revoked.
type certMod struct {
	seq                             int64
	supersededBy, revokedAt, reason string
	revoke                          bool
	stale                           bool // certificate.stale: changes no column
}

type certPending struct {
	seq int64
	row certRow
}

func (v *verifier) certificateIssued(e *evRec) {
	var c certificateIssueEvent
	if !v.decode(e, &c) {
		return
	}
	for _, old := range c.Supersedes {
		v.certMods[old] = append(v.certMods[old], certMod{seq: e.seq, supersededBy: c.UUID})
	}
	r := takeRow(v, v.certs, "certificates", e, certInfo, certKey)
	if r == nil {
		return
	}
	v.res.Rows["certificates"]++
	var why string
	switch {
	case r.uuid != c.UUID:
		why = colMismatch("uuid", r.uuid, c.UUID)
	case r.kind != c.Kind:
		why = colMismatch("kind", r.kind, c.Kind)
	case r.subject != c.Subject:
		why = colMismatch("subject", r.subject, c.Subject)
	case r.contentHash != c.ContentHash:
		why = colMismatch("content_hash", r.contentHash, c.ContentHash)
	case r.pdfSHA != c.PDFSHA256:
		why = colMismatch("pdf_sha256", r.pdfSHA, c.PDFSHA256)
	case r.signer != c.SignerFingerprint:
		why = colMismatch("signer_fingerprint", r.signer, c.SignerFingerprint)
	case r.issuedAt != c.IssuedAt:
		why = colMismatch("issued_at", r.issuedAt, c.IssuedAt)
	case r.issuedBy != c.IssuedBy:
		why = colMismatch("issued_by", r.issuedBy, c.IssuedBy)
	}
	if why != "" {
		v.tableProblem(e.seq, &TableError{Table: "certificates", RowID: r.id, Key: "uuid " + r.uuid, Seq: e.seq, Problem: why})
	}
	if r.supersededBy != "" || r.revokedAt != "" || r.revokeReason != "" {
		v.pendingCert[r.id] = &certPending{seq: e.seq, row: certRow{id: r.id, seq: r.seq, uuid: strings.Clone(r.uuid),
			supersededBy: strings.Clone(r.supersededBy), revokedAt: strings.Clone(r.revokedAt), revokeReason: strings.Clone(r.revokeReason)}}
	}
	// Its devices: the certificate_devices rows of this certificate.
	var got []string
	for {
		d := v.certDevs.peek()
		if d == nil || d.certID > r.id {
			break
		}
		v.certDevs.pop()
		if d.certID < r.id {
			v.tableProblem(e.seq, &TableError{Table: "certificate_devices", Key: fmt.Sprintf("certificate_id %d, device_id %d", d.certID, d.deviceID),
				Seq: e.seq, Problem: "no certificate.issue event lists this device for this certificate"})
			continue
		}
		v.res.Rows["certificate_devices"]++
		u, ok, err := v.deviceUUID(d.deviceID)
		if err != nil {
			v.readErr = err
		}
		if !ok {
			u = fmt.Sprintf("(device id %d: no such device)", d.deviceID)
		}
		got = append(got, u)
	}
	want := append([]string(nil), c.Devices...)
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		v.tableProblem(e.seq, &TableError{Table: "certificate_devices", Key: "certificate " + c.UUID, Seq: e.seq,
			Problem: fmt.Sprintf("the certificate's devices are %v, events say %v", got, want)})
	}
}

// ---- the end of the log ----

// finish reports rows no event reached, and settles everything decided
// by later events: amendments, supersessions, final dispositions.
func (v *verifier) finish() error {
	for r := v.devs.peek(); r != nil; r = v.devs.peek() {
		v.extraRow("devices", r.id, "serial "+r.serial, r.seq)
		v.devs.pop()
	}
	for r := v.disps.peek(); r != nil; r = v.disps.peek() {
		v.extraRow("disposals", r.id, "uuid "+r.uuid, r.seq)
		v.finalCheck[r.deviceID] = true
		v.disps.pop()
	}
	for r := v.certs.peek(); r != nil; r = v.certs.peek() {
		v.extraRow("certificates", r.id, "uuid "+r.uuid, r.seq)
		v.certs.pop()
	}
	for d := v.certDevs.peek(); d != nil; d = v.certDevs.peek() {
		v.tableProblem(v.events+1, &TableError{Table: "certificate_devices", Key: fmt.Sprintf("certificate_id %d, device_id %d", d.certID, d.deviceID),
			Problem: "no certificate.issue event lists this device for this certificate"})
		v.certDevs.pop()
	}
	for _, s := range []interface{ failed() error }{v.devs, v.disps, v.certs, v.certDevs} {
		if err := s.failed(); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	for _, r := range v.contractors {
		if !r.matched {
			v.extraRow("contractors", r.id, "name "+r.name, r.seq)
		}
	}
	for _, r := range v.checkpoints {
		if !r.matched {
			v.extraRow("checkpoints", r.id, fmt.Sprintf("size %d", r.size), r.seq)
		}
	}
	v.settleBatches()
	v.settleKeyed("settings", "key", v.settingRows, v.settings)
	v.settleKeyed("exemptions", "field", v.exemptionRows, v.exemptions)
	v.settleKeyed("users", "name", v.userRows, v.users)
	v.settleKeyed("appendix_g", "field", v.appGRows, v.appG)
	if err := v.settleDevices(); err != nil {
		return err
	}
	if err := v.settleDisposals(); err != nil {
		return err
	}
	if err := v.settleCertificates(); err != nil {
		return err
	}
	if err := v.settleVoids(); err != nil {
		return err
	}
	if err := v.settleEvidence(); err != nil {
		return err
	}
	if err := v.settleRefs(); err != nil {
		return err
	}
	if err := v.settleFinal(); err != nil {
		return err
	}
	if v.readErr != nil {
		return fmt.Errorf("verify: %w", v.readErr)
	}
	return nil
}

func (v *verifier) settleBatches() {
	for _, x := range v.batchByUUID {
		r := x.row
		if r == nil {
			continue
		}
		why, field := r.order, ""
		switch {
		case why != "":
		case r.uuid != x.uuid:
			why = colMismatch("uuid", r.uuid, x.uuid)
		case r.ref != x.ref:
			why = colMismatch("ref", r.ref, x.ref)
		case r.refKey != NameKey(x.ref) && r.refKey != legacyNameKey(x.ref):
			why = colMismatch("ref_key", r.refKey, NameKey(x.ref))
		case r.site != x.site:
			why, field = colMismatch("site", r.site, x.site), "site"
		case !eqIntPtr(r.contractorID, x.contractorID):
			why = fmt.Sprintf("contractor_id is %s, events say contractor %q", showValue(r.contractorID), x.contractor)
			field = contractorFieldBA
		case r.runOn != x.runOn:
			why, field = colMismatch("run_on", r.runOn, x.runOn), "run_on"
		case r.witness != x.witness:
			why, field = colMismatch("witness", r.witness, x.witness), "witness"
		case !eqIntPtr(r.gross, x.gross):
			why, field = colMismatch("gross_weight_g", r.gross, x.gross), grossWeightField
		case r.closed != x.closed:
			why, field = colMismatch("closed_at", r.closed, x.closed), "closed_at"
		}
		seq := x.seq
		if s, ok := x.setBy[field]; ok {
			// Named by the event that set the value last.
			why += fmt.Sprintf(" (set by event %d)", s)
			seq = s
		}
		if why != "" {
			v.tableProblem(seq, &TableError{Table: "batches", RowID: r.id, Key: "ref " + r.ref, Seq: seq, Problem: why})
		}
	}
	for _, r := range v.batches {
		if !r.matched {
			v.extraRow("batches", r.id, "ref "+r.ref, r.seq)
		}
	}
}

// pointRow runs a one-row query on the main connection.
func (v *verifier) pointRow(query string, arg any, fn func(*rawStmt)) (bool, error) {
	st, err := v.main.prepare(query)
	if err != nil {
		return false, err
	}
	defer st.finalize()
	switch a := arg.(type) {
	case int64:
		err = st.bindInt64(1, a)
	case string:
		err = st.bindText(1, a)
	}
	if err != nil {
		return false, err
	}
	ok, err := st.step()
	if ok {
		fn(st)
	}
	return ok, err
}

const devCols = `id, uuid, serial, serial_key, asset_tag, type, make, model, capacity_gb, site, seq`

func (v *verifier) settleDevices() error {
	check := map[int64]bool{}
	for id := range v.pendingDev {
		check[id] = true
	}
	byUUID := map[string]int64{}
	for uuid, ops := range v.devMods {
		var r devRow
		found, err := v.pointRow(`SELECT `+devCols+` FROM devices WHERE uuid = ?`, uuid, func(st *rawStmt) { scanDevRow(st, &arena{}, &r) })
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		if !found {
			v.chainProblem(ops[0].seq, "%s names device %s, which has no row", ops[0].action, uuid)
			continue
		}
		byUUID[uuid] = r.id
		check[r.id] = true
		if v.pendingDev[r.id] == nil {
			// The row matched its creating event: its values then are its
			// values now, unless an amendment changed them.
			v.pendingDev[r.id] = &devPending{seq: r.seq, exp: devFieldsOf(&r), row: r}
		}
	}
	for _, id := range sortedIDs(check) {
		p := v.pendingDev[id]
		exp := p.exp
		if p.hash != nil && !v.unamendDevice(id, p, &exp) {
			continue
		}
		for _, op := range v.devMods[exp.UUID] {
			if op.seq < p.seq {
				v.chainProblem(op.seq, "%s of %s comes before the device was recorded (event %d)", op.action, exp.Serial, p.seq)
				continue
			}
			if why := applyDeviceChanges(&exp, op.changes, op.action == SerialAction); why != "" {
				v.chainProblem(op.seq, "%s of %s: %s", op.action, exp.Serial, why)
			}
		}
		if why := devProblem(&p.row, &exp); why != "" {
			v.tableProblem(p.seq, &TableError{Table: "devices", RowID: id, Key: "serial " + p.row.serial, Seq: p.seq,
				Problem: why + amendedBy(v.devMods[exp.UUID], p.seq)})
		}
	}
	return nil
}

const dispCols = `id, uuid, device_id, method, category, standard, tool, verified, contractor_id, disposed_on,
	year, fin_year, weight_g, batch_id, operator, witness, notes, is_final, seq, voided_seq`

func (v *verifier) settleDisposals() error {
	check := map[int64]bool{}
	for id := range v.pendingDisp {
		check[id] = true
	}
	for uuid, ops := range v.dispMods {
		var r dispRow
		found, err := v.pointRow(`SELECT `+dispCols+` FROM disposals WHERE uuid = ?`, uuid, func(st *rawStmt) { scanDispRow(st, &arena{}, &r) })
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		if !found {
			v.chainProblem(ops[0].seq, "disposal.amend names disposal %s, which has no row", uuid)
			continue
		}
		check[r.id] = true
		v.finalCheck[r.deviceID] = true
		if !v.deviceIs(r.deviceID, ops[0].device) {
			v.tableProblem(ops[0].seq, &TableError{Table: "disposals", RowID: r.id, Key: "uuid " + uuid, Seq: ops[0].seq,
				Problem: fmt.Sprintf("device_id %d is not device %s that event %d names", r.deviceID, ops[0].device, ops[0].seq)})
		}
		if v.pendingDisp[r.id] == nil {
			v.pendingDisp[r.id] = &dispPending{seq: r.seq, exp: v.dispExpOf(&r), row: r}
		}
	}
	for _, id := range sortedIDs(check) {
		p := v.pendingDisp[id]
		x := p.exp
		if p.hash != nil && !v.unamendDisposal(id, p, &x) {
			continue
		}
		for _, op := range v.dispMods[x.f.UUID] {
			if op.seq < p.seq {
				v.chainProblem(op.seq, "disposal.amend of %s comes before the disposal was recorded (event %d)", x.f.UUID, p.seq)
				continue
			}
			if why := v.applyDisposalChanges(&x, op); why != "" {
				v.chainProblem(op.seq, "disposal.amend of %s: %s", x.f.UUID, why)
			}
		}
		if why := v.dispProblem(&p.row, &x); why != "" {
			v.tableProblem(p.seq, &TableError{Table: "disposals", RowID: id, Key: "uuid " + p.row.uuid, Seq: p.seq,
				Problem: why + amendedBy(v.dispMods[x.f.UUID], p.seq)})
		}
	}
	return nil
}

// amendedBy names the amendments and corrections replayed on a row
// created by event created, for a message: " (as corrected by event 12)",
// " (as corrected by events 12, 15)", or "".
func amendedBy(ops []amendOp, created int64) string {
	var seqs []string
	for _, op := range ops {
		if op.seq > created {
			seqs = append(seqs, strconv.FormatInt(op.seq, 10))
		}
	}
	if len(seqs) == 0 {
		return ""
	}
	if len(seqs) == 1 {
		return " (as corrected by event " + seqs[0] + ")"
	}
	return " (as corrected by events " + strings.Join(seqs, ", ") + ")"
}

// applyDisposalChanges replays one disposal.amend on x, checking that
// each change's old value is what the ledger held.
func (v *verifier) applyDisposalChanges(x *dispExp, op amendOp) string {
	for _, c := range op.changes {
		var cur string
		switch c.Field {
		case "contractor":
			cur = v.cNameByID[x.contractorID]
		case "batch":
			if !x.batchNull {
				cur = v.bRefByID[x.batchID]
			}
		default:
			var ok bool
			if cur, ok = dispField(&x.f, c.Field); !ok {
				return fmt.Sprintf("unknown field %q", c.Field)
			}
		}
		same := cur == c.Old
		if c.Field == "contractor" || c.Field == "batch" {
			same = NameKey(cur) == NameKey(c.Old)
		}
		if !same {
			return fmt.Sprintf("%s was %q, but the ledger held %q", c.Field, c.Old, cur)
		}
		switch c.Field {
		case "contractor":
			r, ok := resolveName(v.cCache, v.cByKey, c.New, op.seq)
			if !ok {
				return fmt.Sprintf("contractor %q did not exist", c.New)
			}
			x.contractorID, x.f.Contractor = r.id, c.New
		case "batch":
			x.f.Batch = c.New
			if c.New == "" {
				x.batchID, x.batchNull = 0, true
				continue
			}
			r, ok := resolveName(v.bCache, v.bByKey, c.New, op.seq)
			if !ok {
				return fmt.Sprintf("batch %q did not exist", c.New)
			}
			x.batchID, x.batchNull = r.id, false
		default:
			if why := setDispField(&x.f, c.Field, c.New); why != "" {
				return why
			}
		}
	}
	return ""
}

func (v *verifier) settleCertificates() error {
	check := map[int64]bool{}
	for id := range v.pendingCert {
		check[id] = true
	}
	for uuid, mods := range v.certMods {
		var r certRow
		found, err := v.pointRow(`SELECT id, uuid, kind, subject, content_hash, pdf_sha256, signer_fingerprint, issued_at, issued_by,
			superseded_by, revoked_at, revoke_reason, seq FROM certificates WHERE uuid = ?`, uuid, func(st *rawStmt) { scanCertRow(st, &arena{}, &r) })
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		if !found {
			v.chainProblem(mods[0].seq, "names certificate %s, which has no row", uuid)
			continue
		}
		check[r.id] = true
		if v.pendingCert[r.id] == nil {
			v.pendingCert[r.id] = &certPending{seq: r.seq, row: r}
		}
	}
	for _, id := range sortedIDs(check) {
		p := v.pendingCert[id]
		var sup, revAt, reason string
		for _, m := range v.certMods[p.row.uuid] {
			if m.seq < p.seq {
				v.chainProblem(m.seq, "changes certificate %s before it was issued (event %d)", p.row.uuid, p.seq)
				continue
			}
			if m.stale {
				continue
			}
			if m.revoke {
				revAt, reason = m.revokedAt, m.reason
			} else {
				sup = m.supersededBy
			}
		}
		var why string
		switch {
		case p.row.supersededBy != sup:
			why = colMismatch("superseded_by", p.row.supersededBy, sup)
		case p.row.revokedAt != revAt:
			why = colMismatch("revoked_at", p.row.revokedAt, revAt)
		case p.row.revokeReason != reason:
			why = colMismatch("revoke_reason", p.row.revokeReason, reason)
		}
		if why != "" {
			v.tableProblem(p.seq, &TableError{Table: "certificates", RowID: id, Key: "uuid " + p.row.uuid, Seq: p.seq, Problem: why})
		}
	}
	return nil
}

// dispMini is what the final disposition of a device depends on, for
// one of its disposals, as its row holds it.
type dispMini struct {
	id, seq, final int64
	date           uint32 // YYYYMMDD, for ordering
	dest           bool   // destroy category
	void           bool   // voided: never final
}

// dateKey orders ISO dates as their text does.
func dateKey(s string) uint32 {
	var k uint32
	for i := 0; i < len(s) && i < 10; i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			k = k*10 + uint32(c-'0')
		}
	}
	return k
}

// settleFinal recomputes the final disposition of every device that had
// more than one disposal, an amended one, or a row not marked final: of
// its disposals not void, its latest destroy-category disposal, else its
// latest by date, then id (none when all are void). The rows' other
// columns have been checked by now.
func (v *verifier) settleFinal() error {
	// Groups the stream left open (fewer disposals came than the count
	// said: deviceRefs reports it) are settled with what came.
	for dev := range v.groups {
		v.finalCheck[dev] = true
	}
	st, err := v.main.prepare(`SELECT id, seq, is_final, category, disposed_on, voided_seq FROM disposals WHERE device_id = ? ORDER BY id`)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer st.finalize()
	for _, dev := range sortedIDs(v.finalCheck) {
		// The device's disposals, as their rows now hold them.
		st.reset()
		if err := st.bindInt64(1, dev); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		var ds []dispMini
		for {
			ok, err := st.step()
			if err != nil {
				return fmt.Errorf("verify: %w", err)
			}
			if !ok {
				break
			}
			ds = append(ds, dispMini{id: st.int64(0), seq: st.int64(1), final: st.int64(2), dest: st.text(3) == string(Destroy),
				date: dateKey(st.text(4)), void: st.int64(5) != 0})
		}
		for _, x := range finalProblems(ds) {
			key := ""
			v.pointRow(`SELECT uuid FROM disposals WHERE id = ?`, x.id, func(st *rawStmt) { key = "uuid " + st.text(0) })
			want := 1 - x.final
			v.tableProblem(x.seq, &TableError{Table: "disposals", RowID: x.id, Key: key, Seq: x.seq,
				Problem: colMismatch("is_final", x.final, want) + " (the device's final disposition)"})
		}
	}
	return nil
}

// finalProblems returns the disposals of one device whose is_final is
// wrong: of those not void, the latest destroy-category disposal is
// final, else the latest by date, then id (none when all are void).
func finalProblems(ds []dispMini) []dispMini {
	best := -1
	for i, x := range ds {
		if x.void {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		b := ds[best]
		if x.dest != b.dest {
			if x.dest {
				best = i
			}
			continue
		}
		if x.date > b.date || x.date == b.date && x.id > b.id {
			best = i
		}
	}
	var out []dispMini
	for i, x := range ds {
		want := int64(0)
		if i == best {
			want = 1
		}
		if x.final != want {
			out = append(out, x)
		}
	}
	return out
}

func sortedIDs(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
