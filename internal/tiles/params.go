package tiles

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/render"
)

// renderParams are the read and render parameters shared by every image
// endpoint (titiler's dependencies).
type renderParams struct {
	bidx       []int
	expr       *render.Expr
	assets     []string
	assetBidx  map[string][]int
	nodata     *float64
	unscale    bool
	resampling raster.Resampling
	rescale    [][2]float64
	colormap   *render.ColorMap
	formula    render.ColorFormula
	returnMask bool
	algo       render.Algorithm
	buffer     int
	padding    int
	tilesize   int
}

// values returns all values of a parameter, splitting none.
func values(q url.Values, name string) []string { return q[name] }

// list returns the values of a repeated or comma-separated parameter.
func list(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func parseBool(q url.Values, name string, def bool) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	switch strings.ToLower(v) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, httpx.BadRequest(name, "%q is not a boolean", v)
}

func parseInt(q url.Values, name string, def, lo, hi int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		// titiler accepts buffer=0.5 style floats for buffer; integers only here
		return 0, httpx.BadRequest(name, "%q is not an integer", v)
	}
	if n < lo || n > hi {
		return 0, httpx.BadRequest(name, "%d is out of range %d..%d", n, lo, hi)
	}
	return n, nil
}

func parseFloat(param, v string) (float64, error) {
	if strings.EqualFold(v, "nan") {
		return math.NaN(), nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, httpx.BadRequest(param, "%q is not a number", v)
	}
	return f, nil
}

func parseBidx(q url.Values) ([]int, error) {
	var out []int
	for _, v := range list(q, "bidx") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, httpx.BadRequest("bidx", "%q is not a band index (1-based integer)", v)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseRender reads the shared parameters. item tells whether assets are
// meaningful (STAC items) or not (single COGs).
func parseRender(q url.Values, item bool) (renderParams, error) {
	var p renderParams
	var err error
	if p.bidx, err = parseBidx(q); err != nil {
		return p, err
	}
	if e := q.Get("expression"); e != "" {
		if p.expr, err = render.ParseExpr(e); err != nil {
			return p, httpx.BadRequest("expression", "%v", err)
		}
		if len(p.bidx) > 0 {
			return p, httpx.BadRequest("bidx", "bidx and expression are mutually exclusive")
		}
		if !item {
			for _, n := range p.expr.Bands() {
				if _, ok := bandNumber(n); !ok {
					return p, httpx.BadRequest("expression", "unknown band %q: use b1, b2, ...", n)
				}
			}
		}
	}
	if item {
		p.assets = list(q, "assets")
		p.assetBidx = map[string][]int{}
		for _, v := range values(q, "asset_bidx") {
			name, idx, ok := strings.Cut(v, "|")
			if !ok || name == "" {
				return p, httpx.BadRequest("asset_bidx", "%q must be asset|1,2,3", v)
			}
			for _, s := range strings.Split(idx, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil || n < 1 {
					return p, httpx.BadRequest("asset_bidx", "%q is not a band index", s)
				}
				p.assetBidx[name] = append(p.assetBidx[name], n)
			}
		}
	} else {
		for _, n := range []string{"assets", "asset_bidx"} {
			if q.Has(n) {
				return p, httpx.BadRequest(n, "only for STAC items")
			}
		}
	}
	if v := q.Get("nodata"); v != "" {
		f, err := parseFloat("nodata", v)
		if err != nil {
			return p, err
		}
		p.nodata = &f
	}
	if p.unscale, err = parseBool(q, "unscale", false); err != nil {
		return p, err
	}
	p.resampling = raster.Nearest
	for _, name := range []string{"resampling", "reproject"} {
		if v := q.Get(name); v != "" {
			r, err := raster.ParseResampling(v)
			if err != nil {
				return p, httpx.BadRequest(name, "%v", err)
			}
			// GDAL's warper resamples once (overview choice and reprojection
			// together): the reprojection method wins when both are given.
			if name == "reproject" || q.Get("reproject") == "" {
				p.resampling = r
			}
		}
	}
	for _, v := range values(q, "rescale") {
		a, b, ok := strings.Cut(v, ",")
		if !ok {
			return p, httpx.BadRequest("rescale", "%q must be min,max", v)
		}
		lo, err1 := parseFloat("rescale", a)
		hi, err2 := parseFloat("rescale", b)
		if err1 != nil || err2 != nil || math.IsNaN(lo) || math.IsNaN(hi) {
			return p, httpx.BadRequest("rescale", "%q must be min,max numbers", v)
		}
		p.rescale = append(p.rescale, [2]float64{lo, hi})
	}
	if name := q.Get("colormap_name"); name != "" {
		if p.colormap, err = render.NamedColorMap(name); err != nil {
			return p, httpx.BadRequest("colormap_name", "%v", err)
		}
	}
	if cm := q.Get("colormap"); cm != "" {
		if p.colormap != nil {
			return p, httpx.BadRequest("colormap", "colormap and colormap_name are mutually exclusive")
		}
		if p.colormap, err = render.ParseColorMap(cm); err != nil {
			return p, httpx.BadRequest("colormap", "%v", err)
		}
	}
	if cf := q.Get("color_formula"); cf != "" {
		if p.formula, err = render.ParseColorFormula(cf); err != nil {
			return p, httpx.BadRequest("color_formula", "%v", err)
		}
	}
	if p.returnMask, err = parseBool(q, "return_mask", true); err != nil {
		return p, err
	}
	if a := q.Get("algorithm"); a != "" {
		if p.algo, err = render.NewAlgorithm(a, q.Get("algorithm_params")); err != nil {
			return p, httpx.BadRequest("algorithm", "%v", err)
		}
	} else if q.Get("algorithm_params") != "" {
		return p, httpx.BadRequest("algorithm_params", "needs algorithm")
	}
	if v := q.Get("buffer"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 256 || f != math.Trunc(f) {
			return p, httpx.BadRequest("buffer", "%q must be a whole number of pixels in 0..256", v)
		}
		p.buffer = int(f)
	}
	if p.padding, err = parseInt(q, "padding", 0, 0, 256); err != nil {
		return p, err
	}
	if p.tilesize, err = parseInt(q, "tilesize", 0, 16, 2048); err != nil {
		return p, err
	}
	return p, nil
}

// bandNumber parses "b3" → 3.
func bandNumber(name string) (int, bool) {
	if len(name) < 2 || (name[0] != 'b' && name[0] != 'B') {
		return 0, false
	}
	n, err := strconv.Atoi(name[1:])
	return n, err == nil && n >= 1
}

// parseFormat maps a path suffix ("png") to a format; "" means automatic.
func parseFormat(param, ext string) (render.Format, error) {
	if ext == "" {
		return "", nil
	}
	f, err := render.ParseFormat(ext)
	if err != nil {
		return "", httpx.BadRequest(param, "%v", err)
	}
	return f, nil
}

// splitExt splits "12@2x.png" into ("12@2x", "png").
func splitExt(s string) (string, string) {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

func fmtErr(param string, err error) error { return httpx.BadRequest(param, "%v", err) }

var _ = fmt.Sprint
