package certificate

import (
	"bytes"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDetached_RoundTrip(t *testing.T) {
	data := []byte("serial,weight_kg,method\nSN-0001,1.25,shred\r\nSN-0002,0.8,degauss\n")
	chained, _ := chainSigner(t, newECKey(t, elliptic.P256()))
	tests := []struct {
		name   string
		signer *Signer
	}{
		{"ECDSA", testSigner(t)},
		{"RSA", &Signer{Key: testRSAKey(t), Cert: issue(t, "rsa", testRSAKey(t), nil, nil, false)}},
		{"Chain", chained},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, err := SignDetached(data, tt.signer, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(sig, []byte("-----BEGIN PKCS7-----\n")) {
				t.Fatalf("signature is not a PEM PKCS7 block:\n%s", sig)
			}
			block, _ := pem.Decode(sig)
			for _, form := range []struct {
				name string
				sig  []byte
			}{{"PEM", sig}, {"DER", block.Bytes}} {
				cert, err := VerifyDetached(data, form.sig)
				if err != nil {
					t.Fatalf("%s: VerifyDetached: %v", form.name, err)
				}
				if !cert.Equal(tt.signer.Cert) {
					t.Errorf("%s: signer %s, want %s", form.name, cert.Subject, tt.signer.Cert.Subject)
				}
			}
			// Any change to the data or the signature fails.
			for i := range data {
				mangled := bytes.Clone(data)
				mangled[i] ^= 0x01
				if _, err := VerifyDetached(mangled, sig); !errors.Is(err, ErrSignatureInvalid) {
					t.Fatalf("data byte %d flipped: VerifyDetached = %v, want ErrSignatureInvalid", i, err)
				}
			}
			for i := 0; i < len(block.Bytes); i += 7 {
				mangled := bytes.Clone(block.Bytes)
				mangled[i] ^= 0x01
				cert, err := VerifyDetached(data, mangled)
				switch {
				case err == nil:
					// Certificates are not covered by the CMS signature:
					// a flip inside one (its subject, its own signature)
					// can leave the signature valid, but the key, and so
					// the check callers make by Fingerprint, cannot.
					if !publicKeyEqual(tt.signer.Key.Public(), cert.PublicKey) {
						t.Fatalf("signature byte %d flipped: accepted with another key", i)
					}
				case !errors.Is(err, ErrSignatureInvalid):
					t.Fatalf("signature byte %d flipped: VerifyDetached = %v, want ErrSignatureInvalid", i, err)
				}
			}
		})
	}
}

func TestDetached_Errors(t *testing.T) {
	s := testSigner(t)
	data := []byte("hello")
	sig, err := SignDetached(data, s, testNow)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		sig  []byte
	}{
		{"Empty", data, nil},
		{"Garbage", data, []byte("not a signature")},
		{"OtherData", []byte("hellp"), sig},
		{"Truncated", data, sig[:len(sig)/2]},
		{"WrongPEMType", data, bytes.Replace(sig, []byte("PKCS7"), []byte("CERTIFICATE"), 2)},
		{"TrailingData", data, append(bytes.Clone(sig), "extra"...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := VerifyDetached(tt.data, tt.sig); !errors.Is(err, ErrSignatureInvalid) {
				t.Fatalf("VerifyDetached = %v, want ErrSignatureInvalid", err)
			}
		})
	}
	if _, err := SignDetached(data, &Signer{}, testNow); err == nil {
		t.Error("SignDetached with an empty signer succeeded")
	}
}

// TestDetached_OpenSSL checks detached signatures with OpenSSL 3, using the
// commands documented in detached.go (and so in the README):
//
//	openssl cms -verify -binary -inform PEM -in FILE.sig -content FILE -noverify -out /dev/null
//	openssl cms -verify -binary -inform PEM -in FILE.sig -content FILE -CAfile cert.pem -out /dev/null
//	openssl cms -verify -binary -inform PEM -in FILE.sig -content FILE -CAfile cert.pem -purpose any -out /dev/null
func TestDetached_OpenSSL(t *testing.T) {
	requireTool(t, "openssl")
	ecdsaSigner := testSigner(t)
	rsaSigner := &Signer{Key: testRSAKey(t), Cert: issue(t, "rsa", testRSAKey(t), nil, nil, false)}
	chained, root := chainSigner(t, newECKey(t, elliptic.P256()))
	tests := []struct {
		name   string
		signer *Signer
		caPEM  []byte // the trust anchor for -CAfile
	}{
		{"ECDSA", ecdsaSigner, pemCert(ecdsaSigner.Cert.Raw)},
		{"RSA", rsaSigner, pemCert(rsaSigner.Cert.Raw)},
		{"Chain", chained, pemCert(root.Raw)},
	}
	// Binary content with CR LF, NUL and no final newline: -binary must
	// keep it byte for byte.
	data := []byte("serial,weight\r\nSN-1,2.5\n\x00\xff end")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "export.csv")
			sigFile := file + ".sig"
			ca := filepath.Join(dir, "cert.pem")
			sig, err := SignDetached(data, tt.signer, testNow)
			if err != nil {
				t.Fatal(err)
			}
			for path, b := range map[string][]byte{file: data, sigFile: sig, ca: tt.caPEM} {
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			commands := map[string][]string{
				"noverify": {"cms", "-verify", "-binary", "-inform", "PEM", "-in", sigFile, "-content", file, "-noverify", "-out", os.DevNull},
				"CAfile":   {"cms", "-verify", "-binary", "-inform", "PEM", "-in", sigFile, "-content", file, "-CAfile", ca, "-out", os.DevNull},
				"purpose":  {"cms", "-verify", "-binary", "-inform", "PEM", "-in", sigFile, "-content", file, "-CAfile", ca, "-purpose", "any", "-out", os.DevNull},
			}
			for name, args := range commands {
				out, err := runTool(t, "openssl", args...)
				if err != nil || !strings.Contains(out, "Verification successful") {
					t.Errorf("%s: openssl %s: %v\n%s", name, strings.Join(args, " "), err, out)
				}
			}
			// Flip a byte of the content: both commands must fail.
			mangled := bytes.Clone(data)
			mangled[3] ^= 0x01
			if err := os.WriteFile(file, mangled, 0o644); err != nil {
				t.Fatal(err)
			}
			for name, args := range commands {
				if out, err := runTool(t, "openssl", args...); err == nil {
					t.Errorf("%s: openssl accepted changed content:\n%s", name, out)
				}
			}
		})
	}
}

