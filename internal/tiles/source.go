package tiles

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/render"
)

// asset is one raster to read: a COG (name "") or a STAC item asset.
type asset struct {
	name string
	href string
	ds   raster.Dataset
	// bands to read (1-based, nil = all) and the names they get.
	bands []int
}

// target is what a request renders: one or more assets opened and ready.
type target struct {
	assets []*asset
	title  string
	item   *stacItem // nil for COGs
}

// close releases the datasets.
func (t *target) close() {
	for _, a := range t.assets {
		if a.ds != nil {
			_ = a.ds.Close()
		}
	}
}

// resolver turns a request into an opened target: a COG (resolveCOG) or
// an item's assets (resolveItem). Mosaics are not targets: see
// imageSource.
type resolver func(r *http.Request, p *renderParams) (*target, error)

// resolveCOG opens ?url=.
func (s *Server) resolveCOG(r *http.Request, p *renderParams) (*target, error) {
	href := r.URL.Query().Get("url")
	if href == "" {
		return nil, httpx.BadRequest("url", "required")
	}
	if err := s.cfg.checkHref("url", href); err != nil {
		return nil, err
	}
	ds, err := s.reader.Open(r.Context(), href, raster.OpenOptions{})
	if err != nil {
		return nil, err
	}
	a := &asset{href: href, ds: ds}
	if p != nil {
		if len(p.bidx) > 0 {
			a.bands = p.bidx
		} else if p.expr != nil {
			for _, n := range p.expr.Bands() {
				b, _ := bandNumber(n)
				if !slices.Contains(a.bands, b) {
					a.bands = append(a.bands, b)
				}
			}
			sort.Ints(a.bands)
		}
		if err := checkBands("bidx", a.bands, ds.Info().BandCount); err != nil {
			if p.expr != nil {
				return nil, httpx.BadRequest("expression", "%v", err)
			}
			return nil, err
		}
	}
	return &target{assets: []*asset{a}, title: href}, nil
}

func checkBands(param string, bands []int, count int) error {
	for _, b := range bands {
		if b < 1 || b > count {
			return httpx.BadRequest(param, "band %d does not exist (the source has %d)", b, count)
		}
	}
	return nil
}

// stacItem is the part of a STAC item the tiler needs.
type stacItem struct {
	ID         string               `json:"id"`
	Collection string               `json:"collection"`
	BBox       []float64            `json:"bbox"`
	Assets     map[string]stacAsset `json:"assets"`
	Links      []struct {
		Rel  string `json:"rel"`
		Href string `json:"href"`
	} `json:"links"`
}

type stacAsset struct {
	Href  string   `json:"href"`
	Type  string   `json:"type"`
	Roles []string `json:"roles"`
	Title string   `json:"title"`
}

