package cql2_test

import (
	"reflect"
	"testing"

	"github.com/tessera-geo/tessera/internal/cql2"
)

// nodeTypes lists every concrete Expr type; keep it in sync with ast.go.
var nodeTypes = []cql2.Expr{
	cql2.And{}, cql2.Or{}, cql2.Not{}, cql2.Comparison{}, cql2.Like{}, cql2.Between{}, cql2.In{},
	cql2.IsNull{}, cql2.Casei{}, cql2.Accenti{}, cql2.Spatial{}, cql2.Temporal{}, cql2.ArrayPredicate{},
	cql2.Arithmetic{}, cql2.Property{}, cql2.String{}, cql2.Number{}, cql2.Bool{}, cql2.Timestamp{},
	cql2.Date{}, cql2.Interval{}, cql2.Geometry{}, cql2.BBox{}, cql2.Array{}, cql2.Function{},
}

func TestAllNodes(t *testing.T) {
	seen := map[reflect.Type]bool{}
	for _, e := range cql2.AllNodes() {
		cql2.Walk(e, func(x cql2.Expr) bool {
			seen[reflect.TypeOf(x)] = true
			return true
		})
		t.Run(cql2.Text(e), func(t *testing.T) {
			roundTrip(t, e)
			_, _ = cql2.Evaluate(e, sampleItem())
			if _, err := cql2.ParseText(cql2.Text(e)); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, n := range nodeTypes {
		if !seen[reflect.TypeOf(n)] {
			t.Errorf("AllNodes has no %T", n)
		}
	}
	if len(seen) != len(nodeTypes) {
		t.Errorf("AllNodes has %d node types, nodeTypes lists %d", len(seen), len(nodeTypes))
	}
}
