package cql2

import (
	"time"

	"github.com/peterstace/simplefeatures/geom"
)

// Expr is a node of a CQL2 expression tree. The set of node types is closed
// (sealed by an unexported method): translators can switch over the concrete
// types below exhaustively. Nodes are values and must be treated as immutable.
//
// Boolean-valued nodes: And, Or, Not, Comparison, Like, Between, In, IsNull,
// Spatial, Temporal, ArrayPredicate, Bool, and (at run time) Function and
// Property. Scalar nodes: Property, String, Number, Bool, Timestamp, Date,
// Interval, Geometry, BBox, Array, Function, Casei, Accenti, Arithmetic.
type Expr interface {
	isExpr()
}

// And is the conjunction of two or more expressions. An unparenthesized chain
// "a AND b AND c" is one And with three Args.
type And struct{ Args []Expr }

// Or is the disjunction of two or more expressions.
type Or struct{ Args []Expr }

// Not negates its argument. "a NOT LIKE b", "a NOT BETWEEN ...", "a NOT IN
// (...)" and "a IS NOT NULL" parse to Not wrapping the positive predicate, as
// in cql2-json.
type Not struct{ Arg Expr }

// CompOp is a binary comparison operator.
type CompOp string

// Comparison operators.
const (
	Eq CompOp = "="
	Ne CompOp = "<>"
	Lt CompOp = "<"
	Le CompOp = "<="
	Gt CompOp = ">"
	Ge CompOp = ">="
)

// Comparison is "Left Op Right".
type Comparison struct {
	Op          CompOp
	Left, Right Expr
}

// Like is "Value LIKE Pattern". In the pattern, % matches any sequence of
// characters, _ matches exactly one character and \ escapes the next
// character (\%, \_, \\).
type Like struct {
	Value, Pattern Expr
}

// Between is "Value BETWEEN Low AND High" (inclusive).
type Between struct {
	Value, Low, High Expr
}

// In is "Value IN (List...)".
type In struct {
	Value Expr
	List  []Expr
}

// IsNull is "Arg IS NULL": true when the property is missing or JSON null.
type IsNull struct{ Arg Expr }

// Casei is CASEI(Arg): case-insensitive comparison (both sides lower-cased).
type Casei struct{ Arg Expr }

// Accenti is ACCENTI(Arg): accent-insensitive comparison (diacritics removed).
type Accenti struct{ Arg Expr }

// SpatialOp names a spatial predicate; the value is the cql2-json op name.
type SpatialOp string

// Spatial predicates.
const (
	SIntersects SpatialOp = "s_intersects"
	SEquals     SpatialOp = "s_equals"
	SDisjoint   SpatialOp = "s_disjoint"
	STouches    SpatialOp = "s_touches"
	SWithin     SpatialOp = "s_within"
	SOverlaps   SpatialOp = "s_overlaps"
	SCrosses    SpatialOp = "s_crosses"
	SContains   SpatialOp = "s_contains"
)

// Spatial is a spatial predicate "Op(Left, Right)".
type Spatial struct {
	Op          SpatialOp
	Left, Right Expr
}

// TemporalOp names a temporal predicate; the value is the cql2-json op name.
type TemporalOp string

// Temporal predicates.
const (
	TAfter        TemporalOp = "t_after"
	TBefore       TemporalOp = "t_before"
	TContains     TemporalOp = "t_contains"
	TDisjoint     TemporalOp = "t_disjoint"
	TDuring       TemporalOp = "t_during"
	TEquals       TemporalOp = "t_equals"
	TFinishedBy   TemporalOp = "t_finishedBy"
	TFinishes     TemporalOp = "t_finishes"
	TIntersects   TemporalOp = "t_intersects"
	TMeets        TemporalOp = "t_meets"
	TMetBy        TemporalOp = "t_metBy"
	TOverlappedBy TemporalOp = "t_overlappedBy"
	TOverlaps     TemporalOp = "t_overlaps"
	TStartedBy    TemporalOp = "t_startedBy"
	TStarts       TemporalOp = "t_starts"
)

// Temporal is a temporal predicate "Op(Left, Right)".
type Temporal struct {
	Op          TemporalOp
	Left, Right Expr
}

// ArrayOp names an array predicate; the value is the cql2-json op name.
type ArrayOp string

// Array predicates.
const (
	AEquals      ArrayOp = "a_equals"
	AContains    ArrayOp = "a_contains"
	AContainedBy ArrayOp = "a_containedBy"
	AOverlaps    ArrayOp = "a_overlaps"
)

// ArrayPredicate is an array predicate "Op(Left, Right)".
type ArrayPredicate struct {
	Op          ArrayOp
	Left, Right Expr
}

// ArithOp is an arithmetic operator.
type ArithOp string

// Arithmetic operators. Div is integer division (truncated toward zero).
const (
	Add ArithOp = "+"
	Sub ArithOp = "-"
	Mul ArithOp = "*"
	Quo ArithOp = "/"
	Mod ArithOp = "%"
	Div ArithOp = "div"
	Pow ArithOp = "^"
)

// Arithmetic is "Left Op Right". Unary minus on a non-literal x is
// represented as Arithmetic{Mul, Number{-1}, x}.
type Arithmetic struct {
	Op          ArithOp
	Left, Right Expr
}

