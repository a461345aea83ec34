-- itad ledger schema.
--
-- Each migration starts with a line "-- migration N: description" and runs
-- in one transaction; the version is then recorded in schema_version.
-- A released migration is never edited: add a new one below it.

-- migration 1: core ledger, contractors, devices, batches, disposals, events
CREATE TABLE schema_version (
    version    INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL
);

-- Ledger-wide settings (organisation name, defaults). Never secrets.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    seq   INTEGER NOT NULL -- event that last set it
);

-- The append-only event log. hash = SHA-256 over prev_hash and the
-- canonical encoding of the event (see ledger/events.go).
CREATE TABLE events (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,           -- RFC 3339 UTC, nanoseconds
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    reason    TEXT NOT NULL DEFAULT '',
    payload   BLOB NOT NULL,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
);

CREATE TABLE contractors (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    name_key       TEXT NOT NULL UNIQUE,  -- lower-cased, trimmed name
    accreditations TEXT NOT NULL DEFAULT '',
    contract_ref   TEXT NOT NULL DEFAULT '',
    seq            INTEGER NOT NULL
);

CREATE TABLE devices (
    id          INTEGER PRIMARY KEY,
    uuid        TEXT NOT NULL UNIQUE,
    serial      TEXT NOT NULL,
    serial_key  TEXT NOT NULL UNIQUE,     -- lower-cased, trimmed serial
    asset_tag   TEXT NOT NULL DEFAULT '',
    type        TEXT NOT NULL,
    make        TEXT NOT NULL DEFAULT '',
    model       TEXT NOT NULL DEFAULT '',
    capacity_gb INTEGER,                  -- NULL when not recorded
    site        TEXT NOT NULL DEFAULT '',
    seq         INTEGER NOT NULL          -- event that created it
);

CREATE TABLE batches (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT NOT NULL UNIQUE,
    ref            TEXT NOT NULL,
    ref_key        TEXT NOT NULL UNIQUE,
    site           TEXT NOT NULL DEFAULT '',
    contractor_id  INTEGER REFERENCES contractors(id),
    run_on         TEXT NOT NULL DEFAULT '', -- ISO 8601 date, '' when not known
    witness        TEXT NOT NULL DEFAULT '',
    gross_weight_g INTEGER,                  -- weighed output of the run
    closed_at      TEXT NOT NULL DEFAULT '', -- RFC 3339 UTC when closed
    seq            INTEGER NOT NULL
);

CREATE TABLE disposals (
    id            INTEGER PRIMARY KEY,
    uuid          TEXT NOT NULL UNIQUE,
    device_id     INTEGER NOT NULL REFERENCES devices(id),
    method        TEXT NOT NULL,
    category      TEXT NOT NULL,             -- clear, purge, destroy
    standard      TEXT NOT NULL DEFAULT '',
    tool          TEXT NOT NULL DEFAULT '',
    verified      TEXT NOT NULL DEFAULT '',  -- yes, no, sample or ''
    contractor_id INTEGER NOT NULL REFERENCES contractors(id),
    disposed_on   TEXT NOT NULL,             -- ISO 8601 civil date
    year          INTEGER NOT NULL,          -- calendar year of disposed_on
    fin_year      INTEGER NOT NULL,          -- UK financial year (April) start
    weight_g      INTEGER,                   -- NULL when not weighed
    batch_id      INTEGER REFERENCES batches(id),
    operator      TEXT NOT NULL DEFAULT '',
    witness       TEXT NOT NULL DEFAULT '',
    notes         TEXT NOT NULL DEFAULT '',
    is_final      INTEGER NOT NULL DEFAULT 0, -- 1 for the device's final disposition
    seq           INTEGER NOT NULL
);
CREATE INDEX disposals_device ON disposals(device_id);
CREATE INDEX disposals_final_year ON disposals(is_final, year);
CREATE INDEX disposals_batch ON disposals(batch_id);

-- migration 2: certificates of destruction, FOI exemptions, signed checkpoints
CREATE TABLE certificates (
    id                 INTEGER PRIMARY KEY,
    uuid               TEXT NOT NULL UNIQUE,   -- the certificate number
    kind               TEXT NOT NULL,          -- device or batch
    subject            TEXT NOT NULL,          -- serial or batch reference
    content_hash       TEXT NOT NULL,          -- hex SHA-256 of the canonical content
    pdf_sha256         TEXT NOT NULL,          -- hex SHA-256 of the unsigned PDF
    signer_fingerprint TEXT NOT NULL,          -- hex SHA-256 of the signing certificate
    issued_at          TEXT NOT NULL,          -- RFC 3339 UTC
    issued_by          TEXT NOT NULL,
    superseded_by      TEXT NOT NULL DEFAULT '', -- uuid of the certificate that replaced it
    revoked_at         TEXT NOT NULL DEFAULT '',
    revoke_reason      TEXT NOT NULL DEFAULT '',
    seq                INTEGER NOT NULL
);
CREATE INDEX certificates_subject ON certificates(kind, subject);

