package tiles

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/render"
)

// infoDoc is rio-tiler's Info model (bounds are geographic, native bounds
// and CRS are given separately).
type infoDoc struct {
	Bounds           [4]float64     `json:"bounds"`
	NativeBounds     [4]float64     `json:"native_bounds"`
	CRS              string         `json:"crs"`
	MinZoom          int            `json:"minzoom"`
	MaxZoom          int            `json:"maxzoom"`
	BandMetadata     [][2]any       `json:"band_metadata"`
	BandDescriptions [][2]string    `json:"band_descriptions"`
	DType            string         `json:"dtype"`
	NodataType       string         `json:"nodata_type"`
	NodataValue      *float64       `json:"nodata_value,omitempty"`
	ColorInterp      []string       `json:"colorinterp"`
	Scales           []float64      `json:"scales"`
	Offsets          []float64      `json:"offsets"`
	Driver           string         `json:"driver"`
	Count            int            `json:"count"`
	Width            int            `json:"width"`
	Height           int            `json:"height"`
	Overviews        []int          `json:"overviews"`
	Extra            map[string]any `json:"-"`
}

func (s *Server) infoOf(r *http.Request, ds raster.Dataset) (infoDoc, error) {
	i := ds.Info()
	t, _ := s.tms.Get(s.cfg.DefaultTMS)
	minz, maxz, err := zooms(r.Context(), ds, t)
	if err != nil {
		return infoDoc{}, err
	}
	d := infoDoc{Bounds: i.GeoBounds, NativeBounds: i.Bounds, CRS: crsURI(i.EPSG), MinZoom: minz, MaxZoom: maxz, DType: string(i.DataType),
		Driver: i.Driver, Count: i.BandCount, Width: i.Width, Height: i.Height, NodataType: "None", Overviews: []int{}}
	if d.CRS == "" {
		d.CRS = i.CRS
	}
	switch {
	case i.HasAlpha:
		d.NodataType = "Alpha"
	case i.HasMask:
		d.NodataType = "Mask"
	case i.Nodata != nil:
		d.NodataType = "Nodata"
		if !math.IsNaN(*i.Nodata) {
			d.NodataValue = i.Nodata
		}
	}
	for _, b := range i.Bands {
		md := map[string]string{}
		for k, v := range b.Metadata {
			md[k] = v
		}
		d.BandMetadata = append(d.BandMetadata, [2]any{b.Name, md})
		d.BandDescriptions = append(d.BandDescriptions, [2]string{b.Name, b.Description})
		d.ColorInterp = append(d.ColorInterp, strings.ToLower(b.ColorInterp))
		d.Scales = append(d.Scales, b.Scale)
		d.Offsets = append(d.Offsets, b.Offset)
	}
	for _, ow := range i.Overviews {
		if ow > 0 {
			d.Overviews = append(d.Overviews, int(math.Round(float64(i.Width)/float64(ow))))
		}
	}
	return d, nil
}

func (s *Server) infoAll(r *http.Request, res resolver) (any, [4]float64, error) {
	var p *renderParams
	if r.PathValue("cid") != "" {
		// items: info of the requested assets, or of every raster asset
		q := r.URL.Query()
		pp := renderParams{assets: list(q, "assets")}
		if len(pp.assets) == 0 {
			it, err := s.loadItem(r.Context(), r.PathValue("cid"), r.PathValue("iid"))
			if err != nil {
				return nil, [4]float64{}, err
			}
			pp.assets = it.rasterAssets()
			if len(pp.assets) == 0 {
				return map[string]any{}, [4]float64{}, nil
			}
		}
		p = &pp
	}
	tg, err := res(r, p)
	if err != nil {
		return nil, [4]float64{}, err
	}
	defer tg.close()
	if tg.item == nil {
		d, err := s.infoOf(r, tg.assets[0].ds)
		return d, d.Bounds, err
	}
	out := map[string]infoDoc{}
	var geo [4]float64
	for i, a := range tg.assets {
		d, err := s.infoOf(r, a.ds)
		if err != nil {
			return nil, geo, err
		}
		out[a.name] = d
		if i == 0 {
			geo = d.Bounds
		}
	}
	return out, geo, nil
}

