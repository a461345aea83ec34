package ledger

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// DemoOrg is the organisation named in the demo ledger.
const DemoOrg = "Northshire Constabulary (demo)"

type demoModel struct {
	t         DeviceType
	make      string
	model     string
	capacity  []int64
	weightG   int64 // typical weight
	magnetic  bool
	assetTags bool
}

var demoModels = []demoModel{
	{HDD, "Seagate", "ST4000NM0035", []int64{1000, 2000, 4000}, 650, true, false},
	{HDD, "Toshiba", "MG04ACA400E", []int64{500, 1000, 4000}, 660, true, false},
	{HDD, "WDC", "WD40EFRX", []int64{2000, 4000}, 640, true, false},
	{SSD, "Samsung", "MZ7LH960HAJR", []int64{960}, 58, false, false},
	{SSD, "Micron", "MTFDDAK960TDC", []int64{480, 960}, 60, false, false},
	{Tape, "IBM", "LTO-7 Ultrium", nil, 220, true, false},
	{USB, "Kingston", "DataTraveler 3.0", []int64{32, 64}, 10, false, false},
	{Laptop, "Dell", "Latitude 5490", nil, 1750, true, true},
	{Laptop, "Lenovo", "ThinkPad T480", nil, 1580, true, true},
	{Desktop, "HP", "EliteDesk 800 G4", nil, 5200, true, true},
	{Server, "Dell", "PowerEdge R730", nil, 18200, true, true},
	{Phone, "Apple", "iPhone 8", nil, 148, false, true},
	{Phone, "Samsung", "Galaxy S9", nil, 163, false, true},
	{Tablet, "Apple", "iPad (6th gen)", nil, 469, false, true},
}

var demoContractors = []Contractor{
	{Name: "Albion ITAD plc", Accreditations: "ADISA, ISO 27001", ContractRef: "NC-2019-114"},
	{Name: "Shredwell Secure Ltd", Accreditations: "NAID AAA, BS EN 15713:2023", ContractRef: "NC-2021-007"},
	{Name: "Northgate Erasure Services", Accreditations: "ADISA, Cyber Essentials Plus", ContractRef: "NC-2022-031"},
}

// DemoCSV writes the demo's devices and disposals in the import format:
// n devices over the years from first to last, deterministic for a seed.
// Storage media are mostly shredded in monthly batches on site; equipment
// is mostly wiped; a tenth of the wiped drives are shredded later too.
func DemoCSV(seed uint64, n int, first, last int) []byte {
	var buf bytes.Buffer
	WriteDemoCSV(&buf, seed, n, first, last)
	return buf.Bytes()
}

// WriteDemoCSV streams what DemoCSV returns to out.
func WriteDemoCSV(out io.Writer, seed uint64, n int, first, last int) error {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w := csv.NewWriter(out)
	w.Write(ImportColumns)
	sites := []string{"DC-North", "DC-South", "HQ Annex"}
	operators := []string{"A. Patel", "J. Okafor", "S. Byrne", "R. Hughes"}
	span := (last - first + 1) * 365
	start := time.Date(first, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		m := demoModels[r.IntN(len(demoModels))]
		day := start.AddDate(0, 0, r.IntN(span))
		if day.Year() > last {
			day = time.Date(last, 12, 15, 0, 0, 0, 0, time.UTC)
		}
		serial := fmt.Sprintf("%s%s%06d", map[bool]string{true: "S", false: "Z"}[m.magnetic], demoPrefix(m.make), 100000+i*7)
		asset := ""
		if m.assetTags || r.IntN(3) == 0 {
			asset = fmt.Sprintf("NC%07d", 40000+i)
		}
		capacity := ""
		if len(m.capacity) > 0 {
			capacity = strconv.FormatInt(m.capacity[r.IntN(len(m.capacity))], 10)
		}
		site := sites[r.IntN(len(sites))]
		contractor := demoContractors[r.IntN(len(demoContractors))].Name
		var method Method
		switch {
		case m.t.StorageMedia() && r.IntN(10) < 8:
			method = []Method{Shred, Shred, Shred, Shred, Disintegrate, Incinerate, Pulverise}[r.IntN(7)]
		case m.t.StorageMedia() && m.magnetic && r.IntN(2) == 0:
			method = Degauss
		case m.t.StorageMedia():
			method = CryptoErase
		case r.IntN(6) == 0:
			method = Shred
		case m.t == Phone || m.t == Tablet:
			method = CryptoErase
		default:
			method = Overwrite
		}
		standard := "NIST SP 800-88 Rev. 1"
		if day.Year() >= 2026 {
			standard = "NIST SP 800-88 Rev. 2"
		}
		tool, verified, batch, witness, weight := "", "yes", "", "", ""
		if method.Category() != Destroy {
			tool = map[Method]string{Overwrite: "nwipe 0.35", CryptoErase: "hdparm 9.65", Degauss: "Garner HD-3WXL"}[method]
			if r.IntN(4) == 0 {
				verified = "sample"
			}
		} else {
			standard = "DIN 66399 " + map[bool]string{true: "H-5", false: "E-4"}[m.magnetic]
			batch = demoBatch(day, site)
			contractor = demoContractors[(day.Year()+int(day.Month()-1)/3+len(site))%len(demoContractors)].Name
			witness = "M. Lewis"
		}
		if r.IntN(5) != 0 { // a fifth of items were never weighed
			weight = FormatKg(m.weightG + int64(r.IntN(int(m.weightG/10+1))))
			weight = stripThousands(weight) // kg with three decimals
		}
		w.Write([]string{serial, asset, string(m.t), m.make, m.model, capacity, site, string(method), standard, tool, verified,
			contractor, day.Format(time.DateOnly), weight, batch, operators[r.IntN(len(operators))], witness, ""})
		// A tenth of wiped storage media are later shredded as well.
		if m.t.StorageMedia() && method.Category() != Destroy && r.IntN(10) == 0 {
			later := day.AddDate(0, 1+r.IntN(3), 0)
			if later.Year() <= last {
				w.Write([]string{serial, asset, string(m.t), m.make, m.model, capacity, site, string(Shred), "DIN 66399 H-5", "", "yes",
					contractor, later.Format(time.DateOnly), weight, demoBatch(later, site),
					operators[r.IntN(len(operators))], "M. Lewis", "shredded after wipe"})
			}
		}
	}
	w.Flush()
	return w.Error()
}

