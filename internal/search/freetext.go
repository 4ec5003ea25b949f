package search

import (
	"strings"
	"unicode"

	"github.com/tessera-geo/tessera/internal/cql2"
)

// FreeText is a parsed free-text query (the Free-text extension's q):
// terms and "quoted phrases"; space or comma separated terms are ORed,
// AND between two terms requires both, +term is required, -term excluded.
type FreeText struct {
	// Groups are ORed; the phrases within a group are ANDed.
	Groups [][]string
	// Required phrases must all match; Excluded must not.
	Required, Excluded []string
}

// Empty reports whether nothing is asked for.
func (f *FreeText) Empty() bool {
	return f == nil || len(f.Groups) == 0 && len(f.Required) == 0 && len(f.Excluded) == 0
}

// ParseFreeText parses q.
func ParseFreeText(q string) (*FreeText, error) {
	type tok struct {
		text   string
		quoted bool
	}
	var toks []tok
	rs := []rune(q)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r) || r == ',':
			if r == ',' {
				toks = append(toks, tok{text: "OR"})
			}
			i++
		case r == '"' || (r == '+' || r == '-') && i+1 < len(rs) && rs[i+1] == '"':
			prefix := ""
			if r != '"' {
				prefix = string(r)
				i++
			}
			end := i + 1
			for end < len(rs) && rs[end] != '"' {
				end++
			}
			if end >= len(rs) {
				return nil, invalid("q", "unterminated quoted phrase at position %d", i)
			}
			toks = append(toks, tok{text: prefix + string(rs[i+1:end]), quoted: true})
			i = end + 1
		default:
			end := i
			for end < len(rs) && !unicode.IsSpace(rs[end]) && rs[end] != ',' && rs[end] != '"' {
				end++
			}
			toks = append(toks, tok{text: string(rs[i:end])})
			i = end
		}
	}
	f := &FreeText{}
	var cur []string
	joinNext := false
	flush := func() {
		if len(cur) > 0 {
			f.Groups = append(f.Groups, cur)
			cur = nil
		}
	}
	for _, t := range toks {
		if !t.quoted && (t.text == "OR" || t.text == "AND") {
			joinNext = t.text == "AND" && len(cur) > 0
			if t.text == "OR" {
				flush()
			}
			continue
		}
		text := t.text
		switch {
		case strings.HasPrefix(text, "-") && len(text) > 1:
			if p := normalisePhrase(text[1:]); p != "" {
				f.Excluded = append(f.Excluded, p)
			}
			continue
		case strings.HasPrefix(text, "+") && len(text) > 1:
			if p := normalisePhrase(text[1:]); p != "" {
				f.Required = append(f.Required, p)
			}
			continue
		}
		p := normalisePhrase(text)
		if p == "" {
			continue
		}
		if joinNext {
			cur = append(cur, p)
		} else {
			flush()
			cur = []string{p}
		}
		joinNext = false
	}
	flush()
	if f.Empty() {
		return nil, invalid("q", "has no search terms")
	}
	return f, nil
}

// normalisePhrase lower-cases a phrase and keeps its letters and digits as
// space-separated words.
func normalisePhrase(s string) string {
	return strings.Join(Words(s), " ")
}

// Words splits text into lower-case, accent-free words of letters and
// digits (as SQLite's unicode61 tokenizer with remove_diacritics does).
func Words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(cql2.StripAccents(s)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// Matches reports whether text (already joined searchable fields) matches,
// for stores and lists that evaluate in Go (collections).
func (f *FreeText) Matches(text string) bool {
	padded := " " + strings.Join(Words(text), " ") + " "
	has := func(p string) bool { return strings.Contains(padded, " "+p+" ") }
	for _, p := range f.Required {
		if !has(p) {
			return false
		}
	}
	for _, p := range f.Excluded {
		if has(p) {
			return false
		}
	}
	if len(f.Groups) == 0 {
		return true
	}
	for _, g := range f.Groups {
		all := true
		for _, p := range g {
			all = all && has(p)
		}
		if all {
			return true
		}
	}
	return false
}
