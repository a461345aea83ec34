package ledger

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	sqlite3 "modernc.org/sqlite/lib"
)

// Verification
//
// Verify replays the event log and checks two things. The chain: event
// seq numbers run 1, 2, 3 ... with no gap, each event's prev_hash is the
// hash of the event before it (32 zero bytes for event 1), and each hash
// is EventHash of the event's stored fields. The state: every row of every
// current-state table is exactly what the events produce, and nothing
// else is there. Checkpoints stored in the ledger, or given from outside,
// are checked against an RFC 6962 tree of the event hashes (checkpoint.go).
//
// The replay rules, action by action:
//
//	setting.set        settings row (key, value, seq of the latest set)
//	contractor.add     contractors row (uuid, name, name_key, accreditations, contract_ref, seq)
//	device.add         devices row (uuid, serial, serial_key, asset_tag, type, make, model, capacity_gb, site, seq)
//	import.rows        rows devices rows and as many disposals rows, with
//	                   consecutive ids from the payload's first ids, each
//	                   hashing to what the payload records (importrows.go)
//	device.import      a devices row and a disposals row, both with this seq
//	                   (one event a row: written by itad before import.rows)
//	disposal.record    disposals row; the device's final disposition recomputed
//	device.amend       the device's row updated (amend.go)
//	disposal.amend     the disposal's row updated; final disposition recomputed
//	disposal.void      voided_seq of the disposal; final disposition recomputed
//	                   without it (correct.go)
//	device.serial      serial and serial_key of the device (correct.go)
//	batch.add          batches row; its contractor named by name, if any
//	batch.close        closed_at and gross_weight_g of the batch
//	batch.amend        the batch's fields it changes (correct.go)
//	exempt.set         exemptions row (field, sections joined with ", ", seq)
//	exempt.clear       the exemptions row deleted
//	appendix_g.set     appendix_g rows (owner, uuid, field, value, seq), one
//	                   a field it names, inserted or replaced (appendixg.go)
//	certificate.issue  certificates row, one certificate_devices row per device,
//	                   superseded_by set on each certificate it supersedes
//	certificate.revoke revoked_at and revoke_reason of the certificate
//	certificate.stale  no row (stale.go): it must name a certificate issued
//	                   before it and a cause recorded before it
//	checkpoint         checkpoints row (checkpoint.go)
//
// Every row of devices, disposals, contractors, batches, certificates and
// checkpoints records in seq the event that created it, and rows are
// created in event order, so the tables are read in id order and merged
// with the event stream (an import.rows event also gives the ids of its
// rows, so a row whose seq was changed is named as such); other events change no table and are listed in
// NoStateActions. An action in neither list fails verification: an event
// itad did not write.
//
// Before the replay, and alongside it, the database itself is checked
// (schema.go): its schema against what itad's migrations create, PRAGMA
// quick_check and the index check (indexcheck.go), or PRAGMA
// integrity_check (VerifyOptions.Full), and PRAGMA foreign_key_check.
//
// How it runs (a million events, or a million imported devices, replayed
// with the database checks in under 3 s on two cores: bench/verify.sh;
// integrity_check alone takes 3 to 6 s, quick_check about 1 s, the index
// check about 1.3 s). Eight read-only connections (sqliteraw.go) share
// one snapshot of the file; the seventh reads the schema and runs
// quick_check (or integrity_check), the eighth the index check.
// One reads the events in seq order in batches of 4096; worker goroutines
// hash them and decode their payloads (verifyscan.go); others read the
// devices, disposals, certificates and certificate_devices tables in id
// order. One goroutine merges them all in event order (verifyrows.go),
// keeping in memory only the small tables and what later events may
// still change: rows that did not match their creating event,
// amendments, supersessions, voids, and the disposals of a device with
// more than one until its last has come. Those are settled at the end of
// the log. Which device each disposal names is checked with two sums
// (verifyrefs.go), so memory does not grow with the number of devices.
//
// What it proves. Someone editing the database file directly (the sqlite3
// shell) can change rows, but then the rows no longer match the events;
// change an event, and its hash no longer matches; recompute every later
// hash, and a checkpoint signed before the change no longer matches. Only
// events after the latest checkpoint kept outside the ledger can be forged
// by someone who can write the file and recompute hashes: take checkpoints
// and keep them elsewhere.

// ErrTampered is matched by every error that says the ledger is not what
// its event log (or a checkpoint of it) says: an edited, inserted,
// deleted or reordered row or event, or a checkpoint that does not hold.
var ErrTampered = errors.New("the ledger does not match its event log")

// ChainError names the first event at which the log itself is wrong: a
// gap in the sequence, a hash that does not match, an event that cannot
// be replayed.
type ChainError struct {
	Seq     int64
	Problem string
}

func (e *ChainError) Error() string { return fmt.Sprintf("event %d: %s", e.Seq, e.Problem) }

// Is makes errors.Is(err, ErrTampered) true.
func (e *ChainError) Is(target error) bool { return target == ErrTampered }

