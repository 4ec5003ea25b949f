package mosaic

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/tessera-geo/tessera/internal/raster"
)

// Method combines images of one grid into one.
type Method interface {
	// Feed adds the next image in priority order; it covers the whole
	// grid (without a grid from NewOnGrid, the first image sets it). Every
	// image must have the grid's size and the band count of the first one
	// (ErrMismatch).
	Feed(img *raster.Image) error
	// FeedAt adds the next image in priority order, placed with its top
	// left pixel at (x0, y0) of the grid: the grid's pixels outside it
	// are not valid in this image. It must fit in the grid (ErrMismatch),
	// and the grid must be set (NewOnGrid or an earlier Feed).
	FeedAt(img *raster.Image, x0, y0 int) error
	// Done reports that further images cannot change the result.
	Done() bool
	// Result returns the combined image, or nil when nothing was fed.
	// Pixels no image filled are masked.
	Result() *raster.Image
	// Release gives the result's planes back for reuse (raster.NewPlane).
	// Call it only when nothing refers to the result or its bands any
	// more; the method is then empty.
	Release()
}

// Coverer is implemented by methods whose result a new image can only
// change where it is not yet filled ("first"): callers may skip reading a
// source whose pixels all lie in a covered rectangle.
type Coverer interface {
	Covered(x0, y0, x1, y1 int) bool
}

// ErrMismatch: an image does not match the grid or bands of the first one.
var ErrMismatch = errors.New("mosaic: image does not match the mosaic grid")

// Names lists the methods in a stable order.
var Names = []string{"first", "highest", "lowest", "mean", "median", "stdev", "count", "lastbandlow", "lastbandhigh"}

// Grid is the pixel grid of a mosaic.
type Grid struct {
	Width, Height int
	CRS           string
	Bounds        [4]float64
}

// NewOnGrid returns a fresh method by name on grid g: images may then be
// fed at an offset (FeedAt) from the first one on.
func NewOnGrid(name string, g Grid) (Method, error) {
	if g.Width <= 0 || g.Height <= 0 {
		return nil, fmt.Errorf("%w: empty grid %dx%d", ErrMismatch, g.Width, g.Height)
	}
	m, err := New(name)
	if err != nil {
		return nil, err
	}
	m.(interface{ setGrid(Grid) }).setGrid(g)
	return m, nil
}

// New returns a fresh method by name (case-insensitive); the first image
// fed sets its grid.
func New(name string) (Method, error) {
	switch strings.ToLower(name) {
	case "first":
		return &first{}, nil
	case "highest":
		return &extreme{high: true}, nil
	case "lowest":
		return &extreme{}, nil
	case "lastbandhigh":
		return &extreme{high: true, lastBand: true}, nil
	case "lastbandlow":
		return &extreme{lastBand: true}, nil
	case "mean":
		return &stack{reduce: mean}, nil
	case "median":
		return &stack{reduce: median}, nil
	case "stdev":
		return &stack{reduce: stdev, float: true}, nil
	case "count":
		return &count{}, nil
	}
	return nil, fmt.Errorf("unknown pixel selection method %q (one of %s)", name, strings.Join(Names, ", "))
}

// base holds the grid, the output image and the checks shared by every
// method.
type base struct {
	grid    Grid
	hasGrid bool
	out     *raster.Image
}

func (b *base) setGrid(g Grid) { b.grid, b.hasGrid = g, true }

// whole checks that img covers the whole grid (Feed), setting the grid
// from it when there is none yet.
func (b *base) whole(img *raster.Image) error {
	if img == nil || img.Width <= 0 || img.Height <= 0 || len(img.Bands) == 0 {
		return fmt.Errorf("%w: empty image", ErrMismatch)
	}
	if !b.hasGrid {
		b.setGrid(Grid{Width: img.Width, Height: img.Height, CRS: img.CRS, Bounds: img.Bounds})
	}
	if img.Width != b.grid.Width || img.Height != b.grid.Height {
		return fmt.Errorf("%w: %dx%d, want %dx%d", ErrMismatch, img.Width, img.Height, b.grid.Width, b.grid.Height)
	}
	return nil
}

