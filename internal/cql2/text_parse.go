package cql2

import (
	"fmt"
	"strings"
	"time"

	"github.com/peterstace/simplefeatures/geom"
)

// MaxDepth bounds the nesting of parentheses, NOT, function calls, arrays and
// unary minus in both encodings. Deeper input is a *SyntaxError.
const MaxDepth = 256

type builtinKind uint8

const (
	bNone builtinKind = iota
	bSpatial
	bTemporal
	bArray
	bCasei
	bAccenti
	bDate
	bTimestamp
	bInterval
	bBBox
	bGeom
)

type builtin struct {
	kind builtinKind
	op   string // op name (spatial/temporal/array) or geometry tag
}

// builtins maps upper-case cql2-text names to built-in calls and literals.
var builtins = func() map[string]builtin {
	m := map[string]builtin{
		"CASEI":              {kind: bCasei},
		"ACCENTI":            {kind: bAccenti},
		"DATE":               {kind: bDate},
		"TIMESTAMP":          {kind: bTimestamp},
		"INTERVAL":           {kind: bInterval},
		"BBOX":               {kind: bBBox},
		"POINT":              {kind: bGeom, op: "POINT"},
		"LINESTRING":         {kind: bGeom, op: "LINESTRING"},
		"POLYGON":            {kind: bGeom, op: "POLYGON"},
		"MULTIPOINT":         {kind: bGeom, op: "MULTIPOINT"},
		"MULTILINESTRING":    {kind: bGeom, op: "MULTILINESTRING"},
		"MULTIPOLYGON":       {kind: bGeom, op: "MULTIPOLYGON"},
		"GEOMETRYCOLLECTION": {kind: bGeom, op: "GEOMETRYCOLLECTION"},
		"A_CONTAINED_BY":     {kind: bArray, op: string(AContainedBy)},
	}
	for _, op := range spatialOps {
		m[strings.ToUpper(string(op))] = builtin{kind: bSpatial, op: string(op)}
	}
	for _, op := range temporalOps {
		m[strings.ToUpper(string(op))] = builtin{kind: bTemporal, op: string(op)}
	}
	for _, op := range arrayOps {
		m[strings.ToUpper(string(op))] = builtin{kind: bArray, op: string(op)}
	}
	return m
}()

// reserved words cannot be unquoted property or function names.
var reserved = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "LIKE": true, "BETWEEN": true, "IN": true, "IS": true,
	"NULL": true, "TRUE": true, "FALSE": true, "DIV": true,
}

// ParseText parses a cql2-text filter expression. Keywords and built-in
// function names are case-insensitive; property names are case-sensitive.
// Errors are *SyntaxError with the byte offset of the offending token.
func ParseText(s string) (Expr, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, "expected AND, OR or end of input, found %s", t.describe())
	}
	if !isBoolean(e) {
		return nil, textErr(0, fmt.Sprintf("a filter must be a boolean expression, found %s", nodeName(e)))
	}
	return e, nil
}

