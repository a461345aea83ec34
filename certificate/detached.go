package certificate

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/digitorus/pkcs7"
)

// Detached signatures of exported files (CSV, JSON, PDF) are PEM-encoded
// CMS (RFC 5652) SignedData structures, so that anyone can check them
// without itad:
//
//	-----BEGIN PKCS7-----
//	base64 of DER ContentInfo {
//	  contentType  id-signedData (1.2.840.113549.1.7.2)
//	  content [0]  SignedData {
//	    version 1
//	    digestAlgorithms  { sha-256 (2.16.840.1.101.3.4.2.1) }
//	    encapContentInfo  { id-data (1.2.840.113549.1.7.1) }   (no content: detached)
//	    certificates [0]  signer certificate, then its chain
//	    signerInfos { SignerInfo {
//	      version 1, issuerAndSerialNumber of the signer certificate
//	      digestAlgorithm sha-256
//	      signedAttrs [0] (DER SET OF, sorted) {
//	        contentType   id-data
//	        signingTime   UTCTime of the signing time, in whole seconds
//	        messageDigest SHA-256 of the file's bytes
//	      }
//	      signatureAlgorithm ecdsa-with-SHA256, or sha256WithRSAEncryption
//	      signature over SHA-256 of the DER signedAttrs with tag SET (0x31)
//	    } }
//	  }
//	}
//	-----END PKCS7-----
//
// OpenSSL 3 checks such a signature of FILE in FILE.sig, and only the
// signature, with
//
//	openssl cms -verify -binary -inform PEM -in FILE.sig -content FILE -noverify -out /dev/null
//
// and, to also check that the signer is the certificate in cert.pem (the
// self-signed certificate of an itad key, or an organisation root that
// issued the signer's certificate), with
//
//	openssl cms -verify -binary -inform PEM -in FILE.sig -content FILE -CAfile cert.pem -out /dev/null
//
// Certificates made by GenerateSigner carry the emailProtection extended
// key usage that OpenSSL's default purpose (smimesign) wants; for an
// imported certificate without it add "-purpose any". Each command prints
// "CMS Verification successful" on standard error and exits 0, or exits 4
// with "CMS Verification failure" if a byte of FILE changed. -binary is
// required: without it OpenSSL canonicalises line endings as for S/MIME
// text. TestDetached_OpenSSL runs all three forms (OpenSSL 3.0).

// cmsMaxCerts bounds the certificates embedded in a signature.
const cmsMaxCerts = 8

// signCMS returns a DER detached CMS SignedData over content, made with
// s.Key, carrying s.Cert and s.Chain, with signing time t (the current time
// if t is zero). The layout is documented above.
func signCMS(content []byte, s *Signer, t time.Time) ([]byte, error) {
	if s == nil || s.Key == nil || s.Cert == nil {
		return nil, errors.New("signer has no key or certificate")
	}
	if len(s.Chain)+1 > cmsMaxCerts {
		return nil, fmt.Errorf("certificate chain of %d certificates is too long", len(s.Chain)+1)
	}
	if t.IsZero() {
		t = time.Now()
	}
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		return nil, err
	}
	// The library defaults to SHA-1, which OpenSSL 3 and NSS reject.
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	// AddSigner, not AddSignerChain: the chain was checked when the signer
	// was loaded, and AddSignerChain would insist that the chain verify
	// again with the library's own rules. The library signs the
	// attributes it builds, with time.Now() as the signing time; it gets
	// a stand-in key, and signAttributes signs the final attributes once.
	if err := sd.AddSigner(s.Cert, deferredSigner{s.Key.Public()}, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, err
	}
	for _, c := range s.Chain {
		sd.AddCertificate(c)
	}
	if err := signAttributes(sd, s.Key, t); err != nil {
		return nil, err
	}
	// Drop the encapsulated content: the signature is detached.
	sd.Detach()
	return sd.Finish()
}

