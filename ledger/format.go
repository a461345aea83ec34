package ledger

// The formats people read on every document itad prints from layout 3 of
// certificates on, and in the annual report: one place, so that a
// capacity, a type, a weight or a date reads the same on a device page,
// in a schedule and in a report.

// typeCodes are the abbreviations people know device types by.
var typeCodes = map[DeviceType]string{HDD: "HDD", SSD: "SSD"}

// FormatType is a device type as documents print it: its Label, with the
// abbreviation it is known by where it has one ("Hard disk drive (HDD)",
// "Solid-state drive (SSD)", "Magnetic tape").
func FormatType(t DeviceType) string {
	if c, ok := typeCodes[t]; ok {
		return t.Label() + " (" + c + ")"
	}
	return t.Label()
}

// FormatCapacityBytes is FormatCapacity with the exact number of bytes
// (capacities are recorded in decimal gigabytes, 10^9 bytes, as drives are
// sold): "4 TB (4,000,000,000,000 bytes)". It is for a device's own page;
// tables print FormatCapacity.
func FormatCapacityBytes(gb int64) string {
	if gb < 0 || gb > 1<<62/1_000_000_000 {
		return FormatCapacity(gb)
	}
	return FormatCapacity(gb) + " (" + Thousands(gb*1_000_000_000) + " bytes)"
}

// FormatWeightKg is a weight in kilograms with its unit, to the gram:
// "0.618 kg", "1,380.000 kg".
func FormatWeightKg(g int64) string { return FormatKg(g) + " kg" }

// FormatDate is a civil date as documents print it: ISO 8601, as recorded
// ("2021-03-04"); an empty date stays empty.
func FormatDate(s string) string { return s }

// FormatCount is a whole number with thousands separators: "1,942".
func FormatCount(n int64) string { return Thousands(n) }
