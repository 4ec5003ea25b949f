package cql2sql

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/peterstace/simplefeatures/geom"

	"github.com/tessera-geo/tessera/internal/cql2"
)

// ph marks a placeholder inside a fragment; Compile renumbers them at the
// end, so fragments can be dropped or reordered without breaking Args.
const ph = "\x00"

type kind uint8

const (
	kNum kind = iota + 1
	kText
	kBool
)

var allKinds = []kind{kNum, kText, kBool}

// frag is a compiled piece of SQL with its arguments. exact means the SQL
// has exactly the three-valued (TRUE/FALSE/NULL) result of cql2.Evaluate's
// true/false/unknown; otherwise it is only a superset of TRUE.
type frag struct {
	sql   string
	args  []any
	exact bool
}

var (
	fTrue  = frag{sql: "1=1", exact: true}
	fFalse = frag{sql: "1=0", exact: true}
	fNull  = frag{sql: "NULL", exact: true}
	fAny   = frag{sql: "1=1", exact: false} // prefilter that keeps everything
)

type compiler struct {
	d Dialect
}

// Compile translates e into a SQL boolean expression for dialect d. See
// Clause for the meaning of Exact. Errors are *UnsupportedError (e.g. an
// unknown function) and *InvalidPropertyError.
func Compile(e cql2.Expr, d Dialect) (Clause, error) {
	if fn := firstFunction(e); fn != "" {
		return Clause{}, &UnsupportedError{Dialect: d.name(), What: "function " + fn}
	}
	c := &compiler{d: d}
	f, err := c.pred(e)
	if err != nil {
		return Clause{}, err
	}
	var b strings.Builder
	b.Grow(len(f.sql) + 2*len(f.args))
	n := 0
	for i := 0; i < len(f.sql); i++ {
		if f.sql[i] == 0 {
			n++
			b.WriteString(d.Placeholder(n))
			continue
		}
		b.WriteByte(f.sql[i])
	}
	return Clause{SQL: b.String(), Args: f.args, Exact: f.exact}, nil
}

func (c *compiler) unsupported(what string) error {
	return &UnsupportedError{Dialect: c.d.name(), What: what}
}

// constant reports whether e references no property and calls no function
// (and can be folded).
func constant(e cql2.Expr) bool {
	switch n := e.(type) {
	case cql2.Property, cql2.Function:
		return false
	case cql2.String, cql2.Number, cql2.Bool, cql2.Timestamp, cql2.Date, cql2.Geometry, cql2.BBox, nil:
		return true
	case cql2.Comparison:
		return constant(n.Left) && constant(n.Right)
	case cql2.Spatial:
		return constant(n.Left) && constant(n.Right)
	case cql2.Temporal:
		return constant(n.Left) && constant(n.Right)
	case cql2.ArrayPredicate:
		return constant(n.Left) && constant(n.Right)
	case cql2.Arithmetic:
		return constant(n.Left) && constant(n.Right)
	case cql2.Interval:
		return constant(n.Start) && constant(n.End)
	case cql2.Not:
		return constant(n.Arg)
	case cql2.IsNull:
		return constant(n.Arg)
	case cql2.Casei:
		return constant(n.Arg)
	case cql2.Accenti:
		return constant(n.Arg)
	case cql2.Like:
		return constant(n.Value) && constant(n.Pattern)
	case cql2.Between:
		return constant(n.Value) && constant(n.Low) && constant(n.High)
	}
	for _, c := range cql2.Children(e) {
		if !constant(c) {
			return false
		}
	}
	return true
}

func (c *compiler) fold(e cql2.Expr) (frag, error) {
	// Evaluate on an empty item; three-valued result via NOT.
	t, err := cql2.Evaluate(e, map[string]any{})
	if err != nil {
		return frag{}, err
	}
	if t {
		return fTrue, nil
	}
	f, err := cql2.Evaluate(cql2.Not{Arg: e}, map[string]any{})
	if err != nil {
		return frag{}, err
	}
	if f {
		return fFalse, nil
	}
	return fNull, nil
}

func join(sep string, fs []frag) frag {
	out := frag{exact: true}
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = "(" + f.sql + ")"
		out.args = append(out.args, f.args...)
		out.exact = out.exact && f.exact
	}
	out.sql = strings.Join(parts, sep)
	return out
}