type parser struct {
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekN(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(t token, format string, args ...any) error {
	return textErr(t.pos, fmt.Sprintf(format, args...))
}

func (p *parser) isKeyword(t token, kw string) bool {
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) isPunct(t token, s string) bool { return t.kind == tPunct && t.text == s }

func (p *parser) expectPunct(s, context string) error {
	t := p.next()
	if !p.isPunct(t, s) {
		return p.errAt(t, "expected '%s' %s, found %s", s, context, t.describe())
	}
	return nil
}

func (p *parser) enter(t token) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errAt(t, "expression nested more than %d levels deep", MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) check(t token, e Expr) (Expr, error) {
	if msg := check(e); msg != "" {
		return nil, p.errAt(t, "%s", msg)
	}
	return e, nil
}

func (p *parser) parseOr() (Expr, error) {
	start := p.peek()
	first, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	if !p.isKeyword(p.peek(), "OR") {
		return first, nil
	}
	args := []Expr{first}
	for p.isKeyword(p.peek(), "OR") {
		p.next()
		e, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	return p.check(start, Or{Args: args})
}

func (p *parser) parseAnd() (Expr, error) {
	start := p.peek()
	first, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	if !p.isKeyword(p.peek(), "AND") {
		return first, nil
	}
	args := []Expr{first}
	for p.isKeyword(p.peek(), "AND") {
		p.next()
		e, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	return p.check(start, And{Args: args})
}

func (p *parser) parseNot() (Expr, error) {
	t := p.peek()
	if !p.isKeyword(t, "NOT") {
		return p.parsePredicate()
	}
	p.next()
	if err := p.enter(t); err != nil {
		return nil, err
	}
	defer p.leave()
	e, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	return p.check(t, Not{Arg: e})
}

func compOp(t token) (CompOp, bool) {
	if t.kind != tPunct {
		return "", false
	}
	switch t.text {
	case "=", "<>", "<", ">", "<=", ">=":
		return CompOp(t.text), true
	}
	return "", false
}

func (p *parser) parsePredicate() (Expr, error) {
	start := p.peek()
	left, err := p.parseArith()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if op, ok := compOp(t); ok {
		p.next()
		right, err := p.parseArith()
		if err != nil {
			return nil, err
		}
		return p.check(t, Comparison{Op: op, Left: left, Right: right})
	}
	negate := false
	if p.isKeyword(t, "NOT") {
		n := p.peekN(1)
		if p.isKeyword(n, "LIKE") || p.isKeyword(n, "BETWEEN") || p.isKeyword(n, "IN") {
			p.next()
			negate = true
			t = p.peek()
		}
	}
	var e Expr
	switch {
	case p.isKeyword(t, "LIKE"):
		p.next()
		pat, err := p.parseArith()
		if err != nil {
			return nil, err
		}
		e = Like{Value: left, Pattern: pat}
	case p.isKeyword(t, "BETWEEN"):
		p.next()
		lo, err := p.parseArith()
		if err != nil {
			return nil, err
		}
		if a := p.next(); !p.isKeyword(a, "AND") {
			return nil, p.errAt(a, "expected AND between the bounds of BETWEEN, found %s", a.describe())
		}
		hi, err := p.parseArith()
		if err != nil {
			return nil, err
		}
		e = Between{Value: left, Low: lo, High: hi}
	case p.isKeyword(t, "IN"):
		p.next()
		if err := p.expectPunct("(", "after IN"); err != nil {
			return nil, err
		}
		var list []Expr
		if p.isPunct(p.peek(), ")") {
			return nil, p.errAt(p.peek(), "IN list must not be empty")
		}
		for {
			x, err := p.parseArith()
			if err != nil {
				return nil, err
			}
			list = append(list, x)
			n := p.next()
			if p.isPunct(n, ")") {
				break
			}
			if !p.isPunct(n, ",") {
				return nil, p.errAt(n, "expected ',' or ')' after IN list element, found %s", n.describe())
			}
		}
		e = In{Value: left, List: list}
	case p.isKeyword(t, "IS"):
		p.next()
		if p.isKeyword(p.peek(), "NOT") {
			p.next()
			negate = true
		}
		if n := p.next(); !p.isKeyword(n, "NULL") {
			return nil, p.errAt(n, "expected NULL after IS, found %s", n.describe())
		}
		e = IsNull{Arg: left}
	default:
		return left, nil
	}
	if _, err := p.check(start, e); err != nil {
		return nil, err
	}
	if negate {
		e = Not{Arg: e}
	}
	return e, nil
}

func (p *parser) parseArith() (Expr, error) {
	left, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if !p.isPunct(t, "+") && !p.isPunct(t, "-") {
			return left, nil
		}
		p.next()
		right, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		if left, err = p.check(t, Arithmetic{Op: ArithOp(t.text), Left: left, Right: right}); err != nil {
			return nil, err
		}
	}
}

func (p *parser) parseTerm() (Expr, error) {
	left, err := p.parsePower()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		var op ArithOp
		switch {
		case p.isPunct(t, "*"), p.isPunct(t, "/"), p.isPunct(t, "%"):
			op = ArithOp(t.text)
		case p.isKeyword(t, "DIV"):
			op = Div
		default:
			return left, nil
		}
		p.next()
		right, err := p.parsePower()
		if err != nil {
			return nil, err
		}
		if left, err = p.check(t, Arithmetic{Op: op, Left: left, Right: right}); err != nil {
			return nil, err
		}
	}
}

func (p *parser) parsePower() (Expr, error) {
	base, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if !p.isPunct(t, "^") {
		return base, nil
	}
	p.next()
	if err := p.enter(t); err != nil {
		return nil, err
	}
	defer p.leave()
	exp, err := p.parsePower()
	if err != nil {
		return nil, err
	}
	return p.check(t, Arithmetic{Op: Pow, Left: base, Right: exp})
}

func (p *parser) parseUnary() (Expr, error) {
	t := p.peek()
	if !p.isPunct(t, "-") {
		return p.parsePrimary()
	}
	p.next()
	if err := p.enter(t); err != nil {
		return nil, err
	}
	defer p.leave()
	x, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	if n, ok := x.(Number); ok {
		return Number{Value: -n.Value}, nil
	}
	return p.check(t, Arithmetic{Op: Mul, Left: Number{Value: -1}, Right: x})
}

// parseElem parses a function argument or array element: there, a
// parenthesized list followed by ',' or ')' is an array, even with one
// element.
func (p *parser) parseElem() (Expr, error) {
	if !p.isPunct(p.peek(), "(") {
		return p.parseOr()
	}
	// A parenthesized list followed by ',' or ')' is an array.
	if j := p.peek().match; j > 0 && j+1 < len(p.toks) {
		after := p.toks[j+1]
		if p.isPunct(after, ",") || p.isPunct(after, ")") {
			return p.parseArray()
		}
	}
	return p.parseOr()
}

func (p *parser) parseArray() (Expr, error) {
	t := p.next() // '('
	if err := p.enter(t); err != nil {
		return nil, err
	}
	defer p.leave()
	elems := []Expr{}
	if p.isPunct(p.peek(), ")") {
		p.next()
		return Array{Elems: elems}, nil
	}
	for {
		e, err := p.parseElem()
		if err != nil {
			return nil, err
		}
		elems = append(elems, e)
		n := p.next()
		if p.isPunct(n, ")") {
			return Array{Elems: elems}, nil
		}
		if !p.isPunct(n, ",") {
			return nil, p.errAt(n, "expected ',' or ')' in array, found %s", n.describe())
		}
	}
}

// parseArgs parses "(a, b, ...)" after a function name.
func (p *parser) parseArgs(name token) ([]Expr, error) {
	if err := p.enter(name); err != nil {
		return nil, err
	}
	defer p.leave()
	p.next() // '('
	var args []Expr
	if p.isPunct(p.peek(), ")") {
		p.next()
		return args, nil
	}
	for {
		e, err := p.parseElem()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
		n := p.next()
		if p.isPunct(n, ")") {
			return args, nil
		}
		if !p.isPunct(n, ",") {
			return nil, p.errAt(n, "expected ',' or ')' after argument of %s, found %s", name.text, n.describe())
		}
	}
}

func (p *parser) parsePrimary() (Expr, error) {
	t := p.next()
	switch t.kind {
	case tNumber:
		return Number{Value: t.num}, nil
	case tString:
		return String{Value: t.text}, nil
	case tQIdent:
		return Property{Name: t.text}, nil
	case tPunct:
		if t.text != "(" {
			return nil, p.errAt(t, "expected an expression, found %s", t.describe())
		}
		if err := p.enter(t); err != nil {
			return nil, err
		}
		defer p.leave()
		if p.isPunct(p.peek(), ")") {
			p.next()
			return Array{Elems: []Expr{}}, nil
		}
		first, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		n := p.next()
		if p.isPunct(n, ")") {
			return first, nil
		}
		if !p.isPunct(n, ",") {
			return nil, p.errAt(n, "expected ')', found %s", n.describe())
		}
		elems := []Expr{first}
		for {
			e, err := p.parseElem()
			if err != nil {
				return nil, err
			}
			elems = append(elems, e)
			n := p.next()
			if p.isPunct(n, ")") {
				return Array{Elems: elems}, nil
			}
			if !p.isPunct(n, ",") {
				return nil, p.errAt(n, "expected ',' or ')' in array, found %s", n.describe())
			}
		}
	case tEOF:
		return nil, p.errAt(t, "unexpected end of input, expected an expression")
	}
	// Identifier. Upper-case ASCII into a stack buffer: map lookups with
	// string(bytes) keys do not allocate.
	var buf [24]byte
	ub := buf[:0]
	if len(t.text) <= len(buf) {
		for i := 0; i < len(t.text); i++ {
			c := t.text[i]
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			ub = append(ub, c)
		}
	}
	switch string(ub) {
	case "TRUE":
		return Bool{Value: true}, nil
	case "FALSE":
		return Bool{Value: false}, nil
	}
	if reserved[string(ub)] {
		return nil, p.errAt(t, "expected an expression, found keyword %s", strings.ToUpper(t.text))
	}
	n := p.peek()
	b, isBuiltin := builtins[string(ub)]
	up := t.text
	if isBuiltin {
		up = string(ub)
	}
	if isBuiltin && b.kind == bGeom && (p.isKeyword(n, "Z") || p.isKeyword(n, "EMPTY") || p.isPunct(n, "(")) {
		p.i--
		g, err := p.parseGeometry()
		if err != nil {
			return nil, err
		}
		return Geometry{Geom: g}, nil
	}
	if !p.isPunct(n, "(") {
		return Property{Name: t.text}, nil
	}
	if !isBuiltin {
		args, err := p.parseArgs(t)
		if err != nil {
			return nil, err
		}
		return p.check(t, Function{Name: t.text, Args: args})
	}
	switch b.kind {
	case bDate, bTimestamp:
		p.next()
		s := p.next()
		if s.kind != tString {
			return nil, p.errAt(s, "expected a quoted string in %s(...), found %s", up, s.describe())
		}
		if err := p.expectPunct(")", "after "+up+" string"); err != nil {
			return nil, err
		}
		return p.instant(s, b.kind == bDate)
	case bInterval:
		p.next()
		var ends [2]Expr
		for k := range 2 {
			a := p.peek()
			if a.kind == tString {
				p.next()
				if a.text != ".." {
					x, err := p.instant(a, len(a.text) == 10)
					if err != nil {
						return nil, err
					}
					ends[k] = x
				}
			} else {
				x, err := p.parseArith()
				if err != nil {
					return nil, err
				}
				ends[k] = x
			}
			if k == 0 {
				if err := p.expectPunct(",", "between INTERVAL bounds"); err != nil {
					return nil, err
				}
			}
		}
		if err := p.expectPunct(")", "after INTERVAL bounds"); err != nil {
			return nil, err
		}
		return p.check(t, Interval{Start: ends[0], End: ends[1]})
	case bBBox:
		p.next()
		var coords []float64
		for {
			v, err := p.signedNumber()
			if err != nil {
				return nil, err
			}
			coords = append(coords, v)
			n := p.next()
			if p.isPunct(n, ")") {
				break
			}
			if !p.isPunct(n, ",") {
				return nil, p.errAt(n, "expected ',' or ')' in BBOX, found %s", n.describe())
			}
		}
		return p.check(t, BBox{Coords: coords})
	}
	args, err := p.parseArgs(t)
	if err != nil {
		return nil, err
	}
	var e Expr
	switch b.kind {
	case bCasei, bAccenti:
		if len(args) != 1 {
			return nil, p.errAt(t, "%s takes 1 argument, got %d", up, len(args))
		}
		if b.kind == bCasei {
			e = Casei{Arg: args[0]}
		} else {
			e = Accenti{Arg: args[0]}
		}
	default:
		if len(args) != 2 {
			return nil, p.errAt(t, "%s takes 2 arguments, got %d", up, len(args))
		}
		switch b.kind {
		case bSpatial:
			e = Spatial{Op: SpatialOp(b.op), Left: args[0], Right: args[1]}
		case bTemporal:
			e = Temporal{Op: TemporalOp(b.op), Left: args[0], Right: args[1]}
		case bArray:
			e = ArrayPredicate{Op: ArrayOp(b.op), Left: args[0], Right: args[1]}
		}
	}
	return p.check(t, e)
}

func (p *parser) instant(s token, date bool) (Expr, error) {
	if date {
		d, err := parseDate(s.text)
		if err != nil {
			return nil, p.errAt(s, "%v", err)
		}
		return Date{Time: d}, nil
	}
	ts, err := parseTimestamp(s.text)
	if err != nil {
		return nil, p.errAt(s, "%v", err)
	}
	return Timestamp{Time: ts}, nil
}

func parseDate(s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid date %q (want YYYY-MM-DD)", s)
	}
	return d, nil
}

func parseTimestamp(s string) (time.Time, error) {
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid timestamp %q (want RFC 3339, e.g. 2021-04-01T12:00:00Z)", s)
	}
	return ts.UTC(), nil
}

