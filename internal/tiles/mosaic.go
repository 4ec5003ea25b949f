package tiles

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/peterstace/simplefeatures/geom"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/mosaic"
	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/tms"
)

// MosaicConfig tunes mosaics of searches and collections.
type MosaicConfig struct {
	Concurrency   int           // item reads in flight per tile
	ItemsLimit    int           // default items_limit: items drawn per tile
	MaxItemsLimit int           // largest items_limit a request may ask for
	ScanLimit     int           // default scan_limit: search results looked at per tile
	MaxScanLimit  int           // largest scan_limit
	TimeLimit     time.Duration // default time_limit per tile
	MaxTimeLimit  time.Duration // largest time_limit
	CacheTTL      time.Duration // lifetime of cached per-tile search results (0: no cache)
	CacheEntries  int           // cached per-tile search results
	// FullWindowReads reads every item into the whole tile window. By
	// default an item is read into the part of the tile its footprint
	// covers, which is much cheaper for small items; GDAL's approximate
	// transformer (error ≤ 0.125 px, interpolated over the output window)
	// can then pick the neighbouring source pixel where a pixel edge lies
	// within 1/8 px of an output pixel centre.
	FullWindowReads bool
}

// MosaicDefaults returns the default mosaic configuration
// (titiler-pgstac's defaults for the limits).
func MosaicDefaults() MosaicConfig {
	return MosaicConfig{Concurrency: 8, ItemsLimit: 100, MaxItemsLimit: 1000, ScanLimit: 10000, MaxScanLimit: 100000,
		TimeLimit: 5 * time.Second, MaxTimeLimit: 60 * time.Second, CacheTTL: 5 * time.Minute, CacheEntries: 4096}
}

// Validate checks the configuration.
func (c MosaicConfig) Validate() error {
	var errs []error
	if c.Concurrency < 1 {
		errs = append(errs, errors.New("tiles: Mosaic.Concurrency must be at least 1"))
	}
	if c.ItemsLimit < 1 || c.MaxItemsLimit < c.ItemsLimit {
		errs = append(errs, errors.New("tiles: Mosaic.ItemsLimit must be in 1..MaxItemsLimit"))
	}
	if c.ScanLimit < 1 || c.MaxScanLimit < c.ScanLimit {
		errs = append(errs, errors.New("tiles: Mosaic.ScanLimit must be in 1..MaxScanLimit"))
	}
	if c.TimeLimit <= 0 || c.MaxTimeLimit < c.TimeLimit {
		errs = append(errs, errors.New("tiles: Mosaic.TimeLimit must be in (0, MaxTimeLimit]"))
	}
	if c.CacheTTL < 0 || c.CacheEntries < 0 {
		errs = append(errs, errors.New("tiles: Mosaic.CacheTTL and CacheEntries must not be negative"))
	}
	return errors.Join(errs...)
}

// Response headers of mosaic tiles.
const (
	// HeaderMosaicItems: "found=N, read=M": items the search gave for the
	// tile and items read before the mosaic was complete.
	HeaderMosaicItems = "X-Mosaic-Items"
	// HeaderMosaicLimit lists the limits hit (items_limit, scan_limit,
	// time_limit): the tile is what was ready, possibly incomplete.
	HeaderMosaicLimit = "X-Mosaic-Limit"
)

// mosaicParams are the parameters of mosaic requests.
type mosaicParams struct {
	renderParams
	method       string
	exitWhenFull bool
	skipCovered  bool
	itemsLimit   int
	scanLimit    int
	timeLimit    time.Duration
}

