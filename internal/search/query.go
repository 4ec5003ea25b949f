package search

import (
	"time"

	"github.com/peterstace/simplefeatures/geom"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/geo"
)

// Query is a validated item search: the plan a store executes. The zero
// value matches every item (with Limit set by the parser).
type Query struct {
	IDs         []string
	Collections []string
	// BBox restricts to items whose geometry intersects the box (which may
	// cross the antimeridian). At most one of BBox and Intersects is set.
	BBox *geo.BBox
	// Intersects restricts to items whose geometry intersects it.
	Intersects *geom.Geometry
	// Datetime restricts to items whose datetime, or
	// [start_datetime, end_datetime] range, intersects the interval.
	Datetime *Interval
	// Filter is a CQL2 filter (nil for none).
	Filter cql2.Expr
	// SortBy orders the results (DefaultSort when empty); ties are broken
	// by id then collection, in the direction of the last field.
	SortBy []SortField
	// Q is a free-text query over id, collection, title, description and
	// keywords (nil for none).
	Q *FreeText
	// Fields selects the members of returned items (nil: all). Stores
	// ignore it; the API applies it.
	Fields *Fields
	// Limit is the page size (≥ 1).
	Limit int
	// Token continues a previous page; opaque, produced by the store.
	Token string
}

// Interval is a closed time interval; a nil end is open.
type Interval struct {
	Start, End *time.Time
}

// Contains reports whether t is inside the interval.
func (iv Interval) Contains(t time.Time) bool {
	return (iv.Start == nil || !t.Before(*iv.Start)) && (iv.End == nil || !t.After(*iv.End))
}

// Overlaps reports whether [start, end] intersects the interval.
func (iv Interval) Overlaps(start, end time.Time) bool {
	return (iv.Start == nil || !end.Before(*iv.Start)) && (iv.End == nil || !start.After(*iv.End))
}

// Limits bound what a request may ask for.
type Limits struct {
	DefaultLimit int // page size when none is given (10)
	MaxLimit     int // larger requested limits are lowered to this
}

// DefaultLimits are the STAC API's customary limits.
func DefaultLimits() Limits { return Limits{DefaultLimit: 10, MaxLimit: 10000} }
