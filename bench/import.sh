#!/usr/bin/env bash
# Import benchmark: itad import of N generated devices against the sqlite3
# shell's .import of the same CSV into the same tables (bench/shell-import.sql)
# and against a bare .import of the CSV into one table of an empty database
# (the floor: parsing the file and appending rows, no index, no event).
# With BASE (a git revision) the import of that build runs too, in the same
# rounds. Each round runs every contender once, in turn; prints the median
# wall and CPU time of R rounds, their ratios, and peak memory at N/10 and
# N (memory should stay flat as N grows: the file is streamed).
#
#   bench/import.sh [N] [R] [BASE]   default N=1000000 R=3, no BASE
#
# Issue 17's targets: itad at most 1.2x the shell, and below 4x the bare
# .import. The machine has 2 cores and is noisy: run it when nothing else is
# running, and compare the ratios printed by one run.
set -euo pipefail
N=${1:-1000000}
R=${2:-3}
BASE=${3:-}
cd "$(dirname "$0")/.."
for tool in sqlite3 /usr/bin/time bc; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not installed (apt-get install sqlite3 time bc)"; exit 1; }
done
out=bench/out
mkdir -p "$out"
go build -o "$out/itad" ./cmd/itad
who="itad shell bare"
if [ -n "$BASE" ]; then
  wt=$(mktemp -d)
  git worktree add -q --detach "$wt" "$BASE"
  (cd "$wt" && go build -o "$OLDPWD/$out/itad-base" ./cmd/itad)
  git worktree remove --force "$wt"
  who="itad base shell bare"
fi
run() { # who n -> appends "wall cpu rss" to $out/$who-$n.times
  local w=$1 n=$2 csv="$out/devices-$2.csv" db="$out/$1-$2.db"
  rm -f "$db" "$db"-*
  case $w in
    itad | base)
      local bin="$out/itad"; [ "$w" = base ] && bin="$out/itad-base"
      "$bin" --db "$db" init >/dev/null
      sync
      /usr/bin/time -f "%e %U %S %M" -o "$out/$w.time" "$bin" --db "$db" import "$csv" >/dev/null ;;
    shell)
      "$out/itad" --db "$db" init >/dev/null
      sync
      sed "s#CSVFILE#$csv#" bench/shell-import.sql > "$out/shell-$n.sql"
      /usr/bin/time -f "%e %U %S %M" -o "$out/$w.time" sqlite3 "$db" < "$out/shell-$n.sql" >/dev/null ;;
    bare)
      sync
      /usr/bin/time -f "%e %U %S %M" -o "$out/$w.time" sqlite3 "$db" -cmd "PRAGMA synchronous=normal" ".import --csv $csv devices" >/dev/null ;;
  esac
  read -r wall u s rss < "$out/$w.time"
  echo "$wall $(echo "$u + $s" | bc) $rss" >> "$out/$w-$n.times"
}
counts() { sqlite3 "$1" 'SELECT count(*) FROM devices; SELECT count(*) FROM disposals' | paste -sd/; }
median() { # file column
  awk -v c="$2" '{print $c}' "$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
measure() { # n rounds
  local n=$1 rounds=$2 csv="$out/devices-$1.csv"
  [ -s "$csv" ] || go run ./bench/gencsv -n "$n" > "$csv"
  cat "$csv" >/dev/null
  for w in $who; do rm -f "$out/$w-$n.times"; done
  for _ in $(seq "$rounds"); do
    for w in $who; do run "$w" "$n"; done
  done
  local a b
  a=$(counts "$out/itad-$n.db")
  b=$(counts "$out/shell-$n.db")
  [ "$a" = "$b" ] || { echo "bench: row counts differ: itad $a, shell $b"; exit 1; }
  printf "N=%-8d devices/disposals %s, median of %d rounds (load: %s)\n" "$n" "$a" "$rounds" "$(cut -d' ' -f1-3 /proc/loadavg)"
  for w in $who; do
    printf "  %-6s wall %7.2f s  cpu %7.2f s  peak rss %7.1f MiB   (walls: %s)\n" "$w" "$(median "$out/$w-$n.times" 1)" \
      "$(median "$out/$w-$n.times" 2)" "$(echo "$(median "$out/$w-$n.times" 3) / 1024" | bc -l)" "$(awk '{print $1}' "$out/$w-$n.times" | paste -sd' ')"
  done
  ratio() { echo "$(median "$out/$1-$n.times" "$3") / $(median "$out/$2-$n.times" "$3")" | bc -l; }
  printf "  itad/shell: wall %.2fx cpu %.2fx (target: at most 1.2x)\n" "$(ratio itad shell 1)" "$(ratio itad shell 2)"
  printf "  itad/bare:  wall %.2fx cpu %.2fx (aim: below 4x)\n" "$(ratio itad bare 1)" "$(ratio itad bare 2)"
  if [ -n "$BASE" ]; then
    printf "  base/shell: wall %.2fx cpu %.2fx; base/bare: wall %.2fx cpu %.2fx; itad/base: wall %.2fx cpu %.2fx\n" \
      "$(ratio base shell 1)" "$(ratio base shell 2)" "$(ratio base bare 1)" "$(ratio base bare 2)" "$(ratio itad base 1)" "$(ratio itad base 2)"
  fi
}
measure $((N / 10)) 1
measure "$N" "$R"
