package ledger

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/mod/sumdb/tlog"
)

// This file holds the hot path of Verify: a decoder for the payloads of
// the events that occur once per device (device.add, disposal.record, and
// device.import in ledgers written before import.rows) and an arena for
// the bytes of rows read in batches.
//
// The decoder gives exactly the result encoding/json would give when
// unmarshalling into the Go types that wrote the payload (Device,
// Disposal, disposalEvent, importPayload), about ten times faster. It
// handles the form json.Marshal writes — each known key once, spelled
// exactly, strings without escapes, integers or null — and for anything
// else (an escape, a duplicate or unknown key, invalid UTF-8, a syntax it
// does not expect) it hands the whole payload to encoding/json instead, so
// the two cannot disagree. FuzzDecodePayload pins that.

// devFields is a device as an event records it.
type devFields struct {
	UUID, Serial, AssetTag, Type, Make, Model, Site string
	Cap                                             int64
	CapNull                                         bool
}

// dispFields is a disposal as an event records it. Device is the device's
// uuid (disposal.record); it is empty in device.import, whose device is
// in the same payload.
type dispFields struct {
	Device, UUID, Serial, Method, Category, Standard, Tool, Verified, Contractor string
	DisposedOn, Batch, Operator, Witness, Notes                                  string
	Weight                                                                       int64
	WeightNull, Final                                                            bool
}

// jsonDec decodes one JSON document in a single pass, in the forms
// json.Marshal writes. Every method returns false for anything else, and
// the caller then decodes the payload with encoding/json.
type jsonDec struct {
	b []byte
	i int
}

