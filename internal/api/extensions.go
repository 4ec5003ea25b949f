package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
)

// Conformance classes of the search extensions.
var (
	sortConformance = []string{
		"https://api.stacspec.org/v1.0.0/item-search#sort",
		"https://api.stacspec.org/v1.0.0/ogcapi-features#sort",
	}
	fieldsConformance = []string{
		"https://api.stacspec.org/v1.0.0/item-search#fields",
		"https://api.stacspec.org/v1.0.0/ogcapi-features#fields",
	}
	freeTextConformance = []string{
		"https://api.stacspec.org/v1.0.0-rc.1/item-search#free-text",
		"https://api.stacspec.org/v1.0.0-rc.1/ogcapi-features#free-text",
	}
	queryConformance = []string{
		"https://api.stacspec.org/v1.0.0/item-search#query",
		"https://api.stacspec.org/v1.0.0/ogcapi-features#query",
	}
)

const relSortables = "http://www.opengis.net/def/rel/ogc/1.0/sortables"

// checkQuery applies what the store can do and what the catalog holds to a
// parsed query: filters and sorts on unknown properties are refused unless
// the server is permissive.
func (s *Server) checkQuery(ctx context.Context, q search.Query) error {
	if err := s.checkFilter(ctx, q); err != nil {
		return err
	}
	if _, ok := s.raw.(store.FreeTexter); !ok && !q.Q.Empty() {
		return httpx.BadRequest("q", "this store does not support free-text search")
	}
	if len(q.SortBy) == 0 {
		return nil
	}
	if _, ok := s.raw.(store.Sorter); !ok {
		return httpx.BadRequest("sortby", "this store does not support sorting")
	}
	if s.cfg.FilterPermissive {
		return nil
	}
	fields := make([]string, len(q.SortBy))
	for i, f := range q.SortBy {
		if f.Field == "geometry" {
			return httpx.BadRequest("sortby", "%q is not sortable (see the sortables of the searched collections)", f.Field)
		}
		fields[i] = f.Field
	}
	bad, err := s.unknownQueryable(ctx, q.Collections, fields)
	if err != nil || bad == "" {
		return err
	}
	return httpx.BadRequest("sortby", "%q is not sortable (see the sortables of the searched collections)", bad)
}

func (s *Server) writeSortables(w http.ResponseWriter, r *http.Request, collections []string, self string) error {
	props, _, err := s.queryables(r.Context(), collections)
	if err != nil {
		return err
	}
	delete(props, "geometry")
	httpx.WriteJSON(w, http.StatusOK, typeSchema, map[string]any{
		"$schema":              "https://json-schema.org/draft/2019-09/schema",
		"$id":                  self,
		"type":                 "object",
		"title":                "Sortables",
		"properties":           props,
		"additionalProperties": s.cfg.FilterPermissive,
	})
	return nil
}

func (s *Server) sortablesAll(w http.ResponseWriter, r *http.Request) error {
	return s.writeSortables(w, r, nil, s.base(r)+"/sortables")
}

func (s *Server) sortablesOf(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("collectionId")
	return s.writeSortables(w, r, []string{id}, s.base(r)+"/collections/"+pathEscape(id)+"/sortables")
}

// projectItem applies a fields selection to a stored document and adds the
// generated links (unless "links" is excluded).
func projectItem(doc []byte, f *search.Fields, links [][]byte) ([]byte, error) {
	if f.Empty() {
		return stac.AppendLinks(nil, doc, links...), nil
	}
	var item map[string]any
	if err := json.Unmarshal(doc, &item); err != nil {
		return nil, err
	}
	stored, _ := item["links"].([]any)
	out := f.Apply(item)
	if inc, matched := fieldsRule(f, "links"); !matched || inc {
		all := make([]json.RawMessage, 0, len(stored)+len(links))
		for _, l := range stored {
			b, _ := json.Marshal(l)
			all = append(all, b)
		}
		for _, l := range links {
			all = append(all, l)
		}
		out["links"] = all
	} else {
		delete(out, "links")
	}
	return json.Marshal(out)
}

// fieldsRule reports the decision for a top-level member: links are kept
// unless excluded.
func fieldsRule(f *search.Fields, member string) (include, matched bool) {
	for _, e := range f.Exclude {
		if e == member {
			return false, true
		}
	}
	return true, false
}
