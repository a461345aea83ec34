#!/bin/sh
# bench/certs.sh N: whole-process cost of issuing N signed device
# certificates with one 'itad cert issue --uncertified' call, against
# issuing 20 of them one process each (ledger open, key load, fsyncs per
# certificate). Prints certificates per second for both.
set -eu
N=${1:-1000}
cd "$(dirname "$0")/.."
OUT=bench/out/certs
rm -rf "$OUT" && mkdir -p "$OUT"
go build -o "$OUT/itad" ./cmd/itad
ITAD="$OUT/itad --db $OUT/itad.db"
$ITAD init --org "Heddlu Dyfed-Powys — Gwasanaeth Tŷ Gwŷn" >/dev/null
{
	echo "serial,asset_tag,type,make,model,capacity_gb,site,method,standard,tool,verified,contractor,disposed_on,weight_kg,batch,operator,witness,notes"
	i=1
	while [ $i -le $((N + 20)) ]; do
		printf 'ŁÓDŹ-%06d,TG-%06d,hdd,Seagate,Exos 7E8,4000,Llŷn Depot,shred,DIN 66399 H-5,,yes,Łukasz Żółć Recykling,2024-05-02,0.6,,Łukasz Żółć,Αλέξανδρος,\n' $i $i
		i=$((i + 1))
	done
} >"$OUT/devices.csv"
$ITAD import "$OUT/devices.csv" >/dev/null
$ITAD key init >/dev/null 2>&1
mkdir -p "$OUT/one" "$OUT/many"
now() { date +%s.%N; }
t0=$(now)
i=$((N + 1))
while [ $i -le $((N + 20)) ]; do
	$ITAD cert issue "$(printf 'ŁÓDŹ-%06d' $i)" -o "$OUT/one" >/dev/null
	i=$((i + 1))
done
t1=$(now)
/usr/bin/time -f "  (the --uncertified process: %e s wall, %U s user + %S s system CPU, %M KB max RSS)" $ITAD cert issue --uncertified -o "$OUT/many" >/dev/null
t2=$(now)
echo "one process per certificate: 20 in $(echo "$t1 - $t0" | bc) s: $(echo "20 / ($t1 - $t0)" | bc) per second"
echo "one process, --uncertified:  $N in $(echo "$t2 - $t1" | bc) s: $(echo "$N / ($t2 - $t1)" | bc) per second"
ls "$OUT/many" | head -2
du -sh "$OUT/many"
$ITAD verify | tail -1
