package cql2

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/peterstace/simplefeatures/geom"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// tri is a three-valued (Kleene) truth value: SQL's TRUE, FALSE, NULL.
type tri uint8

const (
	no tri = iota
	yes
	unknown
)

func triOf(b bool) tri {
	if b {
		return yes
	}
	return no
}

func (t tri) not() tri {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

type vkind uint8

const (
	vNull vkind = iota
	vNum
	vStr
	vBool
	vTime // instant or interval, in microseconds
	vGeom
	vArr
	vObj
)

type val struct {
	k      vkind
	n      float64
	s      string
	b      bool
	t0, t1 int64
	g      geom.Geometry
	a      []val
	raw    any
}

// Evaluate reports whether item (a STAC item decoded by encoding/json into
// map[string]any, numbers as float64) matches e. This is the reference
// semantics that SQL translations must agree with.
//
// Property resolution: "id", "collection" and "geometry" are the item's
// top-level members; every other name, including "datetime", is looked up in
// "properties" by its exact key; a "properties." prefix is stripped first
// (so "properties.eo:cloud_cover" = "eo:cloud_cover"). Nested objects are not
// traversed: "a.b" is the key "a.b".
//
// Null semantics follow SQL: a missing or null property, or operands of
// different types (e.g. a string compared with a number) make a comparison
// unknown; NOT unknown is unknown; AND/OR use Kleene logic; a filter that is
// unknown at the top does not match. IS NULL is true for missing and null
// properties. Division by zero is unknown.
//
// Values: numbers compare numerically, strings by bytes (code points),
// booleans with false < true. Timestamps and dates compare as instants at
// microsecond precision (a DATE is midnight UTC); a string property compared
// with a TIMESTAMP or DATE is parsed as RFC 3339 (or YYYY-MM-DD), and if it
// does not parse the comparison is unknown. Two string properties compare as
// strings.
//
// Temporal predicates treat an instant as the degenerate interval [t, t] and
// an open end ('..') as unbounded. The property "datetime" of an item whose
// datetime is null resolves, for temporal predicates only, to the interval
// [start_datetime, end_datetime]; for comparisons it stays null.
//
// Spatial predicates use exact planar predicates (simplefeatures, DE-9IM)
// on the 2D geometry; a property whose value is not a GeoJSON geometry, or
// a predicate that fails on an invalid geometry, is unknown.
//
// Array predicates: A_EQUALS is element-wise equality in order, A_CONTAINS
// (A, B) holds when every element of B is in A, A_CONTAINEDBY(A, B) when
// every element of A is in B, A_OVERLAPS when they share an element.
// Elements are equal when they have the same type and value.
//
// CASEI lower-cases (Unicode simple case mapping, strings.ToLower);
// ACCENTI removes combining marks after NFD decomposition.
//
// Evaluate returns an error only for constructs it cannot execute, such as
// unknown functions (wrapping ErrUnsupported).
func Evaluate(e Expr, item map[string]any) (bool, error) {
	ev := evaluator{item: item}
	if p, ok := item["properties"].(map[string]any); ok {
		ev.props = p
	}
	r, err := ev.pred(e)
	return r == yes, err
}

type evaluator struct {
	item  map[string]any
	props map[string]any
	geoms map[string]geomEntry
}

type geomEntry struct {
	g  geom.Geometry
	ok bool
}

// PropertyKey returns where name resolves in a STAC item: top is true for
// the item members id, collection and geometry; otherwise key is the key in
// "properties" (with any "properties." prefix removed).
func PropertyKey(name string) (key string, top bool) {
	switch name {
	case "id", "collection", "geometry":
		return name, true
	}
	return strings.TrimPrefix(name, "properties."), false
}

func (ev *evaluator) resolve(name string) any {
	key, top := PropertyKey(name)
	if top {
		return ev.item[key]
	}
	return ev.props[key]
}

func valueOf(x any) val {
	switch v := x.(type) {
	case nil:
		return val{}
	case float64:
		return val{k: vNum, n: v}
	case int:
		return val{k: vNum, n: float64(v)}
	case int64:
		return val{k: vNum, n: float64(v)}
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return val{}
		}
		return val{k: vNum, n: f}
	case string:
		return val{k: vStr, s: v}
	case bool:
		return val{k: vBool, b: v}
	case []any:
		a := make([]val, len(v))
		for i, y := range v {
			a[i] = valueOf(y)
		}
		return val{k: vArr, a: a}
	case map[string]any:
		return val{k: vObj, raw: v}
	}
	return val{}
}

