package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Record, then disclose
//
// Every consultation or disclosure of the ledger (a report, an export, an
// FOI answer, a device shown, the audit trail read, a certificate
// checked) goes through Disclose, whatever the front end: the CLI's
// standard output or -o FILE today, an HTTP response tomorrow. The rule,
// in this order:
//
//  1. the consultation is vetted before any work: a registered action, an
//     actor, a reason where the ledger requires one (require_reason,
//     checked against its events), and a ledger that can record it;
//  2. the answer is rendered into a spool that nobody else sees (memory,
//     or a private temporary file once it is large), and its size and
//     SHA-256 are computed;
//  3. the event recording who, why, what was asked and exactly what was
//     produced (bytes, SHA-256) is committed;
//  4. only then is the answer released: copied to the writer, or the
//     temporary file renamed to its name.
//
// So no byte of an answer leaves the process before its event is in the
// log, and a failure at any step before 4 discloses nothing. A failure
// during 4 (a closed pipe, a full disk) leaves an event for an answer
// that was not wholly delivered: the log errs on the side of saying too
// much was disclosed, never too little.
//
// A ledger opened read-only because it cannot be written (a copy on
// read-only media) cannot record anything: consultations of it are vetted
// and answered, unrecorded, and the caller says so (Store.ReadOnly). A
// ledger that could be written but was opened read-only on request is
// refused: read-only is not a way around the audit trail.

// Disclosure describes one consultation or disclosure.
type Disclosure struct {
	// Action is a registered consultation action (NoStateActions):
	// report, export, foi, device.show, log, cert.verify …
	Action string
	// Subject names what was consulted: the years, a serial, a filter.
	Subject string
	// Reason is why, as the user gave it (DPA 2018 s62).
	Reason string
	// Payload records what was asked. Disclose adds "output" (the
	// sink's name), "bytes" and "sha256" of what was produced. Render may
	// add to it (row counts): it is encoded only after rendering.
	Payload map[string]any
}

// Sink is where a disclosure goes: a file (Path) or a stream (W).
type Sink struct {
	// Path, when set, is the file to write: the answer is spooled to a
	// temporary file beside it and renamed to Path once recorded.
	Path string
	// W is the stream to write when Path is empty (standard output, an
	// HTTP response).
	W io.Writer
	// Name is what the event records as the output; default
	// filepath.Base(Path), or "-" for a stream.
	Name string
	// NoClobber refuses to replace an existing Path: the answer is given
	// its name with a hard link (os.Link fails when the name exists), not
	// renamed over it, so a file created meanwhile is never lost. Disclose
	// then returns ErrFileExists. A front end checks first (before any
	// work) with CheckNewFile; this closes the race.
	NoClobber bool
}

// ErrFileExists is returned for an output file that is already there and
// may not be replaced (Sink.NoClobber, BackupOptions.Force unset). It is
// ErrBackupExists: one sentinel for every file itad refuses to replace.
var ErrFileExists = ErrBackupExists

// CheckNewFile returns ErrFileExists when path exists (a file, a folder
// or a dangling link), so that a command refuses before any work.
func CheckNewFile(path string) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%w: %s", ErrFileExists, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("output %s: %w", path, err)
	}
	return nil
}