func (d *jsonDec) ws() {
	if d.i < len(d.b) && d.b[d.i] > ' ' {
		return // json.Marshal writes no whitespace
	}
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// lit consumes s if it comes next.
func (d *jsonDec) lit(s string) bool {
	if len(d.b)-d.i >= len(s) && string(d.b[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return true
	}
	return false
}

// quoted reads a string without escapes, in valid UTF-8 (encoding/json
// would replace invalid bytes). The result shares the input's memory.
func (d *jsonDec) quoted(dst *string) bool {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return false
	}
	rest := d.b[d.i+1:]
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	n, ascii := 0, true
	// Eight bytes at a time, finding the first that is a quote, a
	// backslash, a control character or non-ASCII (the "has a zero byte"
	// trick: it may flag bytes after the first match, never before).
	for n+8 <= len(rest) {
		x := binary.LittleEndian.Uint64(rest[n:])
		q, bs := x^(lo*'"'), x^(lo*'\\')
		m := ((q-lo)&^q | (bs-lo)&^bs | (x-lo*0x20)&^x | x) & hi
		if m == 0 {
			n += 8
			continue
		}
		n += bits.TrailingZeros64(m) / 8
		if rest[n] == '"' {
			goto end
		}
		if rest[n] < 0x80 {
			return false // an escape or a control character: encoding/json decides
		}
		ascii = false
		n++
	}
	for ; ; n++ {
		if n == len(rest) {
			return false
		}
		c := rest[n]
		if c == '"' {
			break
		}
		if c < 0x20 || c == '\\' {
			return false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
end:
	s := rest[:n]
	if !ascii && !utf8.Valid(s) {
		return false
	}
	*dst = unsafe.String(unsafe.SliceData(s), len(s))
	d.i += n + 2
	return true
}

// str reads a string value; null leaves "" (as encoding/json does).
func (d *jsonDec) str(dst *string) bool {
	if d.lit("null") {
		*dst = ""
		return true
	}
	return d.quoted(dst)
}

// int reads an integer value for an *int64; null is nil (isNull).
func (d *jsonDec) int(n *int64, isNull *bool) bool {
	if d.lit("null") {
		*n, *isNull = 0, true
		return true
	}
	start := d.i
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	digits := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	if d.i == digits || d.b[digits] == '0' && d.i-digits > 1 {
		return false
	}
	if d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		return false // not an integer: encoding/json reports it
	}
	x, err := strconv.ParseInt(unsafe.String(unsafe.SliceData(d.b[start:d.i]), d.i-start), 10, 64)
	if err != nil {
		return false
	}
	*n, *isNull = x, false
	return true
}

// base64 reads a []byte as encoding/json does: a base64 string (standard
// alphabet, padded) or null (nil).
func (d *jsonDec) base64(dst *[]byte) bool {
	if d.lit("null") {
		*dst = nil
		return true
	}
	var s string
	if !d.quoted(&s) {
		return false
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(out, unsafe.Slice(unsafe.StringData(s), len(s)))
	if err != nil {
		return false // encoding/json reports it
	}
	*dst = out[:n]
	return true
}

// bool reads true, false or null (false).
func (d *jsonDec) bool(dst *bool) bool {
	switch {
	case d.lit("true"):
		*dst = true
	case d.lit("false"), d.lit("null"):
		*dst = false
	default:
		return false
	}
	return true
}

// object reads an object, calling member with each key once the decoder
// stands at its value; member must read the value.
func (d *jsonDec) object(member func(key string) bool) bool {
	d.ws()
	if !d.lit("{") {
		return false
	}
	d.ws()
	if d.lit("}") {
		return true
	}
	for {
		var k string
		if !d.quoted(&k) {
			return false
		}
		d.ws()
		if !d.lit(":") {
			return false
		}
		d.ws()
		if !member(k) {
			return false
		}
		d.ws()
		if d.lit(",") {
			d.ws()
			continue
		}
		return d.lit("}")
	}
}

// end reports whether only whitespace is left.
func (d *jsonDec) end() bool {
	d.ws()
	return d.i == len(d.b)
}

// seenKeys tracks which keys of an object were read, to send duplicates to
// encoding/json (which keeps the last).
type seenKeys uint32

func (s *seenKeys) first(bit uint) bool {
	if *s&(1<<bit) != 0 {
		return false
	}
	*s |= 1 << bit
	return true
}

func (d *jsonDec) device(f *devFields) bool {
	*f = devFields{CapNull: true}
	var got seenKeys
	return d.object(func(k string) bool {
		switch k {
		case "uuid":
			return got.first(0) && d.str(&f.UUID)
		case "serial":
			return got.first(1) && d.str(&f.Serial)
		case "asset_tag":
			return got.first(2) && d.str(&f.AssetTag)
		case "type":
			return got.first(3) && d.str(&f.Type)
		case "make":
			return got.first(4) && d.str(&f.Make)
		case "model":
			return got.first(5) && d.str(&f.Model)
		case "capacity_gb":
			return got.first(6) && d.int(&f.Cap, &f.CapNull)
		case "site":
			return got.first(7) && d.str(&f.Site)
		}
		return false
	})
}

// disposal reads a Disposal, and with withDevice a disposalEvent (its
// "device" member).
func (d *jsonDec) disposal(p *dispFields, withDevice bool) bool {
	*p = dispFields{WeightNull: true}
	var got seenKeys
	return d.object(func(k string) bool {
		switch k {
		case "device":
			return withDevice && got.first(0) && d.str(&p.Device)
		case "uuid":
			return got.first(1) && d.str(&p.UUID)
		case "serial":
			return got.first(2) && d.str(&p.Serial)
		case "method":
			return got.first(3) && d.str(&p.Method)
		case "category":
			return got.first(4) && d.str(&p.Category)
		case "standard":
			return got.first(5) && d.str(&p.Standard)
		case "tool":
			return got.first(6) && d.str(&p.Tool)
		case "verified":
			return got.first(7) && d.str(&p.Verified)
		case "contractor":
			return got.first(8) && d.str(&p.Contractor)
		case "disposed_on":
			return got.first(9) && d.str(&p.DisposedOn)
		case "weight_grams":
			return got.first(10) && d.int(&p.Weight, &p.WeightNull)
		case "batch":
			return got.first(11) && d.str(&p.Batch)
		case "operator":
			return got.first(12) && d.str(&p.Operator)
		case "witness":
			return got.first(13) && d.str(&p.Witness)
		case "notes":
			return got.first(14) && d.str(&p.Notes)
		case "final":
			return got.first(15) && d.bool(&p.Final)
		}
		return false
	})
}

func fastDevice(b []byte, f *devFields) bool {
	d := jsonDec{b: b}
	return d.device(f) && d.end()
}

func fastDisposal(b []byte, p *dispFields, withDevice bool) bool {
	d := jsonDec{b: b}
	return d.disposal(p, withDevice) && d.end()
}

func fastImport(b []byte, f *devFields, p *dispFields) bool {
	d := jsonDec{b: b}
	*f, *p = devFields{CapNull: true}, dispFields{WeightNull: true}
	var got seenKeys
	ok := d.object(func(k string) bool {
		switch k {
		case "device":
			return got.first(0) && (d.lit("null") || d.device(f))
		case "disposal":
			return got.first(1) && (d.lit("null") || d.disposal(p, false))
		}
		return false
	})
	return ok && d.end()
}

func fromDevice(d Device) devFields {
	f := devFields{UUID: d.UUID, Serial: d.Serial, AssetTag: d.AssetTag, Type: string(d.Type), Make: d.Make,
		Model: d.Model, Site: d.Site, CapNull: d.CapacityGB == nil}
	if d.CapacityGB != nil {
		f.Cap = *d.CapacityGB
	}
	return f
}

func fromDisposal(device string, p Disposal) dispFields {
	f := dispFields{Device: device, UUID: p.UUID, Serial: p.Serial, Method: string(p.Method), Category: string(p.Category),
		Standard: p.Standard, Tool: p.Tool, Verified: p.Verified, Contractor: p.Contractor, DisposedOn: p.DisposedOn,
		Batch: p.Batch, Operator: p.Operator, Witness: p.Witness, Notes: p.Notes, WeightNull: p.WeightG == nil, Final: p.Final}
	if p.WeightG != nil {
		f.Weight = *p.WeightG
	}
	return f
}

// decodeDevicePayload decodes a device.add payload.
func decodeDevicePayload(b []byte, d *devFields) error {
	if fastDevice(b, d) {
		return nil
	}
	var v Device
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*d = fromDevice(v)
	return nil
}

// decodeDisposalPayload decodes a disposal.record payload.
func decodeDisposalPayload(b []byte, p *dispFields) error {
	if fastDisposal(b, p, true) {
		return nil
	}
	var v disposalEvent
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = fromDisposal(v.Device, v.Disposal)
	return nil
}

// decodeImportPayload decodes a device.import payload.
func decodeImportPayload(b []byte, d *devFields, p *dispFields) error {
	if fastImport(b, d, p) {
		return nil
	}
	var v importPayload
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*d, *p = fromDevice(v.Device), fromDisposal("", v.Disposal)
	return nil
}

// arena holds the bytes of a batch of rows: values are copied in once and
// handed out as strings sharing its memory, which lives as long as any of
// them. Nothing that outlives the batch may keep such a string: clone it.
//
// Verify recycles a batch, arena and all, once it is done with it
// (reset), so that a full scan allocates little and the garbage collector
// stays idle.
type arena struct {
	buf    []byte
	chunks [][]byte // every chunk, for reuse after reset
	next   int      // chunks[next:] are free
}

const arenaChunk = 256 << 10

func (a *arena) bytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	if cap(a.buf)-len(a.buf) < len(b) {
		if a.next < len(a.chunks) && cap(a.chunks[a.next]) >= len(b) {
			a.buf = a.chunks[a.next][:0]
		} else {
			a.buf = make([]byte, 0, max(arenaChunk, len(b)))
			a.chunks = append(a.chunks[:a.next], a.buf)
		}
		a.next++
	}
	n := len(a.buf)
	a.buf = append(a.buf, b...)
	return a.buf[n:len(a.buf):len(a.buf)]
}

// alloc returns n contiguous bytes of the arena.
func (a *arena) alloc(n int) []byte {
	if cap(a.buf)-len(a.buf) < n {
		if a.next < len(a.chunks) && cap(a.chunks[a.next]) >= n {
			a.buf = a.chunks[a.next][:0]
		} else {
			a.buf = make([]byte, 0, max(arenaChunk, n))
			a.chunks = append(a.chunks[:a.next], a.buf)
		}
		a.next++
	}
	k := len(a.buf)
	a.buf = a.buf[:k+n]
	return a.buf[k : k+n : k+n]
}

// reset makes the arena's memory free for reuse: nothing handed out
// before may be used after.
func (a *arena) reset() { a.buf, a.next = nil, 0 }

func (a *arena) str(b []byte) string {
	c := a.bytes(b)
	return unsafe.String(unsafe.SliceData(c), len(c))
}

// parseUUID reads a canonical (lower-case, hyphenated) UUID into 16
// bytes, reporting false for anything else.
func parseUUID(s string) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < 36; i += 2 {
		if s[i] == '-' {
			i--
			continue
		}
		hi, lo := unhex(s[i]), unhex(s[i+1])
		if hi > 15 || lo > 15 {
			return u, false
		}
		u[j] = hi<<4 | lo
		j++
	}
	return u, true
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return 255
}

// ---- streams ----

// stream delivers the rows of one query, read by its own goroutine and
// connection in batches, one at a time through peek and pop.
type stream[T any] struct {
	ch   chan rowBatch[T]
	free chan rowBatch[T] // batches the merger is done with, for reuse
	cur  rowBatch[T]
	buf  []T
	i    int
	eof  bool
	err  error
	stop <-chan struct{}
}

type rowBatch[T any] struct {
	rows  []T
	arena *arena
	err   error
}

const rowBatchSize = 2048

func startStream[T any](c *rawConn, query string, stop <-chan struct{}, scan func(*rawStmt, *arena, *T)) *stream[T] {
	s := &stream[T]{ch: make(chan rowBatch[T], 4), free: make(chan rowBatch[T], 8), stop: stop}
	go func() {
		defer close(s.ch)
		send := func(b rowBatch[T]) bool {
			select {
			case s.ch <- b:
				return true
			case <-stop:
				return false
			}
		}
		st, err := c.prepare(query)
		if err != nil {
			send(rowBatch[T]{err: err})
			return
		}
		defer st.finalize()
		for {
			var b rowBatch[T]
			select {
			case b = <-s.free:
				b.rows, b.err = b.rows[:0], nil
				b.arena.reset()
			default:
				b = rowBatch[T]{rows: make([]T, 0, rowBatchSize), arena: &arena{}}
			}
			for len(b.rows) < rowBatchSize {
				ok, err := st.step()
				if err != nil {
					b.err = err
					send(b)
					return
				}
				if !ok {
					if len(b.rows) > 0 {
						send(b)
					}
					return
				}
				b.rows = append(b.rows, *new(T))
				scan(st, b.arena, &b.rows[len(b.rows)-1])
			}
			if !send(b) {
				return
			}
		}
	}()
	return s
}

// peek returns the current row, or nil at the end (or on a read error,
// which failed reports).
func (s *stream[T]) peek() *T {
	for s.i >= len(s.buf) {
		if s.eof {
			return nil
		}
		if s.cur.arena != nil {
			select { // recycle the batch done with
			case s.free <- s.cur:
			default:
			}
			s.cur = rowBatch[T]{}
		}
		b, ok := <-s.ch
		if !ok {
			s.eof = true
			return nil
		}
		s.cur = b
		s.buf, s.i = b.rows, 0
		if b.err != nil {
			s.err, s.eof = b.err, true
		}
	}
	return &s.buf[s.i]
}

func (s *stream[T]) pop() { s.i++ }

func (s *stream[T]) failed() error { return s.err }

// drain waits for the reader to finish.
func (s *stream[T]) drain() {
	for range s.ch {
	}
}

// ---- the event stream ----

// evBatchSize events make a batch; a power of two, so that a full batch
// is a perfect subtree of the Merkle tree. (These are variables only so
// that a test can make them small.)
var evBatchSize = 4096

// evBatchBytes bounds the bytes of a batch of events, so that the batches
// in flight stay small whatever the events hold.
var evBatchBytes = 2 << 20

type evRec struct {
	seq                                int64
	at, actor, action, subject, reason string
	payload, prev, hash                []byte
	input                              []byte // what EventHash hashes
	bad                                string // storage problem
	sum                                [32]byte
	pi                                 int // index into the batch's decoded payloads
	perr                               error
}

type evBatch struct {
	lo    int64 // number of events before this batch
	ev    []evRec
	devs  []devFields
	disps []dispFields
	// imports holds the decoded import.rows payloads (e.pi indexes it).
	imports []importRowsPayload
	leaves  []tlog.Hash
	root    tlog.Hash // of leaves, when the batch is full
	err     error
	done    chan struct{}
	arena   arena
}

// startEvents reads the events in seq order on c and hashes and decodes
// them on worker goroutines; batches come out in order, each usable once
// its done channel is closed. Pass a batch done with to recycle.
// Leaf hashes are computed for the first treeLimit events only.
func startEvents(c *rawConn, stop <-chan struct{}, treeLimit int64) (ordered <-chan *evBatch, recycle func(*evBatch)) {
	out := make(chan *evBatch, 8)
	work := make(chan *evBatch, 8)
	free := make(chan *evBatch, 8)
	recycle = func(b *evBatch) {
		select {
		case free <- b:
		default:
		}
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), 4))
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var scratch []tlog.Hash
			for b := range work {
				scratch = processEvents(b, scratch, b.lo < treeLimit, b.lo+int64(evBatchSize) <= treeLimit)
				close(b.done)
			}
		}()
	}
	go func() {
		defer func() {
			close(work)
			wg.Wait()
			close(out)
		}()
		send := func(b *evBatch) bool {
			select {
			case out <- b:
			case <-stop:
				return false
			}
			work <- b
			return true
		}
		st, err := c.prepare(`SELECT seq, at, actor, action, subject, reason, payload, prev_hash, hash FROM events ORDER BY seq`)
		if err != nil {
			b := &evBatch{err: err, done: make(chan struct{})}
			send(b)
			return
		}
		defer st.finalize()
		var lo int64
		for {
			var b *evBatch
			select {
			case b = <-free:
				b.ev, b.devs, b.disps, b.leaves, b.err = b.ev[:0], b.devs[:0], b.disps[:0], b.leaves[:0], nil
				clear(b.imports)
				b.imports = b.imports[:0]
				b.arena.reset()
			default:
				b = &evBatch{ev: make([]evRec, 0, evBatchSize)}
			}
			b.lo, b.done = lo, make(chan struct{})
			a := &b.arena
			// A batch ends at evBatchBytes (import.rows payloads are 22 kB
			// each), or at the next multiple of evBatchSize events: a full
			// batch must start at one, as its subtree of the Merkle tree
			// is pushed whole (run, processEvents).
			end, size, limit := false, 0, evBatchSize-int(lo%int64(evBatchSize))
			for len(b.ev) < limit && size < evBatchBytes {
				ok, err := st.step()
				if err != nil {
					b.err = err
					break
				}
				if !ok {
					end = true
					break
				}
				b.ev = append(b.ev, evRec{})
				e := &b.ev[len(b.ev)-1]
				scanEvent(st, a, e)
				size += len(e.input)
			}
			if len(b.ev) == 0 && b.err == nil {
				return
			}
			lo += int64(len(b.ev))
			if !send(b) || b.err != nil || end {
				return
			}
		}
	}()
	return out, recycle
}