func unsupported(format string, args ...any) error {
	return &UnsupportedError{What: fmt.Sprintf(format, args...)}
}

func (ev *evaluator) pred(e Expr) (tri, error) {
	switch n := e.(type) {
	case Bool:
		return triOf(n.Value), nil
	case And:
		res := yes
		for _, a := range n.Args {
			r, err := ev.pred(a)
			if err != nil {
				return no, err
			}
			if r == no {
				return no, nil
			}
			if r == unknown {
				res = unknown
			}
		}
		return res, nil
	case Or:
		res := no
		for _, a := range n.Args {
			r, err := ev.pred(a)
			if err != nil {
				return no, err
			}
			if r == yes {
				return yes, nil
			}
			if r == unknown {
				res = unknown
			}
		}
		return res, nil
	case Not:
		r, err := ev.pred(n.Arg)
		return r.not(), err
	case Comparison:
		l, err := ev.scalar(n.Left)
		if err != nil {
			return no, err
		}
		r, err := ev.scalar(n.Right)
		if err != nil {
			return no, err
		}
		return compare(n.Op, l, r), nil
	case Like:
		v, err := ev.scalar(n.Value)
		if err != nil {
			return no, err
		}
		p, err := ev.scalar(n.Pattern)
		if err != nil {
			return no, err
		}
		if v.k != vStr || p.k != vStr {
			return unknown, nil
		}
		return triOf(MatchLike(p.s, v.s)), nil
	case Between:
		v, err := ev.scalar(n.Value)
		if err != nil {
			return no, err
		}
		lo, err := ev.scalar(n.Low)
		if err != nil {
			return no, err
		}
		hi, err := ev.scalar(n.High)
		if err != nil {
			return no, err
		}
		return and(compare(Ge, v, lo), compare(Le, v, hi)), nil
	case In:
		v, err := ev.scalar(n.Value)
		if err != nil {
			return no, err
		}
		res := no
		for _, x := range n.List {
			w, err := ev.scalar(x)
			if err != nil {
				return no, err
			}
			switch compare(Eq, v, w) {
			case yes:
				return yes, nil
			case unknown:
				res = unknown
			}
		}
		return res, nil
	case IsNull:
		v, err := ev.scalar(n.Arg)
		if err != nil {
			return no, err
		}
		return triOf(v.k == vNull), nil
	case Property:
		v := valueOf(ev.resolve(n.Name))
		if v.k != vBool {
			return unknown, nil
		}
		return triOf(v.b), nil
	case Spatial:
		return ev.spatial(n)
	case Temporal:
		return ev.temporal(n)
	case ArrayPredicate:
		return ev.array(n)
	case Function:
		return no, unsupported("function %s", n.Name)
	}
	return no, unsupported("%s as a predicate", nodeName(e))
}

func and(a, b tri) tri {
	if a == no || b == no {
		return no
	}
	if a == unknown || b == unknown {
		return unknown
	}
	return yes
}

