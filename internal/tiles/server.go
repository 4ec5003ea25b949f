package tiles

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/render"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/tms"
)

// Items gives the tiler the STAC items it renders; the catalog store
// adapter implements it.
type Items interface {
	// Item returns the STAC item JSON; errors.Is(err, store.ErrNotFound)
	// when missing.
	Item(ctx context.Context, collection, id string) ([]byte, error)
}

// Deps are the collaborators of the tile server.
type Deps struct {
	Log    *slog.Logger
	Reader raster.Reader
	Items  Items // optional: without it, item routes answer 404
	// Finder finds the items of mosaics (searches and collections);
	// optional: without it, mosaic routes answer 404.
	Finder ItemFinder
	// Searches keeps registered searches; optional: without it they live
	// in process memory.
	Searches store.SearchRegistry
	// Partition names what the request's caller may see of the catalog
	// (its effective authorization: visible collections and filter), ""
	// for everything; results shared between requests, such as the
	// per-tile searches of mosaics, are cached per partition. Required
	// when Finder narrows its results by caller (auth.CacheKey);
	// optional otherwise.
	Partition func(ctx context.Context) string
}

// Server serves tiles, previews, points, statistics and metadata.
type Server struct {
	cfg    Config
	log    *slog.Logger
	reader raster.Reader
	items  Items
	tms    *tms.Set

	finder    ItemFinder
	searches  *searchRegistry
	itemCache *ttlCache[*tileItems]
	partition func(ctx context.Context) string
}

// New builds a Server. cfg must validate and deps.Reader must be set.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Reader == nil {
		return nil, errors.New("tiles: Deps.Reader is required (build with -tags gdal)")
	}
	set, err := tms.Default()
	if err != nil {
		return nil, err
	}
	if _, err := set.Get(cfg.DefaultTMS); err != nil {
		return nil, fmt.Errorf("tiles: DefaultTMS: %w", err)
	}
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	go render.WarmUp()
	return &Server{cfg: cfg, log: log, reader: deps.Reader, items: deps.Items, tms: set,
		finder: deps.Finder, searches: &searchRegistry{st: deps.Searches},
		itemCache: newTTLCache[*tileItems](cfg.Mosaic.CacheEntries, cfg.Mosaic.CacheTTL), partition: deps.Partition}, nil
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, res resolver) error

var imageExts = []string{"png", "jpeg", "jpg", "webp", "tif", "npy"}

// Register adds the routes to mux. Every route exists under /cog (with
// ?url=) and under /collections/{cid}/items/{iid} (with ?assets=).
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /tileMatrixSets", s.wrap(s.tileMatrixSets, nil))
	mux.HandleFunc("GET /tileMatrixSets/{id}", s.wrap(s.tileMatrixSet, nil))
	mux.HandleFunc("GET /colorMaps", s.wrap(s.colorMaps, nil))
	mux.HandleFunc("GET /colorMaps/{name}", s.wrap(s.colorMap, nil))
	mux.HandleFunc("GET /algorithms", s.wrap(s.algorithms, nil))
	mux.HandleFunc("GET /tiles-static/{file}", s.static)

	for _, pre := range []struct {
		prefix string
		res    resolver
	}{{"/cog", s.resolveCOG}, {"/collections/{cid}/items/{iid}", s.resolveItem}} {
		p, res := pre.prefix, pre.res
		mux.HandleFunc("GET "+p+"/tiles/{tms}/{z}/{x}/{y}", s.wrap(s.tile, res))
		// {tms}/tilejson.json, {tms}/WMTSCapabilities.xml, {tms}/map.html,
		// point/{lon},{lat} and bbox/{coords}.{fmt} share one two-segment
		// pattern (ServeMux forbids overlapping wildcards).
		mux.HandleFunc("GET "+p+"/{a}/{b}", s.wrap(s.twoSegments, res))
		mux.HandleFunc("GET "+p+"/info", s.wrap(s.info, res))
		mux.HandleFunc("GET "+p+"/info.geojson", s.wrap(s.infoGeoJSON, res))
		s.registerImages(mux, p, s.onTarget, res)
	}
	s.registerMosaic(mux)
}

