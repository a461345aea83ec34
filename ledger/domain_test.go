package ledger

import (
	"errors"
	"strings"
	"testing"
)

func TestParseDeviceType(t *testing.T) {
	tests := []struct {
		in   string
		want DeviceType
		err  string
	}{
		{"hdd", HDD, ""},
		{"HDD", HDD, ""},
		{"Hard Drive", HDD, ""},
		{" hard_disk ", HDD, ""},
		{"Solid State Drive", SSD, ""},
		{"SD card", MemoryCard, ""},
		{"memory-card", MemoryCard, ""},
		{"Laptops", Laptop, ""},
		{"Mobile Phone", Phone, ""},
		{"LTO", Tape, ""},
		{"toaster", "", `unknown type "toaster" (one of hdd, ssd, tape, usb, optical, memory-card, laptop`},
		{"", "", "type is required"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDeviceType(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("ParseDeviceType(%q) error = %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDeviceType(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseMethod(t *testing.T) {
	tests := []struct {
		in   string
		want Method
		cat  Category
		err  string
	}{
		{"shred", Shred, Destroy, ""},
		{"Shredded", Shred, Destroy, ""},
		{"Crypto Erase", CryptoErase, Purge, ""},
		{"cryptographic erasure", CryptoErase, Purge, ""},
		{"block_erase", BlockErase, Purge, ""},
		{"Degaussed", Degauss, Purge, ""},
		{"overwrite", Overwrite, Clear, ""},
		{"Pulverized", Pulverise, Destroy, ""},
		{"incineration", Incinerate, Destroy, ""},
		{"disintegrate", Disintegrate, Destroy, ""},
		{"melted", "", "", `unknown method "melted" (one of overwrite, block-erase, crypto-erase, degauss, shred, disintegrate, pulverise, incinerate)`},
		{" ", "", "", "method is required"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMethod(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseMethod(%q) error = %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want || got.Category() != tt.cat {
				t.Fatalf("ParseMethod(%q) = %q (%s), %v; want %q (%s)", tt.in, got, got.Category(), err, tt.want, tt.cat)
			}
		})
	}
}

func TestCheckMethodForType(t *testing.T) {
	tests := []struct {
		m  Method
		t  DeviceType
		ok bool
	}{
		{Degauss, HDD, true},
		{Degauss, Tape, true},
		{Degauss, Laptop, true},
		{Degauss, SSD, false},
		{Degauss, USB, false},
		{Degauss, MemoryCard, false},
		{Degauss, Phone, false},
		{Shred, SSD, true},
		{CryptoErase, USB, true},
	}
	for _, tt := range tests {
		err := CheckMethodForType(tt.m, tt.t)
		if (err == nil) != tt.ok {
			t.Errorf("CheckMethodForType(%s, %s) = %v, want ok=%v", tt.m, tt.t, err, tt.ok)
		}
	}
}

func TestParseWeight(t *testing.T) {
	tests := []struct {
		in, unit string
		want     int64
		err      string
	}{
		{"0.618", "kg", 618, ""},
		{"0.62kg", "kg", 620, ""},
		{"620g", "kg", 620, ""},
		{"620 g", "kg", 620, ""},
		{"1.5", "kg", 1500, ""},
		{"19.003", "kg", 19003, ""},
		{"2", "kg", 2000, ""},
		{"0.1000", "kg", 100, ""}, // trailing zeros are exact
		{"0.0001", "kg", 0, "finer than a gram"},
		{"618", "g", 618, ""},
		{"618.5g", "kg", 0, "finer than a gram"},
		{"007.250KG", "kg", 7250, ""},
		{"100000", "kg", 100_000_000, ""},
		{"100000.001", "kg", 0, "over 100 tonnes"},
		{"-1", "kg", 0, "not a plain decimal"},
		{"1e3", "kg", 0, "not a plain decimal"},
		{"0x10", "kg", 0, "not a plain decimal"},
		{".5", "kg", 0, "not a plain decimal"},
		{"5.", "kg", 0, "not a plain decimal"},
		{"1,5", "kg", 0, "not a plain decimal"},
		{"kg", "kg", 0, "has no number"},
		{"", "kg", 0, "has no number"},
		{"99999999999999999999", "kg", 0, "implausibly large"},
		// The command line: the unit is required, and the error names both ways.
		{"620", "", 0, `weight "620" has no unit: write 620g or 620kg`},
		{"0.62", "", 0, `weight "0.62" has no unit: write 0.62kg or 620g`},
		{"0.0001", "", 0, "finer than a gram"},
		{"abc", "", 0, "not a plain decimal"},
		{"0.62kg", "", 620, ""},
		{"620 G", "", 620, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseWeight(tt.in, tt.unit)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseWeight(%q) = %d, %v; want error %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseWeight(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"2021-02-28", true},
		{"2020-02-29", true},
		{"2021-02-29", false},
		{"2021-02-30", false},
		{"2021-13-01", false},
		{"2021-1-5", false},
		{"21-01-05", false},
		{"2021/01/05", false},
		{"05/01/2021", false},
		{"2021-01-05T00:00:00Z", false},
		{"1900-01-01", false},
		{"", false},
	}
	for _, tt := range tests {
		_, err := ParseDate(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseDate(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

func TestFinancialYear(t *testing.T) {
	for _, tt := range []struct {
		d    string
		want int
	}{{"2021-03-31", 2020}, {"2021-04-01", 2021}, {"2021-01-01", 2020}, {"2021-12-31", 2021}} {
		d, _ := ParseDate(tt.d)
		if got := FinancialYear(d); got != tt.want {
			t.Errorf("FinancialYear(%s) = %d, want %d", tt.d, got, tt.want)
		}
	}
	if got := FormatFinancialYear(2020); got != "2020/21" {
		t.Errorf("FormatFinancialYear(2020) = %q", got)
	}
	if got := FormatFinancialYear(2099); got != "2099/00" {
		t.Errorf("FormatFinancialYear(2099) = %q", got)
	}
}

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		g    int64
		want string
	}{{0, "0.000"}, {618, "0.618"}, {2199700, "2,199.700"}, {1234567890, "1,234,567.890"}} {
		if got := FormatKg(tt.g); got != tt.want {
			t.Errorf("FormatKg(%d) = %q, want %q", tt.g, got, tt.want)
		}
	}
	if got := Thousands(1942); got != "1,942" {
		t.Errorf("Thousands(1942) = %q", got)
	}
}

func TestDeviceValidate(t *testing.T) {
	neg := int64(-1)
	tests := []struct {
		name string
		d    Device
		err  string
	}{
		{"OK", Device{Serial: " ABC123 ", Type: "Hard Drive"}, ""},
		{"ErrNoSerial", Device{Serial: "  ", Type: "hdd"}, "serial is required"},
		{"ErrType", Device{Serial: "A", Type: "fridge"}, "unknown type"},
		{"ErrNUL", Device{Serial: "A\x00B", Type: "hdd"}, "control character"},
		{"ErrUTF8", Device{Serial: "A\xffB", Type: "hdd"}, "not valid UTF-8"},
		{"ErrLong", Device{Serial: strings.Repeat("x", 200), Type: "hdd"}, "longer than"},
		{"ErrCapacity", Device{Serial: "A", Type: "hdd", CapacityGB: &neg}, "capacity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.d.Validate()
			if tt.err == "" {
				if err != nil || tt.d.Serial != "ABC123" || tt.d.Type != HDD {
					t.Fatalf("Validate() = %v, device %+v", err, tt.d)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Validate() = %v, want %q", err, tt.err)
			}
		})
	}
}

func FuzzParseWeight(f *testing.F) {
	for _, s := range []string{"0.618", "620g", "1.5kg", "", "-1", "1e9", "0.0001", "99999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseWeight(s, "kg")
		if err == nil && (g < 0 || g > MaxWeightGrams) {
			t.Fatalf("ParseWeight(%q) = %d out of range", s, g)
		}
		// Without a default unit, only a weight that names its unit parses,
		// to the same grams.
		if g2, err2 := ParseWeight(s, ""); err2 == nil && (err != nil || g2 != g || !strings.HasSuffix(strings.ToLower(strings.TrimSpace(s)), "g")) {
			t.Fatalf("ParseWeight(%q, \"\") = %d, %v; with kg %d, %v", s, g2, err2, g, err)
		}
		if err == nil {
			// Round trip: the grams formatted as kg parse back to the same value.
			back, err := ParseWeight(strings.ReplaceAll(FormatKg(g), ",", ""), "kg")
			if err != nil || back != g {
				t.Fatalf("round trip of %q: %d -> %q -> %d, %v", s, g, FormatKg(g), back, err)
			}
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2021-02-28", "2021-02-30", "", "2021-1-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err == nil && d.Format("2006-01-02") != strings.TrimSpace(s) {
			t.Fatalf("ParseDate(%q) accepted non-canonical input as %s", s, d.Format("2006-01-02"))
		}
	})
}