func (s *Server) parseMosaic(q url.Values) (mosaicParams, error) {
	var mp mosaicParams
	var err error
	if mp.renderParams, err = parseRender(q, true); err != nil {
		return mp, err
	}
	mp.method = "first"
	if v := q.Get("pixel_selection"); v != "" {
		if _, err := mosaic.New(v); err != nil {
			return mp, httpx.BadRequest("pixel_selection", "%v", err)
		}
		mp.method = strings.ToLower(v)
	}
	// Skipping items whose footprint is covered, and stopping when the
	// footprints cover the tile, only keeps "first" exact; other methods
	// use every item unless asked otherwise.
	def := mp.method == "first"
	if mp.exitWhenFull, err = parseBool(q, "exitwhenfull", def); err != nil {
		return mp, err
	}
	if mp.skipCovered, err = parseBool(q, "skipcovered", def); err != nil {
		return mp, err
	}
	mc := s.cfg.Mosaic
	if mp.itemsLimit, err = parseInt(q, "items_limit", mc.ItemsLimit, 1, mc.MaxItemsLimit); err != nil {
		return mp, err
	}
	if mp.scanLimit, err = parseInt(q, "scan_limit", mc.ScanLimit, 1, mc.MaxScanLimit); err != nil {
		return mp, err
	}
	mp.timeLimit = mc.TimeLimit
	if v := q.Get("time_limit"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0) || f > mc.MaxTimeLimit.Seconds() {
			return mp, httpx.BadRequest("time_limit", "%q must be seconds in (0, %s]", v, ff(mc.MaxTimeLimit.Seconds()))
		}
		mp.timeLimit = time.Duration(f * float64(time.Second))
	}
	return mp, nil
}

// geoBox converts bounds in srs (x/y order) to the CRS84 box the catalog
// is searched with: directly for EPSG:4326, through the inverse
// projection of the window's densified edges for the CRSs of the built-in
// tile matrix sets (inverseProjection), else through the reader when it
// is a BoundsTransformer. param names the request parameter that chose
// srs (400 when it cannot be converted).
func (s *Server) geoBox(ctx context.Context, param, srs string, b [4]float64) (geo.BBox, error) {
	g := b
	if srs != "EPSG:4326" {
		if inv, ok := inverseProjection(srs); ok {
			if g, ok = densifiedBounds(b, inv); !ok {
				return geo.BBox{}, errEmptyBox
			}
		} else if bt, ok := s.reader.(BoundsTransformer); ok {
			var err error
			if g, err = bt.TransformBounds(ctx, b, srs, "EPSG:4326"); err != nil {
				return geo.BBox{}, httpx.BadRequest(param, "%s bounds in CRS84: %v", srs, err)
			}
		} else {
			return geo.BBox{}, httpx.BadRequest(param, "mosaics cannot search the catalog for %s windows (CRSs of the built-in tile matrix sets only)", srs)
		}
	}
	return lonLatBox(g)
}

// lonLatBox makes g (degrees; from an inverse projection its longitudes
// may pass ±180, from GDAL its MinX may exceed MaxX) a CRS84 box, crossing
// the antimeridian (MinX > MaxX) when the window does: a window of UTM
// zone 1 or 60 reaches across it.
func lonLatBox(g [4]float64) (geo.BBox, error) {
	minx, maxx := g[0], g[2]
	switch {
	case minx <= maxx && maxx-minx >= 360:
		minx, maxx = -180, 180
	case minx < -180:
		minx += 360
	case maxx > 180:
		maxx -= 360
	}
	bb := geo.BBox{MinX: minx, MinY: math.Max(-90, g[1]), MaxX: maxx, MaxY: math.Min(90, g[3])}
	if !(bb.MaxY > bb.MinY) || bb.MinX == bb.MaxX || bb.MinX < -180 || bb.MaxX > 180 {
		return bb, errEmptyBox
	}
	return bb, nil
}

// BoundsTransformer is an optional capability of a raster.Reader that
// lets mosaics use tile matrix sets in any CRS (bounds are converted to
// CRS84 to search the catalog).
type BoundsTransformer interface {
	TransformBounds(ctx context.Context, b [4]float64, from, to string) ([4]float64, error)
}

var errEmptyBox = errors.New("tile outside the geographic extent")

