#!/usr/bin/env bash
# Import A/B benchmark: `itad import` of the same N generated devices by
# this build and by BASE (an earlier git revision, built in a throwaway
# worktree), R times each, alternating, each into a new ledger; prints the
# median wall and CPU time, peak RSS of the median run, and the ratio
# this/base. For the cost of a change to the write path (issue 17: the
# maintained summary must add at most 10% at N=1,000,000).
#
#   bench/import-ab.sh [N] [R] [BASE]   default N=1000000 R=3 BASE=HEAD~1
#
# The machine has 2 cores and is noisy: compare the figures of one run.
set -euo pipefail
N=${1:-1000000}
R=${2:-3}
BASE=${3:-HEAD~1}
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { echo "bench: GNU time not installed (apt-get install time)"; exit 1; }
out=bench/out/import-ab
mkdir -p "$out"
go build -o "$out/itad-new" ./cmd/itad
wt=$(mktemp -d)
git worktree add -q --detach "$wt" "$BASE"
(cd "$wt" && go build -o "$OLDPWD/$out/itad-old" ./cmd/itad)
git worktree remove --force "$wt"
csv="bench/out/devices-$N.csv"
[ -s "$csv" ] || go run ./bench/gencsv -n "$N" > "$csv"
cat "$csv" >/dev/null
rm -f "$out"/*.times
echo "N=$N, R=$R alternating runs, base $BASE (load: $(cut -d' ' -f1-3 /proc/loadavg))"
for i in $(seq "$R"); do
  for v in old new; do
    rm -f "$out/$v.db"*
    "$out/itad-$v" --db "$out/$v.db" init --org Bench >/dev/null
    sync
    /usr/bin/time -f "%e %U %S %M" -a -o "$out/$v.times" "$out/itad-$v" --db "$out/$v.db" import "$csv" >/dev/null
  done
done
median() { awk '{print $1, $2 + $3, $4}' "$1" | sort -n | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
read -r ow oc om < <(median "$out/old.times")
read -r nw nc nm < <(median "$out/new.times")
awk -v ow="$ow" -v oc="$oc" -v om="$om" -v nw="$nw" -v nc="$nc" -v nm="$nm" 'BEGIN {
  printf "  base import  wall %7.2f s  cpu %7.2f s  peak rss %6.1f MiB\n", ow, oc, om/1024
  printf "  this import  wall %7.2f s  cpu %7.2f s  peak rss %6.1f MiB\n", nw, nc, nm/1024
  printf "  this/base: wall %.3fx  cpu %.3fx\n", nw/ow, nc/oc
}'
echo "  runs (wall cpu-user cpu-sys rss-KiB): base: $(paste -sd';' "$out/old.times"); this: $(paste -sd';' "$out/new.times")"
rm -f "$out"/old.db* "$out"/new.db*