// TestDetached_OpenSSLSigned checks that VerifyDetached accepts a
// signature made by openssl cms -sign.
func TestDetached_OpenSSLSigned(t *testing.T) {
	requireTool(t, "openssl")
	s := testSigner(t)
	dir := t.TempDir()
	keyPath, certPath := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	if err := s.WriteFiles(keyPath, certPath); err != nil {
		t.Fatal(err)
	}
	data := []byte("some export\n")
	file := writeTemp(t, "data", data)
	sigPath := filepath.Join(dir, "data.sig")
	if out, err := runTool(t, "openssl", "cms", "-sign", "-binary", "-in", file, "-signer", certPath, "-inkey", keyPath,
		"-md", "sha256", "-outform", "PEM", "-out", sigPath); err != nil {
		t.Fatalf("openssl cms -sign: %v\n%s", err, out)
	}
	sig, err := os.ReadFile(sigPath)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := VerifyDetached(data, sig)
	if err != nil {
		t.Fatalf("VerifyDetached of an OpenSSL signature: %v", err)
	}
	if Fingerprint(cert) != Fingerprint(s.Cert) {
		t.Error("wrong signer")
	}
}

func FuzzVerifyDetached(f *testing.F) {
	s := testSigner(f)
	data := []byte("hello")
	sig, err := SignDetached(data, s, testNow)
	if err != nil {
		f.Fatal(err)
	}
	block, _ := pem.Decode(sig)
	f.Add(sig)
	f.Add(block.Bytes)
	f.Add([]byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x80, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, sig []byte) {
		cert, err := VerifyDetached(data, sig)
		if err == nil && cert == nil {
			t.Fatal("no certificate and no error")
		}
		if err != nil && !errors.Is(err, ErrSignatureInvalid) {
			t.Fatalf("error %v does not wrap ErrSignatureInvalid", err)
		}
	})
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func ExampleSignDetached() {
	s, err := GenerateSigner("Acme Recycling", testNow)
	if err != nil {
		panic(err)
	}
	export := []byte("serial,method\nSN-0001,shred\n")
	sig, err := SignDetached(export, s, testNow)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s", sig[:22])
	cert, err := VerifyDetached(export, sig)
	fmt.Println(err == nil && Fingerprint(cert) == Fingerprint(s.Cert))
	_, err = VerifyDetached([]byte("serial,method\nSN-0002,shred\n"), sig)
	fmt.Println(errors.Is(err, ErrSignatureInvalid))
	// Output:
	// -----BEGIN PKCS7-----
	// true
	// true
}

// TestDetached_DigestPathMatchesLibrary mangles every byte of a signature
// and checks that the streaming check (verifyCMSDigest, which redoes the
// library's last steps over a digest) accepts and rejects exactly what the
// library's own check (verifyCMS) does.
func TestDetached_DigestPathMatchesLibrary(t *testing.T) {
	data := []byte("serial,method\nSN-1,shred\n")
	for _, s := range []*Signer{testSigner(t), {Key: testRSAKey(t), Cert: issue(t, "rsa", testRSAKey(t), nil, nil, false)}} {
		sig, err := SignDetached(data, s, testNow)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(sig)
		digest := sha256.Sum256(data)
		check := func(what string, der []byte, d [32]byte, content []byte) {
			_, libErr := verifyCMS(content, der)
			_, ourErr := verifyCMSDigest(d, der)
			if (libErr == nil) != (ourErr == nil) {
				t.Fatalf("%s: library says %v, digest path says %v", what, libErr, ourErr)
			}
		}
		check("intact", block.Bytes, digest, data)
		check("other content", block.Bytes, sha256.Sum256([]byte("x")), []byte("x"))
		for i := range block.Bytes {
			der := bytes.Clone(block.Bytes)
			der[i] ^= 0x01
			check(fmt.Sprintf("byte %d flipped", i), der, digest, data)
		}
	}
}