// WriteNewFile writes data to path, which it creates: with force unset
// it refuses (ErrFileExists) to replace an existing file, atomically
// (O_EXCL); with force it replaces it.
func WriteNewFile(path string, data []byte, perm os.FileMode, force bool) error {
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !force {
		flag = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(path, flag, perm)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", ErrFileExists, path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// publishNew gives the finished temporary file tmp the name path without
// replacing a file there: link, then drop the temporary name. Where hard
// links are not supported it falls back to a rename after checking that
// path is free (not race-safe there).
func publishNew(tmp, path string) error {
	err := os.Link(tmp, path)
	if err == nil {
		os.Remove(tmp)
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s (created while the answer was prepared: the event records an answer that was not written)", ErrFileExists, path)
	}
	if cerr := CheckNewFile(path); cerr != nil {
		return cerr
	}
	return os.Rename(tmp, path)
}

// spoolMemory is how much of a streamed answer is held in memory before
// it spills to a private temporary file.
const spoolMemory = 8 << 20

// ErrDisclosureNotRecorded is returned for a consultation of a ledger
// that could record it but was opened read-only on request.
var ErrDisclosureNotRecorded = errors.New("a consultation or disclosure must be recorded in the audit trail")

// VetDisclosure checks, before any work is done, that a consultation or
// disclosure of this kind may go ahead: what Disclose checks first. A
// front end calls it to refuse early (before a long render); Disclose
// checks again in the transaction that records it.
func (s *Store) VetDisclosure(action, reason string) error {
	if strings.TrimSpace(s.Actor) == "" {
		return fmt.Errorf("%w: no actor: every consultation is recorded with who made it", ErrInvalid)
	}
	if s.readOnly && s.writable {
		return fmt.Errorf("%w: %s was opened read-only but can be written: open it without --read-only so that the %s is recorded "+
			"(read-only is for copies on read-only media)", ErrDisclosureNotRecorded, s.path, action)
	}
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("vet %s: %w", action, err)
	}
	defer tx.Rollback()
	return (&txn{tx: tx}).checkAccess(action, reason)
}

// Disclose renders a consultation or disclosure, records it, then
// releases it to sink, in that order (see above). render writes the whole
// answer; it may fill d.Payload. Disclose returns ErrReasonRequired,
// ErrDisclosureNotRecorded, ErrInvalid for an unregistered action,
// ErrFileExists for an existing Path with sink.NoClobber, or
// what render or the release returned; in every case but the last nothing
// has been released.
func (s *Store) Disclose(d Disclosure, sink Sink, render func(io.Writer) error) error {
	if err := s.VetDisclosure(d.Action, d.Reason); err != nil {
		return err
	}
	if d.Payload == nil {
		d.Payload = map[string]any{}
	}
	name := sink.Name
	var sp spool
	if sink.Path != "" {
		if sink.NoClobber {
			if err := CheckNewFile(sink.Path); err != nil {
				return err
			}
		}
		f, err := os.CreateTemp(filepath.Dir(sink.Path), "."+filepath.Base(sink.Path)+".tmp*")
		if err != nil {
			return fmt.Errorf("write %s: %w", sink.Path, err)
		}
		sp.file = f
		if name == "" {
			name = filepath.Base(sink.Path)
		}
	} else if name == "" {
		name = "-"
	}
	defer sp.discard()
	dg := NewOutputDigest(&sp)
	if err := render(dg); err != nil {
		return err
	}
	if err := sp.finish(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	d.Payload["output"], d.Payload["bytes"], d.Payload["sha256"] = name, dg.Len(), dg.SHA256()
	if !s.readOnly {
		err := s.write(d.Reason, func(t *txn) error {
			if err := t.checkAccess(d.Action, d.Reason); err != nil { // auditlog.go
				return err
			}
			_, err := t.appendEvent(d.Action, d.Subject, d.Payload)
			return err
		})
		if err != nil {
			return err
		}
	}
	if sink.Path != "" {
		if sink.NoClobber {
			if err := publishNew(sp.file.Name(), sink.Path); err != nil {
				if errors.Is(err, ErrFileExists) {
					return err
				}
				return fmt.Errorf("write %s: %w", sink.Path, err)
			}
			sp.file = nil
			return nil
		}
		if err := os.Rename(sp.file.Name(), sink.Path); err != nil {
			return fmt.Errorf("write %s: %w", sink.Path, err)
		}
		sp.file = nil
		return nil
	}
	return sp.copyTo(sink.W)
}

// spool holds an answer until it is recorded: in memory up to
// spoolMemory, then in a temporary file (mode 0600, removed afterwards).
// With file set from the start, everything goes to that file.
type spool struct {
	mem     bytes.Buffer
	file    *os.File
	spilled bool // file is a temporary spill of a streamed answer
}

func (sp *spool) Write(p []byte) (int, error) {
	if sp.file == nil && sp.mem.Len()+len(p) > spoolMemory {
		f, err := os.CreateTemp("", "itad-answer-*")
		if err != nil {
			return 0, err
		}
		sp.file, sp.spilled = f, true
		if _, err := f.Write(sp.mem.Bytes()); err != nil {
			return 0, err
		}
		sp.mem = bytes.Buffer{}
	}
	if sp.file != nil {
		return sp.file.Write(p)
	}
	return sp.mem.Write(p)
}

// finish flushes a file spool to disk (a named output is renamed next).
func (sp *spool) finish() error {
	if sp.file == nil || sp.spilled {
		return nil
	}
	if err := sp.file.Sync(); err != nil {
		return err
	}
	return sp.file.Close()
}

// copyTo releases a streamed answer.
func (sp *spool) copyTo(w io.Writer) error {
	if sp.file == nil {
		_, err := w.Write(sp.mem.Bytes())
		return err
	}
	if _, err := sp.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(w, sp.file)
	return err
}

// discard removes whatever the spool still holds.
func (sp *spool) discard() {
	if sp.file != nil {
		sp.file.Close()
		os.Remove(sp.file.Name())
	}
}
