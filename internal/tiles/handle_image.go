package tiles

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/render"
)

// imageSize picks the output size for bounds whose native size is
// nw×nh pixels: width/height when given, else the native size capped at
// max_size (keeping the aspect ratio).
func (s *Server) imageSize(r *http.Request, nw, nh float64) (int, int, error) {
	q := r.URL.Query()
	maxSize, err := parseInt(q, "max_size", s.cfg.MaxSize, 16, s.cfg.MaxSize*4)
	if err != nil {
		return 0, 0, err
	}
	w, err := parseInt(q, "width", 0, 1, 1<<15)
	if err != nil {
		return 0, 0, err
	}
	h, err := parseInt(q, "height", 0, 1, 1<<15)
	if err != nil {
		return 0, 0, err
	}
	return s.fitSize(w, h, maxSize, nw, nh)
}

func (s *Server) fitSize(w, h, maxSize int, nw, nh float64) (int, int, error) {
	if nw <= 0 || nh <= 0 || math.IsNaN(nw) || math.IsNaN(nh) {
		nw, nh = float64(maxSize), float64(maxSize)
	}
	switch {
	case w > 0 && h > 0:
	case w > 0:
		h = max(1, int(math.Round(float64(w)*nh/nw)))
	case h > 0:
		w = max(1, int(math.Round(float64(h)*nw/nh)))
	default:
		scale := math.Min(1, float64(maxSize)/math.Max(nw, nh))
		w, h = max(1, int(math.Round(nw*scale))), max(1, int(math.Round(nh*scale)))
	}
	if w*h > s.cfg.MaxImagePixels {
		return 0, 0, httpx.BadRequest("width", "%dx%d is larger than the %d pixels allowed", w, h, s.cfg.MaxImagePixels)
	}
	return w, h, nil
}

// previewImage reads the source's whole extent (a dataset: its first
// asset's) in its own CRS, or dst_crs. img is nil when a mosaic has no
// data there.
func (s *Server) previewImage(r *http.Request, sc imageSource, tm *timings) (*raster.Image, int, error) {
	crs, epsg, b, nw, err := sc.extent(r.Context(), r.URL.Query().Get("dst_crs"))
	if err != nil {
		return nil, 0, err
	}
	nh := nw * (b[3] - b[1]) / (b[2] - b[0])
	if nw == 0 {
		nw, nh = sc.nativeSize(r.Context(), crs, b)
	}
	w, h, err := s.imageSize(r, nw, nh)
	if err != nil {
		return nil, 0, err
	}
	img, err := sc.window(r.Context(), crs, b, w, h, tm)
	return img, epsg, err
}

// writeSourceImage encodes and writes img with the source's headers; a
// nil img (a mosaic without data there) is 204 with no body.
func (s *Server) writeSourceImage(w http.ResponseWriter, r *http.Request, sc imageSource, img *raster.Image, f render.Format, epsg int, tm *timings) error {
	if sc.annotate(w.Header()) {
		w = noStore{w}
	}
	if img == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	body, f, err := s.finish(img, sc.params(), f, epsg, tm)
	if err != nil {
		return err
	}
	s.writeImage(w, r, body, f, img.Bounds, epsg, tm)
	return nil
}

// parseCRS accepts EPSG:n or an OGC CRS URI and returns "EPSG:n".
func parseCRS(param, v string) (string, int, error) {
	s := v
	switch {
	case strings.HasPrefix(strings.ToUpper(s), "EPSG:"):
		s = s[5:]
	case strings.Contains(s, "/EPSG/0/"):
		s = s[strings.LastIndex(s, "/")+1:]
	case strings.HasSuffix(s, "/OGC/1.3/CRS84") || strings.EqualFold(s, "OGC:CRS84"):
		s = "4326"
	default:
		return "", 0, httpx.BadRequest(param, "%q must be EPSG:<code> or an OGC CRS URI", v)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return "", 0, httpx.BadRequest(param, "%q must be EPSG:<code> or an OGC CRS URI", v)
	}
	return "EPSG:" + s, n, nil
}

func (s *Server) preview(w http.ResponseWriter, r *http.Request, src sourceFunc) error {
	f, err := formatFromPath(r.URL.Path)
	if err != nil {
		return err
	}
	sc, err := src(r)
	if err != nil {
		return err
	}
	defer sc.close()
	tm := &timings{}
	img, epsg, err := s.previewImage(r, sc, tm)
	if err != nil {
		return err
	}
	return s.writeSourceImage(w, r, sc, img, f, epsg, tm)
}

