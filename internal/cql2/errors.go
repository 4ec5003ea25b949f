package cql2

import (
	"errors"
	"fmt"
)

// SyntaxError reports malformed cql2-text or cql2-json, or a well-formed
// expression that CQL2 does not allow (e.g. a predicate used as an operand).
// Parsers return only *SyntaxError errors.
type SyntaxError struct {
	// Encoding is "cql2-text" or "cql2-json".
	Encoding string
	// Pos is the byte offset of the offending token in the input.
	Pos int
	// Path is, for cql2-json, the JSON path of the offending value
	// (e.g. "$.args[1].args[0]"); empty for cql2-text.
	Path string
	// Msg says what was expected and what was found.
	Msg string
}

func (e *SyntaxError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("%s: at %s (position %d): %s", e.Encoding, e.Path, e.Pos, e.Msg)
	}
	return fmt.Sprintf("%s: at position %d: %s", e.Encoding, e.Pos, e.Msg)
}

// ErrUnsupported is wrapped by errors for constructs that parse but that
// Evaluate (or a SQL dialect) cannot execute, such as unknown functions.
var ErrUnsupported = errors.New("cql2: unsupported")

// UnsupportedError names the construct that cannot be executed.
type UnsupportedError struct{ What string }

func (e *UnsupportedError) Error() string { return "cql2: unsupported: " + e.What }

// Unwrap makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }
