package cql2

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/peterstace/simplefeatures/geom"
)

// jnode is a decoded JSON value that remembers where it started.
type jnode struct {
	pos  int
	kind byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	str  string
	num  json.Number
	b    bool
	arr  []*jnode
	keys []string
	vals []*jnode
}

func (n *jnode) get(k string) *jnode {
	for i, key := range n.keys {
		if key == k {
			return n.vals[i]
		}
	}
	return nil
}

func (n *jnode) kindName() string {
	switch n.kind {
	case 'o':
		return "an object"
	case 'a':
		return "an array"
	case 's':
		return "a string"
	case 'n':
		return "a number"
	case 'b':
		return "a boolean"
	}
	return "null"
}

// toAny converts back to encoding/json's generic form (for GeoJSON).
func (n *jnode) toAny() any {
	switch n.kind {
	case 'o':
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			m[k] = n.vals[i].toAny()
		}
		return m
	case 'a':
		a := make([]any, len(n.arr))
		for i, x := range n.arr {
			a[i] = x.toAny()
		}
		return a
	case 's':
		return n.str
	case 'n':
		return n.num
	case 'b':
		return n.b
	}
	return nil
}

type jsonParser struct {
	src   []byte
	dec   *json.Decoder
	depth int
}

func jsonErr(pos int, path, msg string) *SyntaxError {
	return &SyntaxError{Encoding: "cql2-json", Pos: pos, Path: path, Msg: msg}
}

// skipSpace moves pos forward past JSON whitespace and separators, so
// that positions point at the value rather than at the preceding ',' or ':'.
func (p *jsonParser) skipSpace(pos int) int {
	for pos < len(p.src) {
		switch p.src[pos] {
		case ' ', '\t', '\r', '\n', ',', ':':
			pos++
		default:
			return pos
		}
	}
	return pos
}

func (p *jsonParser) value(path string) (*jnode, error) {
	pos := p.skipSpace(int(p.dec.InputOffset()))
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.decodeErr(err, pos, path)
	}
	n := &jnode{pos: pos}
	switch t := tok.(type) {
	case json.Delim:
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > MaxDepth {
			return nil, jsonErr(pos, path, fmt.Sprintf("JSON nested more than %d levels deep", MaxDepth))
		}
		switch t {
		case '{':
			n.kind = 'o'
			for p.dec.More() {
				kpos := p.skipSpace(int(p.dec.InputOffset()))
				kt, err := p.dec.Token()
				if err != nil {
					return nil, p.decodeErr(err, kpos, path)
				}
				k, ok := kt.(string)
				if !ok {
					return nil, jsonErr(kpos, path, "expected an object key")
				}
				if n.get(k) != nil {
					return nil, jsonErr(kpos, path, fmt.Sprintf("duplicate key %q", k))
				}
				v, err := p.value(path + "." + k)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k)
				n.vals = append(n.vals, v)
			}
		case '[':
			n.kind = 'a'
			for i := 0; p.dec.More(); i++ {
				v, err := p.value(path + "[" + strconv.Itoa(i) + "]")
				if err != nil {
					return nil, err
				}
				n.arr = append(n.arr, v)
			}
		default:
			return nil, jsonErr(pos, path, fmt.Sprintf("unexpected %q", t))
		}
		if _, err := p.dec.Token(); err != nil { // closing delimiter
			return nil, p.decodeErr(err, pos, path)
		}
	case string:
		n.kind, n.str = 's', t
	case json.Number:
		n.kind, n.num = 'n', t
	case bool:
		n.kind, n.b = 'b', t
	case nil:
		n.kind = 'z'
	}
	return n, nil
}

func (p *jsonParser) decodeErr(err error, pos int, path string) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return jsonErr(int(se.Offset), path, "malformed JSON: "+se.Error())
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return jsonErr(len(p.src), path, "unexpected end of JSON input")
	}
	return jsonErr(pos, path, "malformed JSON: "+err.Error())
}

