#!/usr/bin/env bash
# Station benchmark (issue 15): scan-to-response latency of itad serve's
# shredder station on a ledger of N devices (default 1,000,000, imported
# from bench/gencsv and cached in bench/out/station/), then S stations
# scanning at once over loopback for D while another connection writes
# as the CLI would; every scan must be recorded exactly once with no
# "database is locked". Each run adds its devices and runs to a copy of
# the cached ledger, which is thrown away.
#
#   bench/station.sh [N] [S] [D]   default N=1000000 S=20 D=30s
set -euo pipefail
N=${1:-1000000}
S=${2:-20}
D=${3:-30s}
cd "$(dirname "$0")/.."
out=bench/out/station
mkdir -p "$out"
go build -o "$out/itad" ./cmd/itad
go build -o "$out/station" ./bench/station
base="$out/ledger-$N.db"
if [ ! -s "$base" ]; then
  csv="bench/out/devices-$N.csv"
  [ -s "$csv" ] || go run ./bench/gencsv -n "$N" > "$csv"
  rm -f "$base"*
  "$out/itad" --db "$base.tmp" init --org Bench >/dev/null
  "$out/itad" --db "$base.tmp" import "$csv" >/dev/null
  "$out/itad" --db "$base.tmp" verify --quick >/dev/null
  mv "$base.tmp" "$base"; rm -f "$base.tmp"-*
fi
work="$out/work.db"
rm -f "$work"*
cp "$base" "$work"
echo "N=$N devices, $S stations for $D (load: $(cut -d' ' -f1-3 /proc/loadavg))"
"$out/station" -db "$work" -stations "$S" -duration "$D"
"$out/itad" --db "$work" verify --quick | tail -1
rm -f "$work"*