// registerImages adds the image routes under prefix p: bbox with a size
// (bbox without one is a two-segment route), statistics, preview and
// feature.
func (s *Server) registerImages(mux *http.ServeMux, p string, on func(imageHandler) handlerFunc, res resolver) {
	mux.HandleFunc("GET "+p+"/bbox/{coords}/{size}", s.wrap(on(s.bbox), res))
	mux.HandleFunc("GET "+p+"/statistics", s.wrap(on(s.statistics), res))
	mux.HandleFunc("POST "+p+"/statistics", s.wrap(on(s.statisticsFeature), res))
	mux.HandleFunc("GET "+p+"/preview", s.wrap(on(s.preview), res))
	mux.HandleFunc("POST "+p+"/feature", s.wrap(on(s.feature), res))
	mux.HandleFunc("POST "+p+"/feature/{size}", s.wrap(on(s.feature), res))
	for _, ext := range imageExts {
		mux.HandleFunc("GET "+p+"/preview."+ext, s.wrap(on(s.preview), res))
		mux.HandleFunc("POST "+p+"/feature."+ext, s.wrap(on(s.feature), res))
	}
}

func (s *Server) wrap(h handlerFunc, res resolver) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if s.cfg.ReadTimeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.cfg.ReadTimeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		if err := h(w, r, res); err != nil {
			httpx.WriteError(w, r, s.log, err)
		}
	}
}

func (s *Server) twoSegments(w http.ResponseWriter, r *http.Request, res resolver) error {
	a, b := r.PathValue("a"), r.PathValue("b")
	switch {
	case a == "point":
		return s.point(w, r, res)
	case a == "bbox":
		return s.onTarget(s.bbox)(w, r, res)
	case b == "tilejson.json":
		return s.tileJSON(w, r, res)
	case b == "WMTSCapabilities.xml":
		return s.wmts(w, r, res)
	case b == "map.html":
		return s.mapHTML(w, r, res)
	}
	return httpx.NotFound("no route %s", r.URL.Path)
}

// timings records stage durations for Server-Timing.
type timings struct {
	mu sync.Mutex
	d  []stage
}

type stage struct {
	name string
	dur  time.Duration
}

func (t *timings) start(name string) func() {
	t0 := time.Now()
	return func() {
		t.mu.Lock()
		t.d = append(t.d, stage{name, time.Since(t0)})
		t.mu.Unlock()
	}
}

func (t *timings) header() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	parts := make([]string, 0, len(t.d))
	for _, s := range t.d {
		parts = append(parts, fmt.Sprintf("%s;dur=%.2f", s.name, float64(s.dur.Microseconds())/1000))
	}
	return strings.Join(parts, ", ")
}

// crsURI returns the OGC URI of an EPSG code.
func crsURI(epsg int) string {
	if epsg == 0 {
		return ""
	}
	return "http://www.opengis.net/def/crs/EPSG/0/" + strconv.Itoa(epsg)
}

// writeBody writes a cacheable body with ETag, Cache-Control and timings,
// answering 304 to a matching If-None-Match.
func (s *Server) writeBody(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte, tm *timings) {
	h := fnv.New64a()
	_, _ = h.Write(body)
	etag := fmt.Sprintf(`"%x"`, h.Sum64())
	hd := w.Header()
	hd.Set("ETag", etag)
	if s.cfg.CacheControl != "" {
		hd.Set("Cache-Control", s.cfg.CacheControl)
	}
	if tm != nil {
		if v := tm.header(); v != "" {
			hd.Set("Server-Timing", v)
		}
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			if strings.TrimSpace(t) == etag || strings.TrimSpace(t) == "*" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}
	httpx.WriteBytes(w, status, contentType, body)
}

func (s *Server) writeImage(w http.ResponseWriter, r *http.Request, body []byte, f render.Format, bounds [4]float64, epsg int, tm *timings) {
	hd := w.Header()
	hd.Set("Content-Bbox", fmt.Sprintf("%s,%s,%s,%s", ff(bounds[0]), ff(bounds[1]), ff(bounds[2]), ff(bounds[3])))
	if u := crsURI(epsg); u != "" {
		hd.Set("Content-Crs", "<"+u+">")
	}
	s.writeBody(w, r, http.StatusOK, f.MediaType(), body, tm)
}

func ff(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// baseURL is the public scheme://host of the request.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return strings.TrimRight(s.cfg.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	host := r.Host
	if h := r.Header.Get("X-Forwarded-Host"); h != "" {
		host = strings.TrimSpace(strings.Split(h, ",")[0])
	}
	return scheme + "://" + host
}

// routePrefix is the path prefix of the request's route family.
func routePrefix(r *http.Request) string {
	if cid := r.PathValue("cid"); cid != "" {
		return "/collections/" + url.PathEscape(cid) + "/items/" + url.PathEscape(r.PathValue("iid"))
	}
	return "/cog"
}

// passQuery copies the query without the listed keys.
func passQuery(q url.Values, drop ...string) string {
	c := url.Values{}
	for k, v := range q {
		c[k] = v
	}
	for _, d := range drop {
		c.Del(d)
	}
	return c.Encode()
}