// TableError names a row of a current-state table that is not what the
// events produce, or an event whose row is missing (RowID 0).
type TableError struct {
	Table   string
	RowID   int64  // 0: no row
	Key     string // what the row is about: "serial SN1", "uuid …"
	Seq     int64  // the event the row should match
	Problem string
}

func (e *TableError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "table %s", e.Table)
	if e.RowID != 0 {
		fmt.Fprintf(&b, " row id %d", e.RowID)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, " (%s)", e.Key)
	}
	b.WriteString(": " + e.Problem)
	return b.String()
}

// Is makes errors.Is(err, ErrTampered) true.
func (e *TableError) Is(target error) bool { return target == ErrTampered }

// CheckpointError says a checkpoint does not hold for this ledger, or
// that no trusted key signed it (Untrusted).
type CheckpointError struct {
	Source  string // "ledger" or the file it came from
	Size    int64
	Problem string
	// Untrusted: the checkpoint is consistent as far as it was checked,
	// but no trusted key signed it.
	Untrusted bool
}

func (e *CheckpointError) Error() string {
	src := ""
	if e.Source != "" {
		src = " " + e.Source
	}
	if e.Size == 0 { // not known: the note could not be read
		return fmt.Sprintf("checkpoint%s: %s", src, e.Problem)
	}
	return fmt.Sprintf("checkpoint%s of %d events: %s", src, e.Size, e.Problem)
}

// Is makes errors.Is(err, ErrTampered) true, and errors.Is(err,
// ErrUntrustedCheckpoint) for an untrusted one.
func (e *CheckpointError) Is(target error) bool {
	return target == ErrTampered || e.Untrusted && target == ErrUntrustedCheckpoint
}

// VerifyError lists what Verify found wrong, first (lowest seq) first.
// Problems holds *ChainError, *TableError and *CheckpointError values.
type VerifyError struct {
	Problems []error
	// More counts problems found past VerifyOptions.MaxProblems.
	More int
}

func (e *VerifyError) Error() string {
	n := len(e.Problems) + e.More
	if n == 1 {
		return e.Problems[0].Error()
	}
	return fmt.Sprintf("%s (and %d more problems)", e.Problems[0].Error(), n-1)
}

// Unwrap returns the problems, so errors.As finds the first of a type.
func (e *VerifyError) Unwrap() []error { return e.Problems }

// Is makes errors.Is(err, ErrTampered) true.
func (e *VerifyError) Is(target error) bool { return target == ErrTampered }

// ExternalCheckpoint is a checkpoint kept outside the ledger: a file
// given with itad verify --checkpoint, or the newest in checkpoint_dir.
type ExternalCheckpoint struct {
	Source string // file name, for messages
	Note   []byte
}

// VerifyOptions control Verify.
type VerifyOptions struct {
	// Trusted are the certificates whose keys may sign checkpoints: the
	// ledger's signing certificate and, after a key change, the earlier
	// ones. A checkpoint, stored or external, signed by none of them is a
	// problem (a *CheckpointError matching ErrUntrustedCheckpoint). With
	// none, signatures are not checked (checkpoints are still checked
	// against the log) and no checkpoint pins the history.
	Trusted []*x509.Certificate
	// External checkpoints must each be signed by a trusted key (when
	// there are any) and be consistent with the log: the tree of its first
	// Size events must have their root.
	External []ExternalCheckpoint
	// MaxProblems stops listing problems past this many (default 100).
	MaxProblems int
	// By default the database is checked with PRAGMA quick_check (the
	// file's page structure) and the index check (indexcheck.go: every
	// index holds exactly its table's rows, in its declared order), which
	// together find what integrity_check finds about itad's indexes in a
	// fraction of its time.
	//
	// Full runs PRAGMA integrity_check instead (it looks every row up in
	// every index: several times slower).
	Full bool
	// Quick runs PRAGMA quick_check alone: it only counts each index's
	// entries and does not compare them with its table's rows, so an
	// index replaced behind itad's back with as many but other entries,
	// and relabelled with its original SQL, passes (schema.go).
	Quick bool
	// Progress, when set, is called now and then with the work done so
	// far: events checked plus devices and disposals rows checked (an
	// import.rows event creates hundreds of rows). Store.VerifyWork gives
	// the total. It is last called with the total done.
	// number of events checked so far.
	Progress func(done int64)
}

// CheckpointCheck reports one checkpoint Verify checked.
type CheckpointCheck struct {
	Source    string `json:"source"` // "ledger" or a file
	Size      int64  `json:"size"`
	Root      string `json:"root_hash"`
	Signature string `json:"signature"`     // "verified" or "not checked"
	Key       string `json:"key,omitempty"` // the trusted key that signed it
}

