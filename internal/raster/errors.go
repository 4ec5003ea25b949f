package raster

import (
	"errors"
	"strings"
)

// Sentinels wrapped by *Error. Match them with errors.Is.
var (
	// ErrOutsideBounds: the requested window does not intersect the data.
	ErrOutsideBounds = errors.New("outside the dataset bounds")
	// ErrSourceNotFound: the source does not exist (missing file, HTTP 404).
	ErrSourceNotFound = errors.New("source not found")
	// ErrUnreadable: the source exists but cannot be opened or decoded.
	ErrUnreadable = errors.New("source unreadable")
	// ErrUnsupported: the request asks for something the backend cannot do
	// (an unknown CRS, an output format it has no driver for).
	ErrUnsupported = errors.New("unsupported")
	// ErrInvalidBand: a requested band index does not exist.
	ErrInvalidBand = errors.New("invalid band index")
)

// Error is the error type returned by Readers and Datasets. Err is one of the
// sentinels above; Reason carries the backend's own message (GDAL's).
type Error struct {
	Op     string // "open", "read", "point", ...
	Href   string
	Err    error
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("raster: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(" ")
	}
	if e.Href != "" {
		b.WriteString(e.Href)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }
