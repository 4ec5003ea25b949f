package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/tessera-geo/tessera/internal/raster"
)

// Algorithm transforms an image after reading and before rescaling.
// Buffer is the number of extra pixels it needs on each side (the tiler
// reads them and Apply's output is cropped by the same amount).
type Algorithm interface {
	Name() string
	Buffer() int
	Apply(img *raster.Image) (*raster.Image, error)
}

// ErrAlgorithm: unknown algorithm or bad parameters.
var ErrAlgorithm = errors.New("algorithm")

type algoDef struct {
	title  string
	params map[string]float64
	make   func(p map[string]float64) Algorithm
}

var algorithms = map[string]algoDef{
	"hillshade": {"Hillshade", map[string]float64{"azimuth": 315, "angle_altitude": 45, "z_exaggeration": 1, "buffer": 3},
		func(p map[string]float64) Algorithm { return &hillshade{p} }},
	"normalizedIndex": {"Normalized difference index: (b2 - b1) / (b2 + b1)", map[string]float64{},
		func(p map[string]float64) Algorithm { return normalizedIndex{} }},
	"terrainrgb": {"Mapbox Terrain-RGB encoding of elevation", map[string]float64{"interval": 0.1, "baseval": -10000},
		func(p map[string]float64) Algorithm { return &terrainRGB{p} }},
	"terrarium": {"Mapzen Terrarium encoding of elevation", map[string]float64{},
		func(p map[string]float64) Algorithm { return terrarium{} }},
}

