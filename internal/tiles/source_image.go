package tiles

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/raster"
)

// imageSource is what the image routes (preview, bbox, feature,
// statistics) read: one target (a COG or an item's assets) or a mosaic of
// a search or collection. The routes share their parse and render stages
// and differ only in the source.
type imageSource interface {
	// params are the request's render parameters.
	params() *renderParams
	// extent is what a preview shows: its CRS (dstCRS, or the source's
	// own when ""), EPSG code, bounds in that CRS, and the native width
	// in pixels (0 when unknown).
	extent(ctx context.Context, dstCRS string) (crs string, epsg int, bounds [4]float64, nativeWidth float64, err error)
	// nativeSize estimates the native pixel size of bb (crs units); 0, 0
	// when unknown.
	nativeSize(ctx context.Context, crs string, bb [4]float64) (float64, float64)
	// window renders bb (crs units) into width×height pixels through the
	// read, combine and post stages. A nil image (and no error) means no
	// data there (a mosaic without items with valid pixels in bb).
	window(ctx context.Context, crs string, bb [4]float64, width, height int, tm *timings) (*raster.Image, error)
	// annotate adds the source's response headers (a mosaic's items and
	// limits hit); incomplete reports a result cut short by time_limit,
	// which must not be cached.
	annotate(h http.Header) (incomplete bool)
	close()
}

// sourceFunc opens the source of an image request.
type sourceFunc func(r *http.Request) (imageSource, error)

// imageHandler is an image route over any source.
type imageHandler func(w http.ResponseWriter, r *http.Request, src sourceFunc) error

// onTarget serves an image route for the COG and item routes.
func (s *Server) onTarget(h imageHandler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, res resolver) error {
		return h(w, r, func(r *http.Request) (imageSource, error) {
			p, err := parseRender(r.URL.Query(), r.PathValue("cid") != "")
			if err != nil {
				return nil, err
			}
			tg, err := res(r, &p)
			if err != nil {
				return nil, err
			}
			return &targetSource{s: s, tg: tg, p: &p}, nil
		})
	}
}

// onMosaic serves an image route for the search and collection mosaics.
func (s *Server) onMosaic(h imageHandler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ resolver) error {
		return h(w, r, s.openMosaicSource)
	}
}

// targetSource is one opened target.
type targetSource struct {
	s  *Server
	tg *target
	p  *renderParams
}

func (t *targetSource) params() *renderParams     { return t.p }
func (t *targetSource) annotate(http.Header) bool { return false }
func (t *targetSource) close()                    { t.tg.close() }

func (t *targetSource) extent(ctx context.Context, dstCRS string) (string, int, [4]float64, float64, error) {
	info := t.tg.assets[0].ds.Info()
	crs, epsg := info.CRS, info.EPSG
	if epsg != 0 {
		crs = fmt.Sprintf("EPSG:%d", epsg)
	}
	if dstCRS != "" {
		var err error
		if crs, epsg, err = parseCRS("dst_crs", dstCRS); err != nil {
			return "", 0, [4]float64{}, 0, err
		}
	}
	b, err := t.tg.assets[0].ds.BoundsIn(ctx, crs)
	if err != nil {
		return "", 0, b, 0, httpx.BadRequest("dst_crs", "%v", err)
	}
	return crs, epsg, b, float64(info.Width), nil
}

func (t *targetSource) nativeSize(ctx context.Context, crs string, bb [4]float64) (float64, float64) {
	ds := t.tg.assets[0].ds
	b, err := ds.BoundsIn(ctx, crs)
	if err != nil {
		return 0, 0
	}
	info := ds.Info()
	rx := (b[2] - b[0]) / float64(info.Width)
	ry := (b[3] - b[1]) / float64(info.Height)
	return (bb[2] - bb[0]) / rx, (bb[3] - bb[1]) / ry
}

func (t *targetSource) window(ctx context.Context, crs string, bb [4]float64, width, height int, tm *timings) (*raster.Image, error) {
	return t.s.renderWindow(ctx, t.tg, t.p, crs, bb, width, height, tm)
}

// mosaicSource is a search or collection mosaic: each window searches the
// items it intersects (cached per tile box) and mosaics them, within the
// request's items_limit, scan_limit and time_limit.
type mosaicSource struct {
	s  *Server
	ms *mosaicSearch
	mp mosaicParams
	// deadline ends the request's time_limit, shared by its windows (a
	// feature collection's statistics read one window per feature).
	deadline time.Time

	found, read int
	limits      []string
	timedOut    bool
	results     []*mosaicResult // released by close
}

