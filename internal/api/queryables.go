package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/store"
)

// filterConformance are the classes of the Filter extension and of CQL2.
var filterConformance = []string{
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
	"https://api.stacspec.org/v1.0.0/item-search#filter",
	"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
	"http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
	"http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
	"http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
	"http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
	"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
	"http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
	"http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
	"http://www.opengis.net/spec/cql2/1.0/conf/array-functions",
	"http://www.opengis.net/spec/cql2/1.0/conf/property-property",
	"http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
}

// coreQueryables are queryable on every item.
func coreQueryables() map[string]any {
	return map[string]any{
		"id":             map[string]any{"title": "Item ID", "type": "string"},
		"collection":     map[string]any{"title": "Collection ID", "type": "string"},
		"geometry":       map[string]any{"title": "Item geometry", "$ref": "https://geojson.org/schema/Geometry.json"},
		"datetime":       map[string]any{"title": "Acquisition time", "type": "string", "format": "date-time"},
		"start_datetime": map[string]any{"title": "Start of the acquisition", "type": "string", "format": "date-time"},
		"end_datetime":   map[string]any{"title": "End of the acquisition", "type": "string", "format": "date-time"},
	}
}

// queryables returns the queryable properties of the given collections
// (all when none): the core ones, those the collections declare (their
// "queryables" member, as stac-server collections carry) and those the
// items hold. complete is false when the store cannot list what the items
// hold (then unknown properties cannot be refused).
func (s *Server) queryables(ctx context.Context, collections []string) (props map[string]any, complete bool, err error) {
	props = coreQueryables()
	var docs []store.Record
	if len(collections) > 0 {
		for _, id := range collections {
			c, err := s.store.Collection(ctx, id)
			if err != nil {
				return nil, false, err
			}
			docs = append(docs, c)
		}
	} else {
		token := ""
		for {
			page, err := s.store.Collections(ctx, store.CollectionQuery{Limit: 1000, Token: token})
			if err != nil {
				return nil, false, err
			}
			docs = append(docs, page.Collections...)
			if token = page.Next; token == "" {
				break
			}
		}
	}
	for _, c := range docs {
		var head struct {
			Queryables struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"queryables"`
		}
		_ = json.Unmarshal(c.Doc, &head)
		for name, schema := range head.Queryables.Properties {
			if _, ok := props[name]; !ok {
				props[name] = schema
			}
		}
	}
	if _, ok := s.raw.(store.PropertiesReader); !ok {
		return props, false, nil
	}
	held, err := s.store.(store.PropertiesReader).ItemProperties(ctx, collections)
	if err != nil {
		return nil, false, err
	}
	for name, typ := range held {
		if _, ok := props[name]; ok {
			continue
		}
		schema := map[string]any{"title": name}
		if typ != "mixed" {
			schema["type"] = typ
		}
		props[name] = schema
	}
	return props, true, nil
}

// checkFilter refuses filters on properties that are not queryable, unless
// the server is permissive.
func (s *Server) checkFilter(ctx context.Context, q search.Query) error {
	if q.Filter == nil {
		return nil
	}
	if _, ok := s.raw.(store.Filterer); !ok {
		return httpx.BadRequest("filter", "this store does not support filters")
	}
	if s.cfg.FilterPermissive {
		return nil
	}
	names := cql2.Properties(q.Filter)
	keys := make([]string, len(names))
	for i, name := range names {
		keys[i], _ = cql2.PropertyKey(name)
	}
	bad, err := s.unknownQueryable(ctx, q.Collections, keys)
	if err != nil || bad == "" {
		return err
	}
	return httpx.BadRequest("filter", "property %q is not queryable (see the queryables of the searched collections)", names[slices.Index(keys, bad)])
}

func (s *Server) writeQueryables(w http.ResponseWriter, r *http.Request, collections []string, self string) error {
	props, _, err := s.queryables(r.Context(), collections)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	httpx.WriteJSON(w, http.StatusOK, "application/schema+json", map[string]any{
		"$schema":              "https://json-schema.org/draft/2019-09/schema",
		"$id":                  self,
		"type":                 "object",
		"title":                "Queryables",
		"properties":           props,
		"additionalProperties": s.cfg.FilterPermissive,
	})
	return nil
}

func (s *Server) queryablesAll(w http.ResponseWriter, r *http.Request) error {
	return s.writeQueryables(w, r, nil, s.base(r)+"/queryables")
}

func (s *Server) queryablesOf(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("collectionId")
	return s.writeQueryables(w, r, []string{id}, s.base(r)+"/collections/"+pathEscape(id)+"/queryables")
}