// ParseJSON parses a cql2-json filter expression. Errors are *SyntaxError
// with the byte offset and the JSON path of the offending value.
func ParseJSON(b []byte) (Expr, error) {
	if len(b) > maxInput {
		return nil, jsonErr(0, "$", "input longer than 1 MiB")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	p := &jsonParser{src: b, dec: dec}
	root, err := p.value("$")
	if err != nil {
		return nil, err
	}
	if pos := p.skipSpace(int(dec.InputOffset())); pos < len(b) {
		return nil, jsonErr(pos, "$", "unexpected data after the JSON value")
	}
	e, err := p.expr(root, "$", 0)
	if err != nil {
		return nil, err
	}
	if !isBoolean(e) {
		return nil, jsonErr(root.pos, "$", fmt.Sprintf("a filter must be a boolean expression, found %s", nodeName(e)))
	}
	return e, nil
}

var jsonOps = func() map[string]string {
	m := map[string]string{}
	for _, op := range spatialOps {
		m[strings.ToLower(string(op))] = string(op)
	}
	for _, op := range temporalOps {
		m[strings.ToLower(string(op))] = string(op)
	}
	for _, op := range arrayOps {
		m[strings.ToLower(string(op))] = string(op)
	}
	for _, op := range compOps {
		m[string(op)] = string(op)
	}
	for _, op := range arithOps {
		m[string(op)] = string(op)
	}
	for _, op := range []string{"and", "or", "not", "like", "between", "in", "isNull", "casei", "accenti"} {
		m[strings.ToLower(op)] = op
	}
	m["a_contained_by"] = string(AContainedBy)
	return m
}()

func (p *jsonParser) expr(n *jnode, path string, depth int) (Expr, error) {
	if depth > MaxDepth {
		return nil, jsonErr(n.pos, path, fmt.Sprintf("expression nested more than %d levels deep", MaxDepth))
	}
	fail := func(format string, args ...any) error {
		return jsonErr(n.pos, path, fmt.Sprintf(format, args...))
	}
	switch n.kind {
	case 's':
		return String{Value: n.str}, nil
	case 'n':
		v, err := strconv.ParseFloat(n.num.String(), 64)
		if err != nil || math.IsInf(v, 0) {
			return nil, fail("number out of range: %s", n.num)
		}
		return Number{Value: v}, nil
	case 'b':
		return Bool{Value: n.b}, nil
	case 'z':
		return nil, fail("null is not a CQL2 value (use {\"op\":\"isNull\",...} to test for null)")
	case 'a':
		elems := make([]Expr, 0, len(n.arr))
		for i, x := range n.arr {
			e, err := p.expr(x, path+"["+strconv.Itoa(i)+"]", depth+1)
			if err != nil {
				return nil, err
			}
			elems = append(elems, e)
		}
		return Array{Elems: elems}, nil
	}
	// Object.
	if v := n.get("op"); v != nil {
		if len(n.keys) != 2 || n.get("args") == nil {
			if len(n.keys) == 1 {
				return nil, fail(`operation needs "op" and "args" members`)
			}
			return nil, fail(`an operation has exactly the members "op" and "args"`)
		}
		if v.kind != 's' {
			return nil, jsonErr(v.pos, path+".op", "\"op\" must be a string, found "+v.kindName())
		}
		a := n.get("args")
		if a.kind != 'a' {
			return nil, jsonErr(a.pos, path+".args", "\"args\" must be an array, found "+a.kindName())
		}
		args := make([]Expr, 0, len(a.arr))
		op, known := jsonOps[strings.ToLower(v.str)]
		for i, x := range a.arr {
			ap := path + ".args[" + strconv.Itoa(i) + "]"
			if known && op == "in" && i == 1 {
				if x.kind != 'a' {
					return nil, jsonErr(x.pos, ap, "the second argument of \"in\" must be an array, found "+x.kindName())
				}
				list, err := p.expr(x, ap, depth+1)
				if err != nil {
					return nil, err
				}
				args = append(args, list)
				continue
			}
			e, err := p.expr(x, ap, depth+1)
			if err != nil {
				return nil, err
			}
			args = append(args, e)
		}
		e, msg := buildOp(op, known, v.str, args)
		if msg == "" {
			msg = check(e)
		}
		if msg != "" {
			return nil, fail("%s", msg)
		}
		return e, nil
	}
	if v := n.get("property"); v != nil {
		if len(n.keys) != 1 || v.kind != 's' || v.str == "" {
			return nil, fail(`a property reference is {"property": "<non-empty name>"}`)
		}
		return Property{Name: v.str}, nil
	}
	if n.get("type") != nil {
		raw, err := json.Marshal(n.toAny())
		if err != nil {
			return nil, fail("invalid GeoJSON geometry: %v", err)
		}
		g, err := unmarshalGeoJSON(raw)
		if err != nil {
			return nil, fail("invalid GeoJSON geometry: %v", err)
		}
		return Geometry{Geom: g}, nil
	}
	if v := n.get("timestamp"); v != nil {
		if len(n.keys) != 1 || v.kind != 's' {
			return nil, fail(`a timestamp is {"timestamp": "<RFC 3339>"}`)
		}
		t, err := parseTimestamp(v.str)
		if err != nil {
			return nil, jsonErr(v.pos, path+".timestamp", err.Error())
		}
		return Timestamp{Time: t}, nil
	}
	if v := n.get("date"); v != nil {
		if len(n.keys) != 1 || v.kind != 's' {
			return nil, fail(`a date is {"date": "YYYY-MM-DD"}`)
		}
		t, err := parseDate(v.str)
		if err != nil {
			return nil, jsonErr(v.pos, path+".date", err.Error())
		}
		return Date{Time: t}, nil
	}
	if v := n.get("interval"); v != nil {
		if len(n.keys) != 1 || v.kind != 'a' || len(v.arr) != 2 {
			return nil, fail(`an interval is {"interval": [start, end]}`)
		}
		var ends [2]Expr
		for i, x := range v.arr {
			ep := path + ".interval[" + strconv.Itoa(i) + "]"
			if x.kind == 's' {
				if x.str == ".." {
					continue
				}
				var err error
				if len(x.str) == 10 {
					var t time.Time
					t, err = parseDate(x.str)
					ends[i] = Date{Time: t}
				} else {
					var t time.Time
					t, err = parseTimestamp(x.str)
					ends[i] = Timestamp{Time: t}
				}
				if err != nil {
					return nil, jsonErr(x.pos, ep, err.Error())
				}
				continue
			}
			e, err := p.expr(x, ep, depth+1)
			if err != nil {
				return nil, err
			}
			ends[i] = e
		}
		e := Interval{Start: ends[0], End: ends[1]}
		if msg := check(e); msg != "" {
			return nil, fail("%s", msg)
		}
		return e, nil
	}
	if v := n.get("bbox"); v != nil {
		if len(n.keys) != 1 || v.kind != 'a' {
			return nil, fail(`a bbox is {"bbox": [minx, miny, maxx, maxy]}`)
		}
		coords := make([]float64, 0, len(v.arr))
		for _, x := range v.arr {
			if x.kind != 'n' {
				return nil, fail("bbox coordinates must be numbers, found %s", x.kindName())
			}
			f, err := strconv.ParseFloat(x.num.String(), 64)
			if err != nil {
				return nil, fail("bbox coordinate out of range: %s", x.num)
			}
			coords = append(coords, f)
		}
		e := BBox{Coords: coords}
		if msg := check(e); msg != "" {
			return nil, fail("%s", msg)
		}
		return e, nil
	}
	return nil, fail(`expected an operation {"op":...,"args":[...]}, {"property":...}, a literal or a GeoJSON geometry; found an object with keys %q`, n.keys)
}

func unmarshalGeoJSON(raw []byte) (g geom.Geometry, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	g, err = geom.UnmarshalGeoJSON(raw, geom.NoValidate{})
	if err != nil {
		return g, err
	}
	if g.CoordinatesType() == geom.DimXYM || g.CoordinatesType() == geom.DimXYZM {
		return g, errors.New("only 2D and 3D positions are supported")
	}
	// Accept only what cql2-text (WKT) can express, so that both encodings
	// describe the same set of geometries (e.g. no empty rings or parts,
	// no rings of fewer than 4 positions).
	toks, err := lex(g.AsText())
	if err != nil {
		return g, err
	}
	p := &parser{toks: toks}
	if _, err := p.parseGeometry(); err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			return g, errors.New(se.Msg)
		}
		return g, err
	}
	return g, nil
}