func (s *Server) openMosaicSource(r *http.Request) (imageSource, error) {
	mp, err := s.parseMosaic(r.URL.Query())
	if err != nil {
		return nil, err
	}
	ms, err := s.resolveSearch(r)
	if err != nil {
		return nil, err
	}
	return &mosaicSource{s: s, ms: ms, mp: mp, deadline: time.Now().Add(mp.timeLimit)}, nil
}

func (m *mosaicSource) params() *renderParams { return &m.mp.renderParams }

// close gives the planes of every window's mosaic back for reuse: the
// handlers are done with the images when they close the source.
func (m *mosaicSource) close() {
	for _, r := range m.results {
		r.release()
	}
}

// extent is the search's geographic extent (metadata bounds or bbox)
// narrowed to the items found in it, in EPSG:4326 unless dst_crs says
// otherwise. A mosaic has no native resolution: previews are max_size
// pixels on their long side.
func (m *mosaicSource) extent(ctx context.Context, dstCRS string) (string, int, [4]float64, float64, error) {
	g := m.ms.bounds([4]float64{-180, -90, 180, 90})
	box := geo.BBox{MinX: g[0], MinY: g[1], MaxX: g[2], MaxY: g[3]}
	ti, err := m.s.itemsForBox(ctx, m.ms, box, &m.mp)
	if err != nil {
		return "", 0, g, 0, err
	}
	u := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, it := range ti.items {
		if len(it.BBox) >= 4 {
			n := len(it.BBox) / 2 // 2D or 3D
			u = [4]float64{math.Min(u[0], it.BBox[0]), math.Min(u[1], it.BBox[1]), math.Max(u[2], it.BBox[n]), math.Max(u[3], it.BBox[n+1])}
		}
	}
	if u[2] > u[0] && u[3] > u[1] {
		g = [4]float64{math.Max(g[0], u[0]), math.Max(g[1], u[1]), math.Min(g[2], u[2]), math.Min(g[3], u[3])}
	}
	crs, epsg := "EPSG:4326", 4326
	if dstCRS != "" {
		if crs, epsg, err = parseCRS("dst_crs", dstCRS); err != nil {
			return "", 0, g, 0, err
		}
	}
	if crs != "EPSG:4326" {
		bt, ok := m.s.reader.(BoundsTransformer)
		if !ok {
			return "", 0, g, 0, httpx.BadRequest("dst_crs", "this reader cannot transform bounds to %s", crs)
		}
		if g, err = bt.TransformBounds(ctx, g, "EPSG:4326", crs); err != nil {
			return "", 0, g, 0, httpx.BadRequest("dst_crs", "%v", err)
		}
	}
	return crs, epsg, g, 0, nil
}

// nativeSize: a mosaic has no native resolution; a size this large makes
// imageSize give max_size pixels on the long side, keeping bb's aspect.
func (m *mosaicSource) nativeSize(_ context.Context, _ string, bb [4]float64) (float64, float64) {
	const unbounded = 1 << 30
	dx, dy := bb[2]-bb[0], bb[3]-bb[1]
	if dx >= dy {
		return unbounded, unbounded * dy / dx
	}
	return unbounded * dx / dy, unbounded
}

func (m *mosaicSource) window(ctx context.Context, crs string, bb [4]float64, width, height int, tm *timings) (*raster.Image, error) {
	box, err := m.s.geoBox(ctx, "coord_crs", crs, bb)
	if errors.Is(err, errEmptyBox) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	done := tm.start("search")
	ti, err := m.s.itemsForBox(ctx, m.ms, box, &m.mp)
	done()
	if err != nil {
		return nil, err
	}
	mp := m.mp
	mp.timeLimit = max(time.Until(m.deadline), time.Millisecond)
	img, res, err := m.s.mosaicWindow(ctx, ti, &mp, crs, bb, width, height, tm)
	if err != nil {
		return nil, err
	}
	m.results = append(m.results, res)
	m.found += len(ti.items)
	m.read += res.read
	for _, l := range ti.limits {
		if !slices.Contains(m.limits, l) {
			m.limits = append(m.limits, l)
		}
	}
	if res.timedOut {
		m.timedOut = true
		if !slices.Contains(m.limits, "time_limit") {
			m.limits = append(m.limits, "time_limit")
		}
	}
	return img, nil
}

// annotate sets X-Mosaic-Items and X-Mosaic-Limit.
func (m *mosaicSource) annotate(h http.Header) bool {
	h.Set(HeaderMosaicItems, fmt.Sprintf("found=%d, read=%d", m.found, m.read))
	if len(m.limits) > 0 {
		h.Set(HeaderMosaicLimit, strings.Join(m.limits, ", "))
	}
	return m.timedOut
}
