package tiles

import (
	"encoding/json"
	"errors"
	"html/template"
	"math"
	"net/http"
	"strings"
	"sync"

	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/tms"
)

// itemSummary describes an item of a mosaic (the assets listings).
type itemSummary struct {
	ID         string            `json:"id"`
	Collection string            `json:"collection"`
	BBox       []float64         `json:"bbox,omitempty"`
	Assets     map[string]string `json:"assets"`
}

func summary(it *stacItem) itemSummary {
	sm := itemSummary{ID: it.ID, Collection: it.Collection, BBox: it.BBox, Assets: map[string]string{}}
	for k := range it.Assets {
		if h, err := it.assetHref(k); err == nil {
			sm.Assets[k] = h
		}
	}
	return sm
}

// mosaicTileAssets lists the items a tile draws (after skipcovered,
// exitwhenfull and the limits).
func (s *Server) mosaicTileAssets(w http.ResponseWriter, r *http.Request, _ resolver) error {
	tr, err := s.parseMosaicTile(r)
	if err != nil {
		return err
	}
	out := make([]itemSummary, 0, len(tr.items.items))
	for _, it := range tr.items.items {
		out = append(out, summary(it))
	}
	if len(tr.items.limits) > 0 {
		w.Header().Set(HeaderMosaicLimit, strings.Join(tr.items.limits, ", "))
	}
	b, _ := json.Marshal(out)
	s.writeBody(w, r, http.StatusOK, "application/json", b, tr.tm)
	return nil
}

// mosaicTwoSegments dispatches {tms}/tilejson.json, {tms}/map.html,
// {tms}/WMTSCapabilities.xml, point/{lon},{lat} and
// bbox/{minx},{miny},{maxx},{maxy}.{fmt}.
func (s *Server) mosaicTwoSegments(w http.ResponseWriter, r *http.Request, _ resolver) error {
	a, b := r.PathValue("a"), r.PathValue("b")
	switch {
	case a == "point", strings.HasSuffix(r.Pattern, "/point/{b}"):
		return s.mosaicPoint(w, r)
	case a == "bbox", strings.HasSuffix(r.Pattern, "/bbox/{b}"):
		return s.onMosaic(s.bbox)(w, r, nil)
	case b == "tilejson.json":
		return s.mosaicTileJSON(w, r)
	case b == "WMTSCapabilities.xml":
		return s.mosaicWMTS(w, r)
	case b == "map.html":
		return s.mosaicMap(w, r)
	}
	return httpx.NotFound("no route %s", r.URL.Path)
}

// mosaicExtent returns the geographic bounds and zoom range of a mosaic:
// from the search metadata (bounds, minzoom, maxzoom), the search bbox, or
// the whole tile matrix set; minzoom/maxzoom parameters override them.
func (s *Server) mosaicExtent(r *http.Request, ms *mosaicSearch, t *tms.TileMatrixSet) (int, int, [4]float64, error) {
	g := [4]float64{-180, -85.0511287798066, 180, 85.0511287798066}
	if t.SRS() != "EPSG:3857" {
		g = [4]float64{-180, -90, 180, 90}
	}
	g = ms.bounds(g)
	minz, maxz := t.MinZoom(), t.MaxZoom()
	if v, ok := ms.doc.Metadata["minzoom"].(float64); ok && v >= 0 && int(v) <= t.MaxZoom() {
		minz = int(v)
	}
	if v, ok := ms.doc.Metadata["maxzoom"].(float64); ok && v >= 0 && int(v) <= t.MaxZoom() {
		maxz = int(v)
	}
	var err error
	if minz, err = optZoom(r, "minzoom", minz, t); err != nil {
		return 0, 0, g, err
	}
	if maxz, err = optZoom(r, "maxzoom", maxz, t); err != nil {
		return 0, 0, g, err
	}
	if minz > maxz {
		return 0, 0, g, httpx.BadRequest("minzoom", "minzoom %d is above maxzoom %d", minz, maxz)
	}
	return minz, maxz, g, nil
}

// bounds returns the CRS84 bounds of the search: its metadata bounds,
// else its bbox, else def.
func (ms *mosaicSearch) bounds(def [4]float64) [4]float64 {
	if v, ok := ms.doc.Metadata["bounds"].([]any); ok && len(v) == 4 {
		var m [4]float64
		okAll := true
		for i := range v {
			f, ok := v[i].(float64)
			okAll = okAll && ok
			m[i] = f
		}
		if okAll {
			return m
		}
	}
	if bb := ms.doc.Search.BBox; len(bb) == 4 {
		return [4]float64{bb[0], bb[1], bb[2], bb[3]}
	}
	return def
}

