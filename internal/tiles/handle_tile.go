package tiles

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/render"
	"github.com/tessera-geo/tessera/internal/tms"
)

func (s *Server) getTMS(id string) (*tms.TileMatrixSet, error) {
	t, err := s.tms.Get(id)
	if err != nil {
		return nil, httpx.NotFound("unknown tile matrix set %q (see /tileMatrixSets)", id)
	}
	return t, nil
}

// parseTileY splits "{y}[@{scale}x][.{fmt}]".
func parseTileY(v string) (y, scale int, ext string, err error) {
	base, ext := splitExt(v)
	scale = 1
	if at := strings.IndexByte(base, '@'); at >= 0 {
		sc := base[at+1:]
		base = base[:at]
		if !strings.HasSuffix(sc, "x") {
			return 0, 0, "", httpx.BadRequest("scale", "%q must look like @2x", sc)
		}
		scale, err = strconv.Atoi(strings.TrimSuffix(sc, "x"))
		if err != nil || scale < 1 || scale > 4 {
			return 0, 0, "", httpx.BadRequest("scale", "%q must be @1x..@4x", sc)
		}
	}
	y, err = strconv.Atoi(base)
	if err != nil {
		return 0, 0, "", httpx.BadRequest("y", "%q is not an integer", base)
	}
	return y, scale, ext, nil
}

func (s *Server) tile(w http.ResponseWriter, r *http.Request, res resolver) error {
	t, err := s.getTMS(r.PathValue("tms"))
	if err != nil {
		return err
	}
	z, err := strconv.Atoi(r.PathValue("z"))
	if err != nil {
		return httpx.BadRequest("z", "%q is not an integer", r.PathValue("z"))
	}
	x, err := strconv.Atoi(r.PathValue("x"))
	if err != nil {
		return httpx.BadRequest("x", "%q is not an integer", r.PathValue("x"))
	}
	y, scale, ext, err := parseTileY(r.PathValue("y"))
	if err != nil {
		return err
	}
	f, err := parseFormat("format", ext)
	if err != nil {
		return err
	}
	p, err := parseRender(r.URL.Query(), r.PathValue("cid") != "")
	if err != nil {
		return err
	}
	tile := tms.Tile{Z: z, X: x, Y: y}
	bounds, err := t.Bounds(tile)
	if err != nil {
		return httpx.NotFound("%v", err)
	}
	m, _ := t.Matrix(z)
	size := m.TileWidth * scale
	if p.tilesize > 0 {
		size = p.tilesize
	}
	tm := &timings{}
	tg, err := res(r, &p)
	if err != nil {
		return err
	}
	defer tg.close()
	img, err := s.renderWindow(r.Context(), tg, &p, t.SRS(), bounds, size, size, tm)
	if err != nil {
		return err
	}
	// nothing keeps the tile's planes after encoding (post and combine
	// build new images or reuse the read planes; Release gives each back once)
	defer img.Release()
	body, f, err := s.finish(img, &p, f, t.EPSG(), tm)
	if err != nil {
		return err
	}
	s.writeImage(w, r, body, f, img.Bounds, t.EPSG(), tm)
	return nil
}

// renderWindow reads bounds (CRS units) into width×height pixels plus the
// buffers the request and its algorithm need, runs the post stage, and
// crops the padding and algorithm buffer (the requested buffer stays).
func (s *Server) renderWindow(ctx context.Context, tg *target, p *renderParams, crs string, bounds [4]float64, width, height int, tm *timings) (*raster.Image, error) {
	win, crop := bufferedWindow(p, crs, bounds, width, height)
	img, err := s.readWindow(ctx, tg, p, win, tm)
	if err != nil {
		return nil, err
	}
	done := tm.start("post")
	img, err = post(img, p, tg)
	done()
	if err != nil {
		return nil, err
	}
	if crop > 0 {
		img = img.Crop(crop, crop, img.Width-2*crop, img.Height-2*crop)
	}
	return img, nil
}

// bufferedWindow is the window to read for bounds (CRS units) at
// width×height: grown by the padding, the algorithm's buffer and the
// requested buffer, with p's resampling, nodata and unscale. crop is what
// to cut from each side after the post stage (the requested buffer stays).
func bufferedWindow(p *renderParams, crs string, bounds [4]float64, width, height int) (win raster.Window, crop int) {
	ab := 0
	if p.algo != nil {
		ab = p.algo.Buffer()
	}
	crop = p.padding + ab
	extra := crop + p.buffer
	rx := (bounds[2] - bounds[0]) / float64(width)
	ry := (bounds[3] - bounds[1]) / float64(height)
	return raster.Window{CRS: crs, Width: width + 2*extra, Height: height + 2*extra,
		Bounds:     [4]float64{bounds[0] - float64(extra)*rx, bounds[1] - float64(extra)*ry, bounds[2] + float64(extra)*rx, bounds[3] + float64(extra)*ry},
		Resampling: p.resampling, Nodata: p.nodata, Unscale: p.unscale}, crop
}

