package cql2

import (
	"fmt"
	"math"
)

// nodeName names a node kind for error messages.
func nodeName(e Expr) string {
	switch n := e.(type) {
	case And:
		return "AND"
	case Or:
		return "OR"
	case Not:
		return "NOT"
	case Comparison:
		return "a comparison (" + string(n.Op) + ")"
	case Like:
		return "LIKE"
	case Between:
		return "BETWEEN"
	case In:
		return "IN"
	case IsNull:
		return "IS NULL"
	case Casei:
		return "CASEI"
	case Accenti:
		return "ACCENTI"
	case Spatial:
		return "a spatial predicate"
	case Temporal:
		return "a temporal predicate"
	case ArrayPredicate:
		return "an array predicate"
	case Arithmetic:
		return "an arithmetic expression"
	case Property:
		return "a property"
	case String:
		return "a string"
	case Number:
		return "a number"
	case Bool:
		return "a boolean"
	case Timestamp:
		return "a timestamp"
	case Date:
		return "a date"
	case Interval:
		return "an interval"
	case Geometry:
		return "a geometry"
	case BBox:
		return "a bbox"
	case Array:
		return "an array"
	case Function:
		return "a function call"
	}
	return fmt.Sprintf("%T", e)
}

// scalar reports whether e may be an operand of a comparison, LIKE,
// BETWEEN, IN, CASEI, ACCENTI or arithmetic.
func scalar(e Expr) bool {
	if e == nil || isPredicate(e) {
		return false
	}
	switch e.(type) {
	case Array, Interval, Geometry, BBox:
		return false
	}
	return true
}

// check validates one node whose children are already built and returns a
// message, or "" when the node is well formed. Both parsers call it so that
// text and JSON accept the same trees.
func check(e Expr) string {
	operand := func(what string, xs ...Expr) string {
		for _, x := range xs {
			if !scalar(x) {
				return fmt.Sprintf("%s cannot be an operand of %s", nodeName(x), what)
			}
		}
		return ""
	}
	boolean := func(what string, xs ...Expr) string {
		for _, x := range xs {
			if x == nil || !isBoolean(x) {
				return fmt.Sprintf("%s needs boolean arguments, found %s", what, nodeName(x))
			}
		}
		return ""
	}
	switch n := e.(type) {
	case And:
		if len(n.Args) < 2 {
			return "AND needs at least 2 arguments"
		}
		return boolean("AND", n.Args...)
	case Or:
		if len(n.Args) < 2 {
			return "OR needs at least 2 arguments"
		}
		return boolean("OR", n.Args...)
	case Not:
		return boolean("NOT", n.Arg)
	case Comparison:
		return operand(nodeName(e), n.Left, n.Right)
	case Like:
		return operand("LIKE", n.Value, n.Pattern)
	case Between:
		return operand("BETWEEN", n.Value, n.Low, n.High)
	case In:
		if len(n.List) == 0 {
			return "IN list must not be empty"
		}
		if m := operand("IN", n.Value); m != "" {
			return m
		}
		return operand("an IN list", n.List...)
	case IsNull:
		if e == nil || isPredicate(n.Arg) {
			return fmt.Sprintf("%s cannot be an operand of IS NULL", nodeName(n.Arg))
		}
	case Casei:
		return operand("CASEI", n.Arg)
	case Accenti:
		return operand("ACCENTI", n.Arg)
	case Arithmetic:
		return operand("arithmetic", n.Left, n.Right)
	case Spatial:
		for _, x := range []Expr{n.Left, n.Right} {
			switch x.(type) {
			case Property, Geometry, BBox, Function:
			default:
				return fmt.Sprintf("%s takes geometries (a property, a geometry literal, BBOX or a function), found %s", nodeName(e), nodeName(x))
			}
		}
	case Temporal:
		for _, x := range []Expr{n.Left, n.Right} {
			switch x.(type) {
			case Property, Timestamp, Date, Interval, Function:
			default:
				return fmt.Sprintf("%s takes temporal values (a property, TIMESTAMP, DATE, INTERVAL or a function), found %s", nodeName(e), nodeName(x))
			}
		}
	case ArrayPredicate:
		for _, x := range []Expr{n.Left, n.Right} {
			switch x.(type) {
			case Property, Array, Function:
			default:
				return fmt.Sprintf("%s takes arrays (a property, an array literal or a function), found %s", nodeName(e), nodeName(x))
			}
		}
	case Interval:
		for _, x := range []Expr{n.Start, n.End} {
			switch x.(type) {
			case nil, Property, Timestamp, Date, Function:
			default:
				return fmt.Sprintf("INTERVAL bounds must be '..', a timestamp, a date, a property or a function, found %s", nodeName(x))
			}
		}
	case BBox:
		if len(n.Coords) != 4 && len(n.Coords) != 6 {
			return fmt.Sprintf("BBOX takes 4 or 6 numbers, got %d", len(n.Coords))
		}
		for _, c := range n.Coords {
			if math.IsNaN(c) || math.IsInf(c, 0) {
				return "BBOX coordinates must be finite"
			}
		}
	case Function:
		if !validIdent(n.Name) {
			return fmt.Sprintf("invalid function name %q", n.Name)
		}
	}
	return ""
}

// validIdent reports whether s is an unquoted cql2-text identifier that is
// not a reserved word or built-in name.
func validIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if i == 0 && !isIdentStart(r) || !isIdentPart(r) {
			return false
		}
	}
	up := toUpper(s)
	if reserved[up] {
		return false
	}
	_, b := builtins[up]
	return !b
}
