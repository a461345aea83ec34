#!/usr/bin/env bash
# Verify benchmark: builds a ledger of N generated devices (default
# 1,000,000: a million device.import events) with 'itad import', then times
# 'itad verify' three times on a warm page cache: first as imported, then
# with a signed checkpoint at the head (the Merkle tree must then cover
# every event). Target: under 3 s for a million events on 2 cores.
#
#   bench/verify.sh [N]        needs GNU time; the ledger is kept in bench/out
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
db="$out/verify-$N.db"
key=(--key "$out/bench-signing-key.pem" --cert "$out/bench-signing-cert.pem")
if [ ! -s "$db" ]; then
  csv="$out/devices-$N.csv"
  [ -s "$csv" ] || go run ./bench/gencsv -n "$N" > "$csv"
  rm -f "$db" "$db"-wal "$db"-shm
  "$itad" --db "$db" init --org "Bench" >/dev/null
  echo "building the ledger: itad import of $N devices"
  /usr/bin/time -f "  import: %e s wall" "$itad" --db "$db" import "$csv" >/dev/null
fi
run() { # db
  cat "$1" >/dev/null # warm the page cache: the disk is not what is measured
  for i in 1 2 3; do
    /usr/bin/time -f "  verify: %e s wall, %U s user + %S s sys, peak rss %M KiB" "$itad" --db "$1" "${key[@]}" verify >"$out/verify.out"
  done
  cat "$out/verify.out"
}
echo "as imported (load: $(cut -d' ' -f1-3 /proc/loadavg))"
run "$db"
cp_db="$out/verify-$N-checkpointed.db"
if [ ! -s "$cp_db" ]; then
  cp "$db" "$cp_db"
  [ -s "$out/bench-signing-key.pem" ] || "$itad" --db "$cp_db" "${key[@]}" key init >/dev/null
  "$itad" --db "$cp_db" "${key[@]}" checkpoint >/dev/null
fi
echo "with a checkpoint at the head (load: $(cut -d' ' -f1-3 /proc/loadavg))"
run "$cp_db"
