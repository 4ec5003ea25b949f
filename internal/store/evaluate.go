package store

import (
	"encoding/json"
	"fmt"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/search"
)

// Evaluate runs a CQL2 filter over a stored document: stores use it for
// the part of a filter their SQL cannot decide exactly. An error of the
// filter itself is an *search.InvalidParamError naming "filter".
func Evaluate(e cql2.Expr, doc []byte) (bool, error) {
	var v map[string]any
	if err := json.Unmarshal(doc, &v); err != nil {
		return false, fmt.Errorf("store: stored document: %w", err)
	}
	ok, err := cql2.Evaluate(e, v)
	if err != nil {
		return false, &search.InvalidParamError{Param: "filter", Reason: err.Error(), Err: err}
	}
	return ok, nil
}