// zooms returns the zoom range where the dataset is worth showing in t:
// maxzoom is the level closest to the native resolution, minzoom the level
// where the whole dataset fits in about one tile.
func zooms(ctx context.Context, ds raster.Dataset, t *tms.TileMatrixSet) (int, int, error) {
	b, err := ds.BoundsIn(ctx, t.SRS())
	if err != nil {
		return 0, 0, err
	}
	info := ds.Info()
	res := math.Min((b[2]-b[0])/float64(info.Width), (b[3]-b[1])/float64(info.Height))
	nearest := func(res float64) int {
		best, bd := 0, math.Inf(1)
		for z, m := range t.TileMatrices {
			if d := math.Abs(math.Log2(m.CellSize / res)); d < bd {
				best, bd = z, d
			}
		}
		return best
	}
	maxz := nearest(res)
	m0 := t.TileMatrices[0]
	span := math.Max(b[2]-b[0], b[3]-b[1])
	minz := 0
	for z, m := range t.TileMatrices {
		if m.CellSize*float64(m0.TileWidth) >= span {
			minz = z
		}
	}
	if minz > maxz {
		minz = maxz
	}
	return minz, maxz, nil
}

// targetZooms merges the zoom ranges and geographic bounds of all assets.
func targetZooms(ctx context.Context, tg *target, t *tms.TileMatrixSet) (minz, maxz int, geo [4]float64, err error) {
	minz, maxz = math.MaxInt, 0
	geo = [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, a := range tg.assets {
		lo, hi, err := zooms(ctx, a.ds, t)
		if err != nil {
			return 0, 0, geo, err
		}
		minz, maxz = min(minz, lo), max(maxz, hi)
		g := a.ds.Info().GeoBounds
		geo = [4]float64{math.Min(geo[0], g[0]), math.Min(geo[1], g[1]), math.Max(geo[2], g[2]), math.Max(geo[3], g[3])}
	}
	return minz, maxz, geo, nil
}

func optZoom(r *http.Request, name string, def int, t *tms.TileMatrixSet) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	z, err := strconv.Atoi(v)
	if err != nil || z < 0 || z > t.MaxZoom() {
		return 0, httpx.BadRequest(name, "%q must be a zoom in 0..%d", v, t.MaxZoom())
	}
	return z, nil
}

// tileURL returns the tile URL template for the request's target.
func (s *Server) tileURL(r *http.Request, t *tms.TileMatrixSet, zxy string) (string, error) {
	return s.tileTemplate(r, routePrefix(r), t, zxy, "")
}

// tileTemplate returns the URL template of the tiles under prefix:
// tile_scale and tile_format (else defExt, when not empty) make its
// suffix, and the other query parameters pass through.
func (s *Server) tileTemplate(r *http.Request, prefix string, t *tms.TileMatrixSet, zxy, defExt string) (string, error) {
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
	u := s.baseURL(r) + prefix + "/tiles/" + t.ID + "/" + zxy + suffix
	if qs := passQuery(q, "tile_format", "tile_scale", "minzoom", "maxzoom"); qs != "" {
		u += "?" + qs
	}
	return u, nil
}

// TileJSON is a TileJSON 3.0.0 document.
type TileJSON struct {
	TileJSON string     `json:"tilejson"`
	Name     string     `json:"name,omitempty"`
	Version  string     `json:"version"`
	Scheme   string     `json:"scheme"`
	Tiles    []string   `json:"tiles"`
	MinZoom  int        `json:"minzoom"`
	MaxZoom  int        `json:"maxzoom"`
	Bounds   [4]float64 `json:"bounds"`
	Center   [3]float64 `json:"center"`
}

// targetCommon opens what tilejson, WMTS and map.html of a dataset or
// item share: the tile matrix set, the target (the caller closes it when
// err is nil), its zoom range and its geographic bounds.
func (s *Server) targetCommon(r *http.Request, res resolver) (*tms.TileMatrixSet, *target, int, int, [4]float64, error) {
	t, err := s.getTMS(r.PathValue("a"))
	if err != nil {
		return nil, nil, 0, 0, [4]float64{}, err
	}
	p, err := parseRender(r.URL.Query(), r.PathValue("cid") != "")
	if err != nil {
		return nil, nil, 0, 0, [4]float64{}, err
	}
	tg, err := res(r, &p)
	if err != nil {
		return nil, nil, 0, 0, [4]float64{}, err
	}
	minz, maxz, geo, err := targetZooms(r.Context(), tg, t)
	if err != nil {
		tg.close()
		return nil, nil, 0, 0, [4]float64{}, err
	}
	return t, tg, minz, maxz, geo, nil
}

