package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
)

// conformanceClasses are the classes this API implements.
var conformanceClasses = []string{
	"https://api.stacspec.org/v1.0.0/core",
	"https://api.stacspec.org/v1.0.0/collections",
	"https://api.stacspec.org/v1.0.0/ogcapi-features",
	"https://api.stacspec.org/v1.0.0/item-search",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
}

func (s *Server) landing(w http.ResponseWriter, r *http.Request) error {
	base := s.base(r)
	links := []Link{
		{Rel: "self", Href: base + "/", Type: typeJSON},
		{Rel: "root", Href: base + "/", Type: typeJSON},
		{Rel: "conformance", Href: base + "/conformance", Type: typeJSON},
		{Rel: "data", Href: base + "/collections", Type: typeJSON},
		{Rel: "search", Href: base + "/search", Type: typeGeoJSON, Method: "GET"},
		{Rel: "search", Href: base + "/search", Type: typeGeoJSON, Method: "POST"},
		{Rel: "service-desc", Href: base + "/api", Type: typeOpenAPI},
		{Rel: "service-desc", Href: base + "/api?f=yaml", Type: "application/vnd.oai.openapi;version=3.0"},
		{Rel: "service-doc", Href: base + "/api.html", Type: typeHTML},
	}
	if _, ok := s.raw.(store.Filterer); ok {
		links = append(links, Link{Rel: relQueryables, Href: base + "/queryables", Type: typeSchema})
	}
	token := ""
	for {
		page, err := s.store.Collections(r.Context(), store.CollectionQuery{Limit: 1000, Token: token})
		if err != nil {
			return err
		}
		for _, c := range page.Collections {
			var head struct {
				Title string `json:"title"`
			}
			_ = json.Unmarshal(c.Doc, &head)
			links = append(links, Link{Rel: "child", Href: base + "/collections/" + pathEscape(c.ID), Type: typeJSON, Title: head.Title})
		}
		if page.Next == "" {
			break
		}
		token = page.Next
	}
	httpx.WriteJSON(w, http.StatusOK, typeJSON, map[string]any{
		"type":         "Catalog",
		"stac_version": "1.0.0",
		"id":           s.cfg.ID,
		"title":        s.cfg.Title,
		"description":  s.cfg.Description,
		"conformsTo":   s.conformsTo(),
		"links":        links,
	})
	return nil
}

func (s *Server) conformance(w http.ResponseWriter, r *http.Request) error {
	httpx.WriteJSON(w, http.StatusOK, typeJSON, map[string]any{"conformsTo": s.conformsTo()})
	return nil
}

// collectionLinks are the generated links of a collection.
func (s *Server) collectionLinks(base, id string) [][]byte {
	c := base + "/collections/" + pathEscape(id)
	links := [][]byte{
		mustJSON(Link{Rel: "self", Href: c, Type: typeJSON}),
		mustJSON(Link{Rel: "parent", Href: base + "/", Type: typeJSON}),
		mustJSON(Link{Rel: "root", Href: base + "/", Type: typeJSON}),
		mustJSON(Link{Rel: "items", Href: c + "/items", Type: typeGeoJSON}),
	}
	if _, ok := s.raw.(store.Filterer); ok {
		links = append(links, mustJSON(Link{Rel: relQueryables, Href: c + "/queryables", Type: typeSchema}))
	}
	return links
}

func (s *Server) collections(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for _, p := range collectionSearchParams {
		if q.Has(p) {
			return s.searchCollections(w, r)
		}
	}
	if t := q.Get("token"); t != "" {
		if b, err := base64.RawURLEncoding.DecodeString(t); err == nil && strings.HasPrefix(string(b), "o:") {
			return s.searchCollections(w, r)
		}
	}
	limit := s.cfg.Limits.DefaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return httpx.BadRequest("limit", "must be an integer ≥ 1, got %q", v)
		}
		limit = min(n, s.cfg.Limits.MaxLimit)
	}
	page, err := s.store.Collections(r.Context(), store.CollectionQuery{Limit: limit, Token: q.Get("token")})
	if err != nil {
		return err
	}
	base := s.base(r)
	var buf bytes.Buffer
	buf.WriteString(`{"collections":[`)
	for i, c := range page.Collections {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(stac.AppendLinks(nil, c.Doc, s.collectionLinks(base, c.ID)...))
	}
	links := []Link{
		{Rel: "self", Href: s.selfURL(r, q), Type: typeJSON},
		{Rel: "root", Href: base + "/", Type: typeJSON},
		{Rel: "parent", Href: base + "/", Type: typeJSON},
	}
	if page.Next != "" {
		links = append(links, s.nextLink(r, q, page.Next, typeJSON))
	}
	buf.WriteString(`],"links":`)
	buf.Write(mustJSON(links))
	buf.WriteString(`,"numberMatched":` + strconv.FormatInt(page.Matched, 10))
	buf.WriteString(`,"numberReturned":` + strconv.Itoa(len(page.Collections)) + `}`)
	httpx.WriteBytes(w, http.StatusOK, typeJSON, buf.Bytes())
	return nil
}

func (s *Server) collection(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("collectionId")
	c, err := s.store.Collection(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(c.Doc))
	httpx.WriteBytes(w, http.StatusOK, typeJSON, stac.AppendLinks(nil, c.Doc, s.collectionLinks(s.base(r), id)...))
	return nil
}