// cmsAttribute mirrors the library's unexported attribute type: a SEQUENCE
// of an OID and a SET holding one value.
type cmsAttribute struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"set"`
}

// deferredSigner has the public key of the real signer, which the library
// needs to choose the signature algorithm, and signs nothing: its empty
// signature is replaced by signAttributes.
type deferredSigner struct{ pub crypto.PublicKey }

func (d deferredSigner) Public() crypto.PublicKey { return d.pub }

func (deferredSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, nil
}

// signAttributes replaces the signingTime attribute that the library fills
// with time.Now() by t, then signs the signed attributes with key. The
// library offers no option for the time, but exposes the SignerInfo it
// built through GetSignedData; the attribute set must stay sorted by DER
// encoding (X.690 11.6), so it is sorted again after the change.
func signAttributes(sd *pkcs7.SignedData, key crypto.Signer, t time.Time) error {
	infos := sd.GetSignedData().SignerInfos
	if len(infos) != 1 {
		return errors.New("cms: expected one signer")
	}
	si := &infos[0]
	// Go's asn1 encodes a time.Time as UTCTime for years 1950 to 2049 and
	// as GeneralizedTime otherwise, as RFC 5652 11.3 requires.
	when, err := asn1.Marshal(t.UTC().Truncate(time.Second))
	if err != nil {
		return fmt.Errorf("cms: signing time: %w", err)
	}
	attrs := make([]cmsAttribute, len(si.AuthenticatedAttributes))
	found := false
	for i, a := range si.AuthenticatedAttributes {
		attrs[i] = cmsAttribute{Type: a.Type, Value: a.Value}
		if a.Type.Equal(pkcs7.OIDAttributeSigningTime) {
			attrs[i].Value = asn1.RawValue{Tag: asn1.TagSet, IsCompound: true, Bytes: when}
			found = true
		}
	}
	if !found {
		return errors.New("cms: no signing time attribute")
	}
	// DER SET OF: elements sorted by their encodings.
	enc := make([][]byte, len(attrs))
	for i := range attrs {
		if enc[i], err = asn1.Marshal(attrs[i]); err != nil {
			return fmt.Errorf("cms: %w", err)
		}
	}
	idx := make([]int, len(attrs))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return bytes.Compare(enc[idx[i]], enc[idx[j]]) < 0 })
	// The signature covers the attributes encoded as a SET (tag 0x31), not
	// with the [0] IMPLICIT tag they carry inside SignerInfo (RFC 5652 5.4).
	var set []byte
	for k, i := range idx {
		set = append(set, enc[i]...)
		si.AuthenticatedAttributes[k].Type = attrs[i].Type
		si.AuthenticatedAttributes[k].Value = attrs[i].Value
	}
	set, err = asn1.Marshal(asn1.RawValue{Tag: asn1.TagSet, IsCompound: true, Bytes: set})
	if err != nil {
		return fmt.Errorf("cms: %w", err)
	}
	digest := sha256.Sum256(set)
	// crypto.Signer: ECDSA returns an ASN.1 (r, s) signature, RSA a
	// PKCS #1 v1.5 one, matching the algorithm the library recorded.
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return fmt.Errorf("cms: sign: %w", err)
	}
	si.EncryptedDigest = sig
	return nil
}

// cmsResult is what a verified CMS signature tells.
type cmsResult struct {
	signer   *x509.Certificate
	certs    []*x509.Certificate
	signedAt time.Time
}

// errCMSMalformed marks a signature that does not parse as CMS, as opposed
// to one that parses but does not verify.
var errCMSMalformed = errors.New("malformed CMS signature")

// verifyCMS checks a detached DER CMS SignedData der over content: exactly
// one signer, whose certificate is embedded, a messageDigest attribute
// equal to the digest of content, a signature over the signed attributes
// by the signer's key, and a signing time within the signer certificate's
// validity. It does not check who the signer is: callers compare the
// returned certificate with the ones they trust. Parse failures wrap
// errCMSMalformed, verification failures ErrSignatureInvalid.
func verifyCMS(content, der []byte) (res *cmsResult, err error) {
	p7, err := checkCMS(der)
	if err != nil {
		return nil, err
	}
	p7.Content = content
	if err := p7.Verify(); err != nil {
		var mismatch *pkcs7.MessageDigestMismatchError
		if errors.As(err, &mismatch) {
			return nil, fmt.Errorf("%w: digest mismatch: the signed bytes were changed", ErrSignatureInvalid)
		}
		return nil, fmt.Errorf("%w: %v", ErrSignatureInvalid, err)
	}
	return cmsResultOf(p7), nil
}

// cmsResultOf returns what a verified p7 tells. Verify has already parsed
// the signing time if present; a signature without one is valid but has
// no time.
func cmsResultOf(p7 *pkcs7.PKCS7) *cmsResult {
	res := &cmsResult{signer: p7.GetOnlySigner(), certs: p7.Certificates}
	var t time.Time
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &t); err == nil {
		res.signedAt = t
	}
	return res
}

// verifyCMSDigest checks der as verifyCMS does, but against the SHA-256
// digest of the content, so that a file of any size can be streamed
// through the hash instead of being held in memory. The library hashes
// the content itself, so the last steps of its check are done here, the
// same way: the messageDigest attribute must equal digest; the signature,
// by the signer certificate's key with SHA-256, must cover the signed
// attributes DER-encoded as a SET (RFC 5652 5.4), sorted as X.690 11.6
// requires (the order in which signAttributes signs them); and a signing
// time, if present, must fall within the certificate's validity.
func verifyCMSDigest(digest [sha256.Size]byte, der []byte) (*cmsResult, error) {
	p7, err := checkCMS(der)
	if err != nil {
		return nil, err
	}
	si := p7.Signers[0]
	var md []byte
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeMessageDigest, &md); err != nil {
		return nil, fmt.Errorf("%w: no message digest: %v", ErrSignatureInvalid, err)
	}
	if subtle.ConstantTimeCompare(md, digest[:]) != 1 {
		return nil, fmt.Errorf("%w: digest mismatch: the signed bytes were changed", ErrSignatureInvalid)
	}
	enc := make([][]byte, len(si.AuthenticatedAttributes))
	for i, a := range si.AuthenticatedAttributes {
		if enc[i], err = asn1.Marshal(cmsAttribute{Type: a.Type, Value: a.Value}); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSignatureInvalid, err)
		}
	}
	sort.Slice(enc, func(i, j int) bool { return bytes.Compare(enc[i], enc[j]) < 0 })
	set, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSet, IsCompound: true, Bytes: bytes.Join(enc, nil)})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignatureInvalid, err)
	}
	ee := p7.GetOnlySigner()
	// The signature algorithms the library accepts with SHA-256 for the
	// key types itad signs with; CheckSignature refuses a key of another
	// type than the algorithm's.
	var alg x509.SignatureAlgorithm
	switch sa := si.DigestEncryptionAlgorithm.Algorithm; {
	case sa.Equal(pkcs7.OIDDigestAlgorithmECDSASHA256), sa.Equal(pkcs7.OIDEncryptionAlgorithmECDSAP256),
		sa.Equal(pkcs7.OIDEncryptionAlgorithmECDSAP384), sa.Equal(pkcs7.OIDEncryptionAlgorithmECDSAP521):
		alg = x509.ECDSAWithSHA256
	case sa.Equal(pkcs7.OIDEncryptionAlgorithmRSA), sa.Equal(pkcs7.OIDEncryptionAlgorithmRSASHA256):
		alg = x509.SHA256WithRSA
	default:
		return nil, fmt.Errorf("%w: unsupported signature algorithm %v", ErrSignatureInvalid, sa)
	}
	if err := ee.CheckSignature(alg, set, si.EncryptedDigest); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignatureInvalid, err)
	}
	res := cmsResultOf(p7)
	if t := res.signedAt; !t.IsZero() && (t.After(ee.NotAfter) || t.Before(ee.NotBefore)) {
		return nil, fmt.Errorf("%w: signing time %s is outside the certificate's validity", ErrSignatureInvalid, t.Format(time.RFC3339))
	}
	return res, nil
}

// checkCMS parses der and checks its shape: detached, one signer whose
// certificate is embedded, signed attributes, SHA-256.
func checkCMS(der []byte) (*pkcs7.PKCS7, error) {
	p7, err := parseCMS(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errCMSMalformed, err)
	}
	if len(p7.Content) != 0 {
		return nil, fmt.Errorf("%w: signature is not detached", errCMSMalformed)
	}
	if len(p7.Signers) != 1 {
		return nil, fmt.Errorf("%w: %d signers, want 1", errCMSMalformed, len(p7.Signers))
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, fmt.Errorf("%w: signer certificate is not embedded", ErrSignatureInvalid)
	}
	// Every SignerInfo must carry signed attributes, or the library would
	// check a signature over the content itself with whatever digest the
	// SignerInfo names.
	if len(p7.Signers[0].AuthenticatedAttributes) == 0 {
		return nil, fmt.Errorf("%w: no signed attributes", ErrSignatureInvalid)
	}
	if !p7.Signers[0].DigestAlgorithm.Algorithm.Equal(pkcs7.OIDDigestAlgorithmSHA256) {
		return nil, fmt.Errorf("%w: digest algorithm %v, want SHA-256", ErrSignatureInvalid, p7.Signers[0].DigestAlgorithm.Algorithm)
	}
	return p7, nil
}

// parseCMS parses DER CMS, turning a panic of the third-party BER
// transcoder on hostile input into an error (none is known; FuzzVerifyPDF
// and FuzzVerifyDetached look for them).
func parseCMS(der []byte) (p7 *pkcs7.PKCS7, err error) {
	defer func() {
		if r := recover(); r != nil {
			p7, err = nil, fmt.Errorf("pkcs7 parser panic: %v", r)
		}
	}()
	return pkcs7.Parse(der)
}

// SignDetached returns a detached signature of data: a PEM "PKCS7" block of
// the CMS SignedData described at the top of this file, made by s at time t
// (the current time if t is zero). It returns an error if s has no key or
// certificate or signing fails.
func SignDetached(data []byte, s *Signer, t time.Time) ([]byte, error) {
	der, err := signCMS(data, s, t)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: der}), nil
}

// VerifyDetached checks a detached CMS signature sig of data, in PEM (a
// single "PKCS7" or "CMS" block) or DER form, and returns the signer's
// certificate. It checks the signature only: callers must compare the
// certificate with the ones they trust by Fingerprint or public key, never
// by subject name, since the certificates in a CMS structure are not
// covered by its signature. Every failure, including a signature that does
// not parse, wraps ErrSignatureInvalid.
func VerifyDetached(data, sig []byte) (*x509.Certificate, error) {
	return VerifyDetachedReader(bytes.NewReader(data), sig)
}

// VerifyDetachedReader is VerifyDetached for content read from r, which is
// streamed through SHA-256 and never held in memory: a file of any size
// can be checked. Errors reading r are returned as they are; every other
// failure wraps ErrSignatureInvalid.
func VerifyDetachedReader(r io.Reader, sig []byte) (*x509.Certificate, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return nil, fmt.Errorf("read signed content: %w", err)
	}
	var digest [sha256.Size]byte
	h.Sum(digest[:0])
	der := sig
	if trimmed := bytes.TrimSpace(sig); bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
		block, rest := pem.Decode(trimmed)
		if block == nil {
			return nil, fmt.Errorf("%w: bad PEM", ErrSignatureInvalid)
		}
		if block.Type != "PKCS7" && block.Type != "CMS" {
			return nil, fmt.Errorf("%w: unexpected PEM block %q", ErrSignatureInvalid, block.Type)
		}
		if len(bytes.TrimSpace(rest)) != 0 {
			return nil, fmt.Errorf("%w: data after the PEM block", ErrSignatureInvalid)
		}
		der = block.Bytes
	}
	res, err := verifyCMSDigest(digest, der)
	if errors.Is(err, errCMSMalformed) {
		return nil, fmt.Errorf("%w: %v", ErrSignatureInvalid, err)
	}
	if err != nil {
		return nil, err
	}
	return res.signer, nil
}
