#!/usr/bin/env bash
# Reports benchmark (issue 17): the questions auditors and FOI officers ask,
# timed whole-process on a ledger of N imported disposals across 10 years,
# beside the sqlite3 shell's raw GROUP BY (and .mode csv) on the same file.
# Each question runs R times per build, alternating this build and BASE (an
# earlier git revision, built in a throwaway worktree as bench/consult.sh
# does); the median wall time and the peak RSS of the median run are printed.
#
#   bench/reports.sh [N] [R] [BASE]   default N=1000000 R=3 BASE=HEAD~1
#   BASE=none times this build only.
#
# Two ledgers are timed: "plain" (import only; its runs are not weighed) and
# "weighed" (the same, with every destruction run closed with a gross
# weight, so that unweighed items take a share of it). Both are built by
# the BASE build's import (this build's with BASE=none: a ledger of a newer
# schema would not open in the BASE build) once and cached in
# bench/out/reports/ (delete the files there to rebuild); each build reads
# its own copy, which this build upgrades first (the time and peak RSS of
# that upgrade, the migrations it runs, are printed). With a BASE, the
# outputs of both builds are compared byte for byte and any question whose
# output differs is named.
# The machine has 2 cores and is noisy: compare the figures of one run.
set -euo pipefail
N=${1:-1000000}
R=${2:-3}
BASE=${3:-HEAD~1}
cd "$(dirname "$0")/.."
for tool in sqlite3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not installed (apt-get install sqlite3 time)"; exit 1; }
done
out=bench/out/reports
mkdir -p "$out"
go build -o "$out/itad-new" ./cmd/itad
versions=new
if [ "$BASE" != none ]; then
  wt=$(mktemp -d)
  git worktree add -q --detach "$wt" "$BASE"
  (cd "$wt" && go build -o "$OLDPWD/$out/itad-old" ./cmd/itad)
  git worktree remove --force "$wt"
  versions="old new"
fi
builder="$out/itad-new"; [ "$BASE" != none ] && builder="$out/itad-old"
csv="bench/out/devices-$N.csv"
plain="$out/plain-$N.db"
weighed="$out/weighed-$N.db"
if [ ! -s "$plain" ]; then
  [ -s "$csv" ] || go run ./bench/gencsv -n "$N" > "$csv"
  rm -f "$plain"* "$weighed"*
  "$builder" --db "$plain.tmp" init --org Bench >/dev/null
  "$builder" --db "$plain.tmp" import "$csv" >/dev/null
  sqlite3 "$plain.tmp" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
  mv "$plain.tmp" "$plain"; rm -f "$plain.tmp"-*
fi
if [ ! -s "$weighed" ]; then
  cp "$plain" "$weighed.tmp"
  # Every run weighed: 3 kg of gross output per item, more than its items'
  # own weights, so that the unweighed items share the rest.
  sqlite3 -separator ' ' "$weighed.tmp" "SELECT b.ref, count(*) * 3 FROM batches b JOIN disposals x ON x.batch_id = b.id GROUP BY b.id" |
    while read -r ref kg; do
      "$builder" --db "$weighed.tmp" batch close "$ref" --gross-weight "${kg}kg" --allow-unusual-weight >/dev/null
    done
  sqlite3 "$weighed.tmp" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
  mv "$weighed.tmp" "$weighed"; rm -f "$weighed.tmp"-*
fi
questions=(report2 reportby foi2 export1)
args_report2=(report --year 2020 --year 2021 --json)
args_reportby=(report --by type,method)
args_foi2=(foi --year 2020 --year 2021)
args_export1=(export --year 2021 --force -o "$out/x.csv")
shell_report2="SELECT year, count(*), sum(weight_g), count(weight_g) FROM disposals WHERE is_final = 1 AND year IN (2020, 2021) GROUP BY year;"
shell_reportby="SELECT x.year, d.type, x.method, count(*), sum(x.weight_g), count(x.weight_g) FROM disposals x JOIN devices d ON d.id = x.device_id WHERE x.is_final = 1 GROUP BY 1, 2, 3;"
shell_export1="SELECT d.serial, d.asset_tag, d.type, d.make, d.model, d.capacity_gb, d.site, x.method, x.category, x.standard, x.tool, x.verified, c.name, x.disposed_on, x.year, x.fin_year, x.weight_g, x.operator, x.witness, x.notes, d.uuid, x.uuid FROM disposals x JOIN devices d ON d.id = x.device_id JOIN contractors c ON c.id = x.contractor_id WHERE x.is_final = 1 AND x.year = 2021 ORDER BY x.disposed_on, d.serial_key;"
median() { sort -n "$1" | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
echo "N=$N disposals, R=$R alternating runs, base ${BASE} (load: $(cut -d' ' -f1-3 /proc/loadavg))"
for ledger in plain weighed; do
  src="$out/$ledger-$N.db"
  for v in $versions; do
    rm -f "$out/$v.db"*; cp "$src" "$out/$v.db"
    /usr/bin/time -f "%e %M" -o "$out/$v-upgrade.time" "$out/itad-$v" --db "$out/$v.db" report --year 1999 >/dev/null # upgrade, warm
  done
  read -r t m < "$out/new-upgrade.time"
  echo "ledger $ledger: this build's first open (upgrade of the base's ledger, report --year 1999): $t s, $((m / 1024)) MiB"
  cp "$src" "$out/shell.db"
  cat "$out"/*.db >/dev/null
  rm -f "$out"/*.times
  for i in $(seq "$R"); do
    for q in "${questions[@]}"; do
      for v in $versions; do
        declare -n a="args_$q"
        rm -f "$out/x.csv"
        /usr/bin/time -f "%e %M" -a -o "$out/$v-$q.times" "$out/itad-$v" --db "$out/$v.db" "${a[@]}" >/dev/null
      done
      sq="shell_$q"
      if [ -n "${!sq:-}" ]; then
        mode=list; [ "$q" = export1 ] && mode=csv
        /usr/bin/time -f "%e %M" -a -o "$out/shell-$q.times" sqlite3 -cmd ".mode $mode" "$out/shell.db" "${!sq}" >/dev/null
      fi
    done
  done
  same=""
  if [ "$versions" = "old new" ]; then # the figures must not change
    for q in "${questions[@]}"; do
      declare -n a="args_$q"
      for v in old new; do
        "$out/itad-$v" --db "$out/$v.db" "${a[@]}" > "$out/$v-$q.out"
        [ "$q" = export1 ] && mv "$out/x.csv" "$out/$v-$q.out"
      done
      cmp -s "$out/old-$q.out" "$out/new-$q.out" || same+=" $q"
    done
  fi
  echo "ledger $ledger:${same:+ OUTPUTS DIFFER from the base:$same}"
  for q in "${questions[@]}"; do
    declare -n a="args_$q"
    line=$(printf '  %-40s' "$(echo "${a[*]}" | sed "s#$out/##")")
    for v in $versions shell; do
      [ -s "$out/$v-$q.times" ] || continue
      read -r t m < <(median "$out/$v-$q.times")
      line+=$(awk -v v="$v" -v t="$t" -v m="$m" 'BEGIN { printf "  %s %6.2f s %5.0f MiB", (v=="old"?"base":v=="new"?"this":"sqlite3"), t, m/1024 }')
    done
    echo "$line"
  done
done
rm -f "$out"/old.db* "$out"/new.db* "$out"/shell.db* "$out/x.csv" "$out"/*.out
