package tiles

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/store"
)

// ItemFinder finds the STAC items a mosaic draws, in priority order. The
// catalog store is one (StoreFinder); CMR is the next.
type ItemFinder interface {
	// FindItems calls yield with each item (STAC JSON) matching q, best
	// first, until yield returns false or the results end. q.Limit is a
	// page size hint.
	FindItems(ctx context.Context, q search.Query, yield func(doc []byte) bool) error
}

// StoreFinder finds mosaic items with a catalog store's searches, page by
// page, in the search's sortby order (the store's default, datetime
// descending, when none).
type StoreFinder struct{ Searcher store.Searcher }

// FindItems implements ItemFinder.
func (f StoreFinder) FindItems(ctx context.Context, q search.Query, yield func([]byte) bool) error {
	if q.Filter != nil {
		if _, ok := f.Searcher.(store.Filterer); !ok {
			return httpx.BadRequest("filter", "the catalog store does not support CQL2 filters")
		}
	}
	if len(q.SortBy) > 0 {
		if _, ok := f.Searcher.(store.Sorter); !ok {
			return httpx.BadRequest("sortby", "the catalog store does not support sorting")
		}
	}
	for {
		page, err := f.Searcher.Search(ctx, q)
		if err != nil {
			return err
		}
		for _, rec := range page.Items {
			if !yield(rec.Doc) {
				return nil
			}
		}
		if page.Next == "" || len(page.Items) == 0 {
			return nil
		}
		q.Token = page.Next
	}
}