CREATE TABLE certificate_devices (
    certificate_id INTEGER NOT NULL REFERENCES certificates(id),
    device_id      INTEGER NOT NULL REFERENCES devices(id),
    PRIMARY KEY (certificate_id, device_id)
) WITHOUT ROWID;
CREATE INDEX certificate_devices_device ON certificate_devices(device_id);

-- Fields withheld from FOI output, with the FOIA 2000 sections cited.
CREATE TABLE exemptions (
    field    TEXT PRIMARY KEY,                 -- contractor.name, site
    sections TEXT NOT NULL,                    -- e.g. "24(1), 31(1)"
    seq      INTEGER NOT NULL
);

-- Signed checkpoints of the event log (C2SP tlog-checkpoint signed notes).
CREATE TABLE checkpoints (
    id         INTEGER PRIMARY KEY,
    size       INTEGER NOT NULL,               -- number of events covered
    root_hash  TEXT NOT NULL,                  -- base64 RFC 6962 tree hash
    note       TEXT NOT NULL,                  -- the signed note, as exported
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);

-- migration 3: checkpoints are recorded by events
-- A checkpoint row is written in the same transaction as its "checkpoint"
-- event (ledger/checkpoint.go) and names it in seq, like every other
-- current-state row, so that itad verify detects one deleted or forged.
ALTER TABLE checkpoints ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;

-- migration 4: index the audit trail by subject and action
-- Imports now write one event a chunk of 256 rows (import.rows), so these
-- indexes cost an import little; they let itad log --serial / --action
-- and itad device show find their events without reading the whole log.
CREATE INDEX events_subject ON events(subject);
CREATE INDEX events_action ON events(action);

-- migration 5: serials, contractor names and batch references fold Unicode look-alikes
-- The key columns (serial_key, name_key, ref_key) now hold SerialKey and
-- NameKey after NFKC and hyphen/dash folding (ledger/domain.go). The
-- rewrite of existing keys is done in Go, in this migration's transaction,
-- and recorded by a keys.refold event (ledger/refold.go).
CREATE TABLE key_fold (version INTEGER PRIMARY KEY);
INSERT INTO key_fold(version) VALUES (2);

-- migration 6: corrections: a disposal voided, never deleted
-- A voided disposal stays in its table and in the history, and leaves
-- reports, exports, FOI answers and certificates: voided_seq is the
-- disposal.void event that voided it (0 while it stands). A voided
-- disposal is never a device's final disposition (ledger/correct.go).
ALTER TABLE disposals ADD COLUMN voided_seq INTEGER NOT NULL DEFAULT 0;

-- migration 7: erasure evidence: files kept, erasures recorded from them
-- Each evidence file's bytes are kept in the ledger (evidence.data) with
-- their SHA-256, recorded by an evidence.add event; itad verify hashes
-- every file again. An erasure is one device's result in a file (a wipe,
-- a failed attempt, or a verification of an earlier wipe), recorded by an
-- erasure.record event; a successful wipe also has its disposal
-- (disposal_id). evidence_devices ties attached documents (a contractor's
-- certificate, a weighbridge ticket) to a device (evidence.attach).
-- See ledger/evidence.go.
CREATE TABLE evidence (
    id      INTEGER PRIMARY KEY,
    sha256  TEXT NOT NULL UNIQUE,           -- lowercase hex of data
    name    TEXT NOT NULL,                  -- the file's base name when first kept
    kind    TEXT NOT NULL,                  -- nwipe-log, photo, ...
    size    INTEGER NOT NULL,
    data    BLOB NOT NULL,
    seq     INTEGER NOT NULL
);

