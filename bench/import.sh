#!/usr/bin/env bash
# Import benchmark: itad import of N generated devices against the sqlite3
# shell's .import of the same CSV into the same tables (bench/shell-import.sql).
# Prints wall and CPU times, their ratios, and peak memory at N/10 and N
# (memory should stay flat as N grows: the file is streamed).
#
#   bench/import.sh [N]        default N=1000000; needs sqlite3 and GNU time
#
# The machine has 2 cores and is noisy: run it when nothing else is running,
# and compare the ratios printed by one run.
set -euo pipefail
N=${1:-1000000}
cd "$(dirname "$0")/.."
for tool in sqlite3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not installed (apt-get install sqlite3 time)"; exit 1; }
done
out=bench/out
mkdir -p "$out"
go build -o "$out/itad" ./cmd/itad
measure() { # label n -> prints "wall cpu rss" for itad and shell
  local n=$1 csv="$out/devices-$1.csv"
  [ -s "$csv" ] || go run ./bench/gencsv -n "$n" > "$csv"
  rm -f "$out"/itad-$n.db* "$out"/shell-$n.db*
  "$out/itad" --db "$out/itad-$n.db" init >/dev/null
  "$out/itad" --db "$out/shell-$n.db" init >/dev/null
  sync
  /usr/bin/time -f "%e %U %S %M" -o "$out/itad-$n.time" "$out/itad" --db "$out/itad-$n.db" import "$csv" >/dev/null
  sync
  sed "s#CSVFILE#$csv#" bench/shell-import.sql > "$out/shell-$n.sql"
  /usr/bin/time -f "%e %U %S %M" -o "$out/shell-$n.time" sqlite3 "$out/shell-$n.db" < "$out/shell-$n.sql" >/dev/null
  local a b
  a=$(sqlite3 "$out/itad-$n.db" 'SELECT count(*) FROM devices; SELECT count(*) FROM disposals' | paste -sd/)
  b=$(sqlite3 "$out/shell-$n.db" 'SELECT count(*) FROM devices; SELECT count(*) FROM disposals' | paste -sd/)
  [ "$a" = "$b" ] || { echo "bench: row counts differ: itad $a, shell $b"; exit 1; }
  read -r iw iu is im < "$out/itad-$n.time"
  read -r sw su ss sm < "$out/shell-$n.time"
  awk -v n="$n" -v rows="$a" -v iw="$iw" -v ic="$(echo "$iu + $is" | bc)" -v im="$im" -v sw="$sw" -v sc="$(echo "$su + $ss" | bc)" -v sm="$sm" 'BEGIN {
    printf "N=%-8d devices/disposals %s\n", n, rows
    printf "  itad import   wall %7.2f s  cpu %7.2f s  peak rss %7.1f MiB\n", iw, ic, im/1024
    printf "  sqlite3 shell wall %7.2f s  cpu %7.2f s  peak rss %7.1f MiB\n", sw, sc, sm/1024
    printf "  ratio itad/shell: wall %.2fx  cpu %.2fx   (target: at most 1.5x)\n", iw/sw, ic/sc
  }'
}
command -v bc >/dev/null || { echo "bench: bc not installed (apt-get install bc)"; exit 1; }
measure $((N / 10))
measure "$N"
