package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
)

// Store is a store.Store seen through the restriction of the principal in
// each call's context: invisible collections and items do not exist (the
// same ErrNotFound, with the same message, as for ones that really do
// not), searches, aggregations and property listings are narrowed, and
// writes outside the restriction are refused. Calls whose context carries
// no principal (internal callers) pass through unchanged.
//
// Store implements every optional capability interface; callers that
// advertise capabilities must ask the wrapped store (Unwrap).
type Store struct {
	raw store.Store
}

// NewStore wraps st.
func NewStore(st store.Store) *Store { return &Store{raw: st} }

// Unwrap returns the wrapped store.
func (s *Store) Unwrap() store.Store { return s.raw }

func notFoundCollection(id string) error {
	return fmt.Errorf("collection %q: %w", id, store.ErrNotFound)
}

func notFoundItem(cid, iid string) error {
	return fmt.Errorf("item %q in collection %q: %w", iid, cid, store.ErrNotFound)
}

func forbidden(format string, args ...any) error {
	return &httpx.Error{Status: http.StatusForbidden, Code: httpx.CodeForbidden, Description: fmt.Sprintf(format, args...)}
}

// errNoFilter is returned when a restriction needs a filter the store
// cannot apply: failing closed beats showing everything.
var errNoFilter = errors.New("auth: the store cannot apply the principal's filter")

// Search implements store.Searcher.
func (s *Store) Search(ctx context.Context, q search.Query) (store.Page, error) {
	if _, ok := s.raw.(store.Filterer); !ok && q.Filter != nil {
		return store.Page{}, &search.InvalidParamError{Param: "filter", Reason: "this store does not support filters"}
	}
	r := RestrictionOf(ctx)
	if r.Unrestricted() {
		return s.raw.Search(ctx, q)
	}
	if !RestrictQuery(r, &q) {
		zero := int64(0)
		return store.Page{Matched: &zero}, nil
	}
	if q.Filter != nil {
		if _, ok := s.raw.(store.Filterer); !ok {
			return store.Page{}, errNoFilter
		}
	}
	return s.raw.Search(ctx, q)
}

// Aggregate implements store.Aggregator.
func (s *Store) Aggregate(ctx context.Context, q search.Query, aggs []search.Aggregation) ([]store.AggregationResult, error) {
	ag, ok := s.raw.(store.Aggregator)
	if !ok {
		return nil, httpx.NotFound("this store does not compute aggregations")
	}
	if r := RestrictionOf(ctx); !r.Unrestricted() && !RestrictQuery(r, &q) {
		// Nothing is visible: aggregate over nothing, so the answer has
		// the same shape as any other.
		q.Collections, q.Filter = nil, cql2.Bool{Value: false}
	}
	if q.Filter != nil {
		if _, ok := s.raw.(store.Filterer); !ok {
			return nil, errNoFilter
		}
	}
	return ag.Aggregate(ctx, q, aggs)
}

// ItemProperties implements store.PropertiesReader. With a filter
// restriction the names of properties of items hidden by the filter in
// visible collections may still be listed (names only, never values).
func (s *Store) ItemProperties(ctx context.Context, collections []string) (map[string]string, error) {
	pr, ok := s.raw.(store.PropertiesReader)
	if !ok {
		return map[string]string{}, nil
	}
	r := RestrictionOf(ctx)
	if r.Collections != nil {
		q := search.Query{Collections: collections}
		if !RestrictQuery(Restriction{Collections: r.Collections}, &q) {
			return map[string]string{}, nil
		}
		collections = q.Collections
	}
	return pr.ItemProperties(ctx, collections)
}

// Item implements store.ItemReader.
func (s *Store) Item(ctx context.Context, collection, id string) (store.Record, error) {
	r := RestrictionOf(ctx)
	if !r.Allows(collection) {
		return store.Record{}, notFoundCollection(collection)
	}
	rec, err := s.raw.Item(ctx, collection, id)
	if err != nil || r.Filter == nil {
		return rec, err
	}
	if _, ok := s.raw.(store.Filterer); !ok {
		return store.Record{}, errNoFilter
	}
	page, err := s.raw.Search(ctx, search.Query{IDs: []string{id}, Collections: []string{collection}, Filter: r.Filter, Limit: 1})
	if err != nil {
		return store.Record{}, err
	}
	if len(page.Items) == 0 {
		return store.Record{}, notFoundItem(collection, id)
	}
	return rec, nil
}

// Collection implements store.CollectionReader.
func (s *Store) Collection(ctx context.Context, id string) (store.Record, error) {
	if !RestrictionOf(ctx).Allows(id) {
		return store.Record{}, notFoundCollection(id)
	}
	return s.raw.Collection(ctx, id)
}

// restrictedTokenPrefix marks the page tokens of a restricted collection
// listing (an offset into the visible collections ordered by id).
const restrictedTokenPrefix = "v:"