// VerifyResult summarises a ledger that verified.
type VerifyResult struct {
	Events      int64             `json:"events"`
	Head        string            `json:"head_hash"` // hex hash of the last event
	Root        string            `json:"root_hash"` // base64 RFC 6962 tree hash of all events
	Origin      string            `json:"origin"`
	Rows        map[string]int64  `json:"rows"`
	Checkpoints []CheckpointCheck `json:"checkpoints"`
	Pinning     Pinning           `json:"pinning"`
	// Database names the check of the SQLite file that passed:
	// "quick_check+index_check" (the default), "integrity_check"
	// (VerifyOptions.Full) or "quick_check" (VerifyOptions.Quick); with it
	// foreign_key_check and the schema comparison passed too.
	Database string `json:"database_check"`
	// IntegrityTime is how long the database checks (integrity_check, or
	// quick_check and the index check) and foreign_key_check took, on a
	// connection of their own alongside the replay.
	IntegrityTime time.Duration `json:"-"`
	// IndexTime is the index check's part of IntegrityTime.
	IndexTime time.Duration `json:"-"`
}

// Pinning says which events a trusted checkpoint pins: a checkpoint
// whose signature verified with a trusted key and that the log extends.
// Events 1 to Pinned are covered by one; the events after it are not yet
// pinned.
//
// Where the checkpoint is kept matters. One kept outside the ledger (a
// --checkpoint file, or checkpoint_dir) pins history against anyone who
// cannot change that copy: the ledger must extend it, so the events it
// covers can be neither changed nor removed. One stored in the ledger
// holds only against someone without the signing key: it stops the
// events it covers being rewritten, but deleting the newest events
// together with the checkpoints that cover them leaves a ledger that
// still verifies.
//
// Complete is what itad verify --require-pinned demands: a trusted
// checkpoint kept outside the ledger that covers every event that changed
// the ledger's state (every event but consultations, disclosures, records
// such as backups and key events, and checkpoints themselves), so that
// no change can have been removed or rewritten. An empty ledger is never
// complete.
type Pinning struct {
	Pinned    int64     `json:"pinned"`     // events 1..Pinned are covered by a trusted checkpoint
	NotPinned int64     `json:"not_pinned"` // events after it
	Outside   *PinnedBy `json:"outside"`    // the newest trusted checkpoint kept outside the ledger
	Stored    *PinnedBy `json:"stored"`     // the newest trusted checkpoint stored in the ledger
	// LastChange is the newest event that changed state (0: none), and
	// LastChangeAction its action.
	LastChange       int64  `json:"last_change"`
	LastChangeAction string `json:"last_change_action,omitempty"`
	Complete         bool   `json:"complete"`
}

// PinnedBy is a trusted checkpoint that pins events 1 to Size.
type PinnedBy struct {
	Source    string `json:"source"` // "ledger" or the file it was read from
	Size      int64  `json:"size"`
	Key       string `json:"key"`                  // the signed-note key name, "itad/" and a fingerprint prefix
	CreatedAt string `json:"created_at,omitempty"` // when the ledger recorded it, if it did
}

// NoStateActions returns the actions that change no current-state table:
// consultations and disclosures (report, device.show, foi, export, ...)
// and records such as import.file, backup and key events.
//
// An action Verify does not know fails verification. To add a new action
// that changes no table, call RegisterNoStateAction from an init function
// in the file that writes it; an action that changes a table needs its
// replay in verify.go. LogAccess refuses unregistered actions, so a
// missing registration shows at once.
func NoStateActions() []string {
	actionsMu.RLock()
	defer actionsMu.RUnlock()
	return sortedKeys(noStateActions)
}

// RegisterNoStateAction adds actions to NoStateActions. It panics for an
// action whose replay changes state (a programming error).
func RegisterNoStateAction(actions ...string) {
	actionsMu.Lock()
	defer actionsMu.Unlock()
	for _, a := range actions {
		if stateActions[a] {
			panic("ledger: " + a + " changes state and cannot be registered as a no-state action")
		}
		noStateActions[a] = true
	}
}

func isNoStateAction(a string) bool {
	actionsMu.RLock()
	defer actionsMu.RUnlock()
	return noStateActions[a]
}

var (
	actionsMu      sync.RWMutex
	noStateActions = map[string]bool{
		// records
		"import.file": true, "backup": true, KeyInit: true, KeyImport: true,
		// consultations and disclosures (LogAccess)
		"report": true, "device.show": true, "batch.show": true, "foi": true, "export": true,
		"cert.verify": true, "cert.show": true, LogAction: true,
	}
	stateActions = map[string]bool{
		"setting.set": true, "contractor.add": true, "device.add": true, "device.import": true, ImportRowsAction: true,
		"disposal.record": true, "device.amend": true, "disposal.amend": true, "batch.add": true,
		"batch.close": true, "exempt.set": true, "exempt.clear": true, "certificate.issue": true,
		"certificate.revoke": true, CheckpointAction: true, VoidAction: true, SerialAction: true, BatchAmendAction: true,
		CertificateStaleAction: true,
		EvidenceAddAction:      true, ErasureAction: true, EvidenceAttachAction: true, // evidence.go
		UserAddAction: true, UserRoleAction: true, UserDisableAction: true, UserEnableAction: true, UserPasswordAction: true, // users.go
	}
)