func (p *parser) signedNumber() (float64, error) {
	t := p.next()
	sign := 1.0
	if p.isPunct(t, "-") || p.isPunct(t, "+") {
		if t.text == "-" {
			sign = -1
		}
		t = p.next()
	}
	if t.kind != tNumber {
		return 0, p.errAt(t, "expected a number, found %s", t.describe())
	}
	return sign * t.num, nil
}

// parseGeometry parses a WKT geometry literal starting at its tag. 2D and 3D
// (with or without the Z tag) coordinates are accepted; all coordinates of
// one literal must have the same dimension.
func (p *parser) parseGeometry() (geom.Geometry, error) {
	g := &wktParser{p: p}
	return g.tagged()
}

type wktParser struct {
	p   *parser
	dim int // 0 unknown, 2 or 3
}

func (w *wktParser) ctype() geom.CoordinatesType {
	if w.dim == 3 {
		return geom.DimXYZ
	}
	return geom.DimXY
}

func (w *wktParser) tagged() (geom.Geometry, error) {
	p := w.p
	t := p.next()
	if t.kind != tIdent {
		return geom.Geometry{}, p.errAt(t, "expected a geometry type (POINT, POLYGON, ...), found %s", t.describe())
	}
	tag := strings.ToUpper(t.text)
	if b, ok := builtins[tag]; !ok || b.kind != bGeom {
		return geom.Geometry{}, p.errAt(t, "expected a geometry type (POINT, POLYGON, ...), found %s", t.describe())
	}
	if err := p.enter(t); err != nil {
		return geom.Geometry{}, err
	}
	defer p.leave()
	if p.isKeyword(p.peek(), "Z") {
		z := p.next()
		if w.dim == 2 {
			return geom.Geometry{}, p.errAt(z, "Z geometry mixed with 2D coordinates")
		}
		w.dim = 3
	}
	if p.isKeyword(p.peek(), "EMPTY") {
		p.next()
		ct := w.ctype()
		switch tag {
		case "POINT":
			return geom.NewEmptyPoint(ct).AsGeometry(), nil
		case "LINESTRING":
			return geom.LineString{}.ForceCoordinatesType(ct).AsGeometry(), nil
		case "POLYGON":
			return geom.Polygon{}.ForceCoordinatesType(ct).AsGeometry(), nil
		case "MULTIPOINT":
			return geom.MultiPoint{}.ForceCoordinatesType(ct).AsGeometry(), nil
		case "MULTILINESTRING":
			return geom.MultiLineString{}.ForceCoordinatesType(ct).AsGeometry(), nil
		case "MULTIPOLYGON":
			return geom.MultiPolygon{}.ForceCoordinatesType(ct).AsGeometry(), nil
		default:
			return geom.GeometryCollection{}.ForceCoordinatesType(ct).AsGeometry(), nil
		}
	}
	if err := p.expectPunct("(", "after "+tag); err != nil {
		return geom.Geometry{}, err
	}
	switch tag {
	case "POINT":
		c, err := w.position()
		if err != nil {
			return geom.Geometry{}, err
		}
		if err := p.expectPunct(")", "after POINT position"); err != nil {
			return geom.Geometry{}, err
		}
		return geom.NewPoint(geom.Coordinates{XY: geom.XY{X: c[0], Y: c[1]}, Z: zOf(c), Type: w.ctype()}).AsGeometry(), nil
	case "LINESTRING":
		c, err := w.coords()
		if err != nil {
			return geom.Geometry{}, err
		}
		if err := w.minPoints(t, c, 2, "a LINESTRING"); err != nil {
			return geom.Geometry{}, err
		}
		return geom.NewLineString(geom.NewSequence(c, w.ctype())).AsGeometry(), nil
	case "POLYGON":
		rings, err := w.polygon(t)
		if err != nil {
			return geom.Geometry{}, err
		}
		return geom.NewPolygon(rings).AsGeometry(), nil
	case "MULTIPOINT":
		var pts []geom.Point
		for {
			paren := p.isPunct(p.peek(), "(")
			if paren {
				p.next()
			}
			c, err := w.position()
			if err != nil {
				return geom.Geometry{}, err
			}
			if paren {
				if err := p.expectPunct(")", "after MULTIPOINT position"); err != nil {
					return geom.Geometry{}, err
				}
			}
			pts = append(pts, geom.NewPoint(geom.Coordinates{XY: geom.XY{X: c[0], Y: c[1]}, Z: zOf(c), Type: w.ctype()}))
			n := p.next()
			if p.isPunct(n, ")") {
				break
			}
			if !p.isPunct(n, ",") {
				return geom.Geometry{}, p.errAt(n, "expected ',' or ')' in MULTIPOINT, found %s", n.describe())
			}
		}
		return geom.NewMultiPoint(pts).AsGeometry(), nil
	case "MULTILINESTRING":
		var lines []geom.LineString
		for {
			if err := p.expectPunct("(", "before LINESTRING coordinates"); err != nil {
				return geom.Geometry{}, err
			}
			c, err := w.coords()
			if err != nil {
				return geom.Geometry{}, err
			}
			if err := w.minPoints(t, c, 2, "a LINESTRING"); err != nil {
				return geom.Geometry{}, err
			}
			lines = append(lines, geom.NewLineString(geom.NewSequence(c, w.ctype())))
			n := p.next()
			if p.isPunct(n, ")") {
				break
			}
			if !p.isPunct(n, ",") {
				return geom.Geometry{}, p.errAt(n, "expected ',' or ')' in MULTILINESTRING, found %s", n.describe())
			}
		}
		return geom.NewMultiLineString(lines).AsGeometry(), nil
	case "MULTIPOLYGON":
		var polys []geom.Polygon
		for {
			if err := p.expectPunct("(", "before POLYGON rings"); err != nil {
				return geom.Geometry{}, err
			}
			rings, err := w.polygon(t)
			if err != nil {
				return geom.Geometry{}, err
			}
			polys = append(polys, geom.NewPolygon(rings))
			n := p.next()
			if p.isPunct(n, ")") {
				break
			}
			if !p.isPunct(n, ",") {
				return geom.Geometry{}, p.errAt(n, "expected ',' or ')' in MULTIPOLYGON, found %s", n.describe())
			}
		}
		return geom.NewMultiPolygon(polys).AsGeometry(), nil
	default: // GEOMETRYCOLLECTION
		var gs []geom.Geometry
		for {
			g, err := w.tagged()
			if err != nil {
				return geom.Geometry{}, err
			}
			gs = append(gs, g)
			n := p.next()
			if p.isPunct(n, ")") {
				break
			}
			if !p.isPunct(n, ",") {
				return geom.Geometry{}, p.errAt(n, "expected ',' or ')' in GEOMETRYCOLLECTION, found %s", n.describe())
			}
		}
		for i := range gs {
			gs[i] = gs[i].ForceCoordinatesType(w.ctype())
		}
		return geom.NewGeometryCollection(gs).AsGeometry(), nil
	}
}

