#!/usr/bin/env bash
# Consultation benchmark: 'itad foi' and 'itad cert verify' on a ledger of N
# imported devices, this build against an earlier one (BASE, a git revision),
# run alternately R times each; prints the median wall time of each and the
# ratio. Issue 10 asks that checking exemptions, settings and revocation
# against their events keeps both within 10% of the earlier build.
#
#   bench/consult.sh [N] [R] [BASE]   default N=1000000 R=7 BASE=HEAD~1
#
# The ledger is built once by the BASE build (init, import, key, one device
# certificate) and copied for this build, which may upgrade it on first open.
# The machine has 2 cores and is noisy: compare the ratios of one run.
set -euo pipefail
N=${1:-1000000}
R=${2:-7}
BASE=${3:-HEAD~1}
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { echo "bench: GNU time not installed (apt-get install time)"; exit 1; }
out=bench/out/consult
mkdir -p "$out"
go build -o "$out/itad-new" ./cmd/itad
wt=$(mktemp -d)
git worktree add -q --detach "$wt" "$BASE"
(cd "$wt" && go build -o "$OLDPWD/$out/itad-old" ./cmd/itad)
git worktree remove --force "$wt"
base_db="$out/base-$N.db"
if [ ! -s "$base_db" ]; then
  csv="bench/out/devices-$N.csv"
  [ -s "$csv" ] || go run ./bench/gencsv -n "$N" > "$csv"
  rm -f "$base_db"* "$out"/itad-signing-*.pem
  "$out/itad-old" --db "$base_db" init --org Bench >/dev/null
  "$out/itad-old" --db "$base_db" import "$csv" >/dev/null
  "$out/itad-old" --db "$base_db" exempt set contractor.name --section "24(1)" --reason bench >/dev/null
  "$out/itad-old" --db "$base_db" settings set require_reason true --reason bench >/dev/null
  "$out/itad-old" --db "$base_db" key init >/dev/null
  serial=$(sed -n 2p "$csv" | cut -d, -f1)
  "$out/itad-old" --db "$base_db" cert issue "$serial" -o "$out" >/dev/null
fi
pdf=$(ls "$out"/*.pdf | head -1)
for v in old new; do
  rm -f "$out/$v.db"*
  cp "$base_db" "$out/$v.db"
  cp "$out"/itad-signing-key.pem "$out/$v-key.pem"; cp "$out"/itad-signing-cert.pem "$out/$v-cert.pem"
  chmod 600 "$out/$v-key.pem"
  "$out/itad-$v" --db "$out/$v.db" --key "$out/$v-key.pem" --cert "$out/$v-cert.pem" report --year 1999 --reason warm >/dev/null
done
cat "$out"/old.db "$out"/new.db >/dev/null
measure() { # version label args...
  local v=$1 label=$2; shift 2
  /usr/bin/time -f "%e" -a -o "$out/$v-$label.times" "$out/itad-$v" --db "$out/$v.db" --key "$out/$v-key.pem" --cert "$out/$v-cert.pem" "$@" >/dev/null
}
rm -f "$out"/*.times
for i in $(seq "$R"); do
  for v in old new; do
    measure "$v" foi foi --year 2020 --year 2021 --reason bench
    measure "$v" certverify cert verify "$pdf" --reason bench
  done
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "N=$N devices, R=$R alternating runs, base $(git rev-parse --short "$BASE") (load: $(cut -d' ' -f1-3 /proc/loadavg))"
for label in foi certverify; do
  o=$(median "$out/old-$label.times"); n=$(median "$out/new-$label.times")
  awk -v l="$label" -v o="$o" -v n="$n" 'BEGIN { printf "  %-11s base %6.3f s  this build %6.3f s  ratio %.3f\n", l, o, n, n/o }'
done