func (c *compiler) pred(e cql2.Expr) (frag, error) {
	if constant(e) {
		return c.fold(e)
	}
	switch n := e.(type) {
	case cql2.And:
		fs := make([]frag, 0, len(n.Args))
		exact := true
		for _, a := range n.Args {
			f, err := c.pred(a)
			if err != nil {
				return frag{}, err
			}
			if !f.exact && f.sql == fAny.sql { // keep-all prefilter adds nothing
				exact = false
				continue
			}
			fs = append(fs, f)
		}
		if len(fs) == 0 {
			return fAny, nil
		}
		out := join(" AND ", fs)
		out.exact = out.exact && exact
		return out, nil
	case cql2.Or:
		fs := make([]frag, 0, len(n.Args))
		for _, a := range n.Args {
			f, err := c.pred(a)
			if err != nil {
				return frag{}, err
			}
			if !f.exact && f.sql == fAny.sql {
				return fAny, nil
			}
			fs = append(fs, f)
		}
		return join(" OR ", fs), nil
	case cql2.Not:
		f, err := c.pred(n.Arg)
		if err != nil {
			return frag{}, err
		}
		if !f.exact {
			return fAny, nil
		}
		return frag{sql: "NOT (" + f.sql + ")", args: f.args, exact: true}, nil
	case cql2.Comparison:
		return c.comparison(n.Op, n.Left, n.Right)
	case cql2.Between:
		lo, err := c.comparison(cql2.Ge, n.Value, n.Low)
		if err != nil {
			return frag{}, err
		}
		hi, err := c.comparison(cql2.Le, n.Value, n.High)
		if err != nil {
			return frag{}, err
		}
		return join(" AND ", []frag{lo, hi}), nil
	case cql2.In:
		fs := make([]frag, 0, len(n.List))
		for _, x := range n.List {
			f, err := c.comparison(cql2.Eq, n.Value, x)
			if err != nil {
				return frag{}, err
			}
			if !f.exact && f.sql == fAny.sql {
				return fAny, nil
			}
			fs = append(fs, f)
		}
		return join(" OR ", fs), nil
	case cql2.IsNull:
		return c.isNull(n.Arg)
	case cql2.Like:
		return c.like(n)
	case cql2.Property:
		v, err := c.value(n, kBool)
		if err != nil {
			return frag{}, err
		}
		if _, ok := c.d.(*Postgres); ok {
			return v, nil
		}
		return frag{sql: v.sql + " = 1", args: v.args, exact: v.exact}, nil
	case cql2.Spatial:
		return c.spatial(n)
	case cql2.Temporal:
		return c.temporal(n)
	case cql2.ArrayPredicate:
		return c.array(n)
	}
	return fAny, nil
}

func firstFunction(e cql2.Expr) string {
	name := ""
	cql2.Walk(e, func(x cql2.Expr) bool {
		if f, ok := x.(cql2.Function); ok && name == "" {
			name = f.Name
		}
		return name == ""
	})
	return name
}

// literalKind returns the kind of a String/Number/Bool literal.
func literalKind(e cql2.Expr) (kind, bool) {
	switch e.(type) {
	case cql2.String:
		return kText, true
	case cql2.Number:
		return kNum, true
	case cql2.Bool:
		return kBool, true
	}
	return 0, false
}

func isInstant(e cql2.Expr) (int64, bool) {
	switch n := e.(type) {
	case cql2.Timestamp:
		return n.Time.UnixMicro(), true
	case cql2.Date:
		return n.Time.UnixMicro(), true
	}
	return 0, false
}

func isDatetime(e cql2.Expr) bool {
	p, ok := e.(cql2.Property)
	if !ok {
		return false
	}
	key, top := cql2.PropertyKey(p.Name)
	return !top && key == "datetime"
}

