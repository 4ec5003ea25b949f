package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/tessera-geo/tessera/internal/auth"
	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/store"
)

// Config is the STAC API's configuration.
type Config struct {
	ID          string // landing page id
	Title       string
	Description string
	// BaseURL, when set, is the public URL of the API root (scheme, host and
	// path); links are built from it instead of from the request.
	BaseURL string
	// RootPath is a path prefix the API is served under behind a proxy
	// (e.g. /stac); links include it and requests may carry it.
	RootPath string
	Limits   search.Limits
	// MaxBodyBytes bounds POST bodies (413 beyond).
	MaxBodyBytes int64
	// Transactions enables the Transaction extensions (POST, PUT, PATCH and
	// DELETE of items and collections).
	Transactions bool
	// FilterPermissive accepts filters on properties that are not
	// queryables (they then match nothing) instead of answering 400.
	FilterPermissive bool
	// AssetProxy serves s3:// asset hrefs through the API (presigned
	// redirects); the zero value serves hrefs as stored.
	AssetProxy AssetProxy
}

// Defaults returns a usable configuration.
func Defaults() Config {
	return Config{
		ID:           "tessera",
		Title:        "tessera STAC API",
		Description:  "A STAC catalog with an ingest pipeline and a dynamic tile server.",
		Limits:       search.DefaultLimits(),
		MaxBodyBytes: 10 << 20,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("base URL %q must be an absolute http(s) URL", c.BaseURL)
		}
	}
	if c.RootPath != "" && (!strings.HasPrefix(c.RootPath, "/") || strings.HasSuffix(c.RootPath, "/")) {
		return fmt.Errorf("root path %q must start with / and not end with /", c.RootPath)
	}
	if err := c.AssetProxy.validate(); err != nil {
		return err
	}
	if c.Limits.DefaultLimit < 1 || c.Limits.MaxLimit < c.Limits.DefaultLimit {
		return fmt.Errorf("items limits: default %d must be ≥ 1 and ≤ the maximum %d", c.Limits.DefaultLimit, c.Limits.MaxLimit)
	}
	return nil
}

// Server is the STAC API.
type Server struct {
	cfg Config
	// store is the catalog as the request's principal sees it (every read
	// and write goes through it); raw is the backend itself, asked only
	// which capabilities it has.
	store store.Store
	raw   store.Store
	log   *slog.Logger
	// openapi builds the service description on first use: parsing the
	// YAML took 8–14 ms of every start.
	openapi func() (openAPIDoc, error)
	// qnames caches queryable names for filter and sort checks.
	qnames queryableNames
}

// New builds the API on a store.
func New(cfg Config, st store.Store, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, store: auth.NewStore(st), raw: st, log: log, openapi: sync.OnceValues(loadOpenAPI)}, nil
}

// handler is an HTTP handler that returns its error.
type handler func(w http.ResponseWriter, r *http.Request) error