// itemLinks are the generated links of an item.
func itemLinks(base, collection, id string) [][]byte {
	c := base + "/collections/" + pathEscape(collection)
	return [][]byte{
		mustJSON(Link{Rel: "self", Href: c + "/items/" + pathEscape(id), Type: typeGeoJSON}),
		mustJSON(Link{Rel: "parent", Href: c, Type: typeJSON}),
		mustJSON(Link{Rel: "collection", Href: c, Type: typeJSON}),
		mustJSON(Link{Rel: "root", Href: base + "/", Type: typeJSON}),
	}
}

func (s *Server) item(w http.ResponseWriter, r *http.Request) error {
	cid, iid := r.PathValue("collectionId"), r.PathValue("itemId")
	it, err := s.store.Item(r.Context(), cid, iid)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(it.Doc))
	base := s.base(r)
	httpx.WriteBytes(w, http.StatusOK, typeGeoJSON, s.proxyAssets(stac.AppendLinks(nil, it.Doc, itemLinks(base, cid, iid)...), base, cid, iid))
	return nil
}

// items serves /collections/{id}/items: an item search within one
// collection.
func (s *Server) items(w http.ResponseWriter, r *http.Request) error {
	cid := r.PathValue("collectionId")
	if _, err := s.store.Collection(r.Context(), cid); err != nil {
		return err
	}
	q := r.URL.Query()
	sq, err := search.ParseGET(q, s.cfg.Limits)
	if err != nil {
		return err
	}
	sq.Collections = []string{cid}
	page, err := s.search(r.Context(), sq)
	if err != nil {
		return err
	}
	base := s.base(r)
	links := []Link{
		{Rel: "self", Href: s.selfURL(r, q), Type: typeGeoJSON},
		{Rel: "root", Href: base + "/", Type: typeJSON},
		{Rel: "parent", Href: base + "/collections/" + pathEscape(cid), Type: typeJSON},
		{Rel: "collection", Href: base + "/collections/" + pathEscape(cid), Type: typeJSON},
	}
	if page.Next != "" {
		links = append(links, s.nextLink(r, q, page.Next, typeGeoJSON))
	}
	return s.writeItemCollection(w, base, page, links, sq.Fields)
}

func (s *Server) searchGET(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	sq, err := search.ParseGET(q, s.cfg.Limits)
	if err != nil {
		return err
	}
	page, err := s.search(r.Context(), sq)
	if err != nil {
		return err
	}
	base := s.base(r)
	links := []Link{
		{Rel: "self", Href: s.selfURL(r, q), Type: typeGeoJSON},
		{Rel: "root", Href: base + "/", Type: typeJSON},
	}
	if page.Next != "" {
		links = append(links, s.nextLink(r, q, page.Next, typeGeoJSON))
	}
	return s.writeItemCollection(w, base, page, links, sq.Fields)
}

func (s *Server) searchPOST(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	sq, err := search.ParsePOST(body, s.cfg.Limits)
	if err != nil {
		return err
	}
	page, err := s.search(r.Context(), sq)
	if err != nil {
		return err
	}
	base := s.base(r)
	links := []Link{
		{Rel: "self", Href: base + "/search", Type: typeGeoJSON, Method: "POST"},
		{Rel: "root", Href: base + "/", Type: typeJSON},
	}
	if page.Next != "" {
		links = append(links, Link{Rel: "next", Href: base + "/search", Type: typeGeoJSON, Method: "POST",
			Body: mustJSON(map[string]string{"token": page.Next}), Merge: true})
	}
	return s.writeItemCollection(w, base, page, links, sq.Fields)
}

func (s *Server) writeItemCollection(w http.ResponseWriter, base string, page store.Page, links []Link, fields *search.Fields) error {
	return s.writeItemCollectionStatus(w, http.StatusOK, base, page, links, fields)
}

func (s *Server) writeItemCollectionStatus(w http.ResponseWriter, status int, base string, page store.Page, links []Link, fields *search.Fields) error {
	size := 128
	for _, it := range page.Items {
		size += len(it.Doc) + 512
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	buf.WriteString(`{"type":"FeatureCollection","features":[`)
	var scratch []byte
	for i, it := range page.Items {
		if i > 0 {
			buf.WriteByte(',')
		}
		if fields.Empty() {
			scratch = stac.AppendLinks(scratch[:0], it.Doc, itemLinks(base, it.Collection, it.ID)...)
			buf.Write(s.proxyAssets(scratch, base, it.Collection, it.ID))
			continue
		}
		b, err := projectItem(it.Doc, fields, itemLinks(base, it.Collection, it.ID))
		if err != nil {
			return err
		}
		buf.Write(s.proxyAssets(b, base, it.Collection, it.ID))
	}
	buf.WriteString(`],"links":`)
	buf.Write(mustJSON(links))
	if page.Matched != nil {
		buf.WriteString(`,"numberMatched":` + strconv.FormatInt(*page.Matched, 10))
	}
	buf.WriteString(`,"numberReturned":` + strconv.Itoa(len(page.Items)) + `}`)
	httpx.WriteBytes(w, status, typeGeoJSON, buf.Bytes())
	return nil
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// search runs a parsed search after checking it against what the store
// supports and what the catalog holds.
func (s *Server) search(ctx context.Context, sq search.Query) (store.Page, error) {
	if err := s.checkQuery(ctx, sq); err != nil {
		return store.Page{}, err
	}
	return s.store.Search(ctx, sq)
}

// nextLink is the GET link to the page after token: the request's own
// query with the token set.
func (s *Server) nextLink(r *http.Request, q url.Values, token, mediaType string) Link {
	nq := cloneValues(q)
	nq.Set("token", token)
	return Link{Rel: "next", Href: s.selfURL(r, nq), Type: mediaType, Method: "GET"}
}