// Collections implements store.CollectionReader: with a collection list,
// only those collections, by id, paged with an offset token.
func (s *Store) Collections(ctx context.Context, q store.CollectionQuery) (store.CollectionPage, error) {
	r := RestrictionOf(ctx)
	if r.Collections == nil {
		return s.raw.Collections(ctx, q)
	}
	offset := 0
	if q.Token != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.Token)
		n, aerr := strconv.Atoi(strings.TrimPrefix(string(b), restrictedTokenPrefix))
		if err != nil || aerr != nil || !strings.HasPrefix(string(b), restrictedTokenPrefix) || n < 0 {
			return store.CollectionPage{}, &search.InvalidParamError{Param: "token", Reason: "not a token this server issued (use the next link of a previous page)"}
		}
		offset = n
	}
	ids := slices.Clone(r.Collections)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var visible []store.Record
	for _, id := range ids {
		rec, err := s.raw.Collection(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return store.CollectionPage{}, err
		}
		visible = append(visible, rec)
	}
	page := store.CollectionPage{Matched: int64(len(visible))}
	limit := q.Limit
	if limit < 1 {
		limit = len(visible)
	}
	visible = visible[min(offset, len(visible)):]
	if len(visible) > limit {
		visible = visible[:limit]
		page.Next = base64.RawURLEncoding.EncodeToString([]byte(restrictedTokenPrefix + strconv.Itoa(offset+limit)))
	}
	page.Collections = visible
	return page, nil
}

// visibleItem reports whether the item's document matches the filter.
func matchesFilter(f cql2.Expr, doc []byte) (bool, error) {
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		return false, err
	}
	return cql2.Evaluate(f, m)
}

// PutItems implements store.Writer: items of invisible collections fail as
// if the collection did not exist; with a filter, new documents must match
// it and replaced ones must be visible.
func (s *Store) PutItems(ctx context.Context, items []stac.Item, mode store.WriteMode) ([]error, error) {
	r := RestrictionOf(ctx)
	if r.Unrestricted() {
		return s.raw.PutItems(ctx, items, mode)
	}
	errs := make([]error, len(items))
	var (
		pass []stac.Item
		idx  []int
	)
	for i, it := range items {
		if !r.Allows(it.Collection) {
			errs[i] = fmt.Errorf("collection %q of item %q: %w", it.Collection, it.ID, store.ErrCollectionMissing)
			continue
		}
		if r.Filter != nil {
			ok, err := matchesFilter(r.Filter, it.Doc)
			if err != nil || !ok {
				errs[i] = forbidden("item %q is outside what this principal may write", it.ID)
				continue
			}
			if mode != store.Create {
				if _, err := s.Item(ctx, it.Collection, it.ID); err != nil {
					if !errors.Is(err, store.ErrNotFound) {
						return nil, err
					}
					if _, rerr := s.raw.Item(ctx, it.Collection, it.ID); rerr == nil {
						// It exists but is invisible: never overwrite it.
						errs[i] = notFoundItem(it.Collection, it.ID)
						continue
					}
				}
			}
		}
		pass = append(pass, it)
		idx = append(idx, i)
	}
	if len(pass) == 0 {
		return errs, nil
	}
	perr, err := s.raw.PutItems(ctx, pass, mode)
	if err != nil {
		return nil, err
	}
	for j, e := range perr {
		errs[idx[j]] = e
	}
	return errs, nil
}

// PutCollection implements store.Writer: only visible collections may be
// written, and principals restricted by a filter write no collection.
func (s *Store) PutCollection(ctx context.Context, c stac.Collection, mode store.WriteMode) error {
	r := RestrictionOf(ctx)
	if !r.Allows(c.ID) {
		if mode == store.Replace {
			return notFoundCollection(c.ID)
		}
		return forbidden("this principal may not write collection %q", c.ID)
	}
	if r.Filter != nil {
		return forbidden("a principal restricted by a filter may not write collections")
	}
	return s.raw.PutCollection(ctx, c, mode)
}

// DeleteItem implements store.Writer.
func (s *Store) DeleteItem(ctx context.Context, collection, id string) error {
	if !RestrictionOf(ctx).Unrestricted() {
		if _, err := s.Item(ctx, collection, id); err != nil {
			return err
		}
	}
	return s.raw.DeleteItem(ctx, collection, id)
}

// DeleteCollection implements store.Writer.
func (s *Store) DeleteCollection(ctx context.Context, id string) error {
	r := RestrictionOf(ctx)
	if !r.Allows(id) {
		return notFoundCollection(id)
	}
	if r.Filter != nil {
		return forbidden("a principal restricted by a filter may not delete collections")
	}
	return s.raw.DeleteCollection(ctx, id)
}

// Close implements store.Store.
func (s *Store) Close() error { return s.raw.Close() }

// Markers: the wrapper forwards what the wrapped store does; capability
// checks must use Unwrap.
func (s *Store) SupportsFilter()   {}
func (s *Store) SupportsSort()     {}
func (s *Store) SupportsFreeText() {}

var (
	_ store.Store            = (*Store)(nil)
	_ store.Aggregator       = (*Store)(nil)
	_ store.PropertiesReader = (*Store)(nil)
	_ store.Filterer         = (*Store)(nil)
	_ store.Sorter           = (*Store)(nil)
	_ store.FreeTexter       = (*Store)(nil)
)