func (s *Server) info(w http.ResponseWriter, r *http.Request, res resolver) error {
	doc, _, err := s.infoAll(r, res)
	if err != nil {
		return err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	s.writeBody(w, r, http.StatusOK, "application/json", b, nil)
	return nil
}

func (s *Server) infoGeoJSON(w http.ResponseWriter, r *http.Request, res resolver) error {
	doc, g, err := s.infoAll(r, res)
	if err != nil {
		return err
	}
	f := map[string]any{
		"type": "Feature", "bbox": g,
		"geometry":   map[string]any{"type": "Polygon", "coordinates": [][][2]float64{{{g[0], g[1]}, {g[2], g[1]}, {g[2], g[3]}, {g[0], g[3]}, {g[0], g[1]}}}},
		"properties": doc,
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	s.writeBody(w, r, http.StatusOK, "application/geo+json", b, nil)
	return nil
}

// parseLonLat parses "lon,lat".
func parseLonLat(v string) (float64, float64, error) {
	a, b, ok := strings.Cut(v, ",")
	if !ok {
		return 0, 0, httpx.BadRequest("lon,lat", "%q must be lon,lat", v)
	}
	lon, err1 := strconv.ParseFloat(a, 64)
	lat, err2 := strconv.ParseFloat(b, 64)
	if err1 != nil || err2 != nil || lon < -180 || lon > 180 || lat < -90 || lat > 90 {
		return 0, 0, httpx.BadRequest("lon,lat", "%q must be a longitude,latitude in degrees", v)
	}
	return lon, lat, nil
}

func (s *Server) point(w http.ResponseWriter, r *http.Request, res resolver) error {
	lon, lat, err := parseLonLat(r.PathValue("b"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	p, err := parseRender(q, r.PathValue("cid") != "")
	if err != nil {
		return err
	}
	crs := "EPSG:4326"
	if v := q.Get("coord_crs"); v != "" {
		crs = v
	}
	tg, err := res(r, &p)
	if err != nil {
		return err
	}
	defer tg.close()
	imgs := make([]*raster.Image, len(tg.assets))
	for i, a := range tg.assets {
		if imgs[i], err = a.ds.Point(r.Context(), lon, lat, crs, a.bands, p.nodata); err != nil {
			if errors.Is(err, raster.ErrOutsideBounds) {
				return httpx.NotFound("point %s,%s is outside the data", ff(lon), ff(lat))
			}
			return err
		}
	}
	img := combine(tg, imgs)
	if p.expr != nil {
		if img, err = post(img, &renderParams{expr: p.expr}, tg); err != nil {
			return err
		}
	}
	vals := make([]any, len(img.Bands))
	for i, b := range img.Bands {
		if img.Valid(0) && !math.IsNaN(b[0]) {
			vals[i] = b[0]
		}
	}
	doc := map[string]any{"coordinates": []float64{lon, lat}, "values": vals, "band_names": img.BandNames}
	if tg.item != nil {
		doc["assets"] = assetNames(tg)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	s.writeBody(w, r, http.StatusOK, "application/json", b, nil)
	return nil
}

func assetNames(tg *target) []string {
	out := make([]string, len(tg.assets))
	for i, a := range tg.assets {
		out[i] = a.name
	}
	return out
}

// statsOptions parses histogram/percentile parameters.
func statsOptions(r *http.Request) (render.StatsOptions, error) {
	q := r.URL.Query()
	var o render.StatsOptions
	var err error
	if o.Categorical, err = parseBool(q, "categorical", false); err != nil {
		return o, err
	}
	for _, c := range list(q, "c") {
		f, err := parseFloat("c", c)
		if err != nil {
			return o, err
		}
		o.Categories = append(o.Categories, f)
	}
	for _, v := range list(q, "p") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100 {
			return o, httpx.BadRequest("p", "%q must be a percentile in 0..100", v)
		}
		o.Percentiles = append(o.Percentiles, n)
	}
	if o.Bins, err = parseInt(q, "histogram_bins", 10, 1, 1000); err != nil {
		return o, err
	}
	if v := q.Get("histogram_range"); v != "" {
		a, b, ok := strings.Cut(v, ",")
		lo, err1 := strconv.ParseFloat(a, 64)
		hi, err2 := strconv.ParseFloat(b, 64)
		if !ok || err1 != nil || err2 != nil || hi < lo {
			return o, httpx.BadRequest("histogram_range", "%q must be min,max", v)
		}
		o.Range = []float64{lo, hi}
	}
	return o, nil
}

func statsDoc(img *raster.Image, o render.StatsOptions) map[string]render.BandStats {
	st := render.Statistics(img, o)
	out := make(map[string]render.BandStats, len(st))
	for i, s := range st {
		out[img.BandNames[i]] = s
	}
	return out
}

// statistics is GET /statistics: statistics of the preview (max_size
// pixels on the long side by default).
func (s *Server) statistics(w http.ResponseWriter, r *http.Request, src sourceFunc) error {
	o, err := statsOptions(r)
	if err != nil {
		return err
	}
	sc, err := src(r)
	if err != nil {
		return err
	}
	defer sc.close()
	img, _, err := s.previewImage(r, sc, &timings{})
	if err != nil {
		return err
	}
	if img == nil {
		return httpx.NotFound("no item of the mosaic has data")
	}
	b, err := json.Marshal(statsDoc(img, o))
	if err != nil {
		return err
	}
	sc.annotate(w.Header())
	s.writeBody(w, r, http.StatusOK, "application/json", b, nil)
	return nil
}

// statisticsFeature computes statistics inside each feature of a GeoJSON
// Feature or FeatureCollection (EPSG:4326) and returns it with
// properties.statistics ({} where a mosaic has no data).
func (s *Server) statisticsFeature(w http.ResponseWriter, r *http.Request, src sourceFunc) error {
	o, err := statsOptions(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 8<<20))
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return httpx.BadRequest("body", "not JSON: %v", err)
	}
	var feats []map[string]any
	switch doc["type"] {
	case "Feature":
		feats = []map[string]any{doc}
	case "FeatureCollection":
		fs, _ := doc["features"].([]any)
		for _, f := range fs {
			if m, ok := f.(map[string]any); ok {
				feats = append(feats, m)
			}
		}
	default:
		return httpx.BadRequest("body", "must be a GeoJSON Feature or FeatureCollection")
	}
	if len(feats) == 0 || len(feats) > 100 {
		return httpx.BadRequest("body", "1..100 features")
	}
	geoms := make([]*geometry, len(feats))
	for i, f := range feats {
		if geoms[i], err = parseGeometry(f["geometry"]); err != nil {
			return err
		}
	}
	sc, err := src(r)
	if err != nil {
		return err
	}
	defer sc.close()
	for i, f := range feats {
		img, err := s.featureImage(r, sc, geoms[i], 0, 0, &timings{})
		if err != nil {
			return err
		}
		props, _ := f["properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
		}
		props["statistics"] = map[string]render.BandStats{}
		if img != nil {
			props["statistics"] = statsDoc(img, o)
		}
		f["properties"] = props
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	sc.annotate(w.Header())
	s.writeBody(w, r, http.StatusOK, "application/geo+json", b, nil)
	return nil
}
