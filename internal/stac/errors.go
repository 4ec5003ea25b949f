package stac

import "fmt"

// ValidationError says which member of a STAC document is wrong and why.
type ValidationError struct {
	Field  string // JSON path of the offending member, e.g. "properties.datetime"
	Reason string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "invalid STAC document: " + e.Reason
	}
	return fmt.Sprintf("invalid STAC document: %s: %s", e.Field, e.Reason)
}

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