// buildOp builds the node for {"op": name, "args": args}; op is the
// canonical name when known. It returns a message on arity errors.
func buildOp(op string, known bool, name string, args []Expr) (Expr, string) {
	arity := func(n int) string {
		if len(args) != n {
			return fmt.Sprintf("%q takes %d argument(s), got %d", name, n, len(args))
		}
		return ""
	}
	if !known {
		return Function{Name: name, Args: args}, ""
	}
	switch op {
	case "and":
		return And{Args: args}, ""
	case "or":
		return Or{Args: args}, ""
	case "not":
		if m := arity(1); m != "" {
			return nil, m
		}
		return Not{Arg: args[0]}, ""
	case "isNull":
		if m := arity(1); m != "" {
			return nil, m
		}
		return IsNull{Arg: args[0]}, ""
	case "casei":
		if m := arity(1); m != "" {
			return nil, m
		}
		return Casei{Arg: args[0]}, ""
	case "accenti":
		if m := arity(1); m != "" {
			return nil, m
		}
		return Accenti{Arg: args[0]}, ""
	case "like":
		if m := arity(2); m != "" {
			return nil, m
		}
		return Like{Value: args[0], Pattern: args[1]}, ""
	case "between":
		if m := arity(3); m != "" {
			return nil, m
		}
		return Between{Value: args[0], Low: args[1], High: args[2]}, ""
	case "in":
		if m := arity(2); m != "" {
			return nil, m
		}
		list, _ := args[1].(Array)
		return In{Value: args[0], List: list.Elems}, ""
	}
	if m := arity(2); m != "" {
		return nil, m
	}
	l, r := args[0], args[1]
	switch {
	case strings.HasPrefix(op, "s_"):
		return Spatial{Op: SpatialOp(op), Left: l, Right: r}, ""
	case strings.HasPrefix(op, "t_"):
		return Temporal{Op: TemporalOp(op), Left: l, Right: r}, ""
	case strings.HasPrefix(op, "a_"):
		return ArrayPredicate{Op: ArrayOp(op), Left: l, Right: r}, ""
	}
	for _, c := range compOps {
		if string(c) == op {
			return Comparison{Op: c, Left: l, Right: r}, ""
		}
	}
	return Arithmetic{Op: ArithOp(op), Left: l, Right: r}, ""
}