// formatFromPath takes the format from the last path segment's extension.
func formatFromPath(path string) (render.Format, error) {
	last := path[strings.LastIndexByte(path, '/')+1:]
	_, ext := splitExt(last)
	return parseFormat("format", ext)
}

// bbox serves /bbox/{minx},{miny},{maxx},{maxy}[/{w}x{h}].{fmt}.
func (s *Server) bbox(w http.ResponseWriter, r *http.Request, src sourceFunc) error {
	coords := r.PathValue("coords")
	size := r.PathValue("size")
	if coords == "" {
		coords = r.PathValue("b")
	}
	var ext string
	if size != "" {
		size, ext = splitExt(size)
	} else {
		coords, ext = splitExt(coords)
		// "1.5,2,3,4.png": splitExt cut at the last dot, which is the format
	}
	if ext == "" {
		return httpx.BadRequest("format", "a format extension is required (e.g. .png)")
	}
	f, err := parseFormat("format", ext)
	if err != nil {
		return err
	}
	parts := strings.Split(coords, ",")
	if len(parts) != 4 {
		return httpx.BadRequest("bbox", "%q must be minx,miny,maxx,maxy", coords)
	}
	var bb [4]float64
	for i, v := range parts {
		if bb[i], err = strconv.ParseFloat(v, 64); err != nil || math.IsInf(bb[i], 0) {
			return httpx.BadRequest("bbox", "%q is not a number", v)
		}
	}
	if bb[2] <= bb[0] || bb[3] <= bb[1] {
		return httpx.BadRequest("bbox", "must be minx,miny,maxx,maxy with min < max")
	}
	q := r.URL.Query()
	crs, epsg := "EPSG:4326", 4326
	if v := q.Get("coord_crs"); v != "" {
		if crs, epsg, err = parseCRS("coord_crs", v); err != nil {
			return err
		}
	}
	if v := q.Get("dst_crs"); v != "" {
		d, _, err := parseCRS("dst_crs", v)
		if err != nil {
			return err
		}
		if d != crs {
			return httpx.BadRequest("dst_crs", "must equal coord_crs (%s)", crs)
		}
	}
	sc, err := src(r)
	if err != nil {
		return err
	}
	defer sc.close()
	var wd, ht int
	if size != "" {
		a, b, ok := strings.Cut(size, "x")
		wd, err = strconv.Atoi(a)
		if err == nil && ok {
			ht, err = strconv.Atoi(b)
		}
		if !ok || err != nil || wd < 1 || ht < 1 || wd*ht > s.cfg.MaxImagePixels {
			return httpx.BadRequest("size", "%q must be {width}x{height} within %d pixels", size, s.cfg.MaxImagePixels)
		}
	} else {
		nw, nh := sc.nativeSize(r.Context(), crs, bb)
		if wd, ht, err = s.imageSize(r, nw, nh); err != nil {
			return err
		}
	}
	tm := &timings{}
	img, err := sc.window(r.Context(), crs, bb, wd, ht, tm)
	if err != nil {
		return err
	}
	return s.writeSourceImage(w, r, sc, img, f, epsg, tm)
}

// geometry is a GeoJSON Polygon or MultiPolygon in EPSG:4326.
type geometry struct {
	polys [][][][2]float64 // polygons → rings → points
	bbox  [4]float64
}