func (ev *evaluator) scalar(e Expr) (val, error) {
	switch n := e.(type) {
	case Property:
		return valueOf(ev.resolve(n.Name)), nil
	case String:
		return val{k: vStr, s: n.Value}, nil
	case Number:
		return val{k: vNum, n: n.Value}, nil
	case Bool:
		return val{k: vBool, b: n.Value}, nil
	case Timestamp:
		t := n.Time.UnixMicro()
		return val{k: vTime, t0: t, t1: t}, nil
	case Date:
		t := n.Time.UnixMicro()
		return val{k: vTime, t0: t, t1: t}, nil
	case Casei:
		v, err := ev.scalar(n.Arg)
		if err != nil || v.k != vStr {
			return val{}, err
		}
		return val{k: vStr, s: strings.ToLower(v.s)}, nil
	case Accenti:
		v, err := ev.scalar(n.Arg)
		if err != nil || v.k != vStr {
			return val{}, err
		}
		return val{k: vStr, s: StripAccents(v.s)}, nil
	case Arithmetic:
		l, err := ev.scalar(n.Left)
		if err != nil {
			return val{}, err
		}
		r, err := ev.scalar(n.Right)
		if err != nil || l.k != vNum || r.k != vNum {
			return val{}, err
		}
		f, ok := arith(n.Op, l.n, r.n)
		if !ok {
			return val{}, nil
		}
		return val{k: vNum, n: f}, nil
	case Array:
		a := make([]val, len(n.Elems))
		for i, x := range n.Elems {
			var err error
			if isPredicate(x) {
				var r tri
				r, err = ev.pred(x)
				if r != unknown {
					a[i] = val{k: vBool, b: r == yes}
				}
			} else {
				a[i], err = ev.scalar(x)
			}
			if err != nil {
				return val{}, err
			}
		}
		return val{k: vArr, a: a}, nil
	case Geometry:
		return val{k: vGeom, g: n.Geom}, nil
	case BBox:
		return val{k: vGeom, g: n.Envelope()}, nil
	case Interval:
		s, end, r, err := ev.interval(n)
		if err != nil || r != yes {
			return val{}, err
		}
		return val{k: vTime, t0: s, t1: end}, nil
	case Function:
		return val{}, unsupported("function %s", n.Name)
	}
	if isPredicate(e) {
		r, err := ev.pred(e)
		if err != nil || r == unknown {
			return val{}, err
		}
		return val{k: vBool, b: r == yes}, nil
	}
	return val{}, unsupported("%s as a value", nodeName(e))
}