func zOf(c []float64) float64 {
	if len(c) == 3 {
		return c[2]
	}
	return 0
}

func (w *wktParser) minPoints(t token, c []float64, n int, what string) error {
	if len(c)/w.dim < n {
		return w.p.errAt(t, "%s needs at least %d points", what, n)
	}
	return nil
}

// polygon parses "(ring, ring...)" after the polygon's opening '('.
func (w *wktParser) polygon(t token) ([]geom.LineString, error) {
	p := w.p
	var rings []geom.LineString
	for {
		if err := p.expectPunct("(", "before ring coordinates"); err != nil {
			return nil, err
		}
		c, err := w.coords()
		if err != nil {
			return nil, err
		}
		if err := w.minPoints(t, c, 4, "a POLYGON ring"); err != nil {
			return nil, err
		}
		rings = append(rings, geom.NewLineString(geom.NewSequence(c, w.ctype())))
		n := p.next()
		if p.isPunct(n, ")") {
			return rings, nil
		}
		if !p.isPunct(n, ",") {
			return nil, p.errAt(n, "expected ',' or ')' after POLYGON ring, found %s", n.describe())
		}
	}
}

// position parses one "x y [z]".
func (w *wktParser) position() ([]float64, error) {
	p := w.p
	start := p.peek()
	out := make([]float64, 0, 3)
	for range 2 {
		v, err := p.signedNumber()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	d := 2
	if n := p.peek(); n.kind == tNumber || p.isPunct(n, "-") || p.isPunct(n, "+") {
		v, err := p.signedNumber()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		d = 3
	}
	if w.dim == 0 {
		w.dim = d
	} else if w.dim != d {
		return nil, p.errAt(start, "position has %d coordinates, others in this geometry have %d", d, w.dim)
	}
	return out, nil
}

// coords parses "x y [z], ... )" including the closing ')'.
func (w *wktParser) coords() ([]float64, error) {
	p := w.p
	var out []float64
	for {
		c, err := w.position()
		if err != nil {
			return nil, err
		}
		out = append(out, c...)
		n := p.next()
		if p.isPunct(n, ")") {
			return out, nil
		}
		if !p.isPunct(n, ",") {
			return nil, p.errAt(n, "expected ',' or ')' after position, found %s", n.describe())
		}
	}
}

func toUpper(s string) string { return strings.ToUpper(s) }