// searchDoc is a registered search as stored: the search (a STAC API POST
// /search body, filter normalised to cql2-json) and free metadata
// (titiler-pgstac's name, bounds, minzoom, maxzoom, assets, defaults, ...).
type searchDoc struct {
	Search   searchBody     `json:"search"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

type searchBody struct {
	Collections []string        `json:"collections,omitempty"`
	IDs         []string        `json:"ids,omitempty"`
	BBox        []float64       `json:"bbox,omitempty"`
	Intersects  json.RawMessage `json:"intersects,omitempty"`
	Datetime    string          `json:"datetime,omitempty"`
	Filter      json.RawMessage `json:"filter,omitempty"`
	FilterLang  string          `json:"filter-lang,omitempty"`
	SortBy      json.RawMessage `json:"sortby,omitempty"`
}

// mosaicSearch is a resolved search: its id, document and query plan.
type mosaicSearch struct {
	id    string
	doc   searchDoc
	query search.Query
	// collection is set for /collections/{cid} mosaics.
	collection string
}

// registerBodyMembers are the members POST /searches/register accepts.
var registerBodyMembers = []string{"collections", "ids", "bbox", "intersects", "datetime", "filter", "filter-lang", "filter-crs", "sortby", "metadata"}

// parseRegister validates a register body and returns the normalised
// document and its query plan.
func parseRegister(body []byte) (searchDoc, search.Query, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return searchDoc{}, search.Query{}, httpx.BadRequest("body", "must be a JSON object")
	}
	for k := range raw {
		if !slices.Contains(registerBodyMembers, k) {
			return searchDoc{}, search.Query{}, httpx.BadRequest(k, "unknown member (accepted: %s)", strings.Join(registerBodyMembers, ", "))
		}
	}
	var d searchDoc
	if m, ok := raw["metadata"]; ok && string(m) != "null" {
		if err := json.Unmarshal(m, &d.Metadata); err != nil {
			return d, search.Query{}, httpx.BadRequest("metadata", "must be a JSON object")
		}
	}
	if s, ok := raw["sortby"]; ok && string(s) != "null" {
		norm, err := normaliseSortBy(s)
		if err != nil {
			return d, search.Query{}, err
		}
		d.Search.SortBy = norm
	}
	// the query plan, through the STAC search parser
	qb := map[string]json.RawMessage{}
	for k, v := range raw {
		if k != "metadata" && k != "sortby" {
			qb[k] = v
		}
	}
	if d.Search.SortBy != nil {
		qb["sortby"] = d.Search.SortBy
	}
	qbody, _ := json.Marshal(qb)
	q, err := search.ParsePOST(qbody, search.DefaultLimits())
	if err != nil {
		return d, q, err
	}
	b := &d.Search
	b.Collections = sortedUnique(q.Collections)
	b.IDs = sortedUnique(q.IDs)
	if q.BBox != nil {
		b.BBox = q.BBox.Slice()
	}
	if q.Intersects != nil {
		b.Intersects = bytes.TrimSpace(raw["intersects"])
	}
	if v, ok := raw["datetime"]; ok && string(v) != "null" {
		_ = json.Unmarshal(v, &b.Datetime)
	}
	if q.Filter != nil {
		if b.Filter, err = cql2.JSON(q.Filter); err != nil {
			return d, q, httpx.BadRequest("filter", "%v", err)
		}
		b.FilterLang = "cql2-json"
	}
	return d, q, nil
}

func sortedUnique(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	out := slices.Clone(v)
	sort.Strings(out)
	return slices.Compact(out)
}

// normaliseSortBy accepts the STAC sort extension's POST form
// ([{"field": "...", "direction": "asc"|"desc"}]) or the GET form
// ("-datetime,+id") and returns the POST form.
func normaliseSortBy(raw json.RawMessage) (json.RawMessage, error) {
	type field struct {
		Field     string `json:"field"`
		Direction string `json:"direction"`
	}
	var out []field
	var s string
	if json.Unmarshal(raw, &s) == nil {
		for _, p := range strings.Split(s, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			f := field{Field: strings.TrimLeft(p, "+-"), Direction: "asc"}
			if strings.HasPrefix(p, "-") {
				f.Direction = "desc"
			}
			out = append(out, f)
		}
	} else if err := json.Unmarshal(raw, &out); err != nil {
		return nil, httpx.BadRequest("sortby", `must be [{"field": ..., "direction": "asc"|"desc"}] or "-field,+field"`)
	}
	for i, f := range out {
		if f.Field == "" {
			return nil, httpx.BadRequest("sortby", "entry %d has no field", i)
		}
		switch strings.ToLower(f.Direction) {
		case "", "asc", "ascending":
			out[i].Direction = "asc"
		case "desc", "descending":
			out[i].Direction = "desc"
		default:
			return nil, httpx.BadRequest("sortby", "direction %q must be asc or desc", f.Direction)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	b, _ := json.Marshal(out)
	return b, nil
}

// searchID is the content hash of a normalised document: registering the
// same search (and metadata) twice gives the same id.
func searchID(d searchDoc) (string, []byte) {
	b, _ := json.Marshal(d) // map keys are sorted: canonical
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16]), b
}

// searchRegistry keeps registered searches: the store when it can, else
// process memory; parsed searches are cached (ids are content hashes, so a
// cached entry never goes stale).
type searchRegistry struct {
	st store.SearchRegistry // nil: memory only

	mu     sync.Mutex
	mem    map[string][]byte
	parsed map[string]*mosaicSearch
}

const maxParsedSearches = 4096

func (g *searchRegistry) register(ctx context.Context, id string, doc []byte) error {
	if g.st != nil {
		return g.st.RegisterSearch(ctx, id, doc)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mem == nil {
		g.mem = map[string][]byte{}
	}
	g.mem[id] = doc
	return nil
}

func (g *searchRegistry) get(ctx context.Context, id string) (*mosaicSearch, error) {
	g.mu.Lock()
	ms, ok := g.parsed[id]
	var doc []byte
	if !ok && g.st == nil {
		doc = g.mem[id]
	}
	g.mu.Unlock()
	if ok {
		return ms, nil
	}
	if g.st != nil {
		var err error
		if doc, err = g.st.RegisteredSearch(ctx, id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, httpx.NotFound("unknown search %q (register it with POST /searches/register)", id)
			}
			return nil, err
		}
	}
	if doc == nil {
		return nil, httpx.NotFound("unknown search %q (register it with POST /searches/register)", id)
	}
	var d searchDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("tiles: registered search %s: %w", id, err)
	}
	q, err := d.query()
	if err != nil {
		return nil, fmt.Errorf("tiles: registered search %s: %w", id, err)
	}
	ms = &mosaicSearch{id: id, doc: d, query: q}
	g.mu.Lock()
	if g.parsed == nil || len(g.parsed) >= maxParsedSearches {
		g.parsed = map[string]*mosaicSearch{}
	}
	g.parsed[id] = ms
	g.mu.Unlock()
	return ms, nil
}

// query rebuilds the query plan of a stored document.
func (d searchDoc) query() (search.Query, error) {
	body, err := json.Marshal(d.Search)
	if err != nil {
		return search.Query{}, err
	}
	return search.ParsePOST(body, search.DefaultLimits())
}

// registerSearch is POST /searches/register.
func (s *Server) registerSearch(w http.ResponseWriter, r *http.Request, _ resolver) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return httpx.BadRequest("body", "%v", err)
	}
	d, _, err := parseRegister(body)
	if err != nil {
		return err
	}
	id, doc := searchID(d)
	if err := s.searches.register(r.Context(), id, doc); err != nil {
		return err
	}
	base := s.baseURL(r) + "/searches/" + url.PathEscape(id)
	t := s.cfg.DefaultTMS
	links := []map[string]string{
		{"rel": "metadata", "type": "application/json", "title": "Mosaic metadata", "href": base + "/info"},
		{"rel": "tilejson", "type": "application/json", "title": "TileJSON link (Template URL)", "href": base + "/{tileMatrixSetId}/tilejson.json", "templated": "true"},
		{"rel": "tilejson", "type": "application/json", "title": "TileJSON (" + t + ")", "href": base + "/" + t + "/tilejson.json"},
		{"rel": "map", "type": "text/html", "title": "Map viewer (" + t + ")", "href": base + "/" + t + "/map.html"},
		{"rel": "wmts", "type": "application/xml", "title": "WMTS capabilities (" + t + ")", "href": base + "/" + t + "/WMTSCapabilities.xml"},
		{"rel": "tiles", "type": "image/png", "title": "Tiles (Template URL)", "href": base + "/tiles/{tileMatrixSetId}/{z}/{x}/{y}", "templated": "true"},
	}
	out, _ := json.Marshal(map[string]any{"id": id, "links": links, "search": d.Search, "metadata": d.Metadata})
	httpx.WriteBytes(w, http.StatusOK, "application/json", out)
	return nil
}

// resolveSearch returns the search of a /searches/{id} or /collections/{cid}
// mosaic route.
func (s *Server) resolveSearch(r *http.Request) (*mosaicSearch, error) {
	if s.finder == nil {
		return nil, httpx.NotFound("no catalog configured for mosaics")
	}
	if cid := r.PathValue("cid"); cid != "" {
		q := search.Query{Collections: []string{cid}, Limit: 100}
		return &mosaicSearch{id: "collection:" + cid, collection: cid, query: q,
			doc: searchDoc{Search: searchBody{Collections: []string{cid}}, Metadata: map[string]any{"name": cid}}}, nil
	}
	return s.searches.get(r.Context(), r.PathValue("id"))
}

// searchInfo is GET /searches/{id}/info (and /collections/{cid}/info).
func (s *Server) searchInfo(w http.ResponseWriter, r *http.Request, _ resolver) error {
	ms, err := s.resolveSearch(r)
	if err != nil {
		return err
	}
	base := s.baseURL(r) + mosaicPrefix(r)
	t := s.cfg.DefaultTMS
	doc := map[string]any{
		"search": map[string]any{"id": ms.id, "search": ms.doc.Search, "metadata": ms.doc.Metadata},
		"links": []map[string]string{
			{"rel": "self", "type": "application/json", "href": base + "/info"},
			{"rel": "tilejson", "type": "application/json", "href": base + "/" + t + "/tilejson.json"},
			{"rel": "map", "type": "text/html", "href": base + "/" + t + "/map.html"},
			{"rel": "wmts", "type": "application/xml", "href": base + "/" + t + "/WMTSCapabilities.xml"},
		},
	}
	b, _ := json.Marshal(doc)
	s.writeBody(w, r, http.StatusOK, "application/json", b, nil)
	return nil
}

// mosaicPrefix is the path prefix of a mosaic route.
func mosaicPrefix(r *http.Request) string {
	if cid := r.PathValue("cid"); cid != "" {
		return "/collections/" + url.PathEscape(cid)
	}
	return "/searches/" + url.PathEscape(r.PathValue("id"))
}
