package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/tessera-geo/tessera/internal/raster"
)

// SyntaxError is a parse error in a band expression.
type SyntaxError struct {
	Pos int
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("at %d: %s", e.Pos, e.Msg) }

// Expr is a compiled band expression: one or more sub-expressions separated
// by ';', each producing one output band.
//
// Grammar (precedence low → high):
//
//	list    = cond { ";" cond }
//	cond    = or
//	or      = and { "|" and }
//	and     = cmp { "&" cmp }
//	cmp     = sum [ ("<"|"<="|">"|">="|"=="|"!=") sum ]
//	sum     = prod { ("+"|"-") prod }
//	prod    = unary { ("*"|"/"|"%") unary }
//	unary   = ("-"|"+"|"!") unary | power
//	power   = atom [ ("**"|"^") unary ]
//	atom    = number | name | name "(" args ")" | "(" cond ")"
//
// Names are band names (b1, b2, ... or asset_b1, ...); functions: abs, sqrt,
// log, log10, exp, sin, cos, tan, arctan, floor, ceil, round, min, max,
// where(cond, a, b), clip(x, lo, hi).
type Expr struct {
	src   string
	roots []node
	names []string
}

// Bands returns the band names the expression refers to, in first-use order.
func (e *Expr) Bands() []string { return append([]string(nil), e.names...) }

// String returns the source text.
func (e *Expr) String() string { return e.src }

// Outputs is the number of output bands.
func (e *Expr) Outputs() int { return len(e.roots) }

const maxExprLen = 2048
const maxDepth = 64

// ParseExpr compiles src.
func ParseExpr(src string) (*Expr, error) {
	if len(src) > maxExprLen {
		return nil, &SyntaxError{Pos: maxExprLen, Msg: "expression too long"}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, seen: map[string]bool{}}
	e := &Expr{src: src}
	for {
		n, err := p.cond(0)
		if err != nil {
			return nil, err
		}
		e.roots = append(e.roots, n)
		if p.peek().kind == tSemi {
			p.next()
			if p.peek().kind == tEOF { // trailing ';'
				break
			}
			continue
		}
		if t := p.peek(); t.kind != tEOF {
			return nil, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("unexpected %q", t.text)}
		}
		break
	}
	e.names = p.names
	return e, nil
}

type tokKind int

const (
	tEOF tokKind = iota
	tNum
	tName
	tOp
	tLParen
	tRParen
	tComma
	tSemi
)

type token struct {
	kind tokKind
	text string
	num  float64
	pos  int
}

func lex(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c >= '0' && c <= '9' || c == '.':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
				k := j + 1
				if k < len(s) && (s[k] == '+' || s[k] == '-') {
					k++
				}
				if k < len(s) && s[k] >= '0' && s[k] <= '9' {
					j = k
					for j < len(s) && s[j] >= '0' && s[j] <= '9' {
						j++
					}
				}
			}
			v, err := strconv.ParseFloat(s[i:j], 64)
			if err != nil {
				return nil, &SyntaxError{Pos: i, Msg: fmt.Sprintf("bad number %q", s[i:j])}
			}
			out = append(out, token{kind: tNum, text: s[i:j], num: v, pos: i})
			i = j
		case c == '_' || c < 128 && unicode.IsLetter(rune(c)):
			j := i
			for j < len(s) && (s[j] == '_' || s[j] < 128 && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])))) {
				j++
			}
			out = append(out, token{kind: tName, text: s[i:j], pos: i})
			i = j
		case c == '(':
			out = append(out, token{kind: tLParen, text: "(", pos: i})
			i++
		case c == ')':
			out = append(out, token{kind: tRParen, text: ")", pos: i})
			i++
		case c == ',':
			out = append(out, token{kind: tComma, text: ",", pos: i})
			i++
		case c == ';':
			out = append(out, token{kind: tSemi, text: ";", pos: i})
			i++
		default:
			two := ""
			if i+1 < len(s) {
				two = s[i : i+2]
			}
			switch two {
			case "**", "<=", ">=", "==", "!=", "&&", "||":
				if two == "&&" {
					two = "&"
				} else if two == "||" {
					two = "|"
				}
				out = append(out, token{kind: tOp, text: two, pos: i})
				i += 2
				continue
			}
			if strings.ContainsRune("+-*/%^<>!&|", rune(c)) {
				out = append(out, token{kind: tOp, text: string(c), pos: i})
				i++
				continue
			}
			return nil, &SyntaxError{Pos: i, Msg: fmt.Sprintf("unexpected character %q", c)}
		}
	}
	out = append(out, token{kind: tEOF, pos: len(s)})
	return out, nil
}

