package certificate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/itad/itad/ledger"
)

// Issued is a rendered and signed certificate.
type Issued struct {
	Content     Content
	ContentHash string // hex SHA-256 of EncodeContent(Content)
	Unsigned    []byte // Render(Content)
	PDFSHA256   string // hex SHA-256 of Unsigned
	Signed      []byte // Unsigned followed by the signature update
}

// Hashes returns what the ledger records about the certificate.
func (i *Issued) Hashes() ledger.CertificateHashes {
	return ledger.CertificateHashes{ContentHash: i.ContentHash, PDFSHA256: i.PDFSHA256, SignerFingerprint: i.Content.SignerFingerprint}
}

// Issue renders the certificate described by the ledger's draft and signs
// it with s, with the issue time as the signing time. It returns the
// errors of Render and SignPDF.
func Issue(d ledger.CertificateDraft, s *Signer) (*Issued, error) {
	return IssueProgress(d, s, nil)
}

// IssueProgress is Issue, calling progress (when not nil) with how many
// of the certificate's items are rendered (see RenderProgress).
func IssueProgress(d ledger.CertificateDraft, s *Signer, progress func(done int64)) (*Issued, error) {
	if s == nil || s.Cert == nil {
		return nil, errors.New("issue certificate: no signer")
	}
	c := NewContent(d, s.Cert)
	unsigned, err := RenderProgress(c, progress)
	if err != nil {
		return nil, err
	}
	signed, err := SignPDF(unsigned, s, SignOptions{Reason: "Certificate " + c.Number, Time: c.IssuedAt})
	if err != nil {
		return nil, fmt.Errorf("issue certificate %s: %w", c.Number, err)
	}
	sum := sha256.Sum256(unsigned)
	return &Issued{Content: c, ContentHash: ContentHash(c), Unsigned: unsigned, PDFSHA256: hex.EncodeToString(sum[:]), Signed: signed}, nil
}

// FileName is the name of a certificate's file: "<number>_<subject>.pdf"
// with the subject (a serial or batch reference) made safe by
// SanitiseName.
func FileName(number, subject string) string {
	return SanitiseName(number) + "_" + SanitiseName(subject) + ".pdf"
}

// maxNameLen caps a sanitised name, in bytes of UTF-8.
const maxNameLen = 64

// SanitiseName makes s safe as part of a file name on every common file
// system: letters and digits of any script (Unicode categories L, N and the
// combining marks M, so "Łódź", "ΑΒΓ-42" and "Серия-7" stay as they are),
// '.', '_' and '-' are kept; every other character (a path separator, a
// space, punctuation, a control character, invalid UTF-8) becomes '_';
// runs of '_' or '.' collapse to one; leading and trailing '.', '_' and '-'
// are trimmed; and the result is cut to 64 bytes between characters. It is
// never empty ("unnamed"), never "." or "..", and never contains a
// separator. The text is kept in the normalisation form it came in.
func SanitiseName(s string) string {
	var b strings.Builder
	var last rune
	for _, r := range s {
		ok := r == '.' || r == '_' || r == '-' || r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) && last != '_' && last != 0)
		if r == utf8.RuneError || r > unicode.MaxRune || unicode.Is(unicode.Co, r) {
			ok = false
		}
		if !ok {
			r = '_'
		}
		if (r == '_' || r == '.') && r == last {
			continue
		}
		b.WriteRune(r)
		last = r
	}
	out := strings.Trim(b.String(), "._-")
	if len(out) > maxNameLen {
		cut := maxNameLen
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = strings.TrimRight(out[:cut], "._-")
	}
	if out == "" {
		return "unnamed"
	}
	return out
}

// WriteTemp writes a signed certificate to a new hidden temporary file in
// dir, readable by all (certificates are not secret), and returns its
// path. Publish gives it its final name once the ledger has recorded it.
func WriteTemp(dir string, data []byte) (string, error) {
	return writeTempFile(dir, data, true)
}

// WriteTempNoSync is WriteTemp without flushing the file to disk: for
// many certificates at once, call SyncFiles once they are all written,
// before the ledger records them.
func WriteTempNoSync(dir string, data []byte) (string, error) {
	return writeTempFile(dir, data, false)
}

func writeTempFile(dir string, data []byte, sync bool) (string, error) {
	f, err := os.CreateTemp(dir, ".itad-cert-*.pdf.tmp")
	if err != nil {
		return "", fmt.Errorf("write certificate: %w", err)
	}
	name := f.Name()
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(name, 0o644)
	}
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("write certificate %s: %w", name, err)
	}
	return name, nil
}

// Publish renames the temporary file tmp to name in the same folder,
// refusing to replace an existing file. It returns the final path.
func Publish(tmp, name string) (string, error) {
	if name != filepath.Base(name) || name == "." || name == ".." {
		return "", fmt.Errorf("publish certificate: %q is not a plain file name", name)
	}
	final := filepath.Join(filepath.Dir(tmp), name)
	// A hard link fails when final exists, so a file made meanwhile is
	// never replaced; rename (after a check) only where links are not
	// supported.
	if err := os.Link(tmp, final); err == nil {
		os.Remove(tmp)
		return final, nil
	} else if errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("publish certificate: %s: %w", final, fs.ErrExist)
	}
	if _, err := os.Lstat(final); err == nil {
		return "", fmt.Errorf("publish certificate: %s: %w", final, fs.ErrExist)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("publish certificate: %w", err)
	}
	return final, nil
}

// SyncFiles flushes files (written by WriteTempNoSync, all in dir) to
// disk: on Linux with one syncfs of dir's file system, elsewhere one fsync
// a file.
func SyncFiles(dir string, files []string) error {
	if len(files) == 0 {
		return nil
	}
	if err := syncFS(dir); err == nil {
		return nil
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("sync certificate: %w", err)
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("sync certificate %s: %w", name, err)
		}
	}
	return nil
}
