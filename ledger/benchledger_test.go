package ledger

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// TestBuildBenchLedger builds the events ledger of bench/verify.sh, only
// when ITAD_BENCH_LEDGER names a file that does not exist yet:
// ITAD_BENCH_DEVICES (default 500,000) devices, each added (device.add)
// and then disposed of (disposal.record) — the events a disposal desk
// writes one at a time, here committed a thousand devices a transaction
// so that a million events take minutes, not an hour.
func TestBuildBenchLedger(t *testing.T) {
	path := os.Getenv("ITAD_BENCH_LEDGER")
	if path == "" {
		t.Skip("set ITAD_BENCH_LEDGER=FILE to build the verify benchmark's ledger (bench/verify.sh does)")
	}
	n := 500000
	if v := os.Getenv("ITAD_BENCH_DEVICES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatalf("%s exists", path)
	}
	s, err := Open(path, Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	must(t, s.Init("Bench"))
	contractors := []string{"Albion ITAD plc", "Shredwell Secure Ltd"}
	cIDs := make([]int64, len(contractors))
	for i, c := range contractors {
		_, err := s.AddContractor(Contractor{Name: c})
		must(t, err)
		must(t, s.db.QueryRow(`SELECT id FROM contractors WHERE name = ?`, c).Scan(&cIDs[i]))
	}
	types := []DeviceType{"hdd", "ssd", "laptop", "phone"}
	const perTxn = 1000
	for lo := 0; lo < n; lo += perTxn {
		must(t, s.write("", func(tx *txn) error {
			for i := lo; i < min(n, lo+perTxn); i++ {
				capacity := int64(250 << (i % 5))
				d := Device{Serial: fmt.Sprintf("GEN%09d", i), AssetTag: fmt.Sprintf("AT%07d", i), Type: types[i%len(types)],
					Make: "Seagate", Model: fmt.Sprint("ST", i%97), CapacityGB: &capacity, Site: "DC-North"}
				must(t, d.Validate())
				devID, err := tx.insertDevice(&d, "device.add")
				if err != nil {
					return err
				}
				w := int64(400 + i%300)
				p := Disposal{Serial: d.Serial, Method: "shred", Contractor: contractors[i%2], Operator: "A. Patel",
					DisposedOn: fmt.Sprintf("20%02d-%02d-%02d", 15+i%10, 1+i%12, 1+i%28), WeightG: &w, Verified: "yes"}
				must(t, p.Validate())
				if err := tx.insertDisposal(&p, devID, d.UUID, cIDs[i%2], nil, "disposal.record", false); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	if _, err := s.Verify(VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}
