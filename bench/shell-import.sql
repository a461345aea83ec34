-- The sqlite3 shell's import of the same CSV into the same tables, for
-- bench/import.sh: .import into a staging table, then INSERT ... SELECT
-- into contractors, batches, devices and disposals in one transaction, with
-- the same synchronous setting itad uses. (No event log: the shell cannot
-- hash-chain events.) CSVFILE is replaced by the script.
PRAGMA synchronous=normal;
.mode csv
CREATE TEMP TABLE staging(serial,asset_tag,type,make,model,capacity_gb,site,method,standard,tool,verified,contractor,disposed_on,weight_kg,batch,operator,witness,notes);
.import --skip 1 CSVFILE staging
BEGIN;
INSERT OR IGNORE INTO contractors(uuid,name,name_key,accreditations,contract_ref,seq)
  SELECT lower(hex(randomblob(16))), contractor, lower(contractor), '', '', 0 FROM (SELECT DISTINCT contractor FROM staging);
INSERT OR IGNORE INTO batches(uuid,ref,ref_key,site,run_on,witness,seq)
  SELECT lower(hex(randomblob(16))), batch, lower(batch), '', '', '', 0 FROM (SELECT DISTINCT batch FROM staging WHERE batch <> '');
INSERT OR IGNORE INTO devices(uuid,serial,serial_key,asset_tag,type,make,model,capacity_gb,site,seq)
  SELECT lower(hex(randomblob(16))), serial, lower(serial), asset_tag, type, make, model, nullif(capacity_gb,''), site, 0 FROM staging;
INSERT INTO disposals(uuid,device_id,method,category,standard,tool,verified,contractor_id,disposed_on,year,fin_year,weight_g,batch_id,operator,witness,notes,is_final,seq)
  SELECT lower(hex(randomblob(16))), d.id, s.method,
    CASE WHEN s.method IN ('shred','disintegrate','pulverise','incinerate') THEN 'destroy' WHEN s.method = 'overwrite' THEN 'clear' ELSE 'purge' END,
    s.standard, s.tool, s.verified, c.id, s.disposed_on, CAST(substr(s.disposed_on,1,4) AS INT), CAST(substr(s.disposed_on,1,4) AS INT),
    CAST(round(nullif(s.weight_kg,'') * 1000) AS INT), b.id, s.operator, s.witness, s.notes, 1, 0
  FROM staging s JOIN devices d ON d.serial_key = lower(s.serial) JOIN contractors c ON c.name_key = lower(s.contractor)
  LEFT JOIN batches b ON b.ref_key = lower(s.batch);
COMMIT;