type parser struct {
	toks  []token
	i     int
	names []string
	seen  map[string]bool
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isOp(ops ...string) (string, bool) {
	t := p.peek()
	if t.kind != tOp {
		return "", false
	}
	for _, o := range ops {
		if t.text == o {
			return o, true
		}
	}
	return "", false
}

func (p *parser) binary(d int, sub func(int) (node, error), ops ...string) (node, error) {
	if d > maxDepth {
		return nil, &SyntaxError{Pos: p.peek().pos, Msg: "expression nested too deeply"}
	}
	l, err := sub(d + 1)
	if err != nil {
		return nil, err
	}
	for {
		op, ok := p.isOp(ops...)
		if !ok {
			return l, nil
		}
		p.next()
		r, err := sub(d + 1)
		if err != nil {
			return nil, err
		}
		l = &binNode{op: op, l: l, r: r}
	}
}

func (p *parser) cond(d int) (node, error) { return p.binary(d, p.and, "|") }
func (p *parser) and(d int) (node, error)  { return p.binary(d, p.cmp, "&") }
func (p *parser) cmp(d int) (node, error) {
	return p.binary(d, p.sum, "<", "<=", ">", ">=", "==", "!=")
}
func (p *parser) sum(d int) (node, error)  { return p.binary(d, p.prod, "+", "-") }
func (p *parser) prod(d int) (node, error) { return p.binary(d, p.unary, "*", "/", "%") }

func (p *parser) unary(d int) (node, error) {
	if d > maxDepth {
		return nil, &SyntaxError{Pos: p.peek().pos, Msg: "expression nested too deeply"}
	}
	if op, ok := p.isOp("-", "+", "!"); ok {
		p.next()
		x, err := p.unary(d + 1)
		if err != nil {
			return nil, err
		}
		if op == "+" {
			return x, nil
		}
		return &unNode{op: op, x: x}, nil
	}
	return p.power(d + 1)
}

func (p *parser) power(d int) (node, error) {
	base, err := p.atom(d + 1)
	if err != nil {
		return nil, err
	}
	if _, ok := p.isOp("**", "^"); ok {
		p.next()
		exp, err := p.unary(d + 1)
		if err != nil {
			return nil, err
		}
		return &binNode{op: "**", l: base, r: exp}, nil
	}
	return base, nil
}

var funcs = map[string]struct {
	arity int
	f1    func(float64) float64
}{
	"abs": {1, math.Abs}, "sqrt": {1, math.Sqrt}, "log": {1, math.Log}, "log10": {1, math.Log10},
	"exp": {1, math.Exp}, "sin": {1, math.Sin}, "cos": {1, math.Cos}, "tan": {1, math.Tan},
	"arctan": {1, math.Atan}, "floor": {1, math.Floor}, "ceil": {1, math.Ceil}, "round": {1, math.Round},
	"min": {2, nil}, "max": {2, nil}, "where": {3, nil}, "clip": {3, nil},
}

func (p *parser) atom(d int) (node, error) {
	if d > maxDepth {
		return nil, &SyntaxError{Pos: p.peek().pos, Msg: "expression nested too deeply"}
	}
	t := p.next()
	switch t.kind {
	case tNum:
		return &numNode{v: t.num}, nil
	case tName:
		if p.peek().kind == tLParen {
			f, ok := funcs[strings.ToLower(t.text)]
			if !ok {
				return nil, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("unknown function %q", t.text)}
			}
			p.next()
			var args []node
			for {
				a, err := p.cond(d + 1)
				if err != nil {
					return nil, err
				}
				args = append(args, a)
				if p.peek().kind == tComma {
					p.next()
					continue
				}
				break
			}
			if r := p.next(); r.kind != tRParen {
				return nil, &SyntaxError{Pos: r.pos, Msg: "expected ')'"}
			}
			if len(args) != f.arity {
				return nil, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("%s takes %d arguments, got %d", t.text, f.arity, len(args))}
			}
			return &callNode{name: strings.ToLower(t.text), f1: f.f1, args: args}, nil
		}
		switch strings.ToLower(t.text) {
		case "pi":
			return &numNode{v: math.Pi}, nil
		case "nan":
			return &numNode{v: math.NaN()}, nil
		case "inf":
			return &numNode{v: math.Inf(1)}, nil
		}
		if !p.seen[t.text] {
			p.seen[t.text] = true
			p.names = append(p.names, t.text)
		}
		return &bandNode{name: t.text}, nil
	case tLParen:
		n, err := p.cond(d + 1)
		if err != nil {
			return nil, err
		}
		if r := p.next(); r.kind != tRParen {
			return nil, &SyntaxError{Pos: r.pos, Msg: "expected ')'"}
		}
		return n, nil
	case tEOF:
		return nil, &SyntaxError{Pos: t.pos, Msg: "unexpected end of expression"}
	default:
		return nil, &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf("unexpected %q", t.text)}
	}
}

