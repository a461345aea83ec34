#!/usr/bin/env bash
# Verify benchmark. Times 'itad verify' three times on a warm page cache,
# on two ledgers kept in bench/out:
#   events:   about N events, one a row: N/2 devices each added, then
#             disposed of (ledger's TestBuildBenchLedger builds it);
#   imported: N devices imported with 'itad import' (N devices and N
#             disposals rows, one import.rows event a 256 rows);
# each as built and then with a signed checkpoint at its head (the Merkle
# tree must then cover every event). Target (issue 4): under 3 s for a
# million events on 2 cores, with the checks of the database itself
# (issue 10: quick_check and the index check run alongside the replay;
# their time, and the index check's part of it, is printed on the
# "timings:" line of each run; 'verify --quick' and 'verify --full'
# (integrity_check) are timed once more at the end of each ledger). Peak
# RSS is on each run's line (issue 17: bounded memory).
#
#   bench/verify.sh [N]        default N=1000000; needs GNU time. Building
#                              the ledgers takes a few minutes.
#
# The machine has 2 cores and is shared: run it when nothing else is
# running (see 'uptime'), and read the best of the three runs.
set -euo pipefail
N=${1:-1000000}
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { echo "bench: GNU time not installed (apt-get install time)"; exit 1; }
out=bench/out
mkdir -p "$out"
go build -o "$out/itad" ./cmd/itad
itad="$out/itad"
key=(--key "$out/bench-signing-key.pem" --cert "$out/bench-signing-cert.pem")
events_db="$out/verify-events-$N.db"
import_db="$out/verify-import-$N.db"
if [ ! -s "$events_db" ]; then
  echo "building the events ledger: $((N / 2)) devices added and disposed of"
  rm -f "$events_db" "$events_db"-wal "$events_db"-shm
  ITAD_BENCH_LEDGER="$PWD/$events_db" ITAD_BENCH_DEVICES=$((N / 2)) \
    /usr/bin/time -f "  built in %e s" go test ./ledger -run '^TestBuildBenchLedger$' -count=1 -timeout 1h >/dev/null
fi
if [ ! -s "$import_db" ]; then
  csv="$out/devices-$N.csv"
  [ -s "$csv" ] || go run ./bench/gencsv -n "$N" > "$csv"
  rm -f "$import_db" "$import_db"-wal "$import_db"-shm
  "$itad" --db "$import_db" init --org "Bench" >/dev/null
  echo "building the imported ledger: itad import of $N devices"
  /usr/bin/time -f "  import: %e s wall" "$itad" --db "$import_db" import "$csv" >/dev/null
fi
run() { # db
  cat "$1" >/dev/null # warm the page cache: the disk is not what is measured
  for i in 1 2 3; do
    /usr/bin/time -f "  verify: %e s wall, %U s user + %S s sys, peak rss %M KiB" "$itad" --db "$1" "${key[@]}" verify --timings >"$out/verify.out"
    grep '^timings:' "$out/verify.out" | sed 's/^/    /'
  done
  /usr/bin/time -f "  verify --quick: %e s wall, %U s user + %S s sys, peak rss %M KiB" "$itad" --db "$1" "${key[@]}" verify --quick --timings >"$out/verify-quick.out"
  grep '^timings:' "$out/verify-quick.out" | sed 's/^/    /'
  /usr/bin/time -f "  verify --full: %e s wall, %U s user + %S s sys, peak rss %M KiB" "$itad" --db "$1" "${key[@]}" verify --full --timings >"$out/verify-full.out"
  grep '^timings:' "$out/verify-full.out" | sed 's/^/    /'
  head -1 "$out/verify.out"
}
if [ ! -s "$out/bench-signing-key.pem" ]; then # made in a scratch ledger: key init records an event
  rm -f "$out/key-scratch.db"*
  "$itad" --db "$out/key-scratch.db" init --org Bench >/dev/null
  "$itad" --db "$out/key-scratch.db" "${key[@]}" key init >/dev/null
fi
for db in "$events_db" "$import_db"; do
  echo "$(basename "$db") as built (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  run "$db"
  cp_db="${db%.db}-checkpointed.db"
  if [ ! -s "$cp_db" ]; then
    cp "$db" "$cp_db"
    # itad signs only with a key the ledger recorded: record the bench key
    # where it lies, then checkpoint.
    "$itad" --db "$cp_db" "${key[@]}" key import --cert "$out/bench-signing-cert.pem" --key "$out/bench-signing-key.pem" >/dev/null
    "$itad" --db "$cp_db" "${key[@]}" checkpoint >/dev/null
  fi
  echo "$(basename "$db") with a checkpoint at the head (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  run "$cp_db"
done
