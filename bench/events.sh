#!/usr/bin/env bash
# Event-recording benchmark: what recording events adds to an import.
# Imports the same N generated devices with itad as built, and with a
# build that writes no import events (-tags itad_bench_noevents: no row
# hashes, no import.rows events; its ledgers do not verify), alternating
# the two R times, and prints each run and the ratio of the best runs.
# Target (issue 4): at most 1.20x.
#
#   bench/events.sh [N] [R]     default N=1000000, R=3; needs GNU time and bc
#
# The machine has 2 cores and is shared: the best of R alternating runs
# is what is compared, so that a slow patch hits both builds alike.
set -euo pipefail
N=${1:-1000000}
R=${2:-3}
cd "$(dirname "$0")/.."
for tool in /usr/bin/time bc; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not installed (apt-get install time bc)"; exit 1; }
done
out=bench/out
mkdir -p "$out"
go build -o "$out/itad" ./cmd/itad
go build -tags itad_bench_noevents -o "$out/itad-noevents" ./cmd/itad
csv="$out/devices-$N.csv"
[ -s "$csv" ] || go run ./bench/gencsv -n "$N" > "$csv"
run() { # binary label -> appends "wall cpu" to $out/events-label.times
  local db="$out/events-$2.db"
  rm -f "$db" "$db"-wal "$db"-shm
  "$1" --db "$db" init >/dev/null
  sync
  /usr/bin/time -f "%e %U %S" -o "$out/events-$2.time" "$1" --db "$db" import "$csv" >/dev/null
  read -r w u s < "$out/events-$2.time"
  local c; c=$(echo "$u + $s" | bc)
  printf "  %-10s wall %7.2f s  cpu %7.2f s  ledger %6.1f MiB\n" "$2" "$w" "$c" "$(echo "$(stat -c %s "$db") / 1048576" | bc -l)"
  echo "$w $c" >> "$out/events-$2.times"
}
rm -f "$out"/events-*.times
echo "import of $N devices, $R rounds (load: $(cut -d' ' -f1-3 /proc/loadavg))"
for i in $(seq "$R"); do
  if [ $((i % 2)) = 1 ]; then # alternate which goes first
    run "$out/itad-noevents" noevents; run "$out/itad" events
  else
    run "$out/itad" events; run "$out/itad-noevents" noevents
  fi
done
# Two summaries: the best run of each build, and the median of the ratios
# of runs made back to back (a slow spell then hits both of a pair).
paste -d' ' "$out/events-events.times" "$out/events-noevents.times" | awk '
  { ew[NR] = $1; ec[NR] = $2; nw[NR] = $3; nc[NR] = $4; rw[NR] = $1 / $3; rc[NR] = $2 / $4 }
  function best(a,   i, m) { m = a[1]; for (i in a) if (a[i] < m) m = a[i]; return m }
  function median(a,   i, j, t, n, b) {
    n = 0; for (i in a) b[++n] = a[i]
    for (i = 2; i <= n; i++) for (j = i; j > 1 && b[j-1] > b[j]; j--) { t = b[j]; b[j] = b[j-1]; b[j-1] = t }
    return n % 2 ? b[(n+1)/2] : (b[n/2] + b[n/2+1]) / 2
  }
  END {
    printf "best runs: events wall %.2f s cpu %.2f s; no events wall %.2f s cpu %.2f s: adds wall %+.1f%%, cpu %+.1f%%\n",
      best(ew), best(ec), best(nw), best(nc), (best(ew)/best(nw)-1)*100, (best(ec)/best(nc)-1)*100
    printf "median of %d paired ratios: adds wall %+.1f%%, cpu %+.1f%%   (target: at most +20%%)\n", NR, (median(rw)-1)*100, (median(rc)-1)*100
  }'