// value compiles a scalar expression to SQL yielding its value when it has
// kind k, and NULL otherwise.
func (c *compiler) value(e cql2.Expr, k kind) (frag, error) {
	switch n := e.(type) {
	case cql2.Property:
		if col, ok := c.mapped(n.Name); ok {
			if kindOf(col.Kind) == k {
				return frag{sql: c.d.col(col.Name), exact: true}, nil
			}
			return fNull, nil
		}
		key, top := cql2.PropertyKey(n.Name)
		if top && (key == "id" || key == "collection") {
			if k == kText {
				return frag{sql: c.d.col(key), exact: true}, nil
			}
			return fNull, nil
		}
		s, err := c.d.jsonValue(key, top, k)
		if err != nil {
			return frag{}, err
		}
		return frag{sql: s, exact: true}, nil
	case cql2.String:
		if k != kText {
			return fNull, nil
		}
		return frag{sql: ph, args: []any{n.Value}, exact: true}, nil
	case cql2.Number:
		if k != kNum {
			return fNull, nil
		}
		return frag{sql: ph, args: []any{n.Value}, exact: true}, nil
	case cql2.Bool:
		if k != kBool {
			return fNull, nil
		}
		return frag{sql: ph, args: []any{n.Value}, exact: true}, nil
	case cql2.Arithmetic:
		if k != kNum {
			return fNull, nil
		}
		l, err := c.value(n.Left, kNum)
		if err != nil {
			return frag{}, err
		}
		r, err := c.value(n.Right, kNum)
		if err != nil {
			return frag{}, err
		}
		args := append(append([]any{}, l.args...), r.args...)
		exact := l.exact && r.exact
		_, pg := c.d.(*Postgres)
		switch n.Op {
		case cql2.Add, cql2.Sub, cql2.Mul:
			return frag{sql: "(" + l.sql + " " + string(n.Op) + " " + r.sql + ")", args: args, exact: exact}, nil
		case cql2.Quo:
			if pg {
				return frag{sql: "(" + l.sql + " / NULLIF(" + r.sql + ", 0))", args: args, exact: exact}, nil
			}
			return frag{sql: "(" + l.sql + " / " + r.sql + ")", args: args, exact: exact}, nil
		case cql2.Div:
			if pg {
				return frag{sql: "trunc(" + l.sql + " / NULLIF(" + r.sql + ", 0))", args: args, exact: exact}, nil
			}
			return frag{sql: "CAST(CAST(" + l.sql + " / " + r.sql + " AS INTEGER) AS REAL)", args: args, exact: false}, nil
		}
		return frag{sql: "NULL", exact: false}, nil
	case cql2.Casei:
		if k != kText {
			return fNull, nil
		}
		v, err := c.value(n.Arg, kText)
		if err != nil {
			return frag{}, err
		}
		// lower() is ASCII-only in SQLite and locale-dependent in
		// PostgreSQL: never exact in SQLite; PostgreSQL is trusted.
		_, pg := c.d.(*Postgres)
		return frag{sql: "lower(" + v.sql + ")", args: v.args, exact: v.exact && pg}, nil
	case cql2.Accenti:
		if k != kText {
			return fNull, nil
		}
		v, err := c.value(n.Arg, kText)
		if err != nil {
			return frag{}, err
		}
		return frag{sql: v.sql, args: v.args, exact: false}, nil
	}
	return frag{sql: "NULL", exact: false}, nil
}

func kindOf(k ValueKind) kind {
	switch k {
	case Text:
		return kText
	case Number:
		return kNum
	case Boolean:
		return kBool
	}
	return 0
}

func (c *compiler) mapped(name string) (Column, bool) {
	var cols map[string]Column
	switch d := c.d.(type) {
	case *SQLite:
		cols = d.Columns
	case *Postgres:
		cols = d.Columns
	}
	col, ok := cols[name]
	if !ok {
		key, _ := cql2.PropertyKey(name)
		col, ok = cols[key]
	}
	return col, ok
}

