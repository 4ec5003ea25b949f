package search

import "fmt"

// InvalidParamError says which request parameter is malformed and why.
type InvalidParamError struct {
	Param  string
	Reason string
	Err    error // optional cause (e.g. a *cql2.SyntaxError)
}

func (e *InvalidParamError) Error() string {
	return fmt.Sprintf("invalid %s: %s", e.Param, e.Reason)
}

func (e *InvalidParamError) Unwrap() error { return e.Err }

func invalid(param, format string, args ...any) error {
	return &InvalidParamError{Param: param, Reason: fmt.Sprintf(format, args...)}
}