// check validates img placed at (x0, y0) against the grid and allocates
// the output (the grid with every pixel masked) on the first call.
func (b *base) check(img *raster.Image, x0, y0, bands int) error {
	if img == nil || img.Width <= 0 || img.Height <= 0 || len(img.Bands) == 0 {
		return fmt.Errorf("%w: empty image", ErrMismatch)
	}
	if !b.hasGrid {
		return fmt.Errorf("%w: no grid (NewOnGrid, or Feed a whole image first)", ErrMismatch)
	}
	g := b.grid
	if x0 < 0 || y0 < 0 || x0+img.Width > g.Width || y0+img.Height > g.Height {
		return fmt.Errorf("%w: %dx%d at %d,%d is outside the %dx%d grid", ErrMismatch, img.Width, img.Height, x0, y0, g.Width, g.Height)
	}
	if b.out == nil {
		b.out = &raster.Image{Width: g.Width, Height: g.Height, DataType: img.DataType, CRS: g.CRS, Bounds: g.Bounds,
			BandNames: append([]string(nil), img.BandNames[:min(bands, len(img.BandNames))]...),
			Mask:      make([]uint8, g.Width*g.Height)}
		b.out.Bands = make([][]float64, bands)
		for i := range b.out.Bands {
			b.out.Bands[i] = raster.NewPlane(g.Width * g.Height) // pooled: zero it
			clear(b.out.Bands[i])
		}
	}
	return nil
}

func (b *base) checkBands(img *raster.Image, want int) error {
	if len(img.Bands) != want {
		return fmt.Errorf("%w: %d bands, want %d", ErrMismatch, len(img.Bands), want)
	}
	return nil
}

// rows calls f for each row of img placed at (x0, y0): o is the grid
// index of the row's first pixel, i the image's, n the row length.
func (b *base) rows(img *raster.Image, x0, y0 int, f func(o, i, n int)) {
	for y := 0; y < img.Height; y++ {
		f((y0+y)*b.grid.Width+x0, y*img.Width, img.Width)
	}
}

func (b *base) Result() *raster.Image { return b.out }

func (b *base) Release() {
	if b.out != nil {
		b.out.Release()
		b.out = nil
	}
}

// first keeps, per pixel, the first valid sample.
type first struct {
	base
	missing int // pixels not filled yet
}

func (m *first) Feed(img *raster.Image) error {
	if err := m.whole(img); err != nil {
		return err
	}
	return m.FeedAt(img, 0, 0)
}

func (m *first) FeedAt(img *raster.Image, x0, y0 int) error {
	fresh := m.out == nil
	if err := m.check(img, x0, y0, len(img.Bands)); err != nil {
		return err
	}
	if err := m.checkBands(img, len(m.out.Bands)); err != nil {
		return err
	}
	if fresh {
		m.missing = m.grid.Width * m.grid.Height
		m.out.DataType = img.DataType
	}
	m.out.DataType = widen(m.out.DataType, img.DataType)
	// copy the runs of pixels that are empty in the result and valid in
	// img, band by band
	m.rows(img, x0, y0, func(o, i, n int) {
		om := m.out.Mask[o : o+n]
		var im []uint8
		if img.Mask != nil {
			im = img.Mask[i : i+n]
		}
		for k := 0; k < n; {
			if om[k] != 0 || im != nil && im[k] == 0 {
				k++
				continue
			}
			e := k + 1
			for e < n && om[e] == 0 && (im == nil || im[e] != 0) {
				e++
			}
			for b, ob := range m.out.Bands {
				copy(ob[o+k:o+e], img.Bands[b][i+k:i+e])
			}
			for j := k; j < e; j++ {
				om[j] = 255
			}
			m.missing -= e - k
			k = e
		}
	})
	return nil
}

