package ledger

import (
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Fields that can be withheld from FOI answers.
const (
	FieldContractorName = "contractor.name" // names (and accreditations) of contractors
	FieldSite           = "site"            // sites and data-centre locations
)

// ExemptFields lists the fields an exemption can name.
var ExemptFields = []string{FieldContractorName, FieldSite}

// Exemption withholds a field from FOI answers, citing sections of the
// Freedom of Information Act 2000. Internal reports and exports are not
// affected.
type Exemption struct {
	Field    string   `json:"field"`
	Sections []string `json:"sections"`
}

// Statement is the sentence an FOI answer gives instead of the withheld
// information: "Withheld under section 24(1) of the Freedom of
// Information Act 2000", or "under sections 24(1) and 31(1)" for several.
func (e Exemption) Statement() string {
	return "Withheld under " + Plural(int64(len(e.Sections)), "section", "sections") + " " + JoinAnd(e.Sections) +
		" of the Freedom of Information Act 2000"
}

// exemptionEvent is the payload of exempt.set and exempt.clear, a format
// agreed with ledger verification:
//
//	exempt.set   subject = field  {"field":"contractor.name","sections":["24(1)","31(1)"]}
//	exempt.clear subject = field  {"field":"contractor.name"}
//
// exempt.set upserts the exemptions row (field, sections joined with ", ",
// seq = the event); exempt.clear deletes it.
type exemptionEvent struct {
	Field    string   `json:"field"`
	Sections []string `json:"sections,omitempty"`
}

// sectionPattern is a section reference as FOI officers write it: a
// section number, then optional subsection and paragraph parts, such as
// 24(1), 31(1)(a) or 43(2).
var sectionPattern = regexp.MustCompile(`^([0-9]{1,2})(\([0-9]{1,2}\))?(\([a-z]{1,4}\))*$`)

// ParseSection normalises an exemption section such as "24(1)", "s24(1)",
// "s. 31(1)(a)" or "section 31(1)" to "24(1)" or "31(1)(a)". The section
// must be an exemption in Part II of the Act (sections 21 to 44); anything
// else is ErrInvalid.
func ParseSection(s string) (string, error) {
	v := strings.ToLower(strings.Join(strings.Fields(s), ""))
	for _, p := range []string{"section", "s.", "s"} {
		if strings.HasPrefix(v, p) && len(v) > len(p) && v[len(p)] >= '0' && v[len(p)] <= '9' {
			v = v[len(p):]
			break
		}
	}
	m := sectionPattern.FindStringSubmatch(v)
	if m == nil {
		return "", fmt.Errorf("%w: section %q is not a section reference like 24(1) or 31(1)(a)", ErrInvalid, s)
	}
	if n, _ := strconv.Atoi(m[1]); n < 21 || n > 44 {
		return "", fmt.Errorf("%w: section %q is not an exemption of the Freedom of Information Act 2000 (sections 21 to 44)", ErrInvalid, s)
	}
	return v, nil
}

// checkExemptField returns ErrInvalid, listing the valid fields, for a
// field that cannot be exempt.
func checkExemptField(field string) error {
	for _, f := range ExemptFields {
		if field == f {
			return nil
		}
	}
	return fmt.Errorf("%w: field %q cannot be exempt (one of %s)", ErrInvalid, field, strings.Join(ExemptFields, ", "))
}

// SetExemption withholds field from FOI answers under the given sections
// (normalised by ParseSection, duplicates dropped, order kept), recording
// event exempt.set with reason. It reports whether anything changed:
// setting the same sections again writes nothing. It returns ErrInvalid
// for an unknown field, a bad section or no section.
func (s *Store) SetExemption(field string, sections []string, reason string) (Exemption, bool, error) {
	e := Exemption{Field: strings.TrimSpace(field)}
	if err := checkExemptField(e.Field); err != nil {
		return e, false, err
	}
	seen := map[string]bool{}
	for _, raw := range sections {
		sec, err := ParseSection(raw)
		if err != nil {
			return e, false, err
		}
		if !seen[sec] {
			seen[sec] = true
			e.Sections = append(e.Sections, sec)
		}
	}
	if len(e.Sections) == 0 {
		return e, false, fmt.Errorf("%w: an exemption needs at least one section, such as 24(1)", ErrInvalid)
	}
	joined := strings.Join(e.Sections, ", ")
	changed := false
	err := s.write(reason, func(t *txn) error {
		var cur string
		err := t.tx.QueryRow(`SELECT sections FROM exemptions WHERE field = ?`, e.Field).Scan(&cur)
		if err == nil && cur == joined {
			return nil
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read exemption %s: %w", e.Field, err)
		}
		seq, err := t.appendEvent("exempt.set", e.Field, exemptionEvent{Field: e.Field, Sections: e.Sections})
		if err != nil {
			return err
		}
		if _, err := t.exec(`INSERT INTO exemptions(field, sections, seq) VALUES (?,?,?)
			ON CONFLICT(field) DO UPDATE SET sections = excluded.sections, seq = excluded.seq`, e.Field, joined, seq); err != nil {
			return fmt.Errorf("set exemption %s: %w", e.Field, err)
		}
		changed = true
		return nil
	})
	return e, changed, err
}

// ClearExemption stops withholding field, recording event exempt.clear
// with reason. It returns ErrInvalid for an unknown field and a
// *NotFoundError (kind "exemption") when the field is not exempt.
func (s *Store) ClearExemption(field, reason string) error {
	field = strings.TrimSpace(field)
	if err := checkExemptField(field); err != nil {
		return err
	}
	return s.write(reason, func(t *txn) error {
		var n int
		if err := t.tx.QueryRow(`SELECT count(*) FROM exemptions WHERE field = ?`, field).Scan(&n); err != nil {
			return fmt.Errorf("read exemption %s: %w", field, err)
		}
		if n == 0 {
			return notFound("exemption", field)
		}
		if _, err := t.appendEvent("exempt.clear", field, exemptionEvent{Field: field}); err != nil {
			return err
		}
		if _, err := t.exec(`DELETE FROM exemptions WHERE field = ?`, field); err != nil {
			return fmt.Errorf("clear exemption %s: %w", field, err)
		}
		return nil
	})
}

// Exemptions lists the exempt fields in the order of ExemptFields. It
// fails with a *StateError (ErrTampered) when the exemptions table and
// its events disagree.
func (s *Store) Exemptions() ([]Exemption, error) {
	return checkedExemptions(s.db)
}

func exemptions(q readQuerier) ([]Exemption, error) {
	rows, err := q.Query(`SELECT field, sections FROM exemptions`)
	if err != nil {
		return nil, fmt.Errorf("list exemptions: %w", err)
	}
	defer rows.Close()
	byField := map[string]Exemption{}
	for rows.Next() {
		var e Exemption
		var secs string
		if err := rows.Scan(&e.Field, &secs); err != nil {
			return nil, err
		}
		e.Sections = strings.Split(secs, ", ")
		byField[e.Field] = e
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []Exemption
	for _, f := range ExemptFields {
		if e, ok := byField[f]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}