CREATE TABLE erasures (
    id          INTEGER PRIMARY KEY,
    uuid        TEXT NOT NULL UNIQUE,
    device_id   INTEGER NOT NULL REFERENCES devices(id),
    evidence_id INTEGER NOT NULL REFERENCES evidence(id),
    disposal_id INTEGER REFERENCES disposals(id), -- the sanitisation it recorded, if any
    outcome     TEXT NOT NULL,              -- sanitised, failed, verified
    status      TEXT NOT NULL,              -- the tool's own word: Erased, -FAILED-, ...
    detail      TEXT NOT NULL DEFAULT '',   -- why it failed, in words
    tool        TEXT NOT NULL DEFAULT '',   -- "nwipe 0.33"
    method_name TEXT NOT NULL DEFAULT '',   -- the tool's method: "DoD Short"
    method      TEXT NOT NULL DEFAULT '',   -- the ledger method, '' for a verification
    verify      TEXT NOT NULL DEFAULT '',   -- off, last, all
    rounds      INTEGER NOT NULL DEFAULT 0,
    passes      INTEGER NOT NULL DEFAULT 0,
    started_at  TEXT NOT NULL DEFAULT '',   -- RFC 3339 UTC
    ended_at    TEXT NOT NULL DEFAULT '',   -- RFC 3339 UTC
    ended_on    TEXT NOT NULL DEFAULT '',   -- ISO date in timezone
    timezone    TEXT NOT NULL DEFAULT '',   -- the zone the report's times were read in
    path        TEXT NOT NULL DEFAULT '',   -- /dev/sdb
    line        INTEGER NOT NULL DEFAULT 0, -- where in the file
    model       TEXT NOT NULL DEFAULT '',
    size_bytes  INTEGER NOT NULL DEFAULT 0,
    seq         INTEGER NOT NULL
);
CREATE INDEX erasures_device ON erasures(device_id);
CREATE INDEX erasures_disposal ON erasures(disposal_id);
CREATE INDEX erasures_evidence ON erasures(evidence_id);

CREATE TABLE evidence_devices (
    evidence_id INTEGER NOT NULL REFERENCES evidence(id),
    device_id   INTEGER NOT NULL REFERENCES devices(id),
    seq         INTEGER NOT NULL,
    PRIMARY KEY (evidence_id, device_id)
) WITHOUT ROWID;
CREATE INDEX evidence_devices_device ON evidence_devices(device_id);

-- migration 8: named accounts and their web sessions (itad serve)
-- A users row is written in the same transaction as the user.* event
-- that changes it (ledger/users.go) and names that event in seq; itad
-- verify replays the events and compares name, role and disabled. The
-- password hash (argon2id, PHC string) is never in an event or output.
-- Sessions are not ledger state: a session ID lives only in the browser's
-- cookie, the table holds its SHA-256.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT NOT NULL,
    seq           INTEGER NOT NULL
);
CREATE TABLE sessions (
    id_hash    BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL
) WITHOUT ROWID;
-- The station resolves a scanned asset tag to its device.
CREATE INDEX devices_asset_tag ON devices(asset_tag);

-- migration 9: the summary reports read, maintained with the records
-- Reports, FOI answers and the dashboard read these tables instead of
-- scanning disposals (ledger/summary.go). weight_shares holds each final
-- disposition's share of its weighed run's gross weight under WeightRule
-- (only those that have one), recomputed when the run's membership or
-- weights change; summary holds, per cell, the count of final
-- dispositions, their weight under WeightRule, how many are weighed and
-- how many of those by a run's share; summary_dates counts every disposal
-- (final or not, voided or not) by date, for the span of records held.
-- All three change in the same transaction as the rows they summarise;
-- the migration fills them from the rows, and itad verify recomputes them.
CREATE TABLE weight_shares (
    disposal_id INTEGER PRIMARY KEY REFERENCES disposals(id),
    share_g     INTEGER NOT NULL
);
CREATE TABLE summary (
    year                INTEGER NOT NULL,
    fin_year            INTEGER NOT NULL,
    type                TEXT NOT NULL,
    method              TEXT NOT NULL,
    category            TEXT NOT NULL,
    contractor_id       INTEGER NOT NULL REFERENCES contractors(id),
    site                TEXT NOT NULL,
    standard            TEXT NOT NULL,
    count               INTEGER NOT NULL,
    weight_g            INTEGER NOT NULL,
    weighed_count       INTEGER NOT NULL,
    batch_weighed_count INTEGER NOT NULL,
    PRIMARY KEY (year, fin_year, type, method, category, contractor_id, site, standard)
) WITHOUT ROWID;
CREATE TABLE summary_dates (
    disposed_on TEXT PRIMARY KEY,
    count       INTEGER NOT NULL
) WITHOUT ROWID;

-- migration 10: NIST SP 800-88 Appendix G details of disposals and batches
-- One row a recorded field (ledger/appendixg.go: AppendixGFields) of a
-- disposal or a batch (whose fields apply to its items that do not record
-- their own), written only by appendix_g.set events, whose seq it names.
CREATE TABLE appendix_g (
    owner  TEXT NOT NULL,                      -- disposal or batch
    uuid   TEXT NOT NULL,                      -- of the disposal or batch
    field  TEXT NOT NULL,                      -- e.g. validator_name
    value  TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (owner, uuid, field)
) WITHOUT ROWID;