func (c *compiler) comparison(op cql2.CompOp, l, r cql2.Expr) (frag, error) {
	if constant(l) && constant(r) {
		return c.fold(cql2.Comparison{Op: op, Left: l, Right: r})
	}
	// Comparisons with a TIMESTAMP or DATE literal.
	if t, ok := isInstant(r); ok {
		return c.instantCompare(op, l, t)
	}
	if t, ok := isInstant(l); ok {
		return c.instantCompare(flip(op), r, t)
	}
	kinds := allKinds
	if k, ok := literalKind(l); ok {
		kinds = []kind{k}
	} else if k, ok := literalKind(r); ok {
		kinds = []kind{k}
	}
	if f, ok, err := c.caseiCompare(op, l, r); ok || err != nil {
		return f, err
	}
	terms := make([]frag, 0, len(kinds))
	for _, k := range kinds {
		a, err := c.value(l, k)
		if err != nil {
			return frag{}, err
		}
		b, err := c.value(r, k)
		if err != nil {
			return frag{}, err
		}
		if !a.exact || !b.exact {
			return fAny, nil
		}
		if a.sql == "NULL" || b.sql == "NULL" {
			continue
		}
		coll := ""
		if k == kText && op != cql2.Eq && op != cql2.Ne {
			coll = c.d.textCollate()
		}
		terms = append(terms, frag{sql: a.sql + " " + string(op) + " " + b.sql + coll, args: append(append([]any{}, a.args...), b.args...), exact: true})
	}
	switch len(terms) {
	case 0:
		return fNull, nil
	case 1:
		return terms[0], nil
	}
	// Exactly one kind can be non-NULL on both sides: the first non-NULL
	// comparison is the answer, NULL when the types differ.
	out := join(", ", terms)
	out.sql = "coalesce(" + out.sql + ")"
	return out, nil
}

func flip(op cql2.CompOp) cql2.CompOp {
	switch op {
	case cql2.Lt:
		return cql2.Gt
	case cql2.Gt:
		return cql2.Lt
	case cql2.Le:
		return cql2.Ge
	case cql2.Ge:
		return cql2.Le
	}
	return op
}

func (c *compiler) instantCompare(op cql2.CompOp, e cql2.Expr, micros int64) (frag, error) {
	if isDatetime(e) {
		return frag{sql: c.d.col("datetime") + " " + string(op) + " " + ph, args: []any{c.d.timeArg(micros)}, exact: true}, nil
	}
	// Another property holding an RFC 3339 string: the evaluator parses
	// it; SQL only checks that it is a string.
	if p, ok := e.(cql2.Property); ok {
		key, top := cql2.PropertyKey(p.Name)
		if _, ok := c.mapped(p.Name); !ok {
			s, err := c.d.jsonTypeIs(key, top, "string")
			if err != nil {
				return frag{}, err
			}
			return frag{sql: s, exact: false}, nil
		}
	}
	return fAny, nil
}

func (c *compiler) isNull(e cql2.Expr) (frag, error) {
	if p, ok := e.(cql2.Property); ok {
		// Mapped columns are NULL for values of other kinds: use the JSON.
		key, top := cql2.PropertyKey(p.Name)
		if top && (key == "id" || key == "collection") {
			return frag{sql: c.d.col(key) + " IS NULL", exact: true}, nil
		}
		s, err := c.d.jsonIsNull(key, top)
		if err != nil {
			return frag{}, err
		}
		return frag{sql: s, exact: true}, nil
	}
	// Casei/Accenti yield text or NULL, arithmetic a number or NULL.
	var k kind
	switch e.(type) {
	case cql2.Casei, cql2.Accenti:
		k = kText
	case cql2.Arithmetic:
		k = kNum
	default:
		return fAny, nil
	}
	v, err := c.value(e, k)
	if err != nil {
		return frag{}, err
	}
	if !v.exact {
		return fAny, nil
	}
	return frag{sql: v.sql + " IS NULL", args: v.args, exact: true}, nil
}

// likeTokens splits a CQL2 LIKE pattern into -1 (%), -2 (_) and literal
// runes.
func likeTokens(pattern string) []rune {
	p := []rune(pattern)
	out := make([]rune, 0, len(p))
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '%':
			out = append(out, -1)
		case '_':
			out = append(out, -2)
		case '\\':
			if i+1 < len(p) {
				i++
			}
			out = append(out, p[i])
		default:
			out = append(out, p[i])
		}
	}
	return out
}

