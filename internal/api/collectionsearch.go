package api

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
)

var collectionSearchConformance = []string{
	"https://api.stacspec.org/v1.0.0-rc.1/collection-search",
	"https://api.stacspec.org/v1.0.0-rc.1/collection-search#free-text",
	"https://api.stacspec.org/v1.0.0-rc.1/collection-search#filter",
	"https://api.stacspec.org/v1.0.0-rc.1/collection-search#sort",
	"https://api.stacspec.org/v1.0.0-rc.1/collection-search#fields",
	"http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/simple-query",
}

// collectionSearchParams are the parameters that make GET /collections a
// search rather than a listing.
var collectionSearchParams = []string{"bbox", "datetime", "q", "filter", "sortby", "fields"}

// collectionQuery is a parsed collection search.
type collectionQuery struct {
	bbox   *geo.BBox
	dt     *search.Interval
	q      *search.FreeText
	filter cql2.Expr
	sortBy []search.SortField
	fields *search.Fields
	limit  int
	offset int
}

func (s *Server) parseCollectionQuery(v url.Values) (collectionQuery, error) {
	cq := collectionQuery{limit: s.cfg.Limits.DefaultLimit}
	var err error
	if x := v.Get("limit"); x != "" {
		n, err := strconv.Atoi(x)
		if err != nil || n < 1 {
			return cq, httpx.BadRequest("limit", "must be an integer ≥ 1, got %q", x)
		}
		cq.limit = min(n, s.cfg.Limits.MaxLimit)
	}
	if x := v.Get("bbox"); x != "" {
		b, err := search.ParseBBoxString(x)
		if err != nil {
			return cq, err
		}
		cq.bbox = &b
	}
	if x := v.Get("datetime"); x != "" {
		iv, err := search.ParseDatetime(x)
		if err != nil {
			return cq, err
		}
		cq.dt = &iv
	}
	if x := v.Get("q"); x != "" {
		if cq.q, err = search.ParseFreeText(x); err != nil {
			return cq, err
		}
	}
	if x := v.Get("filter"); x != "" {
		// Reuse the item-search parser for filter/filter-lang/filter-crs.
		fq, err := search.ParseGET(url.Values{"filter": {x}, "filter-lang": v["filter-lang"], "filter-crs": v["filter-crs"]}, s.cfg.Limits)
		if err != nil {
			return cq, err
		}
		cq.filter = fq.Filter
	}
	if x := v.Get("sortby"); x != "" {
		if cq.sortBy, err = search.ParseSortGET(x); err != nil {
			return cq, err
		}
	}
	if x := v.Get("fields"); x != "" {
		if cq.fields, err = search.ParseFieldsGET(x); err != nil {
			return cq, err
		}
	}
	if x := v.Get("token"); x != "" {
		b, err := base64.RawURLEncoding.DecodeString(x)
		n, aerr := strconv.Atoi(strings.TrimPrefix(string(b), "o:"))
		if err != nil || aerr != nil || !strings.HasPrefix(string(b), "o:") || n < 0 {
			return cq, httpx.BadRequest("token", "not a token this server issued (use the next link of a previous page)")
		}
		cq.offset = n
	}
	return cq, nil
}