// Arith applies an arithmetic operator with CQL2 semantics; ok is false when
// the result is undefined (division by zero, non-finite result).
func arith(op ArithOp, a, b float64) (float64, bool) {
	var f float64
	switch op {
	case Add:
		f = a + b
	case Sub:
		f = a - b
	case Mul:
		f = a * b
	case Quo:
		if b == 0 {
			return 0, false
		}
		f = a / b
	case Mod:
		if b == 0 {
			return 0, false
		}
		f = math.Mod(a, b)
	case Div:
		if b == 0 {
			return 0, false
		}
		f = math.Trunc(a / b)
	case Pow:
		f = math.Pow(a, b)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func parseInstant(s string) (int64, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixMicro(), true
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UnixMicro(), true
	}
	return 0, false
}

func cmpOrd(op CompOp, c int) tri {
	switch op {
	case Eq:
		return triOf(c == 0)
	case Ne:
		return triOf(c != 0)
	case Lt:
		return triOf(c < 0)
	case Le:
		return triOf(c <= 0)
	case Gt:
		return triOf(c > 0)
	case Ge:
		return triOf(c >= 0)
	}
	return unknown
}

func cmp3[T int64 | float64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compare(op CompOp, a, b val) tri {
	if a.k == vNull || b.k == vNull {
		return unknown
	}
	switch {
	case a.k == vNum && b.k == vNum:
		return cmpOrd(op, cmp3(a.n, b.n))
	case a.k == vStr && b.k == vStr:
		return cmpOrd(op, strings.Compare(a.s, b.s))
	case a.k == vBool && b.k == vBool:
		return cmpOrd(op, cmp3(b2i(a.b), b2i(b.b)))
	case a.k == vTime || b.k == vTime:
		ta, ok1 := asInstant(a)
		tb, ok2 := asInstant(b)
		if !ok1 || !ok2 {
			return unknown
		}
		return cmpOrd(op, cmp3(ta, tb))
	}
	return unknown
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func asInstant(v val) (int64, bool) {
	switch v.k {
	case vTime:
		return v.t0, v.t0 == v.t1
	case vStr:
		return parseInstant(v.s)
	}
	return 0, false
}

// MatchLike reports whether s matches the CQL2 LIKE pattern: % matches any
// run of characters, _ exactly one character, \ escapes the next character.
func MatchLike(pattern, s string) bool {
	p := []rune(pattern)
	t := []rune(s)
	// Pre-scan into tokens: -1 = %, -2 = _, otherwise a literal rune.
	toks := make([]rune, 0, len(p))
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '%':
			toks = append(toks, -1)
		case '_':
			toks = append(toks, -2)
		case '\\':
			if i+1 < len(p) {
				i++
			}
			toks = append(toks, p[i])
		default:
			toks = append(toks, p[i])
		}
	}
	// Iterative wildcard matching with one backtrack point (linear-ish).
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(toks) && (toks[pi] == -2 || toks[pi] == t[ti]):
			pi++
			ti++
		case pi < len(toks) && toks[pi] == -1:
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(toks) && toks[pi] == -1 {
		pi++
	}
	return pi == len(toks)
}

// StripAccents removes diacritics: NFD, drop combining marks (Mn), NFC.
func StripAccents(s string) string {
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		ascii = s[i] < utf8.RuneSelf
	}
	if ascii { // nothing to strip, and the transform costs microseconds
		return s
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return out
}

// ---- temporal ----

func (ev *evaluator) instantOf(e Expr) (s, end int64, r tri, err error) {
	switch n := e.(type) {
	case Timestamp:
		t := n.Time.UnixMicro()
		return t, t, yes, nil
	case Date:
		t := n.Time.UnixMicro()
		return t, t, yes, nil
	case Interval:
		return ev.interval(n)
	case Property:
		raw := ev.resolve(n.Name)
		if key, top := PropertyKey(n.Name); !top && key == "datetime" && raw == nil {
			a, ok1 := ev.props["start_datetime"].(string)
			b, ok2 := ev.props["end_datetime"].(string)
			if !ok1 || !ok2 {
				return 0, 0, unknown, nil
			}
			ta, ok1 := parseInstant(a)
			tb, ok2 := parseInstant(b)
			if !ok1 || !ok2 {
				return 0, 0, unknown, nil
			}
			return ta, tb, yes, nil
		}
		str, ok := raw.(string)
		if !ok {
			return 0, 0, unknown, nil
		}
		t, ok := parseInstant(str)
		if !ok {
			return 0, 0, unknown, nil
		}
		return t, t, yes, nil
	case Function:
		return 0, 0, no, unsupported("function %s", n.Name)
	}
	return 0, 0, no, unsupported("%s as a temporal value", nodeName(e))
}

func (ev *evaluator) interval(n Interval) (s, end int64, r tri, err error) {
	s, end = math.MinInt64, math.MaxInt64
	if n.Start != nil {
		a, _, r, err := ev.instantOf(n.Start)
		if err != nil || r != yes {
			return 0, 0, r, err
		}
		s = a
	}
	if n.End != nil {
		_, b, r, err := ev.instantOf(n.End)
		if err != nil || r != yes {
			return 0, 0, r, err
		}
		end = b
	}
	return s, end, yes, nil
}

// TemporalRelation evaluates a temporal predicate on the intervals
// [as, ae] and [bs, be] (instants have equal ends), as in CQL2 Table 7.
func TemporalRelation(op TemporalOp, as, ae, bs, be int64) bool {
	switch op {
	case TAfter:
		return as > be
	case TBefore:
		return ae < bs
	case TContains:
		return as < bs && ae > be
	case TDisjoint:
		return ae < bs || as > be
	case TDuring:
		return as > bs && ae < be
	case TEquals:
		return as == bs && ae == be
	case TFinishedBy:
		return as < bs && ae == be
	case TFinishes:
		return as > bs && ae == be
	case TIntersects:
		return as <= be && ae >= bs
	case TMeets:
		return ae == bs
	case TMetBy:
		return as == be
	case TOverlappedBy:
		return as > bs && as < be && ae > be
	case TOverlaps:
		return as < bs && ae > bs && ae < be
	case TStartedBy:
		return as == bs && ae > be
	case TStarts:
		return as == bs && ae < be
	}
	return false
}

func (ev *evaluator) temporal(n Temporal) (tri, error) {
	as, ae, r, err := ev.instantOf(n.Left)
	if err != nil || r != yes {
		return r, err
	}
	bs, be, r, err := ev.instantOf(n.Right)
	if err != nil || r != yes {
		return r, err
	}
	return triOf(TemporalRelation(n.Op, as, ae, bs, be)), nil
}

// ---- spatial ----

func (ev *evaluator) geometryOf(e Expr) (geom.Geometry, tri, error) {
	switch n := e.(type) {
	case Geometry:
		return n.Geom, yes, nil
	case BBox:
		return n.Envelope(), yes, nil
	case Property:
		if c, ok := ev.geoms[n.Name]; ok {
			return c.g, triOf(c.ok), nil
		}
		var entry geomEntry
		if m, ok := ev.resolve(n.Name).(map[string]any); ok {
			if raw, err := json.Marshal(m); err == nil {
				if g, err := unmarshalGeoJSON(raw); err == nil {
					entry = geomEntry{g: g, ok: true}
				}
			}
		}
		if ev.geoms == nil {
			ev.geoms = map[string]geomEntry{}
		}
		ev.geoms[n.Name] = entry
		if !entry.ok {
			return geom.Geometry{}, unknown, nil
		}
		return entry.g, yes, nil
	case Function:
		return geom.Geometry{}, no, unsupported("function %s", n.Name)
	}
	return geom.Geometry{}, no, unsupported("%s as a geometry", nodeName(e))
}

// SpatialRelation evaluates a spatial predicate exactly; ok is false when
// the predicate cannot be computed (e.g. invalid geometry).
func SpatialRelation(op SpatialOp, a, b geom.Geometry) (result, ok bool) {
	defer func() {
		if recover() != nil {
			result, ok = false, false
		}
	}()
	a, b = a.Force2D(), b.Force2D()
	var err error
	switch op {
	case SIntersects:
		return geom.Intersects(a, b), true
	case SDisjoint:
		return !geom.Intersects(a, b), true
	case SEquals:
		result, err = geom.Equals(a, b)
	case STouches:
		result, err = geom.Touches(a, b)
	case SWithin:
		result, err = geom.Within(a, b)
	case SOverlaps:
		result, err = geom.Overlaps(a, b)
	case SCrosses:
		result, err = geom.Crosses(a, b)
	case SContains:
		result, err = geom.Contains(a, b)
	default:
		return false, false
	}
	return result, err == nil
}

func (ev *evaluator) spatial(n Spatial) (tri, error) {
	a, r, err := ev.geometryOf(n.Left)
	if err != nil || r != yes {
		return r, err
	}
	b, r, err := ev.geometryOf(n.Right)
	if err != nil || r != yes {
		return r, err
	}
	res, ok := SpatialRelation(n.Op, a, b)
	if !ok {
		return unknown, nil
	}
	return triOf(res), nil
}

// ---- arrays ----

func (ev *evaluator) arrayOf(e Expr) ([]val, tri, error) {
	switch e.(type) {
	case Property, Array:
		v, err := ev.scalar(e)
		if err != nil {
			return nil, no, err
		}
		if v.k != vArr {
			return nil, unknown, nil
		}
		return v.a, yes, nil
	case Function:
		return nil, no, unsupported("function %s", e.(Function).Name)
	}
	return nil, no, unsupported("%s as an array", nodeName(e))
}

func elemEqual(a, b val) bool {
	if a.k == vArr && b.k == vArr {
		if len(a.a) != len(b.a) {
			return false
		}
		for i := range a.a {
			if !elemEqual(a.a[i], b.a[i]) {
				return false
			}
		}
		return true
	}
	if a.k == vObj || b.k == vObj || a.k == vArr || b.k == vArr {
		return false
	}
	return compare(Eq, a, b) == yes
}

func contains(set []val, x val) bool {
	for _, y := range set {
		if elemEqual(x, y) {
			return true
		}
	}
	return false
}

func (ev *evaluator) array(n ArrayPredicate) (tri, error) {
	a, r, err := ev.arrayOf(n.Left)
	if err != nil || r != yes {
		return r, err
	}
	b, r, err := ev.arrayOf(n.Right)
	if err != nil || r != yes {
		return r, err
	}
	switch n.Op {
	case AEquals:
		if len(a) != len(b) {
			return no, nil
		}
		for i := range a {
			if !elemEqual(a[i], b[i]) {
				return no, nil
			}
		}
		return yes, nil
	case AContains:
		for _, x := range b {
			if !contains(a, x) {
				return no, nil
			}
		}
		return yes, nil
	case AContainedBy:
		for _, x := range a {
			if !contains(b, x) {
				return no, nil
			}
		}
		return yes, nil
	case AOverlaps:
		for _, x := range a {
			if contains(b, x) {
				return yes, nil
			}
		}
		return no, nil
	}
	return no, unsupported("array operator %s", n.Op)
}