// AlgorithmNames lists the algorithms.
func AlgorithmNames() []string {
	out := make([]string, 0, len(algorithms))
	for k := range algorithms {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// AlgorithmInfo describes an algorithm and its default parameters.
func AlgorithmInfo(name string) (title string, params map[string]float64, ok bool) {
	d, ok := algorithms[name]
	return d.title, d.params, ok
}

// NewAlgorithm builds an algorithm; params is the JSON object of
// algorithm_params (may be empty).
func NewAlgorithm(name, params string) (Algorithm, error) {
	d, ok := algorithms[name]
	if !ok {
		return nil, fmt.Errorf("%w: unknown algorithm %q (one of %v)", ErrAlgorithm, name, AlgorithmNames())
	}
	p := map[string]float64{}
	for k, v := range d.params {
		p[k] = v
	}
	if params != "" {
		var in map[string]float64
		if err := json.Unmarshal([]byte(params), &in); err != nil {
			return nil, fmt.Errorf("%w: algorithm_params must be a JSON object of numbers: %v", ErrAlgorithm, err)
		}
		for k, v := range in {
			if _, ok := d.params[k]; !ok {
				return nil, fmt.Errorf("%w: %s has no parameter %q", ErrAlgorithm, name, k)
			}
			p[k] = v
		}
	}
	if b, ok := p["buffer"]; ok && (b < 0 || b > 64) {
		return nil, fmt.Errorf("%w: buffer must be in 0..64", ErrAlgorithm)
	}
	if v, ok := p["interval"]; ok && v <= 0 {
		return nil, fmt.Errorf("%w: interval must be positive", ErrAlgorithm)
	}
	return d.make(p), nil
}

type hillshade struct{ p map[string]float64 }

func (h *hillshade) Name() string { return "hillshade" }
func (h *hillshade) Buffer() int  { return int(h.p["buffer"]) }

func (h *hillshade) Apply(img *raster.Image) (*raster.Image, error) {
	if len(img.Bands) < 1 {
		return nil, fmt.Errorf("%w: hillshade needs one band", ErrAlgorithm)
	}
	w, ht := img.Width, img.Height
	resx := (img.Bounds[2] - img.Bounds[0]) / float64(w)
	resy := (img.Bounds[3] - img.Bounds[1]) / float64(ht)
	if resx <= 0 || resy <= 0 {
		resx, resy = 1, 1
	}
	z := h.p["z_exaggeration"]
	az := (360 - h.p["azimuth"] + 90) * math.Pi / 180
	zen := (90 - h.p["angle_altitude"]) * math.Pi / 180
	b := img.Bands[0]
	at := func(x, y int) float64 {
		x = max(0, min(w-1, x))
		y = max(0, min(ht-1, y))
		return b[y*w+x] * z
	}
	out := &raster.Image{Width: w, Height: ht, DataType: raster.Uint8, CRS: img.CRS, Bounds: img.Bounds, BandNames: []string{"hillshade"}, Mask: img.Mask}
	res := make([]float64, w*ht)
	for y := 0; y < ht; y++ {
		for x := 0; x < w; x++ {
			dzdx := ((at(x+1, y-1) + 2*at(x+1, y) + at(x+1, y+1)) - (at(x-1, y-1) + 2*at(x-1, y) + at(x-1, y+1))) / (8 * resx)
			dzdy := ((at(x-1, y+1) + 2*at(x, y+1) + at(x+1, y+1)) - (at(x-1, y-1) + 2*at(x, y-1) + at(x+1, y-1))) / (8 * resy)
			slope := math.Atan(math.Hypot(dzdx, dzdy))
			aspect := math.Atan2(dzdy, -dzdx)
			v := math.Cos(zen)*math.Cos(slope) + math.Sin(zen)*math.Sin(slope)*math.Cos(az-aspect)
			res[y*w+x] = clamp8(math.Round(255 * v))
		}
	}
	out.Bands = [][]float64{res}
	return out, nil
}

type normalizedIndex struct{}

func (normalizedIndex) Name() string { return "normalizedIndex" }
func (normalizedIndex) Buffer() int  { return 0 }
func (normalizedIndex) Apply(img *raster.Image) (*raster.Image, error) {
	if len(img.Bands) != 2 {
		return nil, fmt.Errorf("%w: normalizedIndex needs exactly 2 bands, got %d", ErrAlgorithm, len(img.Bands))
	}
	a, b := img.Bands[0], img.Bands[1]
	out := &raster.Image{Width: img.Width, Height: img.Height, DataType: raster.Float32, CRS: img.CRS, Bounds: img.Bounds, BandNames: []string{"index"}}
	if img.Mask != nil {
		out.Mask = append([]uint8(nil), img.Mask...)
	}
	r := make([]float64, len(a))
	for i := range a {
		r[i] = (b[i] - a[i]) / (b[i] + a[i])
	}
	out.Bands = [][]float64{r}
	out.MaskInvalid()
	return out, nil
}

type terrainRGB struct{ p map[string]float64 }

func (t *terrainRGB) Name() string { return "terrainrgb" }
func (t *terrainRGB) Buffer() int  { return 0 }
func (t *terrainRGB) Apply(img *raster.Image) (*raster.Image, error) {
	if len(img.Bands) < 1 {
		return nil, fmt.Errorf("%w: terrainrgb needs one band", ErrAlgorithm)
	}
	iv, base := t.p["interval"], t.p["baseval"]
	out := raster.NewImage(img.Width, img.Height, 3, raster.Uint8)
	out.CRS, out.Bounds, out.Mask, out.BandNames = img.CRS, img.Bounds, img.Mask, []string{"r", "g", "b"}
	for i, e := range img.Bands[0] {
		v := math.Max(0, math.Min(16777215, math.Round((e-base)/iv)))
		out.Bands[0][i] = math.Floor(v / 65536)
		out.Bands[1][i] = math.Mod(math.Floor(v/256), 256)
		out.Bands[2][i] = math.Mod(v, 256)
	}
	return out, nil
}

type terrarium struct{}

func (terrarium) Name() string { return "terrarium" }
func (terrarium) Buffer() int  { return 0 }
func (terrarium) Apply(img *raster.Image) (*raster.Image, error) {
	if len(img.Bands) < 1 {
		return nil, fmt.Errorf("%w: terrarium needs one band", ErrAlgorithm)
	}
	out := raster.NewImage(img.Width, img.Height, 3, raster.Uint8)
	out.CRS, out.Bounds, out.Mask, out.BandNames = img.CRS, img.Bounds, img.Mask, []string{"r", "g", "b"}
	for i, e := range img.Bands[0] {
		v := math.Max(0, math.Min(65535.996, e+32768))
		out.Bands[0][i] = math.Floor(v / 256)
		out.Bands[1][i] = math.Floor(math.Mod(v, 256))
		out.Bands[2][i] = math.Floor((v - math.Floor(v)) * 256)
	}
	return out, nil
}