// scanEvent reads the current row of the events query into e. Its
// fields are copied once, straight into the bytes EventHash hashes (see
// eventHashInput), which e.input holds and the other fields share.
func scanEvent(st *rawStmt, a *arena, e *evRec) {
	var f [9][]byte
	var bad string
	for i, want := range [9]int32{colInteger, colText, colText, colText, colText, colText, colBlob, colBlob, colBlob} {
		typ, b, n := st.col(i)
		if typ != want {
			bad += eventColumns[i] + " has the wrong type; "
		}
		if i == 0 {
			e.seq = n
		}
		f[i] = b
	}
	size := len(eventDomain) + 32 + 8 + 6*4
	for _, x := range f[1:7] {
		size += len(x)
	}
	buf := eventHashInput(a.alloc(size)[:0], e.seq, f[7], (*[6][]byte)(f[1:7]))
	e.input = buf
	// The fields, in place in the hashed bytes.
	var fields [6]string
	off := len(eventDomain) + 32 + 8
	for i, x := range f[1:7] {
		off += 4
		fields[i] = unsafe.String(unsafe.SliceData(buf[off:]), len(x))
		off += len(x)
	}
	e.at, e.actor, e.action, e.subject, e.reason = fields[0], fields[1], fields[2], fields[3], fields[4]
	e.payload = buf[len(buf)-len(f[6]):]
	e.prev, e.hash = a.bytes(f[7]), a.bytes(f[8])
	if bad != "" {
		e.bad = "stored with " + strings.TrimSuffix(bad, "; ")
	}
}