func (s *Server) tileJSON(w http.ResponseWriter, r *http.Request, res resolver) error {
	t, tg, minz, maxz, geo, err := s.targetCommon(r, res)
	if err != nil {
		return err
	}
	defer tg.close()
	if minz, err = optZoom(r, "minzoom", minz, t); err != nil {
		return err
	}
	if maxz, err = optZoom(r, "maxzoom", maxz, t); err != nil {
		return err
	}
	u, err := s.tileURL(r, t, "{z}/{x}/{y}")
	if err != nil {
		return err
	}
	tj := TileJSON{TileJSON: "3.0.0", Name: tg.title, Version: "1.0.0", Scheme: "xyz", Tiles: []string{u}, MinZoom: minz, MaxZoom: maxz,
		Bounds: geo, Center: [3]float64{(geo[0] + geo[2]) / 2, (geo[1] + geo[3]) / 2, float64(minz)}}
	b, _ := json.Marshal(tj)
	s.writeBody(w, r, http.StatusOK, "application/json", b, nil)
	return nil
}

func xmlEsc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// wmts serves a WMTS 1.0.0 GetCapabilities document with one layer in the
// requested tile matrix set, limited to the dataset's zoom range.
func (s *Server) wmts(w http.ResponseWriter, r *http.Request, res resolver) error {
	format := render.PNG
	if v := r.URL.Query().Get("tile_format"); v != "" {
		var err error
		if format, err = parseFormat("tile_format", v); err != nil {
			return err
		}
	}
	t, tg, minz, maxz, geo, err := s.targetCommon(r, res)
	if err != nil {
		return err
	}
	defer tg.close()
	if minz, err = optZoom(r, "minzoom", minz, t); err != nil {
		return err
	}
	if maxz, err = optZoom(r, "maxzoom", maxz, t); err != nil {
		return err
	}
	if minz > maxz {
		return httpx.BadRequest("minzoom", "minzoom %d is above maxzoom %d", minz, maxz)
	}
	ext := string(format)
	tmpl := s.baseURL(r) + routePrefix(r) + "/tiles/" + t.ID + "/{TileMatrix}/{TileCol}/{TileRow}." + ext
	if qs := passQuery(r.URL.Query(), "tile_format", "tile_scale", "minzoom", "maxzoom"); qs != "" {
		tmpl += "?" + qs
	}
	s.writeBody(w, r, http.StatusOK, "application/xml", wmtsCapabilities(tg.title, geo, format, t, tmpl, minz, maxz), nil)
	return nil
}

// wmtsCapabilities is a WMTS 1.0.0 GetCapabilities document with one
// layer, title, over geo (CRS84), whose tiles in format are at the URL
// template tmpl, in the zooms minz..maxz of t. Datasets and mosaics share it.
func wmtsCapabilities(title string, geo [4]float64, format render.Format, t *tms.TileMatrixSet, tmpl string, minz, maxz int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<Capabilities xmlns="http://www.opengis.net/wmts/1.0" xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:gml="http://www.opengis.net/gml" version="1.0.0">
  <ows:ServiceIdentification><ows:Title>tessera</ows:Title><ows:ServiceType>OGC WMTS</ows:ServiceType><ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion></ows:ServiceIdentification>
  <Contents>
    <Layer>
      <ows:Title>` + xmlEsc(title) + `</ows:Title>
      <ows:Identifier>default</ows:Identifier>
      <ows:WGS84BoundingBox crs="urn:ogc:def:crs:OGC:2:84"><ows:LowerCorner>` + ff(geo[0]) + " " + ff(geo[1]) + `</ows:LowerCorner><ows:UpperCorner>` + ff(geo[2]) + " " + ff(geo[3]) + `</ows:UpperCorner></ows:WGS84BoundingBox>
      <Style isDefault="true"><ows:Identifier>default</ows:Identifier></Style>
      <Format>` + format.MediaType() + `</Format>
      <TileMatrixSetLink><TileMatrixSet>` + xmlEsc(t.ID) + `</TileMatrixSet></TileMatrixSetLink>
      <ResourceURL format="` + xmlEsc(format.MediaType()) + `" resourceType="tile" template="` + xmlEsc(tmpl) + `"/>
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
	return []byte(b.String())
}

var errNoItems = errors.New("no items")