// Register adds the API's routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	s.route(mux, "/{$}", methods{"GET": s.landing})
	s.route(mux, "/conformance", methods{"GET": s.conformance})
	s.route(mux, "/api", methods{"GET": s.serviceDesc})
	s.route(mux, "/api.html", methods{"GET": s.serviceDoc})
	collections := methods{"GET": s.collections}
	collection := methods{"GET": s.collection}
	items := methods{"GET": s.items}
	item := methods{"GET": s.item}
	if s.cfg.Transactions {
		collections["POST"] = s.createCollection
		collection["PUT"], collection["PATCH"], collection["DELETE"] = s.updateCollection, s.updateCollection, s.deleteCollection
		items["POST"] = s.createItems
		item["PUT"], item["PATCH"], item["DELETE"] = s.updateItem, s.updateItem, s.deleteItem
	}
	s.route(mux, "/collections", collections)
	s.route(mux, "/collections/{collectionId}", collection)
	s.route(mux, "/collections/{collectionId}/items", items)
	s.route(mux, "/collections/{collectionId}/items/{itemId}", item)
	if s.cfg.AssetProxy.enabled() {
		// GET only (HEAD included): a method-less pattern would conflict
		// with the tile server's GET /collections/{cid}/items/{iid}/{a}/{b}.
		mux.HandleFunc("GET /collections/{collectionId}/items/{itemId}/assets/{assetKey}", func(w http.ResponseWriter, r *http.Request) {
			if err := s.asset(w, r); err != nil {
				s.writeError(w, r, err)
			}
		})
	}
	s.route(mux, "/search", methods{"GET": s.searchGET, "POST": s.searchPOST})
	if _, ok := s.raw.(store.Filterer); ok {
		s.route(mux, "/queryables", methods{"GET": s.queryablesAll})
		s.route(mux, "/collections/{collectionId}/queryables", methods{"GET": s.queryablesOf})
	}
	if _, ok := s.raw.(store.Aggregator); ok {
		s.route(mux, "/aggregations", methods{"GET": s.aggregations})
		s.route(mux, "/aggregate", methods{"GET": s.aggregate, "POST": s.aggregate})
		s.route(mux, "/collections/{collectionId}/aggregations", methods{"GET": s.aggregations})
		s.route(mux, "/collections/{collectionId}/aggregate", methods{"GET": s.aggregate, "POST": s.aggregate})
	}
	if _, ok := s.raw.(store.Sorter); ok {
		s.route(mux, "/sortables", methods{"GET": s.sortablesAll})
		s.route(mux, "/collections/{collectionId}/sortables", methods{"GET": s.sortablesOf})
	}
}

// conformance lists the classes the API implements with this store.
func (s *Server) conformsTo() []string {
	out := append([]string(nil), conformanceClasses...)
	if _, ok := s.raw.(store.Filterer); ok {
		out = append(out, filterConformance...)
		out = append(out, queryConformance...)
	}
	if _, ok := s.raw.(store.Sorter); ok {
		out = append(out, sortConformance...)
	}
	if _, ok := s.raw.(store.FreeTexter); ok {
		out = append(out, freeTextConformance...)
	}
	if _, ok := s.raw.(store.Aggregator); ok {
		out = append(out, aggregationConformance...)
	}
	out = append(out, fieldsConformance...)
	out = append(out, collectionSearchConformance...)
	if s.cfg.Transactions {
		out = append(out, transactionConformance...)
	}
	return out
}

type methods map[string]handler

// route registers a path for the given methods; other methods get a 405
// with the STAC error body and an Allow header.
func (s *Server) route(mux *http.ServeMux, path string, m methods) {
	if h, ok := m["GET"]; ok {
		m["HEAD"] = h
	}
	allow := make([]string, 0, len(m)+1)
	for k := range m {
		allow = append(allow, k)
	}
	allow = append(allow, "OPTIONS")
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		h, ok := m[r.Method]
		if !ok {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.writeError(w, r, &httpx.Error{Status: http.StatusMethodNotAllowed, Code: httpx.CodeMethodNotAllowed,
				Description: fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path)})
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	httpx.WriteError(w, r, s.log, err)
}

// NotFound answers unknown paths with the STAC error body.
func (s *Server) NotFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, httpx.NotFound("no resource at %s", r.URL.Path))
}

// StripRootPath removes the configured root path from requests that still
// carry it (a proxy that does not strip it); requests without it pass as
// they are (a proxy that does).
func (s *Server) StripRootPath(next http.Handler) http.Handler {
	root := s.cfg.RootPath
	if root == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == root || strings.HasPrefix(p, root+"/") {
			r2 := r.Clone(r.Context())
			r2.URL.Path = strings.TrimPrefix(p, root)
			if r2.URL.Path == "" {
				r2.URL.Path = "/"
			}
			r2.URL.RawPath = ""
			next.ServeHTTP(w, r2)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// readBody reads a bounded request body.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	b, err := readAll(body)
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return nil, err
	}
	if err != nil {
		return nil, httpx.BadRequest("body", "could not read the request body: %v", err)
	}
	return b, nil
}