// Property references an item property by name.
type Property struct{ Name string }

// String is a character string literal.
type String struct{ Value string }

// Number is a numeric literal.
type Number struct{ Value float64 }

// Bool is TRUE or FALSE.
type Bool struct{ Value bool }

// Timestamp is TIMESTAMP('...'): an instant, always in UTC.
type Timestamp struct{ Time time.Time }

// Date is DATE('YYYY-MM-DD'), held as midnight UTC of that day. For
// comparisons and temporal predicates a date is that instant.
type Date struct{ Time time.Time }

// Interval is INTERVAL(Start, End). Start and End are Timestamp, Date,
// Property or Function nodes; nil means an open end ('..').
type Interval struct{ Start, End Expr }

// Geometry is a WKT or GeoJSON geometry literal. Z coordinates are kept but
// ignored by predicates.
type Geometry struct{ Geom geom.Geometry }

// BBox is BBOX(minx, miny, maxx, maxy) or the 6-number 3D form
// BBOX(minx, miny, minz, maxx, maxy, maxz). A minx greater than maxx crosses
// the antimeridian.
type BBox struct{ Coords []float64 }

// Array is an array literal: (a, b, c) in text, [a, b, c] in JSON.
type Array struct{ Elems []Expr }

// Function is a call to a function that is not a built-in CQL2 operator,
// e.g. Buffer(geometry, 10, 'm'). Evaluate rejects unknown functions.
type Function struct {
	Name string
	Args []Expr
}

func (And) isExpr()            {}
func (Or) isExpr()             {}
func (Not) isExpr()            {}
func (Comparison) isExpr()     {}
func (Like) isExpr()           {}
func (Between) isExpr()        {}
func (In) isExpr()             {}
func (IsNull) isExpr()         {}
func (Casei) isExpr()          {}
func (Accenti) isExpr()        {}
func (Spatial) isExpr()        {}
func (Temporal) isExpr()       {}
func (ArrayPredicate) isExpr() {}
func (Arithmetic) isExpr()     {}
func (Property) isExpr()       {}
func (String) isExpr()         {}
func (Number) isExpr()         {}
func (Bool) isExpr()           {}
func (Timestamp) isExpr()      {}
func (Date) isExpr()           {}
func (Interval) isExpr()       {}
func (Geometry) isExpr()       {}
func (BBox) isExpr()           {}
func (Array) isExpr()          {}
func (Function) isExpr()       {}

// Envelope returns the bbox as a geometry: a polygon, or a multipolygon of
// two parts when it crosses the antimeridian (minx > maxx).
func (b BBox) Envelope() geom.Geometry {
	minx, miny, maxx, maxy := b.XY()
	if minx > maxx {
		w := geom.NewEnvelope(geom.XY{X: minx, Y: miny}, geom.XY{X: 180, Y: maxy}).AsGeometry()
		e := geom.NewEnvelope(geom.XY{X: -180, Y: miny}, geom.XY{X: maxx, Y: maxy}).AsGeometry()
		return geom.NewGeometryCollection([]geom.Geometry{w, e}).AsGeometry()
	}
	return geom.NewEnvelope(geom.XY{X: minx, Y: miny}, geom.XY{X: maxx, Y: maxy}).AsGeometry()
}

// XY returns the 2D extent of the bbox, dropping Z for the 6-number form.
func (b BBox) XY() (minx, miny, maxx, maxy float64) {
	if len(b.Coords) == 6 {
		return b.Coords[0], b.Coords[1], b.Coords[3], b.Coords[4]
	}
	if len(b.Coords) != 4 {
		return 0, 0, 0, 0
	}
	return b.Coords[0], b.Coords[1], b.Coords[2], b.Coords[3]
}

var (
	spatialOps  = []SpatialOp{SIntersects, SEquals, SDisjoint, STouches, SWithin, SOverlaps, SCrosses, SContains}
	temporalOps = []TemporalOp{TAfter, TBefore, TContains, TDisjoint, TDuring, TEquals, TFinishedBy, TFinishes,
		TIntersects, TMeets, TMetBy, TOverlappedBy, TOverlaps, TStartedBy, TStarts}
	arrayOps = []ArrayOp{AEquals, AContains, AContainedBy, AOverlaps}
	compOps  = []CompOp{Eq, Ne, Lt, Le, Gt, Ge}
	arithOps = []ArithOp{Add, Sub, Mul, Quo, Mod, Div, Pow}
)

// isBoolean reports whether e may stand where a boolean is expected
// (filter top level, AND/OR/NOT arguments).
func isBoolean(e Expr) bool {
	switch e.(type) {
	case And, Or, Not, Comparison, Like, Between, In, IsNull, Spatial, Temporal, ArrayPredicate,
		Bool, Function, Property:
		return true
	}
	return false
}

// isPredicate reports whether e is a predicate (which cannot be an operand).
func isPredicate(e Expr) bool {
	switch e.(type) {
	case And, Or, Not, Comparison, Like, Between, In, IsNull, Spatial, Temporal, ArrayPredicate:
		return true
	}
	return false
}