func (m *first) Done() bool { return m.out != nil && m.missing == 0 }

// Covered reports whether every pixel of the rectangle [x0, x1) × [y0, y1)
// is already filled: an image covering only that rectangle cannot change
// the result.
func (m *first) Covered(x0, y0, x1, y1 int) bool {
	if m.out == nil {
		return false
	}
	w := m.out.Width
	for y := max(0, y0); y < min(y1, m.out.Height); y++ {
		for _, v := range m.out.Mask[y*w+max(0, x0) : y*w+min(x1, w)] {
			if v == 0 {
				return false
			}
		}
	}
	return true
}

// extreme keeps, per pixel, the valid sample with the highest (or lowest)
// value: band by band, or, with lastBand, the whole pixel whose last band
// decides (the last band is then dropped from the result).
type extreme struct {
	base
	high, lastBand bool
	n              int // bands of the inputs
}

func (m *extreme) Feed(img *raster.Image) error {
	if err := m.whole(img); err != nil {
		return err
	}
	return m.FeedAt(img, 0, 0)
}

func (m *extreme) FeedAt(img *raster.Image, x0, y0 int) error {
	if m.out == nil && img != nil {
		if m.lastBand && len(img.Bands) < 2 {
			return fmt.Errorf("%w: lastband methods need at least 2 bands", ErrMismatch)
		}
		m.n = len(img.Bands) // keep the decision band while feeding; Result drops it
	}
	if err := m.check(img, x0, y0, m.n); err != nil {
		return err
	}
	if err := m.checkBands(img, m.n); err != nil {
		return err
	}
	m.out.DataType = widen(m.out.DataType, img.DataType)
	better := func(v, cur float64) bool {
		if m.high {
			return v > cur
		}
		return v < cur
	}
	last := m.n - 1
	mask := m.out.Mask
	m.rows(img, x0, y0, func(o, i, n int) {
		for k := 0; k < n; k, o, i = k+1, o+1, i+1 {
			if !img.Valid(i) {
				continue
			}
			if mask[o] == 0 {
				for b, ob := range m.out.Bands {
					ob[o] = img.Bands[b][i]
				}
				mask[o] = 255
				continue
			}
			if m.lastBand {
				if better(img.Bands[last][i], m.out.Bands[last][o]) {
					for b, ob := range m.out.Bands {
						ob[o] = img.Bands[b][i]
					}
				}
				continue
			}
			for b, ob := range m.out.Bands {
				if better(img.Bands[b][i], ob[o]) {
					ob[o] = img.Bands[b][i]
				}
			}
		}
	})
	return nil
}

func (m *extreme) Done() bool { return false }

func (m *extreme) Result() *raster.Image {
	if m.out == nil || !m.lastBand {
		return m.out
	}
	r := *m.out
	r.Bands = r.Bands[:m.n-1]
	if len(r.BandNames) >= m.n {
		r.BandNames = r.BandNames[:m.n-1]
	}
	return &r
}

// stack keeps every valid sample of every pixel and reduces them when the
// result is asked for.
type stack struct {
	base
	reduce func([]float64) float64
	float  bool // the result is float64 whatever the inputs
	per    [][][]float64
	done   bool
}

func (m *stack) Feed(img *raster.Image) error {
	if err := m.whole(img); err != nil {
		return err
	}
	return m.FeedAt(img, 0, 0)
}

