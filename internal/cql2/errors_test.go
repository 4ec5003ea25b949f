package cql2_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/cql2"
)

func TestSyntaxErrorsText(t *testing.T) {
	tests := []struct {
		in   string
		pos  int
		want string
	}{
		{`cloud IN (1, 2 AND x = 1`, 15, `expected ',' or ')' after IN list element, found "AND"`},
		{`a = 1 AND`, 9, "unexpected end of input"},
		{`a = 'unterminated`, 4, "unterminated string literal"},
		{`a != 1`, 2, `"!=" is not CQL2`},
		{`a = 1 b`, 6, `expected AND, OR or end of input, found "b"`},
		{`a BETWEEN 1 OR 2`, 12, "expected AND between the bounds"},
		{`S_INTERSECTS(geometry)`, 0, "S_INTERSECTS takes 2 arguments"},
		{`S_INTERSECTS(geometry, 'x')`, 0, "takes geometries"},
		{`T_AFTER(datetime, TIMESTAMP('yesterday'))`, 28, "invalid timestamp"},
		{`a = 1 AND 5`, 0, "AND needs boolean arguments"},
		{`5`, 0, "a filter must be a boolean expression"},
		{`(a = 1) = TRUE`, 8, "cannot be an operand"},
		{`POLYGON((0 0, 1 1, 0 0))`, 0, "at least 4 points"},
		{`S_INTERSECTS(geometry, POINT(1 2, 3))`, 32, "expected ')' after POINT position"},
		{`x IN ()`, 6, "IN list must not be empty"},
		{`10abc = 1`, 0, "malformed number"},
		{`BBOX(1,2,3) = 1`, 0, "BBOX takes 4 or 6 numbers"},
		{`a = 1e999`, 4, "number out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := cql2.ParseText(tc.in)
			var se *cql2.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T), want *SyntaxError", err, err)
			}
			if se.Pos != tc.pos || !strings.Contains(se.Error(), tc.want) {
				t.Errorf("got %q (pos %d), want pos %d containing %q", se.Error(), se.Pos, tc.pos, tc.want)
			}
			if !strings.HasPrefix(se.Error(), "cql2-text: at position ") {
				t.Errorf("message %q lacks the cql2-text prefix", se.Error())
			}
		})
	}
}

func TestSyntaxErrorsJSON(t *testing.T) {
	tests := []struct {
		in, path, want string
	}{
		{`{"op":"=","args":[{"property":"a"}]}`, "$", `"=" takes 2 argument(s)`},
		{`{"op":"and","args":[{"op":"=","args":[{"property":"a"},1]},5]}`, "$", "AND needs boolean arguments"},
		{`{"op":"=","args":[{"property":"a"},{"timestamp":"nope"}]}`, "$.args[1].timestamp", "invalid timestamp"},
		{`{"op":"=","args":[{"property":"a"},null]}`, "$.args[1]", "null is not a CQL2 value"},
		{`{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Point","coordinates":[1]}]}`, "$.args[1]", "invalid GeoJSON"},
		{`{"op":"=","args":[{"property":"a"},1]} trailing`, "$", "unexpected data after"},
		{`{"op":"=","args":[{"property":"a"},1}`, "$.args", "malformed JSON"},
		{`{"op":"in","args":[{"property":"a"},1]}`, "$.args[1]", `second argument of "in" must be an array`},
		{`{"property":"a","x":1}`, "$", "property reference"},
		{`{"op":"=","op":"<","args":[]}`, "$", "duplicate key"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := cql2.ParseJSON([]byte(tc.in))
			var se *cql2.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T), want *SyntaxError", err, err)
			}
			if se.Path != tc.path || !strings.Contains(se.Error(), tc.want) {
				t.Errorf("got %q (path %s), want path %s containing %q", se.Error(), se.Path, tc.path, tc.want)
			}
		})
	}
}

func TestDepthLimit(t *testing.T) {
	for _, n := range []int{100, 300, 20000} {
		text := strings.Repeat("NOT (", n) + "a = 1" + strings.Repeat(")", n)
		_, err := cql2.ParseText(text)
		if n < cql2.MaxDepth/2 && err != nil {
			t.Errorf("depth %d: %v", n, err)
		}
		if n > cql2.MaxDepth {
			var se *cql2.SyntaxError
			if !errors.As(err, &se) || !strings.Contains(se.Msg, "nested more than") {
				t.Errorf("depth %d: err = %v, want depth SyntaxError", n, err)
			}
		}
		js := strings.Repeat(`{"op":"not","args":[`, n) + `true` + strings.Repeat(`]}`, n)
		_, err = cql2.ParseJSON([]byte(js))
		if n > cql2.MaxDepth {
			var se *cql2.SyntaxError
			if !errors.As(err, &se) || !strings.Contains(se.Msg, "nested more than") {
				t.Errorf("json depth %d: err = %v, want depth SyntaxError", n, err)
			}
		}
	}
	for _, s := range []string{strings.Repeat("-", 100000) + "1 = a", strings.Repeat("(", 100000) + "a", "2" + strings.Repeat(" ^ 2", 100000) + " = a", "A_EQUALS(a, " + strings.Repeat("(", 100000) + ")"} {
		if _, err := cql2.ParseText(s); err == nil {
			t.Errorf("deep input %.20q parsed", s)
		}
	}
}