func (ms *mosaicSearch) title() string {
	if n, ok := ms.doc.Metadata["name"].(string); ok && n != "" {
		return n
	}
	return ms.id
}

// mosaicTileURL is the tile URL template of the request's mosaic.
func (s *Server) mosaicTileURL(r *http.Request, t *tms.TileMatrixSet, zxy, defExt string) (string, error) {
	return s.tileTemplate(r, mosaicPrefix(r), t, zxy, defExt)
}

// mosaicCommon parses what tilejson, WMTS and map.html share.
func (s *Server) mosaicCommon(r *http.Request) (*tms.TileMatrixSet, *mosaicSearch, int, int, [4]float64, error) {
	t, err := s.getTMS(r.PathValue("a"))
	if err != nil {
		return nil, nil, 0, 0, [4]float64{}, err
	}
	if _, err := s.parseMosaic(r.URL.Query()); err != nil {
		return nil, nil, 0, 0, [4]float64{}, err
	}
	ms, err := s.resolveSearch(r)
	if err != nil {
		return nil, nil, 0, 0, [4]float64{}, err
	}
	minz, maxz, g, err := s.mosaicExtent(r, ms, t)
	return t, ms, minz, maxz, g, err
}

func (s *Server) mosaicTileJSON(w http.ResponseWriter, r *http.Request) error {
	t, ms, minz, maxz, g, err := s.mosaicCommon(r)
	if err != nil {
		return err
	}
	u, err := s.mosaicTileURL(r, t, "{z}/{x}/{y}", "")
	if err != nil {
		return err
	}
	tj := TileJSON{TileJSON: "3.0.0", Name: ms.title(), Version: "1.0.0", Scheme: "xyz", Tiles: []string{u}, MinZoom: minz, MaxZoom: maxz,
		Bounds: g, Center: [3]float64{(g[0] + g[2]) / 2, (g[1] + g[3]) / 2, float64(minz)}}
	b, _ := json.Marshal(tj)
	s.writeBody(w, r, http.StatusOK, "application/json", b, nil)
	return nil
}

func (s *Server) mosaicWMTS(w http.ResponseWriter, r *http.Request) error {
	t, ms, minz, maxz, g, err := s.mosaicCommon(r)
	if err != nil {
		return err
	}
	format := "png"
	if v := r.URL.Query().Get("tile_format"); v != "" {
		format = v
	}
	f, err := parseFormat("tile_format", format)
	if err != nil {
		return err
	}
	tmpl, err := s.mosaicTileURL(r, t, "{TileMatrix}/{TileCol}/{TileRow}", format)
	if err != nil {
		return err
	}
	s.writeBody(w, r, http.StatusOK, "application/xml", wmtsCapabilities(ms.title(), g, f, t, tmpl, minz, maxz), nil)
	return nil
}

func (s *Server) mosaicMap(w http.ResponseWriter, r *http.Request) error {
	t, ms, minz, maxz, g, err := s.mosaicCommon(r)
	if err != nil {
		return err
	}
	u, err := s.mosaicTileURL(r, t, "{z}/{x}/{y}", "")
	if err != nil {
		return err
	}
	cfg := viewerConfig{Title: ms.title(), Tiles: u, MinZoom: minz, MaxZoom: maxz, Bounds: g}
	for _, m := range t.TileMatrices {
		cfg.Matrices = append(cfg.Matrices, [4]int{m.MatrixWidth, m.MatrixHeight, m.TileWidth, m.TileHeight})
	}
	// initial view: the zoom where the bounds span about two tiles
	cfg.Zoom = minz
	rng := func(z int) (tms.Range, error) { return t.TileRange(z, projectBounds(t, g)) }
	for z := minz; z <= maxz; z++ {
		rg, err := rng(z)
		if err != nil || rg.MaxX-rg.MinX > 1 || rg.MaxY-rg.MinY > 1 {
			break
		}
		cfg.Zoom = z
	}
	m := t.TileMatrices[cfg.Zoom]
	ox, oy := m.PointOfOrigin[0], m.PointOfOrigin[1]
	if t.YX() {
		ox, oy = oy, ox
	}
	pb := projectBounds(t, g)
	tw := m.CellSize * float64(m.TileWidth)
	th := m.CellSize * float64(m.TileHeight)
	cfg.Center = [2]float64{((pb[0]+pb[2])/2 - ox) / tw, (oy - (pb[1]+pb[3])/2) / th}
	if math.IsNaN(cfg.Center[0]) || math.IsNaN(cfg.Center[1]) || math.IsInf(cfg.Center[0], 0) || math.IsInf(cfg.Center[1], 0) {
		cfg.Center = [2]float64{0, 0}
	}
	js, _ := json.Marshal(cfg)
	var buf strings.Builder
	if err := mapTmpl.Execute(&buf, map[string]any{"Title": ms.title(), "Config": template.JS(js)}); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-cache")
	httpx.WriteBytes(w, http.StatusOK, "text/html; charset=utf-8", []byte(buf.String()))
	return nil
}

