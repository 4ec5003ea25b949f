package store

import (
	"fmt"
	"strings"
)

// IndexedProperty is a property a store indexes for fast filters and
// sorts (--index-property): the SQLite store gives it a column, the
// PostgreSQL store an expression index.
type IndexedProperty struct {
	Name string
	Kind string // "number" or "text"
}

// ParseIndexed parses "name=kind" specs, e.g. "eo:cloud_cover=number".
func ParseIndexed(specs []string) ([]IndexedProperty, error) {
	var out []IndexedProperty
	for _, s := range specs {
		name, kind, ok := strings.Cut(s, "=")
		if !ok {
			name, kind = s, "number"
		}
		name = strings.TrimPrefix(strings.TrimSpace(name), "properties.")
		if name == "" || strings.ContainsAny(name, "\"'\\") {
			return nil, fmt.Errorf("indexed property %q: bad name", s)
		}
		if kind != "number" && kind != "text" {
			return nil, fmt.Errorf("indexed property %q: kind must be number or text", s)
		}
		out = append(out, IndexedProperty{Name: name, Kind: kind})
	}
	return out, nil
}
