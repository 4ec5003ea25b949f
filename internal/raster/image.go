package raster

import (
	"math"
	"sync"
	"unsafe"
)

// planes recycles float64 planes (NewPlane, Release): a 256×256 tile's
// three planes are 1.5 MB, and allocating them for every tile keeps the Go
// heap growing and shrinking (page faults, and the scavenger's madvise
// calls cost ~10% of a tile server's CPU).
var planes sync.Pool // of *[]float64

// NewPlane returns a plane of n samples, reused when possible: its contents
// are undefined.
func NewPlane(n int) []float64 {
	if p, ok := planes.Get().(*[]float64); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]float64, n)
}

// Release gives the image's band planes back for reuse by NewPlane and
// clears Bands. Call it only when nothing refers to the image's bands any
// more. A plane that appears in several bands goes back once; the mask is
// left alone (it is often shared between images).
func (m *Image) Release() {
	seen := make(map[*float64]bool, len(m.Bands))
	for _, b := range m.Bands {
		if cap(b) == 0 {
			continue
		}
		p := unsafe.SliceData(b)
		if seen[p] {
			continue
		}
		seen[p] = true
		b = b[:cap(b)]
		planes.Put(&b)
	}
	m.Bands = nil
}

// Image is a block of pixels: Bands are row-major float64 planes of
// Width×Height samples; Mask holds 255 where a pixel is valid and 0 where it
// is not (nil means every pixel is valid).
type Image struct {
	Width, Height int
	Bands         [][]float64
	BandNames     []string
	Mask          []uint8
	DataType      DataType
	CRS           string     // SRS of Bounds ("EPSG:3857", WKT, ...)
	Bounds        [4]float64 // x/y order
}

// NewImage allocates an image with n zeroed bands and an all-valid mask.
func NewImage(width, height, n int, dt DataType) *Image {
	img := &Image{Width: width, Height: height, DataType: dt, Bands: make([][]float64, n), BandNames: make([]string, n)}
	for i := range img.Bands {
		img.Bands[i] = make([]float64, width*height)
	}
	img.Mask = make([]uint8, width*height)
	for i := range img.Mask {
		img.Mask[i] = 255
	}
	return img
}

// Valid reports whether pixel i (row-major index) is valid.
func (m *Image) Valid(i int) bool { return m.Mask == nil || m.Mask[i] != 0 }

// MaskedCount returns the number of invalid pixels.
func (m *Image) MaskedCount() int {
	n := 0
	for _, v := range m.Mask {
		if v == 0 {
			n++
		}
	}
	return n
}

// AllMasked reports whether no pixel is valid.
func (m *Image) AllMasked() bool {
	return m.Mask != nil && m.MaskedCount() == len(m.Mask)
}

// Crop returns the sub-image starting at (x0, y0) of size w×h.
func (m *Image) Crop(x0, y0, w, h int) *Image {
	out := &Image{Width: w, Height: h, DataType: m.DataType, CRS: m.CRS, BandNames: append([]string(nil), m.BandNames...)}
	rx := (m.Bounds[2] - m.Bounds[0]) / float64(m.Width)
	ry := (m.Bounds[3] - m.Bounds[1]) / float64(m.Height)
	out.Bounds = [4]float64{m.Bounds[0] + float64(x0)*rx, m.Bounds[3] - float64(y0+h)*ry, m.Bounds[0] + float64(x0+w)*rx, m.Bounds[3] - float64(y0)*ry}
	for _, b := range m.Bands {
		nb := make([]float64, w*h)
		for y := 0; y < h; y++ {
			copy(nb[y*w:(y+1)*w], b[(y+y0)*m.Width+x0:(y+y0)*m.Width+x0+w])
		}
		out.Bands = append(out.Bands, nb)
	}
	if m.Mask != nil {
		out.Mask = make([]uint8, w*h)
		for y := 0; y < h; y++ {
			copy(out.Mask[y*w:(y+1)*w], m.Mask[(y+y0)*m.Width+x0:(y+y0)*m.Width+x0+w])
		}
	}
	return out
}

// MaskInvalid marks NaN and infinite samples (in any band) as invalid.
func (m *Image) MaskInvalid() {
	for _, b := range m.Bands {
		for i, v := range b {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				if m.Mask == nil {
					m.Mask = make([]uint8, m.Width*m.Height)
					for j := range m.Mask {
						m.Mask[j] = 255
					}
				}
				m.Mask[i] = 0
			}
		}
	}
}