// tileQuery restricts the search to items intersecting box. ok is false
// when the search cannot match anything in box.
func tileQuery(base search.Query, box geo.BBox) (search.Query, bool, error) {
	q := base
	q.Token = ""
	var extra []byte // a GeoJSON geometry the items must also intersect
	switch {
	case base.Intersects != nil:
		if !geom.Intersects(*base.Intersects, box.Geometry()) {
			return q, false, nil
		}
		q.Intersects = nil
		extra, _ = base.Intersects.MarshalJSON()
	case base.BBox != nil:
		if !base.BBox.Intersects(box) {
			return q, false, nil
		}
		if !base.BBox.CrossesAntimeridian() && !box.CrossesAntimeridian() {
			b := geo.BBox{MinX: math.Max(box.MinX, base.BBox.MinX), MinY: math.Max(box.MinY, base.BBox.MinY),
				MaxX: math.Min(box.MaxX, base.BBox.MaxX), MaxY: math.Min(box.MaxY, base.BBox.MaxY)}
			q.BBox = &b
			return q, true, nil
		}
		g := base.BBox.Geometry()
		extra, _ = g.MarshalJSON()
	}
	q.BBox = &box
	if extra != nil {
		si := `{"op":"s_intersects","args":[{"property":"geometry"},` + string(extra) + `]}`
		f := si
		if base.Filter != nil {
			fj, err := cql2.JSON(base.Filter)
			if err != nil {
				return q, false, err
			}
			f = `{"op":"and","args":[` + string(fj) + `,` + si + `]}`
		}
		e, err := cql2.ParseJSON([]byte(f))
		if err != nil {
			return q, false, fmt.Errorf("tiles: tile filter: %w", err)
		}
		q.Filter = e
	}
	return q, true, nil
}

// tileItems is the result of the search for one tile.
type tileItems struct {
	items   []*stacItem
	scanned int
	limits  []string // items_limit, scan_limit
	full    bool     // the footprints cover the tile
}

