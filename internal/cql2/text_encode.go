package cql2

import (
	"strconv"
	"strings"
	"time"
)

// Text encodes e as cql2-text. ParseText(Text(e)) yields a tree Equal to e
// for every tree the parsers produce. Properties are always double-quoted,
// keywords upper-case, arithmetic and nested AND/OR parenthesized.
func Text(e Expr) string {
	var b strings.Builder
	writeText(&b, e, false)
	return b.String()
}

func writeText(b *strings.Builder, e Expr, elem bool) {
	switch n := e.(type) {
	case And:
		writeBoolList(b, n.Args, " AND ")
	case Or:
		writeBoolList(b, n.Args, " OR ")
	case Not:
		b.WriteString("NOT ")
		writeBoolArg(b, n.Arg)
	case Comparison:
		writeText(b, n.Left, false)
		b.WriteString(" " + string(n.Op) + " ")
		writeText(b, n.Right, false)
	case Like:
		writeText(b, n.Value, false)
		b.WriteString(" LIKE ")
		writeText(b, n.Pattern, false)
	case Between:
		writeText(b, n.Value, false)
		b.WriteString(" BETWEEN ")
		writeText(b, n.Low, false)
		b.WriteString(" AND ")
		writeText(b, n.High, false)
	case In:
		writeText(b, n.Value, false)
		b.WriteString(" IN (")
		for i, x := range n.List {
			if i > 0 {
				b.WriteString(", ")
			}
			writeText(b, x, false)
		}
		b.WriteString(")")
	case IsNull:
		writeText(b, n.Arg, false)
		b.WriteString(" IS NULL")
	case Casei:
		writeCall(b, "CASEI", n.Arg)
	case Accenti:
		writeCall(b, "ACCENTI", n.Arg)
	case Spatial:
		writeCall(b, strings.ToUpper(string(n.Op)), n.Left, n.Right)
	case Temporal:
		writeCall(b, strings.ToUpper(string(n.Op)), n.Left, n.Right)
	case ArrayPredicate:
		writeCall(b, strings.ToUpper(string(n.Op)), n.Left, n.Right)
	case Function:
		writeCall(b, n.Name, n.Args...)
	case Arithmetic:
		// In element position a leading '(' followed by ',' or ')' would
		// read as an array, so the outermost parentheses are dropped there.
		if !elem {
			b.WriteByte('(')
		}
		writeText(b, n.Left, false)
		b.WriteString(" " + strings.ToUpper(string(n.Op)) + " ")
		writeText(b, n.Right, false)
		if !elem {
			b.WriteByte(')')
		}
	case Property:
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(n.Name, `"`, `""`))
		b.WriteByte('"')
	case String:
		writeString(b, n.Value)
	case Number:
		b.WriteString(strconv.FormatFloat(n.Value, 'g', -1, 64))
	case Bool:
		if n.Value {
			b.WriteString("TRUE")
		} else {
			b.WriteString("FALSE")
		}
	case Timestamp:
		b.WriteString("TIMESTAMP(")
		writeString(b, formatTimestamp(n.Time))
		b.WriteByte(')')
	case Date:
		b.WriteString("DATE(")
		writeString(b, n.Time.Format(time.DateOnly))
		b.WriteByte(')')
	case Interval:
		b.WriteString("INTERVAL(")
		writeIntervalEnd(b, n.Start)
		b.WriteString(", ")
		writeIntervalEnd(b, n.End)
		b.WriteByte(')')
	case Geometry:
		b.WriteString(n.Geom.AsText())
	case BBox:
		b.WriteString("BBOX(")
		for i, c := range n.Coords {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.FormatFloat(c, 'g', -1, 64))
		}
		b.WriteByte(')')
	case Array:
		b.WriteByte('(')
		for i, x := range n.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			writeText(b, x, true)
		}
		b.WriteByte(')')
	}
}

func formatTimestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func writeString(b *strings.Builder, s string) {
	b.WriteByte('\'')
	b.WriteString(strings.ReplaceAll(s, "'", "''"))
	b.WriteByte('\'')
}

func writeIntervalEnd(b *strings.Builder, e Expr) {
	switch n := e.(type) {
	case nil:
		b.WriteString("'..'")
	case Timestamp:
		writeString(b, formatTimestamp(n.Time))
	case Date:
		writeString(b, n.Time.Format(time.DateOnly))
	default:
		writeText(b, e, false)
	}
}

func writeCall(b *strings.Builder, name string, args ...Expr) {
	b.WriteString(name)
	b.WriteByte('(')
	for i, a := range args {
		if i > 0 {
			b.WriteString(", ")
		}
		writeText(b, a, true)
	}
	b.WriteByte(')')
}

// writeBoolArg writes an operand of AND/OR/NOT, parenthesizing anything that
// binds more loosely than a predicate.
func writeBoolArg(b *strings.Builder, e Expr) {
	switch e.(type) {
	case And, Or, Not:
		b.WriteByte('(')
		writeText(b, e, false)
		b.WriteByte(')')
	default:
		writeText(b, e, false)
	}
}

func writeBoolList(b *strings.Builder, args []Expr, sep string) {
	for i, a := range args {
		if i > 0 {
			b.WriteString(sep)
		}
		writeBoolArg(b, a)
	}
}
