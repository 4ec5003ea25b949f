package tiles

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
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

// geoBox converts tile bounds in t's CRS to a CRS84 box.
func (s *Server) geoBox(ctx context.Context, t *tms.TileMatrixSet, b [4]float64) (geo.BBox, error) {
	var g [4]float64
	switch t.SRS() {
	case "EPSG:4326":
		g = b
	case "EPSG:3857":
		const r = 6378137.0
		lon := func(x float64) float64 { return x / r * 180 / math.Pi }
		lat := func(y float64) float64 { return math.Atan(math.Sinh(y/r)) * 180 / math.Pi }
		g = [4]float64{lon(b[0]), lat(b[1]), lon(b[2]), lat(b[3])}
	default:
		bt, ok := s.reader.(BoundsTransformer)
		if !ok {
			return geo.BBox{}, httpx.BadRequest("tileMatrixSetId", "mosaics are served in WebMercatorQuad, WorldCRS84Quad and WGS1984Quad (this reader cannot transform %s bounds)", t.ID)
		}
		var err error
		if g, err = bt.TransformBounds(ctx, b, t.SRS(), "EPSG:4326"); err != nil {
			return geo.BBox{}, err
		}
	}
	bb := geo.BBox{MinX: math.Max(-180, g[0]), MinY: math.Max(-90, g[1]), MaxX: math.Min(180, g[2]), MaxY: math.Min(90, g[3])}
	if !(bb.MaxX > bb.MinX) || !(bb.MaxY > bb.MinY) {
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
		if !base.BBox.CrossesAntimeridian() {
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
// skipcovered, exitwhenfull, items_limit and scan_limit; results are cached.
func (s *Server) itemsForBox(ctx context.Context, ms *mosaicSearch, box geo.BBox, mp *mosaicParams) (*tileItems, error) {
	key := fmt.Sprintf("%s|%s,%s,%s,%s|%d|%d|%t|%t", ms.id, ff(box.MinX), ff(box.MinY), ff(box.MaxX), ff(box.MaxY),
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

// readItem reads one item into w and applies the expression; nil when the
// item has no data there, lacks the assets, or covers only pixels that
// covered reports as filled (skipped without reading).
func (s *Server) readItem(ctx context.Context, it *stacItem, p *renderParams, w raster.Window, covered func(x0, y0, x1, y1 int) bool) (*raster.Image, error) {
	tg, err := s.openItem(ctx, it, p)
	if err != nil || tg == nil {
		return nil, err
	}
	defer tg.close()
	sub, x0, y0, ok := clipWindow(ctx, tg, w)
	if !ok || covered != nil && covered(x0, y0, x0+sub.Width, y0+sub.Height) {
		return nil, nil
	}
	if s.cfg.Mosaic.FullWindowReads {
		sub, x0, y0 = w, 0, 0
	}
	img, err := s.readWindow(ctx, tg, p, sub, &timings{})
	if err != nil {
		if errors.Is(err, raster.ErrOutsideBounds) {
			return nil, nil
		}
		return nil, err
	}
	if sub.Width != w.Width || sub.Height != w.Height {
		img = padImage(img, w, x0, y0)
	}
	if p.expr != nil {
		if img, err = post(img, &renderParams{expr: p.expr}, tg); err != nil {
			return nil, err
		}
	}
	return img, nil
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

// padImage places img at (x0, y0) of an image of w's grid, masked elsewhere.
func padImage(img *raster.Image, w raster.Window, x0, y0 int) *raster.Image {
	out := &raster.Image{Width: w.Width, Height: w.Height, DataType: img.DataType, CRS: w.CRS, Bounds: w.Bounds,
		BandNames: img.BandNames, Mask: make([]uint8, w.Width*w.Height)}
	for _, b := range img.Bands {
		nb := make([]float64, w.Width*w.Height)
		for y := 0; y < img.Height; y++ {
			copy(nb[(y0+y)*w.Width+x0:], b[y*img.Width:(y+1)*img.Width])
		}
		out.Bands = append(out.Bands, nb)
	}
	for y := 0; y < img.Height; y++ {
		row := out.Mask[(y0+y)*w.Width+x0 : (y0+y)*w.Width+x0+img.Width]
		if img.Mask == nil {
			for i := range row {
				row[i] = 255
			}
		} else {
			copy(row, img.Mask[y*img.Width:(y+1)*img.Width])
		}
	}
	return out
}

// mosaicResult is a combined image and how it was made.
type mosaicResult struct {
	img      *raster.Image // nil when no item had valid pixels
	read     int           // items read
	used     []string      // collection/id of the items that had data
	timedOut bool
	skipped  int // items lacking the requested assets
}

// runMosaic reads the items into w, at most Concurrency at a time and at
// most Concurrency ahead of the item being fed, feeding them in order to
// the pixel-selection method until it is done, the items end or the time
// limit passes.
func (s *Server) runMosaic(ctx context.Context, items []*stacItem, mp *mosaicParams, w raster.Window, tm *timings) (*mosaicResult, error) {
	m, err := mosaic.New(mp.method)
	if err != nil {
		return nil, httpx.BadRequest("pixel_selection", "%v", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type res struct {
		img *raster.Image
		err error
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
				img, err := s.readItem(ctx, it, &mp.renderParams, w, covered)
				results[i] <- res{img, err}
			}()
		}
	}()
	timer := time.NewTimer(mp.timeLimit)
	defer timer.Stop()
	out := &mosaicResult{}
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
		err := m.Feed(r.img)
		mu.Unlock()
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
	box, err := s.geoBox(r.Context(), t, tr.bounds)
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
	p := &tr.mp.renderParams
	ab := 0
	if p.algo != nil {
		ab = p.algo.Buffer()
	}
	crop := p.padding + ab
	extra := crop + p.buffer
	b := tr.bounds
	rx := (b[2] - b[0]) / float64(tr.size)
	ry := (b[3] - b[1]) / float64(tr.size)
	win := raster.Window{CRS: tr.t.SRS(), Width: tr.size + 2*extra, Height: tr.size + 2*extra,
		Bounds:     [4]float64{b[0] - float64(extra)*rx, b[1] - float64(extra)*ry, b[2] + float64(extra)*rx, b[3] + float64(extra)*ry},
		Resampling: p.resampling, Nodata: p.nodata, Unscale: p.unscale}
	res, err := s.runMosaic(r.Context(), tr.items.items, &tr.mp, win, tr.tm)
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set(HeaderMosaicItems, fmt.Sprintf("found=%d, read=%d", len(tr.items.items), res.read))
	limits := slices.Clone(tr.items.limits)
	if res.timedOut {
		limits = append(limits, "time_limit")
	}
	if len(limits) > 0 {
		hd.Set(HeaderMosaicLimit, strings.Join(limits, ", "))
	}
	if res.img == nil {
		if res.timedOut {
			hd.Set("Cache-Control", "no-store")
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	img := res.img
	if p.algo != nil {
		done := tr.tm.start("post")
		img, err = p.algo.Apply(img)
		done()
		if err != nil {
			return httpx.BadRequest("algorithm", "%v", err)
		}
	}
	if crop > 0 {
		img = img.Crop(crop, crop, img.Width-2*crop, img.Height-2*crop)
	}
	f, _ := parseFormat("format", tr.format)
	body, f, err := s.finish(img, p, f, tr.t.EPSG(), tr.tm)
	if err != nil {
		return err
	}
	if res.timedOut {
		w = noStore{w}
	}
	s.writeImage(w, r, body, f, img.Bounds, tr.t.EPSG(), tr.tm)
	return nil
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
// {tms}/WMTSCapabilities.xml and point/{lon},{lat}.
func (s *Server) mosaicTwoSegments(w http.ResponseWriter, r *http.Request, _ resolver) error {
	a, b := r.PathValue("a"), r.PathValue("b")
	switch {
	case a == "point", strings.HasSuffix(r.Pattern, "/point/{b}"):
		return s.mosaicPoint(w, r)
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
	if bb := ms.doc.Search.BBox; len(bb) == 4 {
		g = [4]float64{bb[0], bb[1], bb[2], bb[3]}
	}
	if v, ok := ms.doc.Metadata["bounds"].([]any); ok && len(v) == 4 {
		var m [4]float64
		okAll := true
		for i := range v {
			f, ok := v[i].(float64)
			okAll = okAll && ok
			m[i] = f
		}
		if okAll {
			g = m
		}
	}
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

func (ms *mosaicSearch) title() string {
	if n, ok := ms.doc.Metadata["name"].(string); ok && n != "" {
		return n
	}
	return ms.id
}

// mosaicTileURL is the tile URL template of the request's mosaic.
func (s *Server) mosaicTileURL(r *http.Request, t *tms.TileMatrixSet, zxy, defExt string) (string, error) {
	q := r.URL.Query()
	suffix := ""
	if v := q.Get("tile_scale"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 4 {
			return "", httpx.BadRequest("tile_scale", "%q must be 1..4", v)
		}
		suffix = "@" + v + "x"
	}
	if v := q.Get("tile_format"); v != "" {
		if _, err := parseFormat("tile_format", v); err != nil {
			return "", err
		}
		suffix += "." + v
	} else if defExt != "" {
		suffix += "." + defExt
	}
	u := s.baseURL(r) + mosaicPrefix(r) + "/tiles/" + t.ID + "/" + zxy + suffix
	if qs := passQuery(q, "tile_format", "tile_scale", "minzoom", "maxzoom"); qs != "" {
		u += "?" + qs
	}
	return u, nil
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
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<Capabilities xmlns="http://www.opengis.net/wmts/1.0" xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:gml="http://www.opengis.net/gml" version="1.0.0">
  <ows:ServiceIdentification><ows:Title>tessera</ows:Title><ows:ServiceType>OGC WMTS</ows:ServiceType><ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion></ows:ServiceIdentification>
  <Contents>
    <Layer>
      <ows:Title>` + xmlEsc(ms.title()) + `</ows:Title>
      <ows:Identifier>default</ows:Identifier>
      <ows:WGS84BoundingBox crs="urn:ogc:def:crs:OGC:2:84"><ows:LowerCorner>` + ff(g[0]) + " " + ff(g[1]) + `</ows:LowerCorner><ows:UpperCorner>` + ff(g[2]) + " " + ff(g[3]) + `</ows:UpperCorner></ows:WGS84BoundingBox>
      <Style isDefault="true"><ows:Identifier>default</ows:Identifier></Style>
      <Format>` + f.MediaType() + `</Format>
      <TileMatrixSetLink><TileMatrixSet>` + xmlEsc(t.ID) + `</TileMatrixSet></TileMatrixSetLink>
      <ResourceURL format="` + xmlEsc(f.MediaType()) + `" resourceType="tile" template="` + xmlEsc(tmpl) + `"/>
    </Layer>
    <TileMatrixSet>
      <ows:Identifier>` + xmlEsc(t.ID) + `</ows:Identifier>
      <ows:SupportedCRS>` + fmt.Sprintf("urn:ogc:def:crs:EPSG::%d", t.EPSG()) + `</ows:SupportedCRS>
`)
	for z := minz; z <= maxz; z++ {
		m := t.TileMatrices[z]
		fmt.Fprintf(&b, `      <TileMatrix><ows:Identifier>%s</ows:Identifier><ScaleDenominator>%s</ScaleDenominator><TopLeftCorner>%s %s</TopLeftCorner><TileWidth>%d</TileWidth><TileHeight>%d</TileHeight><MatrixWidth>%d</MatrixWidth><MatrixHeight>%d</MatrixHeight></TileMatrix>
`, xmlEsc(m.ID), strconv.FormatFloat(m.ScaleDenominator, 'f', -1, 64), ff(m.PointOfOrigin[0]), ff(m.PointOfOrigin[1]), m.TileWidth, m.TileHeight, m.MatrixWidth, m.MatrixHeight)
	}
	b.WriteString(`    </TileMatrixSet>
  </Contents>
</Capabilities>
`)
	s.writeBody(w, r, http.StatusOK, "application/xml", []byte(b.String()), nil)
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

// registerMosaic adds the mosaic routes: POST /searches/register, and under
// /searches/{id} and /collections/{cid}: info, tiles, the items of a tile,
// {tms}/tilejson.json, {tms}/WMTSCapabilities.xml, {tms}/map.html and
// point/{lon},{lat}.
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
	}
	mux.HandleFunc("GET /searches/{id}/{a}/{b}", s.wrap(s.mosaicTwoSegments, nil))
	mux.HandleFunc("GET /collections/{cid}/point/{b}", s.wrap(s.mosaicTwoSegments, nil))
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