// Verify checks the whole ledger: the database itself (its schema against
// what itad's migrations create, PRAGMA integrity_check or quick_check,
// PRAGMA foreign_key_check: schema.go), the hash chain, every
// current-state table against the events, and the checkpoints (see the
// top of verify.go). It reads one consistent snapshot while other
// processes keep writing. It returns a *VerifyError (matching
// ErrTampered) listing what is wrong, or another error if the ledger
// cannot be read.
func (s *Store) Verify(opts VerifyOptions) (VerifyResult, error) {
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = 100
	}
	v := &verifier{opts: opts, res: VerifyResult{Rows: map[string]int64{}}}
	var err error
	if v.trust, v.trustNames, err = trustList(opts.Trusted); err != nil {
		return v.res, err
	}
	conns, err := openSnapshot(s.path, s.immutable, 10)
	if err != nil {
		if isCorrupt(err) { // the head of the log cannot be read
			return v.res, v.damaged(s, err)
		}
		return v.res, err
	}
	defer func() {
		for _, c := range conns {
			c.exec("ROLLBACK")
			c.close()
		}
	}()
	// The database checks: the schema first (a few rows), then
	// integrity_check on a connection of its own while the replay runs.
	objs, err := readSchemaRaw(conns[6])
	if err != nil {
		if isCorrupt(err) {
			return v.res, v.damaged(s, err)
		}
		return v.res, fmt.Errorf("verify: read the schema: %w", err)
	}
	v.schema, err = checkSchema(objs, SchemaVersion())
	if err != nil {
		return v.res, err
	}
	dbCheck := make(chan dbCheckResult, 1)
	go func() { dbCheck <- checkDatabase(conns[6], conns[7], opts.Full, opts.Quick, objs, opts.MaxProblems) }()
	var db dbCheckResult
	waitDB := sync.OnceFunc(func() { db = <-dbCheck })
	defer waitDB() // before the connections close
	if hasTableProblem(v.schema) {
		// A table missing or unlike itad's: its rows cannot be replayed.
		waitDB()
		return v.res, v.failure(db, nil)
	}
	v.main = conns[0]
	defer func() { // before the connections close
		if v.uuidStmt != nil {
			v.uuidStmt.finalize()
		}
	}()
	if err := v.prepare(); err != nil {
		waitDB()
		return v.res, v.failure(db, err)
	}
	stop := make(chan struct{})
	v.devs = startStream(conns[1], `SELECT id, uuid, serial, serial_key, asset_tag, type, make, model, capacity_gb, site, seq FROM devices ORDER BY id`, stop, scanDevRow)
	v.disps = startStream(conns[2], `SELECT `+dispCols+` FROM disposals ORDER BY id`, stop, scanDispRow)
	v.certs = startStream(conns[3], `SELECT id, uuid, kind, subject, content_hash, pdf_sha256, signer_fingerprint, issued_at, issued_by,
		superseded_by, revoked_at, revoke_reason, seq FROM certificates ORDER BY id`, stop, scanCertRow)
	v.certDevs = startStream(conns[4], `SELECT certificate_id, device_id FROM certificate_devices ORDER BY certificate_id, device_id`, stop, scanCertDevRow)
	v.refs = newDeviceRefs(startStream(conns[8], devCountQuery, stop, scanDevCount))
	evs, recycle := startEvents(conns[5], stop, v.treeLimit)
	sumCheck := startSummaryCheck(conns[9]) // summary.go
	err = v.run(evs, recycle)
	close(stop)
	// Let the readers finish before their connections close.
	for range evs {
	}
	for _, d := range []interface{ drain() }{v.devs, v.disps, v.certs, v.certDevs, v.refs.counts} {
		d.drain()
	}
	waitDB()
	if serr := v.summaryResult(sumCheck); err == nil {
		err = serr
	}
	v.res.IntegrityTime, v.res.IndexTime = db.elapsed, db.indexTime
	if err != nil || db.err != nil || len(db.problems)+len(db.fk)+len(v.schema)+len(v.problems) > 0 {
		return v.res, v.failure(db, err)
	}
	v.res.Database = db.check
	return v.res, nil
}

// damaged is what Verify reports for a file too damaged to take a
// snapshot of (readErr): what the database checks find, on a connection
// of their own.
func (v *verifier) damaged(s *Store, readErr error) error {
	c, err := openRaw(s.path, s.immutable)
	if err != nil {
		return v.failure(dbCheckResult{}, readErr)
	}
	defer c.close()
	if objs, err := readSchemaRaw(c); err == nil {
		v.schema, _ = checkSchema(objs, SchemaVersion())
	}
	objs, _ := readSchemaRaw(c)
	return v.failure(checkDatabase(c, nil, v.opts.Full, v.opts.Quick, objs, v.opts.MaxProblems), readErr)
}