func demoPrefix(make string) string {
	if len(make) < 3 {
		return make
	}
	return string(bytes.ToUpper([]byte(make[:3])))
}

// demoBatch names the quarterly on-site shredding run at a site.
func demoBatch(day time.Time, site string) string {
	code := map[string]string{"DC-North": "DCN", "DC-South": "DCS", "HQ Annex": "HQA"}[site]
	return fmt.Sprintf("SR-%d-Q%d-%s", day.Year(), (int(day.Month())+2)/3, code)
}

func stripThousands(s string) string { return string(bytes.ReplaceAll([]byte(s), []byte(","), nil)) }

// DemoResult says what Demo built.
type DemoResult struct {
	Import  ImportResult
	Closed  int
	FromTo  [2]int
	Devices int
}

// Demo fills s with a realistic ledger: the demo organisation, three
// accredited contractors, n devices disposed of over the years first to
// last, and closed, weighed destruction runs. It is idempotent: running it
// again on the same ledger changes nothing.
func Demo(s *Store, n, first, last int) (DemoResult, error) {
	// No record may be dated in the future (CheckRecordDate): on a clock
	// that has not reached the end of last, the years move back.
	if y := s.Now().UTC().Year() - 1; last > y {
		first, last = first-(last-y), y
	}
	res := DemoResult{FromTo: [2]int{first, last}}
	if err := s.Init(DemoOrg); err != nil {
		return res, err
	}
	if v, _ := s.Setting(SettingDestination); v == "" {
		if err := s.SetSetting(SettingDestination, "recycled by the contractor after destruction", "demo"); err != nil {
			return res, err
		}
	}
	for _, c := range demoContractors {
		if _, err := s.AddContractor(c); err != nil && !errors.Is(err, ErrConflict) {
			return res, err
		}
	}
	data := DemoCSV(20201231, n, first, last)
	var err error
	if res.Import, err = s.Import("demo.csv", bytes.NewReader(data), ImportOptions{Reason: "demo"}); err != nil {
		return res, err
	}
	// Close every batch, weighing the shredded output of each run.
	bs, err := s.Batches()
	if err != nil {
		return res, err
	}
	for _, b := range bs {
		if b.ClosedAt != "" {
			continue
		}
		bd, err := s.Batch(b.Ref)
		if err != nil {
			return res, err
		}
		var gross int64
		for _, d := range bd.Devices {
			for _, m := range demoModels {
				if m.make == d.Make && m.model == d.Model {
					gross += m.weightG + m.weightG/20
				}
			}
		}
		if _, err := s.CloseBatch(b.Ref, &gross); err != nil {
			return res, err
		}
		res.Closed++
	}
	err = s.db.QueryRow(`SELECT count(*) FROM devices`).Scan(&res.Devices)
	return res, err
}
