package postgres

import "github.com/tessera-geo/tessera/internal/search"

// FreeTextSQL is the condition of free-text query q over items aliased i,
// with its arguments.
func FreeTextSQL(q string) (string, []any, error) {
	f, err := search.ParseFreeText(q)
	if err != nil {
		return "", nil, err
	}
	var a args
	cond := freeTextSQL(f, &a)
	return cond, a, nil
}