func parseGeometry(v any) (*geometry, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, httpx.BadRequest("geometry", "bad geometry")
	}
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, httpx.BadRequest("geometry", "bad geometry: %v", err)
	}
	out := &geometry{}
	switch g.Type {
	case "Polygon":
		var p [][][2]float64
		if err := json.Unmarshal(g.Coordinates, &p); err != nil {
			return nil, httpx.BadRequest("geometry", "bad Polygon coordinates: %v", err)
		}
		out.polys = [][][][2]float64{p}
	case "MultiPolygon":
		if err := json.Unmarshal(g.Coordinates, &out.polys); err != nil {
			return nil, httpx.BadRequest("geometry", "bad MultiPolygon coordinates: %v", err)
		}
	default:
		return nil, httpx.BadRequest("geometry", "type %q: Polygon or MultiPolygon required", g.Type)
	}
	out.bbox = [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	n := 0
	for _, p := range out.polys {
		for _, ring := range p {
			if len(ring) < 4 {
				return nil, httpx.BadRequest("geometry", "rings need at least 4 positions")
			}
			for _, pt := range ring {
				out.bbox = [4]float64{math.Min(out.bbox[0], pt[0]), math.Min(out.bbox[1], pt[1]), math.Max(out.bbox[2], pt[0]), math.Max(out.bbox[3], pt[1])}
				n++
			}
		}
	}
	if n == 0 || out.bbox[2] <= out.bbox[0] || out.bbox[3] <= out.bbox[1] {
		return nil, httpx.BadRequest("geometry", "empty geometry")
	}
	return out, nil
}

// contains tests a point with the even-odd rule over all rings.
func (g *geometry) contains(x, y float64) bool {
	for _, p := range g.polys {
		in := false
		for _, ring := range p {
			for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
				a, b := ring[i], ring[j]
				if (a[1] > y) != (b[1] > y) && x < (b[0]-a[0])*(y-a[1])/(b[1]-a[1])+a[0] {
					in = !in
				}
			}
		}
		if in {
			return true
		}
	}
	return false
}

// featureImage reads the geometry's bbox in EPSG:4326 (wd×ht, or the
// size imageSize picks when 0) and masks the pixels whose centre is
// outside the geometry; nil when a mosaic has no data there.
func (s *Server) featureImage(r *http.Request, sc imageSource, g *geometry, wd, ht int, tm *timings) (*raster.Image, error) {
	var err error
	if wd == 0 {
		nw, nh := sc.nativeSize(r.Context(), "EPSG:4326", g.bbox)
		if wd, ht, err = s.imageSize(r, nw, nh); err != nil {
			return nil, err
		}
	}
	img, err := sc.window(r.Context(), "EPSG:4326", g.bbox, wd, ht, tm)
	if err != nil || img == nil {
		return nil, err
	}
	if img.Mask == nil {
		img.Mask = make([]uint8, img.Width*img.Height)
		for i := range img.Mask {
			img.Mask[i] = 255
		}
	}
	rx := (img.Bounds[2] - img.Bounds[0]) / float64(img.Width)
	ry := (img.Bounds[3] - img.Bounds[1]) / float64(img.Height)
	for y := 0; y < img.Height; y++ {
		cy := img.Bounds[3] - (float64(y)+0.5)*ry
		for x := 0; x < img.Width; x++ {
			if !g.contains(img.Bounds[0]+(float64(x)+0.5)*rx, cy) {
				img.Mask[y*img.Width+x] = 0
			}
		}
	}
	return img, nil
}

// feature serves POST /feature[.fmt][/{w}x{h}] with a GeoJSON Feature or
// geometry body.
func (s *Server) feature(w http.ResponseWriter, r *http.Request, src sourceFunc) error {
	f, err := formatFromPath(strings.TrimSuffix(r.URL.Path, "/"+r.PathValue("size")))
	if err != nil {
		return err
	}
	var wd, ht int
	if size := r.PathValue("size"); size != "" {
		sz, ext := splitExt(size)
		if ext != "" {
			if f, err = parseFormat("format", ext); err != nil {
				return err
			}
		}
		a, b, ok := strings.Cut(sz, "x")
		wd, err = strconv.Atoi(a)
		if err == nil && ok {
			ht, err = strconv.Atoi(b)
		}
		if !ok || err != nil || wd < 1 || ht < 1 || wd*ht > s.cfg.MaxImagePixels {
			return httpx.BadRequest("size", "%q must be {width}x{height}", sz)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 8<<20))
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return httpx.BadRequest("body", "not JSON: %v", err)
	}
	geom := any(doc)
	if doc["type"] == "Feature" {
		geom = doc["geometry"]
	}
	g, err := parseGeometry(geom)
	if err != nil {
		return err
	}
	sc, err := src(r)
	if err != nil {
		return err
	}
	defer sc.close()
	tm := &timings{}
	img, err := s.featureImage(r, sc, g, wd, ht, tm)
	if err != nil {
		return err
	}
	return s.writeSourceImage(w, r, sc, img, f, 4326, tm)
}