// JSON encodes e as cql2-json. ParseJSON(JSON(e)) yields a tree Equal to e.
func JSON(e Expr) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, e); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s)
	b.Write(q)
}

func writeOp(b *bytes.Buffer, op string, args ...Expr) error {
	b.WriteString(`{"op":`)
	writeJSONString(b, op)
	b.WriteString(`,"args":[`)
	for i, a := range args {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := writeJSON(b, a); err != nil {
			return err
		}
	}
	b.WriteString("]}")
	return nil
}

func writeJSON(b *bytes.Buffer, e Expr) error {
	switch n := e.(type) {
	case And:
		return writeOp(b, "and", n.Args...)
	case Or:
		return writeOp(b, "or", n.Args...)
	case Not:
		return writeOp(b, "not", n.Arg)
	case Comparison:
		return writeOp(b, string(n.Op), n.Left, n.Right)
	case Like:
		return writeOp(b, "like", n.Value, n.Pattern)
	case Between:
		return writeOp(b, "between", n.Value, n.Low, n.High)
	case In:
		return writeOp(b, "in", n.Value, Array{Elems: n.List})
	case IsNull:
		return writeOp(b, "isNull", n.Arg)
	case Casei:
		return writeOp(b, "casei", n.Arg)
	case Accenti:
		return writeOp(b, "accenti", n.Arg)
	case Spatial:
		return writeOp(b, string(n.Op), n.Left, n.Right)
	case Temporal:
		return writeOp(b, string(n.Op), n.Left, n.Right)
	case ArrayPredicate:
		return writeOp(b, string(n.Op), n.Left, n.Right)
	case Arithmetic:
		return writeOp(b, string(n.Op), n.Left, n.Right)
	case Function:
		return writeOp(b, n.Name, n.Args...)
	case Property:
		b.WriteString(`{"property":`)
		writeJSONString(b, n.Name)
		b.WriteByte('}')
	case String:
		writeJSONString(b, n.Value)
	case Number:
		if math.IsNaN(n.Value) || math.IsInf(n.Value, 0) {
			return fmt.Errorf("cql2: cannot encode number %v as JSON", n.Value)
		}
		b.WriteString(strconv.FormatFloat(n.Value, 'g', -1, 64))
	case Bool:
		b.WriteString(strconv.FormatBool(n.Value))
	case Timestamp:
		b.WriteString(`{"timestamp":"` + formatTimestamp(n.Time) + `"}`)
	case Date:
		b.WriteString(`{"date":"` + n.Time.Format(time.DateOnly) + `"}`)
	case Interval:
		b.WriteString(`{"interval":[`)
		for i, x := range []Expr{n.Start, n.End} {
			if i > 0 {
				b.WriteByte(',')
			}
			switch v := x.(type) {
			case nil:
				b.WriteString(`".."`)
			case Timestamp:
				b.WriteString(`"` + formatTimestamp(v.Time) + `"`)
			case Date:
				b.WriteString(`"` + v.Time.Format(time.DateOnly) + `"`)
			default:
				if err := writeJSON(b, x); err != nil {
					return err
				}
			}
		}
		b.WriteString("]}")
	case Geometry:
		g, err := n.Geom.MarshalJSON()
		if err != nil {
			return err
		}
		b.Write(g)
	case BBox:
		b.WriteString(`{"bbox":[`)
		for i, c := range n.Coords {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatFloat(c, 'g', -1, 64))
		}
		b.WriteString("]}")
	case Array:
		b.WriteByte('[')
		for i, x := range n.Elems {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, x); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	default:
		return fmt.Errorf("cql2: cannot encode %T", e)
	}
	return nil
}