// failure returns what Verify reports when the database checks found
// problems or the replay failed with err: a *VerifyError listing the
// schema's problems, then integrity_check's, then a read the damaged file
// failed, then the replay's, then foreign_key_check's; or err itself when
// it is not the file's fault and nothing else was found.
func (v *verifier) failure(db dbCheckResult, err error) error {
	probs := append(append([]error{}, v.schema...), db.problems...)
	replayed := err == nil
	if err != nil && isCorrupt(err) {
		probs = append(probs, &DatabaseError{Check: "read", Problem: err.Error()})
		err = nil
	}
	if len(probs) == 0 && err != nil {
		return err
	}
	if replayed {
		// The replay ran: its problems follow, in log order; at one
		// event, a broken chain first, then a checkpoint, then rows.
		rank := func(err error) int {
			switch err.(type) {
			case *ChainError:
				return 0
			case *CheckpointError:
				return 1
			}
			return 2
		}
		sort.SliceStable(v.problems, func(i, j int) bool {
			a, b := v.problems[i], v.problems[j]
			return a.pos < b.pos || a.pos == b.pos && rank(a.err) < rank(b.err)
		})
		for _, p := range v.problems {
			probs = append(probs, p.err)
		}
	}
	// A row deleted behind itad's back breaks a foreign key too: the
	// replay names it better, so foreign_key_check comes last.
	probs = append(probs, db.fk...)
	if len(probs) == 0 {
		return db.err // integrity_check could not run, and nothing else was found
	}
	ve := &VerifyError{More: v.more}
	if len(probs) > v.opts.MaxProblems {
		ve.More += len(probs) - v.opts.MaxProblems
		probs = probs[:v.opts.MaxProblems]
	}
	ve.Problems = probs
	return ve
}

// openSnapshot opens n read-only connections that all see the same
// snapshot of the ledger: each begins a read transaction and reads the
// head of the log; since every write appends an event, the same head
// means the same snapshot. A writer committing in between makes it retry.
func openSnapshot(path string, immutable bool, n int) ([]*rawConn, error) {
	for attempt := 0; ; attempt++ {
		var conns []*rawConn
		closeAll := func() {
			for _, c := range conns {
				c.exec("ROLLBACK")
				c.close()
			}
		}
		var heads []string
		for i := 0; i < n; i++ {
			c, err := openRaw(path, immutable)
			if err != nil {
				closeAll()
				return nil, err
			}
			conns = append(conns, c)
			if err := c.exec("BEGIN"); err != nil {
				closeAll()
				return nil, err
			}
			h, err := c.head()
			if err != nil {
				closeAll()
				return nil, err
			}
			heads = append(heads, h)
		}
		same := true
		for _, h := range heads[1:] {
			same = same && h == heads[0]
		}
		if same {
			return conns, nil
		}
		closeAll()
		if attempt == 10 {
			return nil, errors.New("verify: the ledger kept changing while verify started: try again")
		}
	}
}

// head returns the last event's seq and hash as a string.
func (c *rawConn) head() (string, error) {
	st, err := c.prepare(`SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1`)
	if err != nil {
		return "", err
	}
	defer st.finalize()
	ok, err := st.step()
	if err != nil || !ok {
		return "", err
	}
	return strconv.FormatInt(st.int64(0), 10) + ":" + hex.EncodeToString(st.bytes(1)), nil
}

// problem is a finding with its position in the log, for ordering.
type finding struct {
	pos int64
	err error
}

// verifier is the state of one Verify run. Only the merging goroutine
// touches it.
type verifier struct {
	opts     VerifyOptions
	res      VerifyResult
	main     *rawConn
	problems []finding
	more     int
	schema   []error // *SchemaError

	// Trust and pinning.
	trust      note.Verifiers
	trustNames []string
	cpTimes    map[int64]string // size -> time of a checkpoint event of that size
	lastChange int64
	lastAction string

	// The chain.
	events   int64
	lastSeq  int64
	prevHash [32]byte
	origin   string
	tree     merkleFrontier
	roots    map[int64]tlog.Hash // tree hashes at sizes some checkpoint needs
	need     map[int64]bool
	// treeLimit is how many events the tree must cover: up to the last
	// checkpoint (in the log or given). Beyond it no hash is needed.
	treeLimit int64

	// Small tables, read whole.
	settingRows   map[string]settingRow
	settings      map[string]settingRow // replayed
	exemptionRows map[string]settingRow
	exemptions    map[string]settingRow
	userRows      map[string]settingRow // users.go
	users         map[string]settingRow
	userStates    map[string]*userState
	appGRows      map[string]settingRow    // appendix_g, keyed "owner uuid field"
	appG          map[string]settingRow    // replayed
	contractors   map[int64]*contractorRow // by seq
	cByKey        map[string]rowRef        // replayed: name_key -> row
	cNameByID     map[int64]string
	cCache        map[string]rowRef   // contractor name as written -> row
	batches       map[int64]*batchRow // by seq
	batchByUUID   map[string]*batchExp
	bByKey        map[string]rowRef
	bRefByID      map[int64]string
	bCache        map[string]rowRef
	checkpoints   map[int64]*checkpointRow // by seq

	// Large tables, streamed in id order.
	devs     *stream[devRow]
	disps    *stream[dispRow]
	certs    *stream[certRow]
	certDevs *stream[certDevRow]
	// refs checks which device each disposal names (verifyrefs.go).
	refs     *deviceRefs
	uuidStmt *rawStmt // deviceUUID's
	readErr  error    // a point read that failed
	// Rows checked in the two largest tables (res.Rows holds the others).
	nDevices, nDisposals int64
	reported             int64  // work last given to Progress
	hbuf                 []byte // scratch for row hashes

	// Rows that did not match the event that created them, and changes
	// made by later events; settled at the end (settle).
	pendingDev  map[int64]*devPending
	pendingDisp map[int64]*dispPending
	pendingCert map[int64]*certPending
	devMods     map[string][]amendOp
	dispMods    map[string][]amendOp
	certMods    map[string][]certMod
	// Corrections (correct.go): disposal.void events by disposal uuid,
	// and the disposals rows marked void.
	voids    map[string]voidOp
	voidRows map[int64]voidRow
	// Devices whose final disposition must be recomputed (settleFinal).
	finalCheck map[int64]bool
	// Devices with more than one disposal, until all have come.
	groups   map[int64]*dispGroup
	evidence *evidenceReplay // evidenceverify.go
}