var eventColumns = [9]string{"seq", "at", "actor", "action", "subject", "reason", "payload", "prev_hash", "hash"}

// processEvents hashes and decodes a batch (on a worker goroutine).
// With leaves it computes the leaf hashes, with root the batch's subtree.
func processEvents(b *evBatch, scratch []tlog.Hash, leaves, root bool) []tlog.Hash {
	for i := range b.ev {
		e := &b.ev[i]
		e.sum = sha256.Sum256(e.input)
		if leaves {
			b.leaves = append(b.leaves, recordHash(e.hash))
		}
		switch e.action {
		case ImportRowsAction:
			e.pi = len(b.imports)
			b.imports = append(b.imports, importRowsPayload{})
			e.perr = decodeImportRows(e.payload, &b.imports[e.pi])
		case "device.add", "device.import", "disposal.record":
			// devs and disps stay the same length: e.pi indexes both.
			e.pi = len(b.devs)
			b.devs = append(b.devs, devFields{})
			b.disps = append(b.disps, dispFields{})
			switch e.action {
			case "device.add":
				e.perr = decodeDevicePayload(e.payload, &b.devs[e.pi])
			case "device.import":
				e.perr = decodeImportPayload(e.payload, &b.devs[e.pi], &b.disps[e.pi])
			default:
				e.perr = decodeDisposalPayload(e.payload, &b.disps[e.pi])
			}
		}
	}
	if root && len(b.ev) == evBatchSize {
		scratch = append(scratch[:0], b.leaves...)
		b.root = subtreeRoot(scratch)
	}
	return scratch
}

// recordHash is tlog.RecordHash, SHA-256(0x00 || data), without its
// allocation for 32-byte data (an event hash).
func recordHash(data []byte) tlog.Hash {
	if len(data) != 32 {
		return tlog.RecordHash(data)
	}
	var buf [33]byte
	copy(buf[1:], data)
	return sha256.Sum256(buf[:])
}

// eventHashInput appends the bytes EventHash hashes for an event with
// sequence number seq, stored prev_hash prev (taken as 32 bytes, as
// EventHash does) and the stored at, actor, action, subject, reason and
// payload. The time is hashed as its stored text, which is EventHash's
// TimeFormat text.
func eventHashInput(buf []byte, seq int64, prev []byte, fields *[6][]byte) []byte {
	buf = append(buf, eventDomain...)
	var p [32]byte
	copy(p[:], prev)
	buf = append(buf, p[:]...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(seq))
	for _, f := range fields {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(f)))
		buf = append(buf, f...)
	}
	return buf
}