// itemsForBox finds the items of ms intersecting box, applying
// skipcovered, exitwhenfull, items_limit and scan_limit; results are
// cached per caller partition (what the caller may see).
func (s *Server) itemsForBox(ctx context.Context, ms *mosaicSearch, box geo.BBox, mp *mosaicParams) (*tileItems, error) {
	part := ""
	if s.partition != nil {
		part = s.partition(ctx)
	}
	key := fmt.Sprintf("%s|%s|%s,%s,%s,%s|%d|%d|%t|%t", part, ms.id, ff(box.MinX), ff(box.MinY), ff(box.MaxX), ff(box.MaxY),
		mp.itemsLimit, mp.scanLimit, mp.skipCovered, mp.exitWhenFull)
	if v, ok := s.itemCache.get(key); ok {
		return v, nil
	}
	q, ok, err := tileQuery(ms.query, box)
	if err != nil {
		return nil, err
	}
	out := &tileItems{}
	if !ok {
		s.itemCache.put(key, out)
		return out, nil
	}
	q.Limit = min(mp.scanLimit, 500)
	useGeom := mp.skipCovered || mp.exitWhenFull
	tileGeom := box.Geometry()
	var covered geom.Geometry
	err = s.finder.FindItems(ctx, q, func(doc []byte) bool {
		if out.scanned >= mp.scanLimit {
			out.limits = append(out.limits, "scan_limit")
			return false
		}
		if len(out.items) >= mp.itemsLimit {
			out.limits = append(out.limits, "items_limit")
			return false
		}
		out.scanned++
		var it struct {
			stacItem
			Geometry json.RawMessage `json:"geometry"`
		}
		if err := json.Unmarshal(doc, &it); err != nil {
			return true
		}
		item := it.stacItem
		if useGeom {
			if g, err := stac.DecodeGeometry(it.Geometry); err == nil && !g.IsEmpty() {
				clip, err := geom.Intersection(g, tileGeom)
				if err == nil {
					if mp.skipCovered && !covered.IsEmpty() {
						if c, err := geom.Covers(covered, clip); err == nil && c {
							return true
						}
					}
					if covered.IsEmpty() {
						covered = clip
					} else if u, err := geom.Union(covered, clip); err == nil {
						covered = u
					}
				}
			}
		}
		out.items = append(out.items, &item)
		if mp.exitWhenFull && !covered.IsEmpty() {
			if c, err := geom.Covers(covered, tileGeom); err == nil && c {
				out.full = true
				return false
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	s.itemCache.put(key, out)
	return out, nil
}

// openItem opens the assets of it that p asks for; nil when the item lacks
// one of them (the item is skipped).
func (s *Server) openItem(ctx context.Context, it *stacItem, p *renderParams) (*target, error) {
	keys := slices.Clone(p.assets)
	perAsset := map[string][]int{}
	if len(keys) == 0 && p.expr != nil {
		for _, n := range p.expr.Bands() {
			key, b := splitAssetBand(n, it)
			if key == "" {
				return nil, nil
			}
			if !slices.Contains(keys, key) {
				keys = append(keys, key)
			}
			if !slices.Contains(perAsset[key], b) {
				perAsset[key] = append(perAsset[key], b)
			}
		}
	}
	if len(keys) == 0 {
		return nil, httpx.BadRequest("assets", "required (or an expression naming assets)")
	}
	if len(keys) > s.cfg.MaxAssets {
		return nil, httpx.BadRequest("assets", "at most %d assets", s.cfg.MaxAssets)
	}
	for k, v := range p.assetBidx {
		if !slices.Contains(keys, k) {
			return nil, httpx.BadRequest("asset_bidx", "asset %q is not in assets", k)
		}
		perAsset[k] = v
	}
	t := &target{item: it, title: it.ID}
	for _, k := range keys {
		if _, ok := it.Assets[k]; !ok {
			t.close()
			return nil, nil
		}
		href, err := it.assetHref(k)
		if err != nil {
			t.close()
			return nil, err
		}
		if err := s.cfg.checkHref("assets", href); err != nil {
			t.close()
			return nil, err
		}
		ds, err := s.reader.Open(ctx, href, raster.OpenOptions{})
		if err != nil {
			t.close()
			return nil, err
		}
		a := &asset{name: k, href: href, ds: ds, bands: perAsset[k]}
		t.assets = append(t.assets, a)
		if err := checkBands("asset_bidx", a.bands, ds.Info().BandCount); err != nil {
			t.close()
			return nil, err
		}
	}
	return t, nil
}

// readItem reads one item into the part of w its assets can touch and
// applies the expression; the image goes at (x0, y0) of w. img is nil
// when the item has no data there, lacks the assets, or covers only
// pixels that covered reports as filled (skipped without reading).
func (s *Server) readItem(ctx context.Context, it *stacItem, p *renderParams, w raster.Window, covered func(x0, y0, x1, y1 int) bool) (img *raster.Image, x0, y0 int, err error) {
	tg, err := s.openItem(ctx, it, p)
	if err != nil || tg == nil {
		return nil, 0, 0, err
	}
	defer tg.close()
	sub, x0, y0, ok := clipWindow(ctx, tg, w)
	if !ok || covered != nil && covered(x0, y0, x0+sub.Width, y0+sub.Height) {
		return nil, 0, 0, nil
	}
	if s.cfg.Mosaic.FullWindowReads {
		sub, x0, y0 = w, 0, 0
	}
	img, err = s.readWindow(ctx, tg, p, sub, &timings{})
	if err != nil {
		if errors.Is(err, raster.ErrOutsideBounds) {
			return nil, 0, 0, nil
		}
		return nil, 0, 0, err
	}
	if p.expr != nil {
		if img, err = post(img, &renderParams{expr: p.expr}, tg); err != nil {
			return nil, 0, 0, err
		}
	}
	return img, x0, y0, nil
}

// clipWindow shrinks w to the pixels of its grid that the item's assets
// can touch (plus a pixel of margin for resampling kernels): warping costs
// per output pixel, and an item often covers a small part of a tile. x0, y0
// place the sub-window in w; ok is false when the item misses w.
func clipWindow(ctx context.Context, tg *target, w raster.Window) (sub raster.Window, x0, y0 int, ok bool) {
	u := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, a := range tg.assets {
		b, err := a.ds.BoundsIn(ctx, w.CRS)
		if err != nil {
			return w, 0, 0, true // let the read decide
		}
		u = [4]float64{math.Min(u[0], b[0]), math.Min(u[1], b[1]), math.Max(u[2], b[2]), math.Max(u[3], b[3])}
	}
	rx := (w.Bounds[2] - w.Bounds[0]) / float64(w.Width)
	ry := (w.Bounds[3] - w.Bounds[1]) / float64(w.Height)
	clamp := func(v float64, hi int) int { return max(0, min(hi, int(v))) }
	x0 = clamp(math.Floor((u[0]-w.Bounds[0])/rx)-1, w.Width)
	x1 := clamp(math.Ceil((u[2]-w.Bounds[0])/rx)+1, w.Width)
	y0 = clamp(math.Floor((w.Bounds[3]-u[3])/ry)-1, w.Height)
	y1 := clamp(math.Ceil((w.Bounds[3]-u[1])/ry)+1, w.Height)
	if x1 <= x0 || y1 <= y0 {
		return w, 0, 0, false
	}
	if (x1-x0)*(y1-y0) >= w.Width*w.Height*9/10 {
		return w, 0, 0, true
	}
	sub = w
	sub.Width, sub.Height = x1-x0, y1-y0
	sub.Bounds = [4]float64{w.Bounds[0] + float64(x0)*rx, w.Bounds[3] - float64(y1)*ry, w.Bounds[0] + float64(x1)*rx, w.Bounds[3] - float64(y0)*ry}
	return sub, x0, y0, true
}

// mosaicResult is a combined image and how it was made.
type mosaicResult struct {
	m        mosaic.Method // nil when nothing was read
	img      *raster.Image // nil when no item had valid pixels
	read     int           // items read
	used     []string      // collection/id of the items that had data
	timedOut bool
	skipped  int // items lacking the requested assets
}

// release gives the mosaic's planes back for reuse (mosaic.Method.Release):
// call it when nothing refers to the image any more.
func (r *mosaicResult) release() {
	if r != nil && r.m != nil {
		r.m.Release()
	}
}

// runMosaic reads the items into w, at most Concurrency at a time and at
// most Concurrency ahead of the item being fed, feeding them in order to
// the pixel-selection method until it is done, the items end or the time
// limit passes.
func (s *Server) runMosaic(ctx context.Context, items []*stacItem, mp *mosaicParams, w raster.Window, tm *timings) (*mosaicResult, error) {
	m, err := mosaic.NewOnGrid(mp.method, mosaic.Grid{Width: w.Width, Height: w.Height, CRS: w.CRS, Bounds: w.Bounds})
	if err != nil {
		return nil, httpx.BadRequest("pixel_selection", "%v", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type res struct {
		img    *raster.Image
		x0, y0 int
		err    error
	}
	// "first" with skipcovered: an item whose pixels are all filled
	// already is not read (the method's state is shared with the reads)
	var mu sync.Mutex
	var covered func(x0, y0, x1, y1 int) bool
	if c, ok := m.(mosaic.Coverer); ok && mp.skipCovered {
		covered = func(x0, y0, x1, y1 int) bool {
			mu.Lock()
			defer mu.Unlock()
			return c.Covered(x0, y0, x1, y1)
		}
	}
	results := make([]chan res, len(items))
	for i := range results {
		results[i] = make(chan res, 1)
	}
	slots := make(chan struct{}, s.cfg.Mosaic.Concurrency) // released when an item is fed
	go func() {
		for i, it := range items {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func() {
				img, x0, y0, err := s.readItem(ctx, it, &mp.renderParams, w, covered)
				results[i] <- res{img, x0, y0, err}
			}()
		}
	}()
	timer := time.NewTimer(mp.timeLimit)
	defer timer.Stop()
	out := &mosaicResult{m: m}
	var feedTime time.Duration
	done := tm.start("read")
	anyValid := false
loop:
	for i := range items {
		var r res
		select {
		case r = <-results[i]:
		case <-timer.C:
			out.timedOut = true
			break loop
		case <-ctx.Done():
			done()
			return nil, ctx.Err()
		}
		<-slots
		out.read++
		if r.err != nil {
			done()
			return nil, r.err
		}
		if r.img == nil {
			continue
		}
		if r.img.Mask != nil && r.img.AllMasked() {
			continue
		}
		t0 := time.Now()
		mu.Lock()
		err := m.FeedAt(r.img, r.x0, r.y0)
		mu.Unlock()
		r.img.Release() // the method copied what it keeps
		if err != nil {
			done()
			if errors.Is(err, mosaic.ErrMismatch) {
				return nil, httpx.BadRequest("assets", "item %s does not match the items before it: %v", items[i].ID, err)
			}
			return nil, err
		}
		feedTime += time.Since(t0)
		anyValid = true
		out.used = append(out.used, items[i].Collection+"/"+items[i].ID)
		if m.Done() {
			break
		}
	}
	cancel()
	done()
	if anyValid {
		t0 := time.Now()
		out.img = m.Result()
		feedTime += time.Since(t0)
	}
	tm.mu.Lock()
	tm.d = append(tm.d, stage{"mosaic", feedTime})
	tm.mu.Unlock()
	return out, nil
}

// mosaicTile parses a tile request and finds its items.
type tileRequest struct {
	t      *tms.TileMatrixSet
	tile   tms.Tile
	bounds [4]float64
	size   int
	format string
	mp     mosaicParams
	ms     *mosaicSearch
	items  *tileItems
	tm     *timings
}

func (s *Server) parseMosaicTile(r *http.Request) (*tileRequest, error) {
	t, err := s.getTMS(r.PathValue("tms"))
	if err != nil {
		return nil, err
	}
	z, err := strconv.Atoi(r.PathValue("z"))
	if err != nil {
		return nil, httpx.BadRequest("z", "%q is not an integer", r.PathValue("z"))
	}
	x, err := strconv.Atoi(r.PathValue("x"))
	if err != nil {
		return nil, httpx.BadRequest("x", "%q is not an integer", r.PathValue("x"))
	}
	y, scale, ext, err := parseTileY(r.PathValue("y"))
	if err != nil {
		return nil, err
	}
	if _, err := parseFormat("format", ext); err != nil {
		return nil, err
	}
	mp, err := s.parseMosaic(r.URL.Query())
	if err != nil {
		return nil, err
	}
	tr := &tileRequest{t: t, tile: tms.Tile{Z: z, X: x, Y: y}, format: ext, mp: mp, tm: &timings{}}
	if tr.bounds, err = t.Bounds(tr.tile); err != nil {
		return nil, httpx.NotFound("%v", err)
	}
	m, _ := t.Matrix(z)
	tr.size = m.TileWidth * scale
	if mp.tilesize > 0 {
		tr.size = mp.tilesize
	}
	if tr.ms, err = s.resolveSearch(r); err != nil {
		return nil, err
	}
	box, err := s.geoBox(r.Context(), "tileMatrixSetId", t.SRS(), tr.bounds)
	if errors.Is(err, errEmptyBox) {
		tr.items = &tileItems{}
		return tr, nil
	}
	if err != nil {
		return nil, err
	}
	done := tr.tm.start("search")
	tr.items, err = s.itemsForBox(r.Context(), tr.ms, box, &tr.mp)
	done()
	return tr, err
}

// mosaicTile serves a tile of a search or collection mosaic.
func (s *Server) mosaicTile(w http.ResponseWriter, r *http.Request, _ resolver) error {
	tr, err := s.parseMosaicTile(r)
	if err != nil {
		return err
	}
	if len(tr.items.items) == 0 {
		w.Header().Set(HeaderMosaicItems, "found=0, read=0")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	img, res, err := s.mosaicWindow(r.Context(), tr.items, &tr.mp, tr.t.SRS(), tr.bounds, tr.size, tr.size, tr.tm)
	if err != nil {
		return err
	}
	defer res.release() // after the encoding: nothing keeps the image
	src := &mosaicSource{found: len(tr.items.items), read: res.read, limits: slices.Clone(tr.items.limits), timedOut: res.timedOut}
	if res.timedOut {
		src.limits = append(src.limits, "time_limit")
	}
	if src.annotate(w.Header()) {
		w = noStore{w}
	}
	if img == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	f, _ := parseFormat("format", tr.format)
	body, f, err := s.finish(img, &tr.mp.renderParams, f, tr.t.EPSG(), tr.tm)
	if err != nil {
		return err
	}
	s.writeImage(w, r, body, f, img.Bounds, tr.t.EPSG(), tr.tm)
	return nil
}

// mosaicWindow renders the items of ti into bb (crs units) at
// width×height plus the buffers the request and its algorithm need, runs
// the algorithm on the mosaic (expressions run per item) and crops the
// padding and algorithm buffer. img is nil when no item had valid pixels.
func (s *Server) mosaicWindow(ctx context.Context, ti *tileItems, mp *mosaicParams, crs string, bb [4]float64, width, height int, tm *timings) (*raster.Image, *mosaicResult, error) {
	if len(ti.items) == 0 {
		return nil, &mosaicResult{}, nil
	}
	p := &mp.renderParams
	win, crop := bufferedWindow(p, crs, bb, width, height)
	res, err := s.runMosaic(ctx, ti.items, mp, win, tm)
	if err != nil || res.img == nil {
		return nil, res, err
	}
	img := res.img
	if p.algo != nil {
		done := tm.start("post")
		img, err = p.algo.Apply(img)
		done()
		if err != nil {
			return nil, res, httpx.BadRequest("algorithm", "%v", err)
		}
	}
	if crop > 0 {
		img = img.Crop(crop, crop, img.Width-2*crop, img.Height-2*crop)
	}
	return img, res, nil
}

// noStore marks a response uncacheable (an incomplete mosaic tile).
type noStore struct{ http.ResponseWriter }

func (n noStore) WriteHeader(code int) {
	n.Header().Set("Cache-Control", "no-store")
	n.ResponseWriter.WriteHeader(code)
}

func (n noStore) Write(b []byte) (int, error) {
	n.Header().Set("Cache-Control", "no-store")
	return n.ResponseWriter.Write(b)
}

// registerMosaic adds the mosaic routes: POST /searches/register, and under
// /searches/{id} and /collections/{cid}: info, tiles, the items of a tile,
// {tms}/tilejson.json, {tms}/WMTSCapabilities.xml, {tms}/map.html,
// point/{lon},{lat}, and the image routes (bbox, statistics, preview,
// feature).
//
// Under /collections/{cid} the {tms} segment is registered literally, once
// per tile matrix set: a {tms} wildcard would overlap the STAC API's
// /collections/{cid}/items/{iid}, which ServeMux refuses.
func (s *Server) registerMosaic(mux *http.ServeMux) {
	mux.HandleFunc("POST /searches/register", s.wrap(s.registerSearch, nil))
	for _, p := range []string{"/searches/{id}", "/collections/{cid}"} {
		mux.HandleFunc("GET "+p+"/info", s.wrap(s.searchInfo, nil))
		mux.HandleFunc("GET "+p+"/tiles/{tms}/{z}/{x}/{y}", s.wrap(s.mosaicTile, nil))
		mux.HandleFunc("GET "+p+"/tiles/{tms}/{z}/{x}/{y}/assets", s.wrap(s.mosaicTileAssets, nil))
		s.registerImages(mux, p, s.onMosaic, nil)
	}
	mux.HandleFunc("GET /searches/{id}/{a}/{b}", s.wrap(s.mosaicTwoSegments, nil))
	mux.HandleFunc("GET /collections/{cid}/point/{b}", s.wrap(s.mosaicTwoSegments, nil))
	mux.HandleFunc("GET /collections/{cid}/bbox/{b}", s.wrap(s.mosaicTwoSegments, nil))
	for _, id := range s.tms.IDs() {
		for _, doc := range []string{"tilejson.json", "WMTSCapabilities.xml", "map.html"} {
			h := s.wrap(s.mosaicTwoSegments, nil)
			mux.HandleFunc("GET /collections/{cid}/"+id+"/"+doc, func(w http.ResponseWriter, r *http.Request) {
				r.SetPathValue("a", id)
				r.SetPathValue("b", doc)
				h(w, r)
			})
		}
	}
}