// collectionMatches applies the search to one collection document.
func (cq collectionQuery) matches(doc map[string]any) (bool, error) {
	ext, _ := doc["extent"].(map[string]any)
	if cq.bbox != nil {
		sp, _ := ext["spatial"].(map[string]any)
		boxes, _ := sp["bbox"].([]any)
		hit := false
		for _, b := range boxes {
			var v []float64
			for _, f := range b.([]any) {
				n, _ := f.(float64)
				v = append(v, n)
			}
			if bb, err := geo.BBoxFromSlice(v); err == nil && bb.Intersects(*cq.bbox) {
				hit = true
				break
			}
		}
		if !hit {
			return false, nil
		}
	}
	if cq.dt != nil {
		tm, _ := ext["temporal"].(map[string]any)
		ivs, _ := tm["interval"].([]any)
		hit := false
		for _, iv := range ivs {
			pair, _ := iv.([]any)
			if len(pair) != 2 {
				continue
			}
			start, end := collectionTime(pair[0], false), collectionTime(pair[1], true)
			if cq.dt.Overlaps(start, end) {
				hit = true
				break
			}
		}
		if !hit {
			return false, nil
		}
	}
	if !cq.q.Empty() {
		parts := []string{fmt.Sprint(doc["id"])}
		for _, k := range []string{"title", "description"} {
			if v, ok := doc[k].(string); ok {
				parts = append(parts, v)
			}
		}
		if kw, ok := doc["keywords"].([]any); ok {
			for _, k := range kw {
				parts = append(parts, fmt.Sprint(k))
			}
		}
		if !cq.q.Matches(strings.Join(parts, " | ")) {
			return false, nil
		}
	}
	if cq.filter != nil {
		// Collection members are the properties filters name.
		ok, err := cql2.Evaluate(cq.filter, map[string]any{"id": doc["id"], "properties": doc})
		if err != nil {
			return false, &search.InvalidParamError{Param: "filter", Reason: err.Error(), Err: err}
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

func collectionTime(v any, end bool) time.Time {
	s, _ := v.(string)
	if t, err := stac.ParseTime(s); err == nil {
		return t
	}
	if end {
		return farFuture
	}
	return farPast
}

// searchCollections answers GET /collections with search parameters.
func (s *Server) searchCollections(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	cq, err := s.parseCollectionQuery(v)
	if err != nil {
		return err
	}
	var all []store.Record
	token := ""
	for {
		page, err := s.store.Collections(r.Context(), store.CollectionQuery{Limit: 1000, Token: token})
		if err != nil {
			return err
		}
		all = append(all, page.Collections...)
		if token = page.Next; token == "" {
			break
		}
	}
	type match struct {
		rec store.Record
		doc map[string]any
	}
	var hits []match
	for _, rec := range all {
		var doc map[string]any
		if err := json.Unmarshal(rec.Doc, &doc); err != nil {
			return err
		}
		ok, err := cq.matches(doc)
		if err != nil {
			return err
		}
		if ok {
			hits = append(hits, match{rec, doc})
		}
	}
	sortBy := cq.sortBy
	if len(sortBy) == 0 {
		sortBy = []search.SortField{{Field: "id"}}
	}
	slices.SortStableFunc(hits, func(a, b match) int {
		for _, f := range sortBy {
			c := compareAny(a.doc[f.Field], b.doc[f.Field])
			if f.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(a.rec.ID, b.rec.ID)
	})
	matched := len(hits)
	hits = hits[min(cq.offset, len(hits)):]
	next := ""
	if len(hits) > cq.limit {
		hits = hits[:cq.limit]
		next = base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(cq.offset+cq.limit)))
	}
	base := s.base(r)
	var buf bytes.Buffer
	buf.WriteString(`{"collections":[`)
	for i, h := range hits {
		if i > 0 {
			buf.WriteByte(',')
		}
		b, err := projectItem(h.rec.Doc, cq.fields, s.collectionLinks(base, h.rec.ID))
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	links := []Link{
		{Rel: "self", Href: s.selfURL(r, v), Type: typeJSON},
		{Rel: "root", Href: base + "/", Type: typeJSON},
		{Rel: "parent", Href: base + "/", Type: typeJSON},
	}
	if next != "" {
		links = append(links, s.nextLink(r, v, next, typeJSON))
	}
	buf.WriteString(`],"links":`)
	buf.Write(mustJSON(links))
	fmt.Fprintf(&buf, `,"numberMatched":%d,"numberReturned":%d}`, matched, len(hits))
	httpx.WriteBytes(w, http.StatusOK, typeJSON, buf.Bytes())
	return nil
}

// compareAny orders JSON values: missing/null first, then numbers, then
// strings, then anything else by its JSON text.
func compareAny(a, b any) int {
	rank := func(v any) int {
		switch v.(type) {
		case nil:
			return 0
		case float64:
			return 1
		case string:
			return 2
		}
		return 3
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return cmp.Compare(ra, rb)
	}
	switch x := a.(type) {
	case float64:
		return cmp.Compare(x, b.(float64))
	case string:
		return strings.Compare(x, b.(string))
	case nil:
		return 0
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Compare(ja, jb)
}

var (
	farPast   = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	farFuture = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)