// globPattern translates a CQL2 LIKE pattern to a case-sensitive SQLite
// GLOB pattern.
func globPattern(toks []rune) string {
	var b strings.Builder
	for _, r := range toks {
		switch r {
		case -1:
			b.WriteByte('*')
		case -2:
			b.WriteByte('?')
		case '*', '?', '[':
			b.WriteByte('[')
			b.WriteRune(r)
			b.WriteByte(']')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// pgLikePattern translates a CQL2 LIKE pattern to a PostgreSQL LIKE
// pattern with the default escape character '\'.
func pgLikePattern(toks []rune) string {
	var b strings.Builder
	for _, r := range toks {
		switch r {
		case -1:
			b.WriteByte('%')
		case -2:
			b.WriteByte('_')
		case '%', '_', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func globLiteral(s string) string {
	toks := []rune(s)
	return globPattern(toks)
}

func (c *compiler) like(n cql2.Like) (frag, error) {
	if f, ok, err := c.caseiMatch(n.Value, n.Pattern, true); ok || err != nil {
		return f, err
	}
	var pattern string
	switch p := n.Pattern.(type) {
	case cql2.String:
		pattern = p.Value
	case cql2.Casei:
		s, ok := p.Arg.(cql2.String)
		if !ok {
			return fAny, nil
		}
		pattern = strings.ToLower(s.Value)
	default:
		return fAny, nil
	}
	v, err := c.value(n.Value, kText)
	if err != nil {
		return frag{}, err
	}
	if !v.exact {
		return fAny, nil
	}
	toks := likeTokens(pattern)
	if _, pg := c.d.(*Postgres); pg {
		return frag{sql: v.sql + " LIKE " + ph, args: append(v.args, pgLikePattern(toks)), exact: true}, nil
	}
	return frag{sql: v.sql + " GLOB " + ph, args: append(v.args, globPattern(toks)), exact: true}, nil
}

// lowersToASCII are the non-ASCII runes whose lower case is ASCII
// (LATIN CAPITAL LETTER I WITH DOT ABOVE → i, KELVIN SIGN → k): SQLite's
// ASCII-only lower() misses them. TestLowersToASCII derives the set from
// the unicode tables (doing that here cost every process 10 ms at start).
const lowersToASCII = "\u0130\u212a"

func (c *compiler) caseiCompare(op cql2.CompOp, l, r cql2.Expr) (frag, bool, error) {
	if op != cql2.Eq {
		return frag{}, false, nil
	}
	if f, ok, err := c.caseiMatch(l, r, false); ok || err != nil {
		return f, ok, err
	}
	return c.caseiMatch(r, l, false)
}

// caseiMatch builds the SQLite prefilter for CASEI(x) = literal and
// CASEI(x) LIKE literal: a superset of the items Evaluate accepts.
func (c *compiler) caseiMatch(v, pattern cql2.Expr, like bool) (frag, bool, error) {
	if _, pg := c.d.(*Postgres); pg {
		return frag{}, false, nil
	}
	cv, ok := v.(cql2.Casei)
	if !ok {
		return frag{}, false, nil
	}
	var lit string
	switch p := pattern.(type) {
	case cql2.String:
		lit = p.Value
	case cql2.Casei:
		s, ok := p.Arg.(cql2.String)
		if !ok {
			return frag{}, false, nil
		}
		lit = strings.ToLower(s.Value)
	default:
		return frag{}, false, nil
	}
	inner, err := c.value(cv.Arg, kText)
	if err != nil {
		return frag{}, false, err
	}
	if !inner.exact {
		return fAny, true, nil
	}
	ascii := true
	for i := 0; i < len(lit); i++ {
		if lit[i] >= 128 {
			ascii = false
		}
	}
	if !ascii {
		return frag{sql: inner.sql + " IS NOT NULL", args: inner.args, exact: false}, true, nil
	}
	var g string
	if like {
		g = globPattern(likeTokens(lit))
	} else {
		g = globLiteral(lit)
	}
	args := append(append(append([]any{}, inner.args...), g), inner.args...)
	args = append(args, "*["+lowersToASCII+"]*")
	return frag{sql: "(lower(" + inner.sql + ") GLOB " + ph + " OR " + inner.sql + " GLOB " + ph + ")", args: args, exact: false}, true, nil
}

// ---- temporal ----

// endpoint is one end of an interval: SQL, or -inf/+inf for open ends.
type endpoint struct {
	sql  string
	args []any
	inf  int // -1, +1, or 0 for finite
}

func (c *compiler) interval(e cql2.Expr) (start, end endpoint, ok bool) {
	if t, isT := isInstant(e); isT {
		p := endpoint{sql: ph, args: []any{c.d.timeArg(t)}}
		return p, p, true
	}
	if isDatetime(e) {
		return endpoint{sql: c.d.col("start_datetime")}, endpoint{sql: c.d.col("end_datetime")}, true
	}
	iv, isIv := e.(cql2.Interval)
	if !isIv {
		return endpoint{}, endpoint{}, false
	}
	start, end = endpoint{inf: -1}, endpoint{inf: 1}
	if iv.Start != nil {
		t, isT := isInstant(iv.Start)
		if !isT {
			return endpoint{}, endpoint{}, false
		}
		start = endpoint{sql: ph, args: []any{c.d.timeArg(t)}}
	}
	if iv.End != nil {
		t, isT := isInstant(iv.End)
		if !isT {
			return endpoint{}, endpoint{}, false
		}
		end = endpoint{sql: ph, args: []any{c.d.timeArg(t)}}
	}
	return start, end, true
}

// cmpEnd compares two endpoints, folding comparisons with infinities.
func cmpEnd(a endpoint, op string, b endpoint) frag {
	if a.inf != 0 || b.inf != 0 {
		// Compare as extended integers: finite values sit at 0.
		x, y := a.inf, b.inf
		var r bool
		switch op {
		case "<":
			r = x < y
		case ">":
			r = x > y
		case "<=":
			r = x <= y
		case ">=":
			r = x >= y
		case "=":
			r = x == y
		}
		if r {
			return fTrue
		}
		return fFalse
	}
	return frag{sql: a.sql + " " + op + " " + b.sql, args: append(append([]any{}, a.args...), b.args...), exact: true}
}

func and(fs ...frag) frag {
	var keep []frag
	for _, f := range fs {
		if f.sql == fFalse.sql {
			return fFalse
		}
		if f.sql != fTrue.sql {
			keep = append(keep, f)
		}
	}
	switch len(keep) {
	case 0:
		return fTrue
	case 1:
		return keep[0]
	}
	return join(" AND ", keep)
}

func or(fs ...frag) frag {
	var keep []frag
	for _, f := range fs {
		if f.sql == fTrue.sql {
			return fTrue
		}
		if f.sql != fFalse.sql {
			keep = append(keep, f)
		}
	}
	switch len(keep) {
	case 0:
		return fFalse
	case 1:
		return keep[0]
	}
	return join(" OR ", keep)
}

func (c *compiler) temporal(n cql2.Temporal) (frag, error) {
	as, ae, ok1 := c.interval(n.Left)
	bs, be, ok2 := c.interval(n.Right)
	if !ok1 || !ok2 {
		return fAny, nil
	}
	var f frag
	switch n.Op {
	case cql2.TAfter:
		f = cmpEnd(as, ">", be)
	case cql2.TBefore:
		f = cmpEnd(ae, "<", bs)
	case cql2.TContains:
		f = and(cmpEnd(as, "<", bs), cmpEnd(ae, ">", be))
	case cql2.TDisjoint:
		f = or(cmpEnd(ae, "<", bs), cmpEnd(as, ">", be))
	case cql2.TDuring:
		f = and(cmpEnd(as, ">", bs), cmpEnd(ae, "<", be))
	case cql2.TEquals:
		f = and(cmpEnd(as, "=", bs), cmpEnd(ae, "=", be))
	case cql2.TFinishedBy:
		f = and(cmpEnd(as, "<", bs), cmpEnd(ae, "=", be))
	case cql2.TFinishes:
		f = and(cmpEnd(as, ">", bs), cmpEnd(ae, "=", be))
	case cql2.TIntersects:
		f = and(cmpEnd(as, "<=", be), cmpEnd(ae, ">=", bs))
	case cql2.TMeets:
		f = cmpEnd(ae, "=", bs)
	case cql2.TMetBy:
		f = cmpEnd(as, "=", be)
	case cql2.TOverlappedBy:
		f = and(cmpEnd(as, ">", bs), cmpEnd(as, "<", be), cmpEnd(ae, ">", be))
	case cql2.TOverlaps:
		f = and(cmpEnd(as, "<", bs), cmpEnd(ae, ">", bs), cmpEnd(ae, "<", be))
	case cql2.TStartedBy:
		f = and(cmpEnd(as, "=", bs), cmpEnd(ae, ">", be))
	case cql2.TStarts:
		f = and(cmpEnd(as, "=", bs), cmpEnd(ae, "<", be))
	default:
		return frag{}, c.unsupported("temporal operator " + string(n.Op))
	}
	return f, nil
}

// ---- spatial ----

func literalGeometry(e cql2.Expr) (geom.Geometry, bool) {
	switch n := e.(type) {
	case cql2.Geometry:
		return n.Geom, true
	case cql2.BBox:
		return n.Envelope(), true
	}
	return geom.Geometry{}, false
}

func isGeometryProp(e cql2.Expr) bool {
	p, ok := e.(cql2.Property)
	return ok && p.Name == "geometry"
}

// converse returns op with its arguments swapped.
func converse(op cql2.SpatialOp) cql2.SpatialOp {
	switch op {
	case cql2.SWithin:
		return cql2.SContains
	case cql2.SContains:
		return cql2.SWithin
	}
	return op
}

func (c *compiler) spatial(n cql2.Spatial) (frag, error) {
	op, l, r := n.Op, n.Left, n.Right
	if _, ok := literalGeometry(l); ok {
		op, l, r = converse(op), r, l
	}
	g, ok := literalGeometry(r)
	if !ok {
		return fAny, nil
	}
	if !isGeometryProp(l) {
		if p, ok := l.(cql2.Property); ok {
			key, top := cql2.PropertyKey(p.Name)
			s, err := c.d.jsonTypeIs(key, top, "object")
			if err != nil {
				return frag{}, err
			}
			return frag{sql: s, exact: false}, nil
		}
		return fAny, nil
	}
	switch c.d.(type) {
	case *Postgres:
		fn := map[cql2.SpatialOp]string{
			cql2.SIntersects: "ST_Intersects", cql2.SEquals: "ST_Equals", cql2.SDisjoint: "ST_Disjoint",
			cql2.STouches: "ST_Touches", cql2.SWithin: "ST_Within", cql2.SOverlaps: "ST_Overlaps",
			cql2.SCrosses: "ST_Crosses", cql2.SContains: "ST_Contains",
		}[op]
		if fn == "" {
			return frag{}, c.unsupported("spatial operator " + string(op))
		}
		return frag{sql: fn + "(" + c.d.col("geometry") + ", ST_GeomFromWKB(" + ph + ", 4326))", args: []any{g.Force2D().AsBinary()}, exact: true}, nil
	}
	// SQLite: bbox prefilter on the item's bbox columns.
	if op == cql2.SDisjoint || g.IsEmpty() {
		return fAny, nil
	}
	env := g.Envelope()
	lo, hi, _ := env.MinMaxXYs()
	minx, miny, maxx, maxy := c.d.col("minx"), c.d.col("miny"), c.d.col("maxx"), c.d.col("maxy")
	if op == cql2.SContains || op == cql2.SEquals {
		// The item covers the literal, so its bbox covers the literal's.
		return frag{
			sql:  "(" + minx + " > " + maxx + " OR (" + minx + " <= " + ph + " AND " + maxx + " >= " + ph + ")) AND " + miny + " <= " + ph + " AND " + maxy + " >= " + ph,
			args: []any{lo.X, hi.X, lo.Y, hi.Y},
		}, nil
	}
	return frag{
		sql:  "(" + minx + " > " + maxx + " OR (" + minx + " <= " + ph + " AND " + maxx + " >= " + ph + ")) AND " + miny + " <= " + ph + " AND " + maxy + " >= " + ph,
		args: []any{hi.X, lo.X, hi.Y, lo.Y},
	}, nil
}

// ---- arrays ----

func scalarLiterals(a cql2.Array) bool {
	for _, e := range a.Elems {
		if _, ok := literalKind(e); !ok {
			return false
		}
	}
	return true
}

func (c *compiler) array(n cql2.ArrayPredicate) (frag, error) {
	op, l, r := n.Op, n.Left, n.Right
	if _, ok := l.(cql2.Array); ok {
		op, l, r = arrayConverse(op), r, l
	}
	p, ok := l.(cql2.Property)
	lit, ok2 := r.(cql2.Array)
	if !ok || !ok2 {
		return fAny, nil
	}
	key, top := cql2.PropertyKey(p.Name)
	if top && (key == "id" || key == "collection") {
		return fNull, nil
	}
	isArr, err := c.d.jsonTypeIs(key, top, "array")
	if err != nil {
		return frag{}, err
	}
	if !scalarLiterals(lit) {
		return frag{sql: isArr, exact: false}, nil
	}
	switch d := c.d.(type) {
	case *SQLite:
		return d.array(op, key, top, isArr, lit), nil
	case *Postgres:
		return d.array(op, key, top, isArr, lit)
	}
	return fAny, nil
}

func arrayConverse(op cql2.ArrayOp) cql2.ArrayOp {
	switch op {
	case cql2.AContains:
		return cql2.AContainedBy
	case cql2.AContainedBy:
		return cql2.AContains
	}
	return op
}

// elemMatch is SQLite SQL that is TRUE when the JSON value with type t and
// value v equals the literal x, and FALSE otherwise (never NULL).
func elemMatch(t, v string, x cql2.Expr) frag {
	switch n := x.(type) {
	case cql2.String:
		return frag{sql: "(" + t + " = 'text' AND " + v + " = " + ph + ")", args: []any{n.Value}}
	case cql2.Number:
		return frag{sql: "(" + t + " IN ('integer','real') AND " + v + " = " + ph + ")", args: []any{n.Value}}
	case cql2.Bool:
		if n.Value {
			return frag{sql: "(" + t + " = 'true')"}
		}
		return frag{sql: "(" + t + " = 'false')"}
	}
	return frag{sql: "0"}
}

func (d *SQLite) array(op cql2.ArrayOp, key string, top bool, isArr string, lit cql2.Array) frag {
	doc, path := d.doc(), jsonPath(key, top)
	each := "json_each(" + doc + ", " + path + ")"
	anyOf := func() frag {
		fs := make([]frag, 0, len(lit.Elems))
		for _, x := range lit.Elems {
			fs = append(fs, elemMatch("je.type", "je.value", x))
		}
		if len(fs) == 0 {
			return frag{sql: "0"}
		}
		return join(" OR ", fs)
	}
	var body frag
	switch op {
	case cql2.AOverlaps:
		m := anyOf()
		body = frag{sql: "EXISTS (SELECT 1 FROM " + each + " je WHERE " + m.sql + ")", args: m.args}
	case cql2.AContainedBy:
		m := anyOf()
		body = frag{sql: "NOT EXISTS (SELECT 1 FROM " + each + " je WHERE NOT (" + m.sql + "))", args: m.args}
	case cql2.AContains:
		fs := []frag{{sql: "1"}}
		for _, x := range lit.Elems {
			m := elemMatch("je.type", "je.value", x)
			fs = append(fs, frag{sql: "EXISTS (SELECT 1 FROM " + each + " je WHERE " + m.sql + ")", args: m.args})
		}
		body = join(" AND ", fs)
	case cql2.AEquals:
		fs := []frag{{sql: "json_array_length(" + doc + ", " + path + ") = " + strconv.Itoa(len(lit.Elems))}}
		for i, x := range lit.Elems {
			ep := strings.TrimSuffix(path, "'") + "[" + strconv.Itoa(i) + "]'"
			fs = append(fs, elemMatch("json_type("+doc+", "+ep+")", "json_extract("+doc+", "+ep+")", x))
		}
		body = join(" AND ", fs)
	}
	return frag{sql: "(CASE WHEN " + isArr + " THEN (" + body.sql + ") END)", args: body.args, exact: true}
}

func (d *Postgres) array(op cql2.ArrayOp, key string, top bool, isArr string, lit cql2.Array) (frag, error) {
	vals := make([]any, len(lit.Elems))
	for i, x := range lit.Elems {
		switch n := x.(type) {
		case cql2.String:
			vals[i] = n.Value
		case cql2.Number:
			vals[i] = n.Value
		case cql2.Bool:
			vals[i] = n.Value
		}
	}
	js, err := json.Marshal(vals)
	if err != nil {
		return frag{}, err
	}
	ref := d.jsonRef(key, top)
	var body string
	switch op {
	case cql2.AContains:
		body = ref + " @> " + ph + "::jsonb"
	case cql2.AContainedBy:
		body = ref + " <@ " + ph + "::jsonb"
	case cql2.AEquals:
		body = ref + " = " + ph + "::jsonb"
	case cql2.AOverlaps:
		body = "EXISTS (SELECT 1 FROM jsonb_array_elements(" + ref + ") a JOIN jsonb_array_elements(" + ph + "::jsonb) b ON a.value = b.value)"
	}
	return frag{sql: "(CASE WHEN " + isArr + " THEN (" + body + ") END)", args: []any{string(js)}, exact: true}, nil
}

func microsToTime(us int64) time.Time {
	return time.UnixMicro(us).UTC()
}