// ref locates the row an event created.
type rowRef struct{ id, seq int64 }

func (v *verifier) add(pos int64, err error) {
	if len(v.problems) >= v.opts.MaxProblems {
		v.more++
		return
	}
	v.problems = append(v.problems, finding{pos, err})
}

func (v *verifier) chainProblem(seq int64, format string, a ...any) {
	v.add(seq, &ChainError{Seq: seq, Problem: fmt.Sprintf(format, a...)})
}

func (v *verifier) tableProblem(pos int64, e *TableError) { v.add(pos, e) }

// prepare reads the small tables and what the tree hash is needed for.
func (v *verifier) prepare() error {
	v.roots, v.need = map[int64]tlog.Hash{}, map[int64]bool{}
	v.cpTimes = map[int64]string{}
	v.settings, v.exemptions = map[string]settingRow{}, map[string]settingRow{}
	v.appG = map[string]settingRow{}
	v.cByKey, v.cNameByID, v.cCache = map[string]rowRef{}, map[int64]string{}, map[string]rowRef{}
	v.batchByUUID, v.bByKey, v.bRefByID, v.bCache = map[string]*batchExp{}, map[string]rowRef{}, map[int64]string{}, map[string]rowRef{}
	v.pendingDev, v.pendingDisp, v.pendingCert = map[int64]*devPending{}, map[int64]*dispPending{}, map[int64]*certPending{}
	v.devMods, v.dispMods, v.certMods = map[string][]amendOp{}, map[string][]amendOp{}, map[string][]certMod{}
	v.finalCheck, v.groups = map[int64]bool{}, map[int64]*dispGroup{}
	v.voids, v.voidRows = map[string]voidOp{}, map[int64]voidRow{}
	var err error
	if v.settingRows, err = v.readKeyed("settings", `SELECT key, value, seq, typeof(value), typeof(seq) FROM settings`); err != nil {
		return err
	}
	if v.exemptionRows, err = v.readKeyed("exemptions", `SELECT field, sections, seq, typeof(sections), typeof(seq) FROM exemptions`); err != nil {
		return err
	}
	if err := v.readUsers(); err != nil {
		return err
	}
	if v.appGRows, err = v.readKeyed("appendix_g", `SELECT owner || ' ' || uuid || ' ' || field, value, seq, typeof(value), typeof(seq) FROM appendix_g`); err != nil {
		return err
	}
	if err := v.readContractors(); err != nil {
		return err
	}
	if err := v.readBatches(); err != nil {
		return err
	}
	if err := v.readCheckpoints(); err != nil {
		return err
	}
	for _, x := range v.opts.External {
		text, err := splitNote(string(x.Note))
		if err != nil {
			continue // reported by checkExternal
		}
		if _, size, _, err := parseCheckpointBody(text); err == nil {
			v.need[size] = true
			v.treeLimit = max(v.treeLimit, size)
		}
	}
	// The tree must reach the last checkpoint recorded in the ledger (the
	// events table has no index to find checkpoint events by).
	for seq := range v.checkpoints {
		v.treeLimit = max(v.treeLimit, seq-1)
	}
	v.need[v.treeLimit] = true
	return nil
}