// node evaluates over whole planes.
type node interface {
	eval(env map[string][]float64, n int) []float64
}

type numNode struct{ v float64 }
type bandNode struct{ name string }
type unNode struct {
	op string
	x  node
}
type binNode struct {
	op   string
	l, r node
}
type callNode struct {
	name string
	f1   func(float64) float64
	args []node
}

func (c *numNode) eval(_ map[string][]float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = c.v
	}
	return out
}

func (b *bandNode) eval(env map[string][]float64, n int) []float64 {
	return append([]float64(nil), env[b.name]...)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (u *unNode) eval(env map[string][]float64, n int) []float64 {
	x := u.x.eval(env, n)
	for i, v := range x {
		if u.op == "-" {
			x[i] = -v
		} else {
			x[i] = b2f(v == 0)
		}
	}
	return x
}

func (b *binNode) eval(env map[string][]float64, n int) []float64 {
	l := b.l.eval(env, n)
	r := b.r.eval(env, n)
	for i := range l {
		x, y := l[i], r[i]
		var v float64
		switch b.op {
		case "+":
			v = x + y
		case "-":
			v = x - y
		case "*":
			v = x * y
		case "/":
			v = x / y
		case "%":
			v = math.Mod(x, y)
		case "**":
			v = math.Pow(x, y)
		case "<":
			v = b2f(x < y)
		case "<=":
			v = b2f(x <= y)
		case ">":
			v = b2f(x > y)
		case ">=":
			v = b2f(x >= y)
		case "==":
			v = b2f(x == y)
		case "!=":
			v = b2f(x != y)
		case "&":
			v = b2f(x != 0 && y != 0)
		case "|":
			v = b2f(x != 0 || y != 0)
		}
		l[i] = v
	}
	return l
}

func (c *callNode) eval(env map[string][]float64, n int) []float64 {
	a := c.args[0].eval(env, n)
	switch c.name {
	case "min", "max":
		b := c.args[1].eval(env, n)
		for i := range a {
			if c.name == "min" {
				a[i] = math.Min(a[i], b[i])
			} else {
				a[i] = math.Max(a[i], b[i])
			}
		}
	case "where":
		b := c.args[1].eval(env, n)
		d := c.args[2].eval(env, n)
		for i := range a {
			if a[i] != 0 {
				a[i] = b[i]
			} else {
				a[i] = d[i]
			}
		}
	case "clip":
		lo := c.args[1].eval(env, n)
		hi := c.args[2].eval(env, n)
		for i := range a {
			a[i] = math.Min(math.Max(a[i], lo[i]), hi[i])
		}
	default:
		for i := range a {
			a[i] = c.f1(a[i])
		}
	}
	return a
}

// UnknownBandError: the expression names a band the image does not have.
type UnknownBandError struct {
	Name      string
	Available []string
}

func (e *UnknownBandError) Error() string {
	return fmt.Sprintf("unknown band %q (available: %s)", e.Name, strings.Join(e.Available, ", "))
}

// Eval applies the expression to img (bands looked up by img.BandNames,
// case-insensitively) and returns a float64 image with one band per
// sub-expression. Pixels where the result is NaN or infinite are masked.
func (e *Expr) Eval(img *raster.Image) (*raster.Image, error) {
	n := img.Width * img.Height
	env := make(map[string][]float64, len(e.names))
	for _, name := range e.names {
		found := false
		for i, bn := range img.BandNames {
			if strings.EqualFold(bn, name) {
				env[name] = img.Bands[i]
				found = true
				break
			}
		}
		if !found {
			return nil, &UnknownBandError{Name: name, Available: img.BandNames}
		}
	}
	out := &raster.Image{Width: img.Width, Height: img.Height, DataType: raster.Float64, CRS: img.CRS, Bounds: img.Bounds}
	if img.Mask != nil {
		out.Mask = append([]uint8(nil), img.Mask...)
	}
	parts := strings.Split(e.src, ";")
	for i, r := range e.roots {
		out.Bands = append(out.Bands, r.eval(env, n))
		name := fmt.Sprintf("b%d", i+1)
		if i < len(parts) && len(e.roots) == 1 {
			name = "b1"
		}
		out.BandNames = append(out.BandNames, name)
	}
	out.MaskInvalid()
	return out, nil
}
