package ledger

import "testing"

func TestWords_CountOf(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{{0, "0 items"}, {1, "1 item"}, {2, "2 items"}, {1942, "1,942 items"}, {-1, "-1 items"}} {
		if got := CountOf(tc.n, "item", "items"); got != tc.want {
			t.Errorf("CountOf(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestWords_YearsPhrase(t *testing.T) {
	for _, tc := range []struct {
		years []int
		fin   bool
		want  string
	}{
		{nil, false, "Calendar years: none"},
		{[]int{2024}, false, "Calendar year 2024"},
		{[]int{2021, 2020}, false, "Calendar years 2020 and 2021"},
		{[]int{2020, 2021, 2022}, false, "Calendar years 2020 to 2022"},
		{[]int{2025, 2020, 2021, 2022, 2023, 2024}, false, "Calendar years 2020 to 2025"},
		{[]int{2018, 2020, 2021, 2022, 2023, 2025}, false, "Calendar years 2018, 2020 to 2023 and 2025"},
		{[]int{2018, 2019, 2021, 2022}, false, "Calendar years 2018, 2019, 2021 and 2022"},
		{[]int{2020, 2020}, false, "Calendar year 2020"},
		{[]int{2020}, true, "Financial year 2020/21"},
		{[]int{2020, 2021}, true, "Financial years 2020/21 and 2021/22"},
		{[]int{2020, 2021, 2022, 2024}, true, "Financial years 2020/21 to 2022/23 and 2024/25"},
		{[]int{1999, 2000}, true, "Financial years 1999/00 and 2000/01"},
	} {
		if got := YearsPhrase(tc.years, tc.fin); got != tc.want {
			t.Errorf("YearsPhrase(%v, %v) = %q, want %q", tc.years, tc.fin, got, tc.want)
		}
	}
}

func TestWords_FormatCapacity(t *testing.T) {
	for _, tc := range []struct {
		gb   int64
		want string
	}{
		{0, "0 GB"}, {8, "8 GB"}, {960, "960 GB"}, {999, "999 GB"}, {1000, "1 TB"}, {1024, "1,024 GB"},
		{1500, "1.5 TB"}, {1920, "1,920 GB"}, {4000, "4 TB"}, {12000, "12 TB"}, {15360, "15,360 GB"},
		{1_000_000, "1,000 TB"}, {2100, "2.1 TB"},
	} {
		if got := FormatCapacity(tc.gb); got != tc.want {
			t.Errorf("FormatCapacity(%d) = %q, want %q", tc.gb, got, tc.want)
		}
	}
}

// TestWords_TypeLabels: every type has its words, and no two types share
// a label (a reader could not tell them apart).
func TestWords_TypeLabels(t *testing.T) {
	seen := map[string]DeviceType{}
	for _, ty := range DeviceTypes {
		w, ok := typeTable[ty]
		if !ok || w.label == "" || w.noun == "" || w.nouns == "" {
			t.Errorf("type %s has no words: %+v", ty, w)
		}
		if o, dup := seen[w.label]; dup {
			t.Errorf("types %s and %s are both labelled %q", o, ty, w.label)
		}
		seen[w.label] = ty
	}
	if len(typeTable) != len(DeviceTypes) {
		t.Errorf("typeTable has %d types, DeviceTypes %d", len(typeTable), len(DeviceTypes))
	}
	if got := HDD.Label(); got != "Hard disk drive" {
		t.Errorf("HDD.Label() = %q", got)
	}
	if got := DeviceType("floppy").Label(); got != "floppy" {
		t.Errorf("unknown type label %q, want its code", got)
	}
}

func TestWords_Statement(t *testing.T) {
	for _, tc := range []struct {
		sections []string
		want     string
	}{
		{[]string{"24(1)"}, "Withheld under section 24(1) of the Freedom of Information Act 2000"},
		{[]string{"24(1)", "31(1)"}, "Withheld under sections 24(1) and 31(1) of the Freedom of Information Act 2000"},
		{[]string{"24(1)", "31(1)(a)", "38(1)"}, "Withheld under sections 24(1), 31(1)(a) and 38(1) of the Freedom of Information Act 2000"},
	} {
		if got := (Exemption{Field: FieldSite, Sections: tc.sections}).Statement(); got != tc.want {
			t.Errorf("Statement(%v) = %q, want %q", tc.sections, got, tc.want)
		}
	}
}

// TestWords_LabelsParse: every label, as device show prints it, is a
// spelling of its type.
func TestWords_LabelsParse(t *testing.T) {
	for _, ty := range DeviceTypes {
		got, err := ParseDeviceType(ty.Label())
		if err != nil || got != ty {
			t.Errorf("ParseDeviceType(%q) = %q, %v; want %s", ty.Label(), got, err, ty)
		}
	}
}