func (m *stack) FeedAt(img *raster.Image, x0, y0 int) error {
	fresh := m.out == nil
	if err := m.check(img, x0, y0, len(img.Bands)); err != nil {
		return err
	}
	if err := m.checkBands(img, len(m.out.Bands)); err != nil {
		return err
	}
	if fresh {
		m.per = make([][][]float64, len(img.Bands))
		for b := range m.per {
			m.per[b] = make([][]float64, m.grid.Width*m.grid.Height)
		}
	}
	m.out.DataType = widen(m.out.DataType, img.DataType)
	m.done = false
	mask := m.out.Mask
	m.rows(img, x0, y0, func(o, i, n int) {
		for k := 0; k < n; k, o, i = k+1, o+1, i+1 {
			if !img.Valid(i) {
				continue
			}
			mask[o] = 255
			for b, pb := range m.per {
				pb[o] = append(pb[o], img.Bands[b][i])
			}
		}
	})
	return nil
}

func (m *stack) Done() bool { return false }

func (m *stack) Result() *raster.Image {
	if m.out == nil {
		return nil
	}
	if !m.done {
		integer := m.out.DataType.IsInteger() && !m.float
		for b, px := range m.per {
			for i, s := range px {
				if len(s) == 0 {
					continue
				}
				v := m.reduce(s)
				if integer {
					v = math.Trunc(v) // numpy's astype, as rio-tiler's enforce_data_type
				}
				m.out.Bands[b][i] = v
			}
		}
		if m.float {
			m.out.DataType = raster.Float64
		}
		m.done = true
	}
	return m.out
}

func mean(s []float64) float64 {
	var sum float64
	for _, v := range s {
		sum += v
	}
	return sum / float64(len(s))
}

func median(s []float64) float64 {
	c := slices.Clone(s)
	sort.Float64s(c)
	n := len(c)
	if n%2 == 1 {
		return c[n/2]
	}
	return (c[n/2-1] + c[n/2]) / 2
}

// stdev is the population standard deviation (numpy's default ddof=0).
func stdev(s []float64) float64 {
	mu := mean(s)
	var ss float64
	for _, v := range s {
		ss += (v - mu) * (v - mu)
	}
	return math.Sqrt(ss / float64(len(s)))
}

// count counts the valid samples of each pixel: one uint8 band (uint16
// past 255 images), every pixel valid.
type count struct {
	base
	n int
}

func (m *count) Feed(img *raster.Image) error {
	if err := m.whole(img); err != nil {
		return err
	}
	return m.FeedAt(img, 0, 0)
}

func (m *count) FeedAt(img *raster.Image, x0, y0 int) error {
	fresh := m.out == nil
	if err := m.check(img, x0, y0, 1); err != nil {
		return err
	}
	if fresh {
		for i := range m.out.Mask {
			m.out.Mask[i] = 255
		}
	}
	m.n++
	m.out.BandNames = []string{"count"}
	m.out.DataType = raster.Uint8
	if m.n > 255 {
		m.out.DataType = raster.Uint16
	}
	c := m.out.Bands[0]
	m.rows(img, x0, y0, func(o, i, n int) {
		for k := 0; k < n; k, o, i = k+1, o+1, i+1 {
			if img.Valid(i) {
				c[o]++
			}
		}
	})
	return nil
}

func (m *count) Done() bool { return false }

// widen returns a data type holding both a and b.
func widen(a, b raster.DataType) raster.DataType {
	if a == b || b == "" {
		return a
	}
	if a == "" {
		return b
	}
	if !a.IsInteger() || !b.IsInteger() {
		if a == raster.Float32 && b == raster.Float32 {
			return a
		}
		if (a == raster.Float32 && b.IsInteger() && b.Size() <= 2) || (b == raster.Float32 && a.IsInteger() && a.Size() <= 2) {
			return raster.Float32
		}
		return raster.Float64
	}
	la, ha := a.Range()
	lb, hb := b.Range()
	if la <= lb && ha >= hb {
		return a
	}
	if lb <= la && hb >= ha {
		return b
	}
	// mixed signedness: the next signed type that holds both
	for _, t := range []raster.DataType{raster.Int16, raster.Int32} {
		lt, ht := t.Range()
		if lt <= min(la, lb) && ht >= max(ha, hb) {
			return t
		}
	}
	return raster.Float64
}
