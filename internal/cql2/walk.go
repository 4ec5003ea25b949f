package cql2

import (
	"reflect"
	"slices"
	"sort"

	"github.com/peterstace/simplefeatures/geom"
)

// Children returns the direct sub-expressions of e, in source order. Open
// interval ends (nil) are omitted.
func Children(e Expr) []Expr {
	switch n := e.(type) {
	case And:
		return n.Args
	case Or:
		return n.Args
	case Not:
		return []Expr{n.Arg}
	case Comparison:
		return []Expr{n.Left, n.Right}
	case Like:
		return []Expr{n.Value, n.Pattern}
	case Between:
		return []Expr{n.Value, n.Low, n.High}
	case In:
		return append([]Expr{n.Value}, n.List...)
	case IsNull:
		return []Expr{n.Arg}
	case Casei:
		return []Expr{n.Arg}
	case Accenti:
		return []Expr{n.Arg}
	case Spatial:
		return []Expr{n.Left, n.Right}
	case Temporal:
		return []Expr{n.Left, n.Right}
	case ArrayPredicate:
		return []Expr{n.Left, n.Right}
	case Arithmetic:
		return []Expr{n.Left, n.Right}
	case Interval:
		var out []Expr
		if n.Start != nil {
			out = append(out, n.Start)
		}
		if n.End != nil {
			out = append(out, n.End)
		}
		return out
	case Array:
		return n.Elems
	case Function:
		return n.Args
	}
	return nil
}

// Walk calls fn for e and, when fn returns true, for each descendant in
// depth-first pre-order.
func Walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	for _, c := range Children(e) {
		Walk(c, fn)
	}
}

// Properties returns the sorted, de-duplicated names of the properties that e
// references, as written (e.g. "properties.eo:cloud_cover" is not folded to
// "eo:cloud_cover"; use PropertyKey for that).
func Properties(e Expr) []string {
	var names []string
	Walk(e, func(x Expr) bool {
		if p, ok := x.(Property); ok {
			names = append(names, p.Name)
		}
		return true
	})
	sort.Strings(names)
	return slices.Compact(names)
}

// Equal reports whether a and b are the same expression tree. Numbers compare
// by value, timestamps and dates as instants, geometries exactly
// (coordinate by coordinate, including Z).
func Equal(a, b Expr) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	switch x := a.(type) {
	case String, Number, Bool, Property:
		return a == b
	case Timestamp:
		y, ok := b.(Timestamp)
		return ok && x.Time.Equal(y.Time)
	case Date:
		y, ok := b.(Date)
		return ok && x.Time.Equal(y.Time)
	case Geometry:
		y, ok := b.(Geometry)
		return ok && x.Geom.CoordinatesType() == y.Geom.CoordinatesType() && geom.ExactEquals(x.Geom, y.Geom)
	case BBox:
		y, ok := b.(BBox)
		return ok && slices.Equal(x.Coords, y.Coords)
	case Function:
		y, ok := b.(Function)
		if !ok || x.Name != y.Name {
			return false
		}
	case Comparison:
		if y, ok := b.(Comparison); !ok || x.Op != y.Op {
			return false
		}
	case Spatial:
		if y, ok := b.(Spatial); !ok || x.Op != y.Op {
			return false
		}
	case Temporal:
		if y, ok := b.(Temporal); !ok || x.Op != y.Op {
			return false
		}
	case ArrayPredicate:
		if y, ok := b.(ArrayPredicate); !ok || x.Op != y.Op {
			return false
		}
	case Arithmetic:
		if y, ok := b.(Arithmetic); !ok || x.Op != y.Op {
			return false
		}
	case Interval:
		y, ok := b.(Interval)
		if !ok || (x.Start == nil) != (y.Start == nil) || (x.End == nil) != (y.End == nil) {
			return false
		}
	}
	ca, cb := Children(a), Children(b)
	if len(ca) != len(cb) {
		return false
	}
	for i := range ca {
		if !Equal(ca[i], cb[i]) {
			return false
		}
	}
	return true
}
