package ledger

import (
	"fmt"

	"golang.org/x/mod/sumdb/note"
)

// CertSubject names what a certificate certifies: a device (CertDevice,
// its serial) or a destruction run (CertBatch, its reference).
type CertSubject struct {
	Kind, Subject string
}

// CertificateRequest selects the certificates IssueCertificates issues:
// Subjects in order, then, with Uncertified, every device that has a
// final disposition and no current device certificate, by serial,
// optionally only those disposed of in Year (0: any) or in the
// destruction run Batch ("": any). A current certificate is one neither
// revoked, superseded nor stale (stale.go): a stale certificate no longer
// states what the ledger holds, so Uncertified issues its device's again,
// superseding it.
type CertificateRequest struct {
	Subjects    []CertSubject
	Uncertified bool
	Year        int
	Batch       string
}

// IssueCertificates issues every certificate req selects in one
// transaction, all or none: for each, in order, it calls render(i, n,
// draft) (n the number of certificates) and records the certificate as
// IssueCertificate does; then, when any of them superseded an earlier
// certificate, one checkpoint covering them all is signed with signer and
// recorded (and written to checkpoint_dir after the commit). If render or
// any record fails nothing is recorded. A subject listed twice (the same
// device or run) is refused with ErrInvalid before anything is rendered.
// It returns the certificates issued and the errors of IssueCertificate,
// and ErrNotFound for an unknown Batch.
func (s *Store) IssueCertificates(req CertificateRequest, signer note.Signer, render func(i, n int, d CertificateDraft) (CertificateHashes, error)) ([]Certificate, error) {
	var certs []Certificate
	var cp *Checkpoint
	var dir string
	err := s.write("", func(t *txn) error {
		certs = nil
		subjects := append([]CertSubject(nil), req.Subjects...)
		if req.Uncertified {
			more, err := uncertifiedDevices(t.tx, req.Year, req.Batch)
			if err != nil {
				return err
			}
			subjects = append(subjects, more...)
		}
		seen := map[CertSubject]bool{}
		for _, sub := range subjects {
			k := CertSubject{sub.Kind, SerialKey(sub.Subject)}
			if sub.Kind == CertBatch {
				k.Subject = NameKey(sub.Subject)
			}
			if seen[k] {
				return fmt.Errorf("%w: %s %s is listed twice", ErrInvalid, sub.Kind, sub.Subject)
			}
			seen[k] = true
		}
		pub, err := settingQ(t.tx, SettingPublicURL)
		if err != nil {
			return err
		}
		superseded := false
		for i, sub := range subjects {
			c, err := t.issueOne(sub.Kind, sub.Subject, pub, func(d CertificateDraft) (CertificateHashes, error) {
				return render(i, len(subjects), d)
			})
			if err != nil {
				return err
			}
			superseded = superseded || len(c.Supersedes) > 0
			certs = append(certs, c)
		}
		if !superseded {
			return nil
		}
		c, d, err := t.checkpoint(signer)
		if err != nil {
			return fmt.Errorf("checkpoint the supersession: %w", err)
		}
		cp, dir = &c, d
		// Each certificate that superseded another names the checkpoint.
		for i := range certs {
			if len(certs[i].Supersedes) > 0 {
				certs[i].Checkpoint = cp
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if dir != "" {
		err = publishCheckpoint(dir, *cp)
	}
	return certs, err
}

// uncertifiedQuery selects the serials of uncertifiedDevices: ?1 the year
// (0: any), ?2 and ?3 the batch's legacy and current name keys ("": any),
// ?4 CertificateStaleAction. The CROSS JOIN and the unary + keep the
// planner on each device's own certificates (certificate_devices_device)
// and each certificate's own events (events_subject): left to itself,
// once the stale check was added, it read every device certificate for
// each device through certificates_subject (40 s instead of 10 ms at
// 10,000 certified devices), and through events_action it would read
// every stale mark. TestUncertified_QueryPlans pins the plan.
const uncertifiedQuery = `SELECT d.serial FROM devices d JOIN disposals p ON p.device_id = d.id AND p.is_final = 1
	LEFT JOIN batches b ON b.id = p.batch_id
	WHERE (?1 = 0 OR p.year = ?1) AND (?2 = '' OR b.ref_key IN (?2, ?3))
	AND NOT EXISTS (SELECT 1 FROM certificate_devices cd CROSS JOIN certificates c ON c.id = cd.certificate_id
		WHERE cd.device_id = d.id AND c.kind = 'device' AND c.superseded_by = '' AND c.revoked_at = ''
		AND NOT EXISTS (SELECT 1 FROM events e WHERE e.subject = c.uuid AND +e.action = ?4))
	ORDER BY d.serial_key`

// uncertifiedDevices lists the devices with a final disposition (in year
// and batch, when given) and no current device certificate (none neither
// revoked nor superseded, or only stale ones), by serial.
func uncertifiedDevices(q querier, year int, batch string) ([]CertSubject, error) {
	if batch != "" {
		var n int
		if err := q.QueryRow(`SELECT count(*) FROM batches WHERE ref_key IN (?, ?)`, legacyNameKey(batch), NameKey(batch)).Scan(&n); err != nil {
			return nil, fmt.Errorf("find batch: %w", err)
		}
		if n == 0 {
			return nil, notFound("batch", batch)
		}
	}
	rows, err := q.Query(uncertifiedQuery, year, legacyNameKey(batch), NameKey(batch), CertificateStaleAction)
	if err != nil {
		return nil, fmt.Errorf("find uncertified devices: %w", err)
	}
	defer rows.Close()
	var out []CertSubject
	for rows.Next() {
		var serial string
		if err := rows.Scan(&serial); err != nil {
			return nil, err
		}
		out = append(out, CertSubject{Kind: CertDevice, Subject: serial})
	}
	return out, rows.Err()
}
