package ledger

import (
	"strconv"
	"strings"
)

// The words people read: counts with their nouns, lists of years, device
// types and capacities, written one way in every report, FOI answer,
// certificate and command output. Machine formats (csv, json) keep the
// codes and raw numbers.

// Plural returns one when n is 1, else many.
func Plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// CountOf says n with thousands separators and the noun that agrees with
// it: CountOf(1, "item", "items") is "1 item", CountOf(1942, ...) is
// "1,942 items".
func CountOf(n int64, one, many string) string {
	return Thousands(n) + " " + Plural(n, one, many)
}

// JoinAnd joins items as "a", "a and b", "a, b and c" ("" for none).
func JoinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// YearList writes years (in any order, duplicates dropped) in ascending
// order, a run of three or more consecutive years as "first to last":
// "2024", "2020 and 2021", "2020 to 2025", "2018, 2020 to 2023 and 2025".
// Financial years are labelled like "2020/21 to 2022/23".
func YearList(years []int, financial bool) string {
	ys := sortedYears(years)
	label := strconv.Itoa
	if financial {
		label = FormatFinancialYear
	}
	var parts []string
	for i := 0; i < len(ys); {
		j := i
		for j+1 < len(ys) && ys[j+1] == ys[j]+1 {
			j++
		}
		if j-i >= 2 {
			parts = append(parts, label(ys[i])+" to "+label(ys[j]))
		} else {
			for k := i; k <= j; k++ {
				parts = append(parts, label(ys[k]))
			}
		}
		i = j + 1
	}
	return JoinAnd(parts)
}

// YearsPhrase names the years of an answer with their kind, singular or
// plural as they need: "Calendar year 2024", "Calendar years 2020 and
// 2021", "Financial years 2020/21 to 2024/25", or "Calendar years: none".
func YearsPhrase(years []int, financial bool) string {
	kind := "Calendar year"
	if financial {
		kind = "Financial year"
	}
	ys := sortedYears(years)
	if len(ys) == 0 {
		return kind + "s: none"
	}
	if len(ys) > 1 {
		kind += "s"
	}
	return kind + " " + YearList(ys, financial)
}

func sortedYears(years []int) []int {
	seen := map[int]bool{}
	var ys []int
	for _, y := range years {
		if !seen[y] {
			seen[y] = true
			ys = append(ys, y)
		}
	}
	for i := 1; i < len(ys); i++ { // insertion sort: lists are short
		for j := i; j > 0 && ys[j] < ys[j-1]; j-- {
			ys[j], ys[j-1] = ys[j-1], ys[j]
		}
	}
	return ys
}

// typeWords are the words for a device type: its label (in tables,
// fields and lists), and as a noun in a sentence, singular and plural.
type typeWords struct{ label, noun, nouns string }

// typeTable is the one table of device type names people read.
var typeTable = map[DeviceType]typeWords{
	HDD:        {"Hard disk drive", "hard disk drive", "hard disk drives"},
	SSD:        {"Solid-state drive", "solid-state drive", "solid-state drives"},
	Tape:       {"Magnetic tape", "magnetic tape", "magnetic tapes"},
	USB:        {"USB flash drive", "USB flash drive", "USB flash drives"},
	Optical:    {"Optical disc", "optical disc", "optical discs"},
	MemoryCard: {"Memory card", "memory card", "memory cards"},
	Laptop:     {"Laptop", "laptop", "laptops"},
	Desktop:    {"Desktop computer", "desktop computer", "desktop computers"},
	Server:     {"Server", "server", "servers"},
	Phone:      {"Mobile phone", "mobile phone", "mobile phones"},
	Tablet:     {"Tablet", "tablet", "tablets"},
	Network:    {"Network equipment", "item of network equipment", "items of network equipment"},
	Printer:    {"Printer / MFD", "printer", "printers"},
	OtherType:  {"Other", "device", "other devices"},
}

// Every label is also a spelling of its type: what device show prints
// can be typed back, as in "--type 'Magnetic tape'".
func init() {
	for t, w := range typeTable {
		if _, ok := typeAliases[key(w.label)]; !ok {
			typeAliases[key(w.label)] = t
		}
	}
	typeAliases["printer-mfd"] = Printer // "Printer / MFD" without the spaced slash
}

// Label is the name of the type in tables, fields and lists, the same in
// certificates, their schedules, reports, FOI answers and device show:
// "Hard disk drive", "Network equipment". An unknown type shows its code.
func (t DeviceType) Label() string {
	if w, ok := typeTable[t]; ok {
		return w.label
	}
	return string(t)
}

// Noun is the type in a sentence: "the hard disk drive with serial
// number ...".
func (t DeviceType) Noun() string {
	if w, ok := typeTable[t]; ok {
		return w.noun
	}
	return string(t)
}

// Nouns is the plural of Noun: "hard disk drives".
func (t DeviceType) Nouns() string {
	if w, ok := typeTable[t]; ok {
		return w.nouns
	}
	return string(t)
}

// FormatCapacity shows a capacity recorded in gigabytes (decimal, as
// drives are sold) one way everywhere people read it: in terabytes when it
// is 1,000 GB or more and a whole number of tenths of a terabyte ("4 TB",
// "1.5 TB", "12 TB"), otherwise in gigabytes with thousands separators
// ("960 GB", "1,024 GB"): never rounded, so no capacity is misstated.
func FormatCapacity(gb int64) string {
	if gb >= 1000 && gb%100 == 0 {
		s := Thousands(gb / 1000)
		if t := gb % 1000 / 100; t != 0 {
			s += "." + strconv.FormatInt(t, 10)
		}
		return s + " TB"
	}
	return Thousands(gb) + " GB"
}