// projectBounds converts CRS84 bounds to t's CRS (Web Mercator and
// geographic sets; others get the set's extent).
func projectBounds(t *tms.TileMatrixSet, g [4]float64) [4]float64 {
	switch t.SRS() {
	case "EPSG:4326":
		return g
	case "EPSG:3857":
		const r = 6378137.0
		x := func(lon float64) float64 { return lon * math.Pi / 180 * r }
		y := func(lat float64) float64 {
			lat = math.Max(-85.0511287798066, math.Min(85.0511287798066, lat))
			return r * math.Log(math.Tan(math.Pi/4+lat*math.Pi/360))
		}
		return [4]float64{x(g[0]), y(g[1]), x(g[2]), y(g[3])}
	}
	return t.Extent()
}

// mosaicPoint returns the values of every item at a point:
// {"coordinates": [lon, lat], "values": [[item, [values], [band names]], ...]}.
func (s *Server) mosaicPoint(w http.ResponseWriter, r *http.Request) error {
	lon, lat, err := parseLonLat(r.PathValue("b"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if v := q.Get("coord_crs"); v != "" && v != "EPSG:4326" && v != "OGC:CRS84" {
		return httpx.BadRequest("coord_crs", "mosaic points are given in EPSG:4326")
	}
	mp, err := s.parseMosaic(q)
	if err != nil {
		return err
	}
	mp.skipCovered, mp.exitWhenFull = false, false
	ms, err := s.resolveSearch(r)
	if err != nil {
		return err
	}
	const eps = 1e-9
	box := geo.BBox{MinX: math.Max(-180, lon-eps), MinY: math.Max(-90, lat-eps), MaxX: math.Min(180, lon+eps), MaxY: math.Min(90, lat+eps)}
	tm := &timings{}
	done := tm.start("search")
	ti, err := s.itemsForBox(r.Context(), ms, box, &mp)
	done()
	if err != nil {
		return err
	}
	type pointValue struct {
		item  string
		vals  []any
		names []string
	}
	vals := make([]*pointValue, len(ti.items))
	errs := make([]error, len(ti.items))
	sem := make(chan struct{}, s.cfg.Mosaic.Concurrency)
	ctx := r.Context()
	done = tm.start("read")
	var wg sync.WaitGroup
	for i, it := range ti.items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			tg, err := s.openItem(ctx, it, &mp.renderParams)
			if err != nil || tg == nil {
				errs[i] = err
				return
			}
			defer tg.close()
			imgs := make([]*raster.Image, len(tg.assets))
			for k, a := range tg.assets {
				if imgs[k], err = a.ds.Point(ctx, lon, lat, "EPSG:4326", a.bands, mp.nodata); err != nil {
					if !errors.Is(err, raster.ErrOutsideBounds) {
						errs[i] = err
					}
					return
				}
			}
			img := combine(tg, imgs)
			if mp.expr != nil {
				if img, err = post(img, &renderParams{expr: mp.expr}, tg); err != nil {
					errs[i] = err
					return
				}
			}
			pv := &pointValue{item: it.Collection + "/" + it.ID, names: img.BandNames, vals: make([]any, len(img.Bands))}
			for k, b := range img.Bands {
				if img.Valid(0) && !math.IsNaN(b[0]) {
					pv.vals[k] = b[0]
				}
			}
			vals[i] = pv
		}()
	}
	wg.Wait()
	done()
	if err := firstErr(errs); err != nil {
		return err
	}
	out := [][]any{}
	for _, v := range vals {
		if v != nil {
			out = append(out, []any{v.item, v.vals, v.names})
		}
	}
	if len(out) == 0 {
		return httpx.NotFound("no item of the mosaic has data at %s,%s", ff(lon), ff(lat))
	}
	b, err := json.Marshal(map[string]any{"coordinates": []float64{lon, lat}, "values": out})
	if err != nil {
		return err
	}
	if len(ti.limits) > 0 {
		w.Header().Set(HeaderMosaicLimit, strings.Join(ti.limits, ", "))
	}
	s.writeBody(w, r, http.StatusOK, "application/json", b, tm)
	return nil
}