// run merges the event stream with the table streams, then settles what
// only the end of the log decides.
func (v *verifier) run(evs <-chan *evBatch, recycle func(*evBatch)) error {
	for b := range evs {
		<-b.done
		if b.err != nil {
			return fmt.Errorf("verify: read events: %w", b.err)
		}
		tree := b.lo < v.treeLimit
		leafMode := len(b.ev) < evBatchSize
		for i := range b.ev {
			if b.ev[i].action == CheckpointAction {
				leafMode = true
			}
		}
		for size := range v.need {
			if size > b.lo && size < b.lo+int64(len(b.ev)) {
				leafMode = true
			}
		}
		for i := range b.ev {
			e := &b.ev[i]
			v.chain(e)
			v.apply(b, e)
			if e.action != CheckpointAction && stateActions[e.action] {
				v.lastChange, v.lastAction = e.seq, e.action
			}
			if v.opts.Progress != nil && e.action == ImportRowsAction {
				v.progress(false)
			}
			if tree && leafMode && v.tree.n < v.treeLimit {
				v.tree.push(b.leaves[i], 1)
				v.noteSize()
			}
		}
		if tree && !leafMode {
			v.tree.push(b.root, int64(evBatchSize))
			v.noteSize()
		}
		if v.opts.Progress != nil {
			v.progress(true)
		}
		recycle(b)
	}
	for _, s := range []interface{ failed() error }{v.devs, v.disps, v.certs, v.certDevs} {
		if err := s.failed(); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	if err := v.finish(); err != nil {
		return err
	}
	v.res.Events = v.events
	v.res.Rows["devices"], v.res.Rows["disposals"] = v.nDevices, v.nDisposals
	v.res.Head = hex.EncodeToString(v.prevHash[:])
	if v.events == 0 {
		v.res.Head = ""
	}
	if v.tree.n == v.events {
		root := v.tree.root()
		v.res.Root = base64.StdEncoding.EncodeToString(root[:])
	}
	v.res.Origin = v.origin
	v.checkExternal()
	v.pinning()
	return nil
}

// progress reports the work done, at most every 64k rows unless now.
func (v *verifier) progress(now bool) {
	if w := v.events + v.nDevices + v.nDisposals; now || w-v.reported >= 1<<16 {
		v.reported = w
		v.opts.Progress(w)
	}
}

// VerifyWork returns how much work Verify has to do, in the units of
// VerifyOptions.Progress: events plus devices and disposals rows. It
// returns 0 (not an error) when a table it counts is missing or damaged:
// Verify then names the problem.
func (s *Store) VerifyWork() (int64, error) {
	var n int64
	err := s.db.QueryRow(`SELECT (SELECT coalesce(max(seq), 0) FROM events) + (SELECT coalesce(max(id), 0) FROM devices)
		+ (SELECT coalesce(max(id), 0) FROM disposals)`).Scan(&n)
	if err != nil {
		if isSQLiteCode(err, sqlite3.SQLITE_ERROR) || isCorrupt(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("count the ledger: %w", err)
	}
	return n, nil
}

func (v *verifier) noteSize() {
	if v.need[v.tree.n] {
		v.roots[v.tree.n] = v.tree.root()
	}
}

// chain checks one event's place in the hash chain.
func (v *verifier) chain(e *evRec) {
	v.events++
	defer func() {
		v.lastSeq = e.seq
		copy(v.prevHash[:], e.hash)
	}()
	if v.events == 1 {
		v.origin = OriginFor(e.hash)
	}
	if e.bad != "" {
		v.chainProblem(e.seq, "%s", e.bad)
		return
	}
	switch {
	case e.seq <= v.lastSeq:
		v.chainProblem(e.seq, "out of order: it follows event %d", v.lastSeq)
		return
	case e.seq != v.lastSeq+1 && e.seq == v.lastSeq+2:
		v.chainProblem(v.lastSeq+1, "missing: event %d follows event %d (deleted?)", e.seq, v.lastSeq)
		return
	case e.seq != v.lastSeq+1:
		v.chainProblem(v.lastSeq+1, "missing, with the events up to %d: event %d follows event %d (deleted?)", e.seq-1, e.seq, v.lastSeq)
		return
	}
	if len(e.hash) != 32 {
		v.chainProblem(e.seq, "hash is %d bytes, not 32", len(e.hash))
		return
	}
	if !bytes.Equal(e.prev, v.prevHash[:]) {
		if e.seq == 1 {
			v.chainProblem(e.seq, "prev_hash of the first event is not 32 zero bytes")
		} else {
			v.chainProblem(e.seq, "prev_hash is not the hash of event %d (events reordered or replaced?)", e.seq-1)
		}
		return
	}
	if !bytes.Equal(e.sum[:], e.hash) {
		v.chainProblem(e.seq, "hash does not match the event's contents (%s %s): changed after it was written", e.action, e.subject)
	}
}

// apply replays one event against the tables.
func (v *verifier) apply(b *evBatch, e *evRec) {
	if e.bad != "" {
		return
	}
	if e.perr != nil {
		v.chainProblem(e.seq, "%s payload cannot be read: %v", e.action, e.perr)
		return
	}
	switch e.action {
	case "device.add":
		v.deviceCreated(e, &b.devs[e.pi])
	case "device.import":
		id := v.deviceCreated(e, &b.devs[e.pi])
		v.disposalCreated(e, &b.disps[e.pi], b.devs[e.pi].UUID, id)
	case "disposal.record":
		d := &b.disps[e.pi]
		v.disposalCreated(e, d, d.Device, 0)
	case ImportRowsAction:
		v.rowsImported(e, &b.imports[e.pi])
	case "setting.set":
		var p struct{ Key, Value string }
		if v.decode(e, &p) {
			v.settings[p.Key] = settingRow{value: p.Value, seq: e.seq}
		}
	case "contractor.add":
		v.contractorAdded(e)
	case "batch.add":
		v.batchAdded(e)
	case "batch.close":
		v.batchClosed(e)
	case "exempt.set", "exempt.clear":
		var p exemptionEvent
		if !v.decode(e, &p) {
			return
		}
		if e.action == "exempt.clear" {
			delete(v.exemptions, p.Field)
		} else {
			v.exemptions[p.Field] = settingRow{value: strings.Join(p.Sections, ", "), seq: e.seq}
		}
	case AppendixGAction:
		var p appendixGEvent
		if !v.decode(e, &p) {
			return
		}
		ch, err := p.changes()
		if err != nil {
			v.chainProblem(e.seq, "%s: %v", e.action, err)
			return
		}
		for _, c := range ch {
			v.appG[c.key()] = settingRow{value: c.value, seq: e.seq}
		}
	case "device.amend", "disposal.amend", SerialAction:
		v.amended(e)
	case VoidAction:
		v.voided(e)
	case BatchAmendAction:
		v.batchAmended(e)
	case "certificate.issue":
		v.certificateIssued(e)
	case "certificate.revoke":
		var p certificateRevokeEvent
		if v.decode(e, &p) {
			v.certMods[p.UUID] = append(v.certMods[p.UUID], certMod{seq: e.seq, revokedAt: p.RevokedAt, reason: p.Reason, revoke: true})
		}
	case CertificateStaleAction:
		var p certificateStaleEvent
		if !v.decode(e, &p) {
			return
		}
		if p.Cause <= 0 || p.Cause >= e.seq {
			v.chainProblem(e.seq, "marks certificate %s stale for event %d, which is not an earlier event", p.UUID, p.Cause)
			return
		}
		if e.subject != p.UUID {
			v.chainProblem(e.seq, "subject %q is not the certificate %s it marks stale", e.subject, p.UUID)
			return
		}
		v.certMods[p.UUID] = append(v.certMods[p.UUID], certMod{seq: e.seq, stale: true})
	case CheckpointAction:
		v.checkpointRecorded(e)
	case UserAddAction, UserRoleAction, UserDisableAction, UserEnableAction, UserPasswordAction:
		v.userChanged(e)
	default:
		if !v.evidenceApply(e) && !isNoStateAction(e.action) {
			v.chainProblem(e.seq, "unknown action %q: itad never writes it (see ledger.RegisterNoStateAction)", e.action)
		}
	}
}

// decode unmarshals a low-volume payload with encoding/json.
func (v *verifier) decode(e *evRec, p any) bool {
	if err := json.Unmarshal(e.payload, p); err != nil {
		v.chainProblem(e.seq, "%s payload cannot be read: %v", e.action, err)
		return false
	}
	return true
}

// takeRow returns the row of s created by event seq, reporting rows
// before it that no event created and a missing row.
func takeRow[T any](v *verifier, s *stream[T], table string, e *evRec, info func(*T) (id, seq int64), key func(*T) string) *T {
	for {
		r := s.peek()
		if r == nil {
			break
		}
		id, seq := info(r)
		if seq == e.seq {
			s.pop()
			return r
		}
		if seq > e.seq {
			break
		}
		v.extraRow(table, id, key(r), seq)
		s.pop()
	}
	v.tableProblem(e.seq, &TableError{Table: table, Seq: e.seq,
		Problem: fmt.Sprintf("no row for event %d (%s %s): deleted, or its seq changed", e.seq, e.action, e.subject)})
	return nil
}

func (v *verifier) extraRow(table string, id int64, key string, seq int64) {
	v.tableProblem(seq, &TableError{Table: table, RowID: id, Key: key, Seq: seq,
		Problem: fmt.Sprintf("no event created this row (its seq is %d): inserted, or rows reordered", seq)})
}

// outOfOrder returns a problem for a row whose seq is below that of the
// row before it in id order (rows are created in event order, so ids
// were changed), reported if an event created the row.
func outOfOrder(seq int64, last *int64) string {
	defer func() { *last = max(*last, seq) }()
	if seq < *last {
		return fmt.Sprintf("out of order: created by event %d, after the row before it (event %d): ids changed?", seq, *last)
	}
	return ""
}

// mismatch describes a differing column.
func colMismatch(col string, have, want any) string {
	return fmt.Sprintf("%s is %s, events say %s", col, showValue(have), showValue(want))
}

func showValue(x any) string {
	switch x := x.(type) {
	case string:
		return strconv.Quote(x)
	case nil:
		return "NULL"
	case *int64:
		if x == nil {
			return "NULL"
		}
		return strconv.FormatInt(*x, 10)
	}
	return fmt.Sprint(x)
}
