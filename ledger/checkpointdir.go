package ledger

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The checkpoint directory
//
// A checkpoint stored in the ledger pins history only against someone who
// lacks the signing key, and not even against the removal of the newest
// events: delete the events after an older checkpoint, together with the
// checkpoints that covered them, and what is left verifies. A checkpoint
// kept outside the ledger closes that hole, since the ledger must extend
// it. With the setting checkpoint_dir naming a directory (absolute, on
// another disk or share that the ledger's administrators cannot rewrite),
// itad writes every new checkpoint there as well, once its transaction
// has committed:
//
//	DIR/checkpoint-<size>.txt   the signed note, one file per checkpoint
//	DIR/latest.txt              a copy of the newest, for copying off-site
//
// each written to a temporary file in DIR, flushed and renamed into place.
// verify and cert verify read the checkpoint-<size>.txt with the largest
// size (NewestInDir) and check that the ledger extends it. A checkpoint is
// only signed when the ledger extends the newest one already there (a
// truncated or rewritten ledger cannot overwrite the evidence), so a
// directory serves one ledger.

// SettingCheckpointDir is the setting naming the directory that receives a
// copy of every new checkpoint.
const SettingCheckpointDir = "checkpoint_dir"

// CheckpointDirError says that a checkpoint was recorded in the ledger
// (with the change it covers) but could not be written to checkpoint_dir.
type CheckpointDirError struct {
	Dir  string
	Size int64
	Err  error
}

func (e *CheckpointDirError) Error() string {
	return fmt.Sprintf("the checkpoint of %d events is recorded in the ledger but could not be written to checkpoint_dir %s: %v", e.Size, e.Dir, e.Err)
}

func (e *CheckpointDirError) Unwrap() error { return e.Err }

// validateCheckpointDir checks a value for checkpoint_dir: empty (turn
// it off), or the absolute path of an existing directory that this
// process can create files in.
func validateCheckpointDir(value string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return "", nil
	}
	if !filepath.IsAbs(v) {
		return "", fmt.Errorf("%w: %s must be an absolute path (got %q)", ErrInvalid, SettingCheckpointDir, value)
	}
	v = filepath.Clean(v)
	fi, err := os.Stat(v)
	if err != nil {
		return "", fmt.Errorf("%w: %s %s: %v", ErrInvalid, SettingCheckpointDir, v, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%w: %s %s is not a directory", ErrInvalid, SettingCheckpointDir, v)
	}
	f, err := os.CreateTemp(v, ".itad-write-test-*")
	if err != nil {
		return "", fmt.Errorf("%w: %s %s cannot be written: %v", ErrInvalid, SettingCheckpointDir, v, err)
	}
	f.Close()
	os.Remove(f.Name())
	return v, nil
}

// checkpointFileName returns the name of the file holding the checkpoint
// of size events in a checkpoint directory.
func checkpointFileName(size int64) string {
	return "checkpoint-" + strconv.FormatInt(size, 10) + ".txt"
}

// NewestInDir returns the path and contents of the checkpoint-<size>.txt
// file with the largest size in dir. It returns ErrNoCheckpoint when dir
// holds none, and an error when dir cannot be read. The contents are not
// checked: Verify does that.
func NewestInDir(dir string) (path string, note []byte, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", nil, fmt.Errorf("read %s %s: %w", SettingCheckpointDir, dir, err)
	}
	best := int64(-1)
	for _, e := range entries {
		name := e.Name()
		num, ok := strings.CutPrefix(name, "checkpoint-")
		if !ok {
			continue
		}
		if num, ok = strings.CutSuffix(num, ".txt"); !ok {
			continue
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n < 0 || strconv.FormatInt(n, 10) != num || e.IsDir() {
			continue
		}
		if n > best {
			best, path = n, filepath.Join(dir, name)
		}
	}
	if best < 0 {
		return "", nil, ErrNoCheckpoint
	}
	if note, err = os.ReadFile(path); err != nil {
		return "", nil, fmt.Errorf("read checkpoint: %w", err)
	}
	return path, note, nil
}

// dirCheckpoint is the newest checkpoint in a checkpoint directory, as
// far as its text says (its signature is not checked).
type dirCheckpoint struct {
	path   string
	origin string
	size   int64
	root   [32]byte
}

// newestDirCheckpoint reads the newest checkpoint in dir; nil when there
// is none yet.
func newestDirCheckpoint(dir string) (*dirCheckpoint, error) {
	path, msg, err := NewestInDir(dir)
	if errors.Is(err, ErrNoCheckpoint) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	text, err := splitNote(string(msg))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	origin, size, root, err := parseCheckpointBody(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &dirCheckpoint{path: path, origin: origin, size: size, root: root}, nil
}

// publishCheckpoint writes cp to dir as checkpoint-<size>.txt and
// latest.txt, each atomically. It returns a *CheckpointDirError.
// latest.txt is left alone when another process has meanwhile written a
// newer checkpoint.
func publishCheckpoint(dir string, cp Checkpoint) error {
	name := checkpointFileName(cp.Size)
	if err := writeFileAtomic(filepath.Join(dir, name), []byte(cp.Note)); err != nil {
		return &CheckpointDirError{Dir: dir, Size: cp.Size, Err: err}
	}
	if newest, _, err := NewestInDir(dir); err == nil && filepath.Base(newest) == name {
		if err := writeFileAtomic(filepath.Join(dir, "latest.txt"), []byte(cp.Note)); err != nil {
			return &CheckpointDirError{Dir: dir, Size: cp.Size, Err: err}
		}
	}
	syncDir(dir)
	return nil
}

// writeFileAtomic writes data to a temporary file beside path, flushes it
// and renames it over path, so that path holds the old or the new
// contents, never a part.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
