package store

import (
	"context"
	"errors"

	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/stac"
)

// Sentinel errors. Implementations wrap them with %w and context.
var (
	ErrNotFound           = errors.New("not found")
	ErrConflict           = errors.New("already exists")
	ErrCollectionMissing  = errors.New("collection does not exist")
	ErrPreconditionFailed = errors.New("precondition failed")
)

// Record is a stored document as read back.
type Record struct {
	Collection string // empty for collections
	ID         string
	Doc        []byte // canonical JSON, "links" last (stac.AppendLinks)
}

// Page is one page of search results.
type Page struct {
	Items []Record
	// Next continues the search after the last item; empty on the last page.
	Next string
	// Matched is the total number of matches when it was cheap to know.
	Matched *int64
}

// Searcher runs item searches.
type Searcher interface {
	// Search returns the page of items matching q, ordered by datetime
	// descending (then id, then collection descending), starting after
	// q.Token. A malformed token is a *search.InvalidParamError.
	Search(ctx context.Context, q search.Query) (Page, error)
}

// ItemReader reads single items.
type ItemReader interface {
	// Item returns one item, or an error wrapping ErrNotFound.
	Item(ctx context.Context, collection, id string) (Record, error)
}

// CollectionQuery selects a page of collections.
type CollectionQuery struct {
	Limit int
	Token string
}

// CollectionPage is one page of collections, ordered by id.
type CollectionPage struct {
	Collections []Record
	Next        string
	Matched     int64
}

// CollectionReader reads collections.
type CollectionReader interface {
	// Collection returns one collection, or an error wrapping ErrNotFound.
	Collection(ctx context.Context, id string) (Record, error)
	// Collections returns a page of collections ordered by id.
	Collections(ctx context.Context, q CollectionQuery) (CollectionPage, error)
}

// WriteMode says what a write may do when the record exists (or not).
type WriteMode int

const (
	// Upsert creates or replaces.
	Upsert WriteMode = iota
	// Create fails with ErrConflict when the record exists.
	Create
	// Replace fails with ErrNotFound when the record does not exist.
	Replace
)

// Writer writes validated documents. Writes are durable when the method
// returns nil.
type Writer interface {
	// PutItems writes a batch of validated items in one transaction. The
	// returned slice has one entry per item: nil when written, or an error
	// wrapping ErrCollectionMissing, ErrConflict or ErrNotFound for that
	// item alone (its neighbours are still written). A non-nil error means
	// nothing was written (e.g. the database is unavailable) and the whole
	// batch may be retried.
	PutItems(ctx context.Context, items []stac.Item, mode WriteMode) ([]error, error)
	// PutCollection writes a validated collection.
	PutCollection(ctx context.Context, c stac.Collection, mode WriteMode) error
	// DeleteItem removes an item; ErrNotFound when absent.
	DeleteItem(ctx context.Context, collection, id string) error
	// DeleteCollection removes a collection and all its items; ErrNotFound
	// when absent.
	DeleteCollection(ctx context.Context, id string) error
}

// Store is a complete catalog backend.
type Store interface {
	Searcher
	ItemReader
	CollectionReader
	Writer
	// Close releases resources; the store must not be used afterwards.
	Close() error
}

// Capability interfaces: optional features a store may implement. The API
// advertises (and accepts) only what the store implements.

// Filterer is a Searcher that honours search.Query.Filter (CQL2). A store
// that does not implement it must not be given a query with a filter.
type Filterer interface {
	Searcher
	// SupportsFilter is a marker.
	SupportsFilter()
}

// PropertiesReader knows which item properties the catalog holds.
type PropertiesReader interface {
	// ItemProperties returns the names of the properties of the items of
	// the given collections (all when none), with their JSON types
	// ("string", "number", "boolean", "array" or "object").
	ItemProperties(ctx context.Context, collections []string) (map[string]string, error)
}

// SearchRegistry keeps registered searches (the mosaic tiler's
// /searches/register): an id, chosen by the caller as a hash of the
// document, maps to the search document. Safe for concurrent use.
type SearchRegistry interface {
	// RegisterSearch stores doc under id; registering an existing id
	// replaces its document (ids are content hashes, so it is the same).
	RegisterSearch(ctx context.Context, id string, doc []byte) error
	// RegisteredSearch returns the document, or an error wrapping
	// ErrNotFound.
	RegisteredSearch(ctx context.Context, id string) ([]byte, error)
}

// Sorter is a Searcher that honours search.Query.SortBy with exact keyset
// pagination under any order.
type Sorter interface {
	Searcher
	// SupportsSort is a marker.
	SupportsSort()
}

// FreeTexter is a Searcher that honours search.Query.Q.
type FreeTexter interface {
	Searcher
	// SupportsFreeText is a marker.
	SupportsFreeText()
}

// Bucket is one bucket of a frequency distribution.
type Bucket struct {
	Key       string
	DataType  string // "string", "datetime" or "numeric"
	Frequency int64
	From, To  *float64 // numeric ranges
}

// AggregationResult is one computed aggregation.
type AggregationResult struct {
	Name     string
	DataType string
	Value    any // total_count, datetime_min/max
	Buckets  []Bucket
	Overflow int64 // items counted in no returned bucket (terms beyond the top)
}

// Aggregator computes aggregations over the items a search matches.
type Aggregator interface {
	Aggregate(ctx context.Context, q search.Query, aggs []search.Aggregation) ([]AggregationResult, error)
}