// rasterAssets lists asset keys that look like rasters GDAL reads.
func (it *stacItem) rasterAssets() []string {
	var out []string
	for k, a := range it.Assets {
		t := strings.ToLower(a.Type)
		if strings.Contains(t, "geotiff") || strings.Contains(t, "image/tiff") || strings.Contains(t, "image/jp2") ||
			strings.Contains(t, "x-hdf") || strings.Contains(t, "netcdf") || (t == "" && (strings.HasSuffix(strings.ToLower(a.Href), ".tif") || strings.HasSuffix(strings.ToLower(a.Href), ".tiff"))) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func (s *Server) loadItem(ctx context.Context, cid, iid string) (*stacItem, error) {
	if s.items == nil {
		return nil, httpx.NotFound("no catalog configured")
	}
	b, err := s.items.Item(ctx, cid, iid)
	if err != nil {
		return nil, err
	}
	var it stacItem
	if err := json.Unmarshal(b, &it); err != nil {
		return nil, fmt.Errorf("tiles: decode item %s/%s: %w", cid, iid, err)
	}
	return &it, nil
}

// assetHref resolves a possibly relative asset href against the item's
// self link.
func (it *stacItem) assetHref(key string) (string, error) {
	a := it.Assets[key]
	u, err := url.Parse(a.Href)
	if err != nil {
		return "", httpx.BadRequest("assets", "asset %q has a bad href", key)
	}
	if u.IsAbs() || strings.HasPrefix(a.Href, "/") {
		return a.Href, nil
	}
	for _, l := range it.Links {
		if l.Rel == "self" {
			base, err := url.Parse(l.Href)
			if err == nil {
				return base.ResolveReference(u).String(), nil
			}
		}
	}
	return "", httpx.BadRequest("assets", "asset %q has a relative href and the item no self link", key)
}

// assetBandNames names the bands of an asset for expressions: asset_b1, ...
func assetBandName(asset string, b int) string { return fmt.Sprintf("%s_b%d", asset, b) }

// resolveItem opens the requested assets of a STAC item.
func (s *Server) resolveItem(r *http.Request, p *renderParams) (*target, error) {
	it, err := s.loadItem(r.Context(), r.PathValue("cid"), r.PathValue("iid"))
	if err != nil {
		return nil, err
	}
	t := &target{item: it, title: it.ID}
	var keys []string
	perAsset := map[string][]int{}
	if p != nil {
		keys = append(keys, p.assets...)
		if p.expr != nil && len(keys) == 0 {
			// assets named by the expression: "red" or "red_b2"
			for _, n := range p.expr.Bands() {
				key, b := splitAssetBand(n, it)
				if key == "" {
					return nil, httpx.BadRequest("expression", "%q names no asset of item %s", n, it.ID)
				}
				if !slices.Contains(keys, key) {
					keys = append(keys, key)
				}
				if !slices.Contains(perAsset[key], b) {
					perAsset[key] = append(perAsset[key], b)
				}
			}
		}
		for k, v := range p.assetBidx {
			if !slices.Contains(keys, k) {
				return nil, httpx.BadRequest("asset_bidx", "asset %q is not in assets", k)
			}
			perAsset[k] = v
		}
	}
	if len(keys) == 0 {
		return nil, httpx.BadRequest("assets", "required (one of %s)", strings.Join(it.rasterAssets(), ", "))
	}
	if len(keys) > s.cfg.MaxAssets {
		return nil, httpx.BadRequest("assets", "at most %d assets", s.cfg.MaxAssets)
	}
	for _, k := range keys {
		if _, ok := it.Assets[k]; !ok {
			return nil, httpx.BadRequest("assets", "item %s has no asset %q (raster assets: %s)", it.ID, k, strings.Join(it.rasterAssets(), ", "))
		}
	}
	// open concurrently
	t.assets = make([]*asset, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		href, err := it.assetHref(k)
		if err != nil {
			return nil, err
		}
		if err := s.cfg.checkHref("assets", href); err != nil {
			return nil, err
		}
		t.assets[i] = &asset{name: k, href: href, bands: perAsset[k]}
		wg.Add(1)
		go func(a *asset, i int) {
			defer wg.Done()
			a.ds, errs[i] = s.reader.Open(r.Context(), a.href, raster.OpenOptions{})
		}(t.assets[i], i)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.close()
		return nil, firstErr(errs)
	}
	for _, a := range t.assets {
		if err := checkBands("asset_bidx", a.bands, a.ds.Info().BandCount); err != nil {
			t.close()
			return nil, err
		}
	}
	return t, nil
}

func firstErr(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// splitAssetBand maps an expression name to (asset, band): "red" → (red, 1),
// "red_b2" → (red, 2).
func splitAssetBand(name string, it *stacItem) (string, int) {
	if _, ok := it.Assets[name]; ok {
		return name, 1
	}
	if i := strings.LastIndex(name, "_b"); i > 0 {
		if _, ok := it.Assets[name[:i]]; ok {
			if b, ok := bandNumber(name[i+1:]); ok {
				return name[:i], b
			}
		}
	}
	return "", 0
}

// readWindow is the read + combine stages: every asset is read into w
// concurrently and the bands are concatenated (asset bands named
// "asset_bN", and "asset" for an asset's first band); the mask is valid
// where every asset is valid.
func (s *Server) readWindow(ctx context.Context, t *target, p *renderParams, w raster.Window, tm *timings) (*raster.Image, error) {
	w.Resampling = p.resampling
	w.Nodata = p.nodata
	w.Unscale = p.unscale
	imgs := make([]*raster.Image, len(t.assets))
	errs := make([]error, len(t.assets))
	done := tm.start("read")
	var wg sync.WaitGroup
	for i, a := range t.assets {
		wg.Add(1)
		go func(i int, a *asset) {
			defer wg.Done()
			ww := w
			ww.Bands = a.bands
			imgs[i], errs[i] = a.ds.ReadWindow(ctx, ww)
		}(i, a)
	}
	wg.Wait()
	done()
	if err := firstErr(errs); err != nil {
		return nil, err
	}
	done = tm.start("mosaic")
	defer done()
	return combine(t, imgs), nil
}

func combine(t *target, imgs []*raster.Image) *raster.Image {
	if t.item == nil {
		img := imgs[0]
		a := t.assets[0]
		if len(a.bands) > 0 {
			for i, b := range a.bands {
				img.BandNames[i] = fmt.Sprintf("b%d", b)
			}
		}
		return img
	}
	out := &raster.Image{Width: imgs[0].Width, Height: imgs[0].Height, DataType: imgs[0].DataType, CRS: imgs[0].CRS, Bounds: imgs[0].Bounds}
	for i, img := range imgs {
		a := t.assets[i]
		for j, b := range img.Bands {
			idx := j + 1
			if len(a.bands) > 0 {
				idx = a.bands[j]
			}
			out.Bands = append(out.Bands, b)
			out.BandNames = append(out.BandNames, assetBandName(a.name, idx))
		}
		if img.DataType != out.DataType {
			out.DataType = wider(out.DataType, img.DataType)
		}
		if img.Mask != nil {
			if out.Mask == nil {
				out.Mask = append([]uint8(nil), img.Mask...)
			} else {
				for k, m := range img.Mask {
					if m == 0 {
						out.Mask[k] = 0
					}
				}
			}
		}
	}
	return out
}

func wider(a, b raster.DataType) raster.DataType {
	if a.Size() >= b.Size() && a.IsInteger() == b.IsInteger() {
		return a
	}
	if !a.IsInteger() || !b.IsInteger() {
		return raster.Float64
	}
	return b
}

// post applies the expression (with asset aliases) and the algorithm.
func post(img *raster.Image, p *renderParams, t *target) (*raster.Image, error) {
	var err error
	if p.expr != nil {
		if t.item != nil {
			// alias "asset" to "asset_b1" when the expression uses it
			for _, n := range p.expr.Bands() {
				if _, ok := t.item.Assets[n]; ok {
					for i, bn := range img.BandNames {
						if bn == assetBandName(n, 1) {
							img.BandNames = append(img.BandNames, n)
							img.Bands = append(img.Bands, img.Bands[i])
							break
						}
					}
				}
			}
		}
		if img, err = p.expr.Eval(img); err != nil {
			return nil, httpx.BadRequest("expression", "%v", err)
		}
	}
	if p.algo != nil {
		if img, err = p.algo.Apply(img); err != nil {
			return nil, httpx.BadRequest("algorithm", "%v", err)
		}
	}
	return img, nil
}

// finish is the render stage: rescale, color formula, colormap and
// encoding in format f ("" = PNG when any pixel is masked or the data is
// not 8-bit, else JPEG).
func (s *Server) finish(img *raster.Image, p *renderParams, f render.Format, epsg int, tm *timings) ([]byte, render.Format, error) {
	done := tm.start("encode")
	defer done()
	if p.rescale != nil {
		img = render.Rescale(img, p.rescale)
		defer img.Release() // private to finish: nothing keeps it after encoding
	}
	if p.formula != nil {
		out, err := p.formula.Apply(img)
		if err != nil {
			return nil, f, httpx.BadRequest("color_formula", "%v", err)
		}
		img = out
		defer img.Release()
	}
	if f == "" {
		f = render.JPEG
		if (p.returnMask && img.Mask != nil && img.MaskedCount() > 0) || (img.DataType != raster.Uint8 && p.colormap == nil) ||
			(p.colormap != nil && p.returnMask) {
			f = render.PNG
		}
	}
	opts := render.Options{ColorMap: p.colormap, ReturnMask: p.returnMask, Quality: s.cfg.JPEGQuality, EPSG: epsg}
	if f == render.WEBP {
		enc, ok := s.reader.(raster.ImageEncoder)
		if !ok {
			return nil, f, httpx.BadRequest("format", "WebP is not available on this server (no WebP encoder)")
		}
		disp, _, err := render.Display(img, opts)
		if err != nil {
			return nil, f, httpx.BadRequest("format", "%v", err)
		}
		rgba := raster.NewImage(img.Width, img.Height, 4, raster.Uint8)
		for i := 0; i < img.Width*img.Height; i++ {
			for c := 0; c < 4; c++ {
				rgba.Bands[c][i] = float64(disp.Pix[i*4+c])
			}
		}
		b, err := enc.EncodeImage(rgba, "webp", opts.Quality)
		return b, f, err
	}
	// Without rescale, data that is not 8-bit is cast as titiler casts it
	// (values clamped to 0..255), except 16-bit PNG.
	b, err := render.Encode(img, f, opts)
	if err != nil {
		if errors.Is(err, render.ErrBandCount) {
			return nil, f, httpx.BadRequest("bidx", "%v", err)
		}
		return nil, f, err
	}
	return b, f, nil
}
