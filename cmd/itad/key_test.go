package main

import (
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/itad/itad/certificate"
	"github.com/itad/itad/ledger"
)

// certificateFingerprintFile returns the SHA-256 fingerprint of the first
// certificate in a PEM file.
func certificateFingerprintFile(t *testing.T, path string) (string, *x509.Certificate) {
	t.Helper()
	certs, err := certificate.LoadCertificates(path)
	if err != nil {
		t.Fatal(err)
	}
	return certificate.Fingerprint(certs[0]), certs[0]
}

// swapKeyPair overwrites the key and certificate files beside the ledger
// with a new pair naming the same organisation, as an attacker would, and
// returns it.
func swapKeyPair(t *testing.T, dir string) *certificate.Signer {
	t.Helper()
	s, err := certificate.GenerateSigner("Test Constabulary", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, cert := filepath.Join(dir, "itad-signing-key.pem"), filepath.Join(dir, "itad-signing-cert.pem")
	os.Remove(key)
	os.Remove(cert)
	if err := s.WriteFiles(key, cert); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCLI_SwappedKeyPair: the key and certificate files beside the ledger
// are replaced by a new pair. Nothing signs with it, a certificate it
// signs does not verify, and what the recorded key signed still does.
func TestCLI_SwappedKeyPair(t *testing.T) {
	f := newCertFixture(t, 0)
	number, genuine := f.issue(t, "ZC1234AB")
	recorded, _ := certificateFingerprintFile(t, filepath.Join(f.dir, "itad-signing-cert.pem"))
	mustItad(t, f.db, "checkpoint")
	events := func() int64 {
		var n int64
		openDB(t, f.db).QueryRow(`SELECT count(*) FROM events WHERE action IN ('certificate.issue', 'checkpoint', 'export')`).Scan(&n)
		return n
	}
	before := events()

	forger := swapKeyPair(t, f.dir)
	forged := certificate.Fingerprint(forger.Cert)
	exportFile := filepath.Join(f.dir, "export.csv")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"CertIssue", []string{"cert", "issue", "ZC1234AB", "-o", f.out}},
		{"Checkpoint", []string{"checkpoint"}},
		{"ExportSign", []string{"export", "-o", exportFile, "--sign"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := itad(t, f.db, tc.args...)
			if code != exitVerifyFailed || !strings.Contains(errOut, "itad: error: this key pair is not the ledger's recorded signing identity") ||
				!strings.Contains(errOut, forged) || !strings.Contains(errOut, recorded) ||
				!strings.Contains(errOut, "itad: hint: restore the ledger's key files, or record a new one with 'itad key rotate") {
				t.Fatalf("exit %d, want 3 naming both fingerprints\n%s%s", code, out, errOut)
			}
		})
	}
	if n := events(); n != before {
		t.Errorf("%d signing events recorded by refused commands", n-before)
	}
	if entries, _ := os.ReadDir(f.out); len(entries) != 1 {
		t.Errorf("files in the output folder: %v", entries)
	}
	for _, p := range []string{exportFile, exportFile + ".p7s"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s written by a refused export", p)
		}
	}

	// A certificate forged with the swapped key: the genuine number,
	// issue time, issuer and data, signed by the new key.
	s, err := ledger.Open(f.db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.CertificateByNumber(number)
	if err != nil {
		t.Fatal(err)
	}
	data, err := s.CertificateData(rec.Kind, rec.Subject)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	issued, _ := rec.IssuedTime()
	iss, err := certificate.Issue(ledger.CertificateDraft{UUID: rec.UUID, IssuedAt: issued, IssuedBy: rec.IssuedBy, Data: data}, forger)
	if err != nil {
		t.Fatal(err)
	}
	forgedPDF := filepath.Join(t.TempDir(), "forged.pdf")
	os.WriteFile(forgedPDF, iss.Signed, 0o644)
	out, errOut, code := itad(t, f.db, "cert", "verify", forgedPDF)
	if code != exitVerifyFailed || !strings.Contains(errOut, "signed by a certificate this ledger does not trust") || !strings.Contains(errOut, forged) {
		t.Fatalf("forged certificate: exit %d\n%s%s", code, out, errOut)
	}
	// The genuine certificate still verifies: trust is what the ledger
	// recorded, not the file beside it.
	if out := mustItad(t, f.db, "cert", "verify", genuine); !strings.Contains(out, "valid certificate "+number) {
		t.Fatalf("genuine certificate after the swap:\n%s", out)
	}
	// verify-file: a file signed by the swapped key is refused.
	os.WriteFile(exportFile, []byte("serial\nZC1234AB\n"), 0o644)
	sig, err := certificate.SignDetached([]byte("serial\nZC1234AB\n"), forger, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(exportFile+".p7s", sig, 0o644)
	if _, errOut, code := itad(t, f.db, "verify-file", exportFile); code != exitVerifyFailed || !strings.Contains(errOut, forged) {
		t.Fatalf("verify-file signed by the swapped key: exit %d\n%s", code, errOut)
	}
	// key show says so; key rotate will not retire a pair it does not know.
	var info keyInfo
	json.Unmarshal([]byte(mustItad(t, f.db, "--json", "key", "show")), &info)
	if info.Status != "unrecorded" || info.Recorded || len(info.Identities) != 1 || info.Identities[0].Fingerprint != recorded {
		t.Errorf("key show after the swap: %+v", info)
	}
	if _, errOut, code := itad(t, f.db, "key", "rotate", "--reason", "x"); code != exitVerifyFailed || !strings.Contains(errOut, "may have been swapped") {
		t.Errorf("key rotate over a swapped pair: exit %d\n%s", code, errOut)
	}
	// The ledger itself is intact.
	mustItad(t, f.db, "verify")
}

// TestCLI_KeyRotate: key rotate records the change, keeps the old
// certificate beside the ledger, and from then on only the new key signs;
// certificates and checkpoints signed before still verify.
func TestCLI_KeyRotate(t *testing.T) {
	f := newCertFixture(t, 1)
	before, beforePath := f.issue(t, "ZC1234AB")
	mustItad(t, f.db, "--actor", "alice", "checkpoint")
	cpFile := filepath.Join(f.dir, "cp.txt")
	mustItad(t, f.db, "checkpoint", "export", "-o", cpFile)
	oldFP, _ := certificateFingerprintFile(t, filepath.Join(f.dir, "itad-signing-cert.pem"))

	if _, errOut, code := itad(t, f.db, "key", "rotate"); code != exitUsage || !strings.Contains(errOut, `--reason is required`) {
		t.Fatalf("rotate without --reason: exit %d %s", code, errOut)
	}
	out := mustItad(t, f.db, "key", "rotate", "--reason", "yearly key change")
	retiredCert := filepath.Join(f.dir, "itad-signing-cert."+oldFP[:16]+".pem")
	retiredKey := filepath.Join(f.dir, "itad-signing-key."+oldFP[:16]+".retired.pem")
	newFP, _ := certificateFingerprintFile(t, filepath.Join(f.dir, "itad-signing-cert.pem"))
	if newFP == oldFP || !strings.Contains(out, "signing key rotated") || !strings.Contains(out, retiredCert) || !strings.Contains(out, retiredKey) {
		t.Fatalf("key rotate:\n%s", out)
	}
	if fp, _ := certificateFingerprintFile(t, retiredCert); fp != oldFP {
		t.Fatalf("retired certificate file holds %s", fp)
	}
	if fi, err := os.Stat(retiredKey); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("retired key: %v %v", fi, err)
	}

	// The new key signs; both certificates verify.
	after, afterPath := f.issue(t, "--batch", "RUN-1")
	for number, path := range map[string]string{before: beforePath, after: afterPath} {
		if out := mustItad(t, f.db, "cert", "verify", path); !strings.Contains(out, "valid certificate "+number) {
			t.Errorf("cert verify %s:\n%s", number, out)
		}
	}
	// The ledger verifies (key.rotate is a known event) and so do
	// checkpoints signed with either key.
	mustItad(t, f.db, "checkpoint")
	out = mustItad(t, f.db, "verify", "--checkpoint", cpFile)
	if strings.Count(out, "signature verified") != 3 {
		t.Fatalf("verify after rotation:\n%s", out)
	}

	// The retired key is refused for signing, even pointed at directly.
	retired := []string{"--key", retiredKey, "--cert", retiredCert}
	for _, args := range [][]string{
		append(append([]string{}, retired...), "cert", "issue", "ZC1234AB", "-o", f.out),
		append(append([]string{}, retired...), "checkpoint"),
	} {
		if _, errOut, code := itad(t, f.db, args...); code != exitVerifyFailed || !strings.Contains(errOut, "this key pair was retired by a key rotation") ||
			!strings.Contains(errOut, newFP) {
			t.Errorf("%v: exit %d\n%s", args, code, errOut)
		}
	}
	// Nor can it become current again.
	if _, errOut, code := itad(t, f.db, "key", "rotate", "--reason", "undo", "--cert", retiredCert, "--key", retiredKey); code != exitFailure ||
		!strings.Contains(errOut, "cannot become current again") {
		t.Errorf("rotate back to the retired key: exit %d\n%s", code, errOut)
	}

	// key show lists the identities; the log names both fingerprints,
	// the actor and the reason.
	var info keyInfo
	json.Unmarshal([]byte(mustItad(t, f.db, "--json", "key", "show")), &info)
	if info.Status != "current" || info.Fingerprint != newFP || len(info.Identities) != 2 || info.Identities[0].Current() ||
		info.Identities[0].RetiredReason != "yearly key change" || info.Identities[1].Replaces != oldFP {
		t.Errorf("key show: %+v", info)
	}
	if out := mustItad(t, f.db, "key", "show"); !strings.Contains(out, "yes: the current signing identity") || !strings.Contains(out, "retired (#") {
		t.Errorf("key show:\n%s", out)
	}
	var evs []struct {
		Actor   string            `json:"actor"`
		Reason  string            `json:"reason"`
		Payload map[string]string `json:"payload"`
	}
	json.Unmarshal([]byte(mustItad(t, f.db, "--actor", "bob", "--json", "log", "--action", "key.rotate")), &evs)
	if len(evs) != 1 || evs[0].Actor != "tester" || evs[0].Reason != "yearly key change" || evs[0].Payload["old_fingerprint"] != oldFP ||
		evs[0].Payload["fingerprint"] != newFP {
		t.Errorf("key.rotate in the log: %+v", evs)
	}

	// Rotating to an imported pair, kept as given.
	other, err := certificate.GenerateSigner("Test Constabulary", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	other.WriteFiles(filepath.Join(src, "k.pem"), filepath.Join(src, "c.pem"))
	mustItad(t, f.db, "key", "rotate", "--reason", "organisation CA issued a certificate", "--cert", filepath.Join(src, "c.pem"), "--key", filepath.Join(src, "k.pem"))
	if fp, _ := certificateFingerprintFile(t, filepath.Join(f.dir, "itad-signing-cert.pem")); fp != certificate.Fingerprint(other.Cert) {
		t.Fatalf("after rotate --cert/--key the certificate is %s", fp)
	}
	mustItad(t, f.db, "cert", "issue", "ZC1234AB", "-o", f.out)
	mustItad(t, f.db, "verify")
}

// TestCLI_EncryptedKey: a key encrypted with the passphrase in
// ITAD_KEY_PASSPHRASE_FILE signs; a wrong or missing passphrase is a clear
// error; the passphrase is never recorded or printed.
func TestCLI_EncryptedKey(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "itad.db")
	mustItad(t, db, "init", "--org", "Test Constabulary")
	mustItad(t, db, "contractor", "add", "Shredco Ltd")
	mustItad(t, db, "device", "add", "SN1", "--type", "hdd")
	mustItad(t, db, "dispose", "SN1", "--method", "shred", "--on", "2021-03-04", "--contractor", "Shredco Ltd")
	const secret = "tr0ub4dor & 3 horses"
	pw, wrong, empty := filepath.Join(dir, "pw"), filepath.Join(dir, "wrong"), filepath.Join(dir, "empty")
	os.WriteFile(pw, []byte(secret+"\r\nsecond line ignored\n"), 0o600)
	os.WriteFile(wrong, []byte("not it\n"), 0o600)
	os.WriteFile(empty, []byte("\n"), 0o600)
	key := filepath.Join(dir, "itad-signing-key.pem")

	// --passphrase with nowhere to get one: refused, nothing written.
	t.Setenv(passphraseEnv, "")
	if _, errOut, code := itad(t, db, "key", "init", "--passphrase"); code != exitFailure || !strings.Contains(errOut, "no terminal") ||
		!strings.Contains(errOut, "itad: hint: set "+passphraseEnv) {
		t.Fatalf("key init --passphrase without a terminal: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(key); err == nil {
		t.Fatal("a refused key init left a key file")
	}
	t.Setenv(passphraseEnv, empty)
	if _, errOut, code := itad(t, db, "key", "init"); code != exitFailure || !strings.Contains(errOut, "empty first line") {
		t.Fatalf("empty passphrase file: exit %d\n%s", code, errOut)
	}

	t.Setenv(passphraseEnv, pw)
	out := mustItad(t, db, "key", "init")
	data, _ := os.ReadFile(key)
	if !strings.HasPrefix(string(data), "-----BEGIN ENCRYPTED PRIVATE KEY-----\n") || !strings.Contains(out, "Key encrypted:        yes") {
		t.Fatalf("key init with %s:\n%s\n%.60s", passphraseEnv, out, data)
	}
	if fi, _ := os.Stat(key); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %04o", fi.Mode().Perm())
	}
	all := out
	out = mustItad(t, db, "cert", "issue", "SN1", "-o", filepath.Join(dir, "out"))
	all += out
	all += mustItad(t, db, "checkpoint")

	for _, tc := range []struct {
		name, env, want, hint string
	}{
		{"WrongPassphrase", wrong, "wrong passphrase for the private key", "itad: hint: check the file named by " + passphraseEnv},
		{"NoPassphrase", "", "the private key is encrypted and no passphrase was given", "itad: hint: put the passphrase on the first line of a file"},
		{"MissingFile", filepath.Join(dir, "missing"), "passphrase file (" + passphraseEnv + ")", "itad: hint: set " + passphraseEnv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(passphraseEnv, tc.env)
			_, errOut, code := itad(t, db, "cert", "issue", "SN1", "-o", filepath.Join(dir, "out"))
			if code != exitFailure || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, tc.hint) {
				t.Fatalf("exit %d, want 1, %q and %q:\n%s", code, tc.want, tc.hint, errOut)
			}
		})
	}

	t.Run("OpenSSL", func(t *testing.T) {
		requireTool(t, "openssl")
		os.WriteFile(pw+".1", []byte(secret), 0o600) // openssl reads the whole first line
		if out, err := toolOutput(t, "openssl", "pkey", "-in", key, "-passin", "file:"+pw+".1", "-noout"); err != nil {
			t.Errorf("openssl pkey -passin: %v\n%s", err, out)
		}
	})

	// The passphrase is in no event and no output.
	t.Setenv(passphraseEnv, pw)
	all += mustItad(t, db, "log", "--format", "json")
	all += mustItad(t, db, "--json", "key", "show")
	if strings.Contains(all, secret) || strings.Contains(all, "tr0ub4dor") {
		t.Errorf("the passphrase appears in itad's output:\n%s", all)
	}
	var n int64
	openDB(t, db).QueryRow(`SELECT count(*) FROM events WHERE instr(payload, 'tr0ub4dor') > 0 OR instr(reason, 'tr0ub4dor') > 0`).Scan(&n)
	if n != 0 {
		t.Errorf("%d events hold the passphrase", n)
	}
}
