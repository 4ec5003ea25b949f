package search

import (
	"encoding/json"
	"strings"
)

// SortField is one sort key. Field is normalised: "id", "collection",
// "datetime" (the item's time: datetime, or start_datetime for ranges),
// "start_datetime", "end_datetime", or a property name without the
// "properties." prefix.
type SortField struct {
	Field string
	Desc  bool
}

// DefaultSort is the order when none is asked for: newest first.
var DefaultSort = []SortField{{Field: "datetime", Desc: true}}

// normaliseField maps the names clients use to the canonical field names.
func normaliseField(f string) (string, error) {
	f = strings.TrimSpace(f)
	f = strings.TrimPrefix(f, "properties.")
	if f == "" {
		return "", invalid("sortby", "empty field name")
	}
	if strings.ContainsAny(f, "\"'\\") || strings.ContainsFunc(f, func(r rune) bool { return r < 0x20 }) {
		return "", invalid("sortby", "field %q has characters that are not allowed in a property name", f)
	}
	return f, nil
}

// ParseSortGET parses "+a,-b,c" (no sign: ascending).
func ParseSortGET(s string) ([]SortField, error) {
	var out []SortField
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		desc := false
		switch part[0] {
		case '-':
			desc, part = true, part[1:]
		case '+':
			part = part[1:]
		case ' ':
			// A '+' that a form decoder turned into a space.
			part = strings.TrimSpace(part)
		}
		f, err := normaliseField(part)
		if err != nil {
			return nil, err
		}
		out = append(out, SortField{Field: f, Desc: desc})
	}
	if len(out) == 0 {
		return nil, invalid("sortby", "must name at least one field, e.g. -datetime or +properties.eo:cloud_cover")
	}
	return checkDuplicates(out)
}

// ParseSortPOST parses [{"field": "...", "direction": "asc"|"desc"}].
func ParseSortPOST(raw json.RawMessage) ([]SortField, error) {
	var v []struct {
		Field     *string `json:"field"`
		Direction string  `json:"direction"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, invalid("sortby", `must be an array of {"field": ..., "direction": "asc"|"desc"} objects`)
	}
	if len(v) == 0 {
		return nil, invalid("sortby", "must name at least one field")
	}
	out := make([]SortField, 0, len(v))
	for i, s := range v {
		if s.Field == nil {
			return nil, invalid("sortby", "entry %d has no field", i)
		}
		f, err := normaliseField(*s.Field)
		if err != nil {
			return nil, err
		}
		var desc bool
		switch strings.ToLower(s.Direction) {
		case "", "asc":
		case "desc":
			desc = true
		default:
			return nil, invalid("sortby", "direction %q of %q must be asc or desc", s.Direction, *s.Field)
		}
		out = append(out, SortField{Field: f, Desc: desc})
	}
	return checkDuplicates(out)
}

func checkDuplicates(fs []SortField) ([]SortField, error) {
	seen := map[string]bool{}
	for _, f := range fs {
		if seen[f.Field] {
			return nil, invalid("sortby", "field %q is given twice", f.Field)
		}
		seen[f.Field] = true
	}
	return fs, nil
}
