// Package certificate renders, signs and verifies PDF certificates of destruction and detached signatures of itad outputs.
//
// A Signer is an organisation's signing identity: an ECDSA P-256 (or RSA)
// key and its X.509 certificate, made by GenerateSigner or imported from PEM
// files or PKCS #12, and kept on disk by WriteFiles and LoadSigner (the key
// file with mode 0600).
//
// SignPDF appends a signature to a finished gofpdf document as an
// incremental update, leaving the document's bytes untouched, so that the
// ledger can regenerate the unsigned PDF and compare it with
// PDFSignature.Unsigned. The signature is a detached CMS (PKCS #7)
// SignedData with SHA-256 (/SubFilter /adbe.pkcs7.detached) that pdfsig
// and other PDF readers check; VerifyPDF checks it without them.
//
// SignDetached signs any exported file (CSV, JSON, PDF) with the same kind
// of CMS structure in PEM, which `openssl cms -verify -binary` checks (see
// detached.go for the exact command).
//
// None of the verifiers decide whom to trust: they return the signer's
// certificate, which callers compare by Fingerprint (not by name: the
// certificates inside a CMS signature are not covered by it) with the
// certificates they trust.
package certificate
