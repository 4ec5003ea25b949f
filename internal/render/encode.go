package render

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"strings"
	"sync"

	"github.com/tessera-geo/tessera/internal/raster"
)

// Format is an output format.
type Format string

// Formats.
const (
	PNG   Format = "png"
	JPEG  Format = "jpeg"
	WEBP  Format = "webp"
	GTiff Format = "tif"
	NPY   Format = "npy"
)

// ErrFormat: unknown or unavailable output format.
var ErrFormat = errors.New("unsupported format")

// ParseFormat accepts a file extension (png, jpeg, jpg, webp, tif, tiff,
// npy).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "png":
		return PNG, nil
	case "jpeg", "jpg":
		return JPEG, nil
	case "webp":
		return WEBP, nil
	case "tif", "tiff", "gtiff", "geotiff":
		return GTiff, nil
	case "npy":
		return NPY, nil
	}
	return "", fmt.Errorf("%w %q (one of png, jpeg, jpg, webp, tif, npy)", ErrFormat, s)
}

// MediaType returns the Content-Type of f.
func (f Format) MediaType() string {
	switch f {
	case PNG:
		return "image/png"
	case JPEG:
		return "image/jpeg"
	case WEBP:
		return "image/webp"
	case GTiff:
		return "image/tiff; application=geotiff"
	case NPY:
		return "application/x-binary"
	}
	return "application/octet-stream"
}

// Options control encoding.
type Options struct {
	ColorMap   *ColorMap // applied to a single-band image
	ReturnMask bool      // write the mask (PNG/WebP alpha, GeoTIFF alpha band, NPY extra band)
	Quality    int       // JPEG/WebP quality, 1..100 (default 85)
	EPSG       int       // GeoTIFF geokeys (0: none)
}

// ErrBandCount: the image cannot be shown with that many bands.
var ErrBandCount = errors.New("unsupported band count")

// Display converts img to 8-bit colour bands for PNG/JPEG/WebP: 1 band gray,
// 3 bands RGB, 4 bands RGBA, or a colormapped single band → RGBA. The mask
// becomes (or combines with) the alpha band. Values outside 0..255 are
// clamped (rescale first).
func Display(img *raster.Image, opts Options) (*image.NRGBA, bool, error) {
	n := img.Width * img.Height
	out := image.NewNRGBA(image.Rect(0, 0, img.Width, img.Height))
	p := out.Pix
	alphaUsed := false
	nb := len(img.Bands)
	switch {
	case opts.ColorMap != nil:
		if nb != 1 {
			return nil, false, fmt.Errorf("%w: a colormap needs exactly one band, got %d", ErrBandCount, nb)
		}
		b := img.Bands[0]
		for i := 0; i < n; i++ {
			c, ok := opts.ColorMap.Lookup(b[i])
			if !ok {
				c = RGBA{}
			}
			if !img.Valid(i) {
				c[3] = 0
			}
			if c[3] != 255 {
				alphaUsed = true
			}
			copy(p[i*4:i*4+4], c[:])
		}
	case nb == 1:
		b := img.Bands[0]
		for i := 0; i < n; i++ {
			v := uint8(clamp8(b[i]))
			p[i*4], p[i*4+1], p[i*4+2], p[i*4+3] = v, v, v, 255
		}
	case nb == 3 || nb == 4:
		r, g, bb := img.Bands[0], img.Bands[1], img.Bands[2]
		for i := 0; i < n; i++ {
			p[i*4], p[i*4+1], p[i*4+2], p[i*4+3] = uint8(clamp8(r[i])), uint8(clamp8(g[i])), uint8(clamp8(bb[i])), 255
		}
		if nb == 4 {
			a := img.Bands[3]
			for i := 0; i < n; i++ {
				p[i*4+3] = uint8(clamp8(a[i]))
				if p[i*4+3] != 255 {
					alphaUsed = true
				}
			}
		}
	default:
		return nil, false, fmt.Errorf("%w: images need 1, 3 or 4 bands (or a colormap), got %d; use bidx or expression", ErrBandCount, nb)
	}
	if img.Mask != nil && opts.ColorMap == nil {
		for i := 0; i < n; i++ {
			if img.Mask[i] == 0 {
				p[i*4+3] = 0
				alphaUsed = true
			}
		}
	}
	if !opts.ReturnMask {
		for i := 0; i < n; i++ {
			p[i*4+3] = 255
		}
		alphaUsed = false
	}
	return out, alphaUsed, nil
}

var pngEnc = &png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngPool{}}

// encodePNG writes an 8-bit PNG: gray for one band, RGB for three, with an
// alpha channel only when a pixel is not opaque. One and three band images
// without a colormap (the common case: rescaled imagery) are converted row
// by row while encoding; the others go through Display.
func encodePNG(img *raster.Image, opts Options) ([]byte, error) {
	w, h, nb := img.Width, img.Height, len(img.Bands)
	if opts.ColorMap == nil && (nb == 1 || nb == 3) {
		alpha := opts.ReturnMask && img.Mask != nil && img.MaskedCount() > 0
		ch := nb
		if alpha {
			ch = 4
		}
		return encodePNG8(w, h, ch, func(y int, row []byte) {
			off := y * w
			switch {
			case ch == 1:
				for x, v := range img.Bands[0][off : off+w] {
					row[x] = uint8(clamp8(v))
				}
			case nb == 1: // gray with alpha
				b, m := img.Bands[0][off:off+w], img.Mask[off:off+w]
				for x := range b {
					v := uint8(clamp8(b[x]))
					row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = v, v, v, alphaOf(m[x])
				}
			case ch == 3:
				r, g, b := img.Bands[0][off:off+w], img.Bands[1][off:off+w], img.Bands[2][off:off+w]
				row = row[:3*len(r)]
				for x := range r {
					row[3*x], row[3*x+1], row[3*x+2] = uint8(clamp8(r[x])), uint8(clamp8(g[x])), uint8(clamp8(b[x]))
				}
			default:
				r, g, b, m := img.Bands[0][off:off+w], img.Bands[1][off:off+w], img.Bands[2][off:off+w], img.Mask[off:off+w]
				for x := range r {
					row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = uint8(clamp8(r[x])), uint8(clamp8(g[x])), uint8(clamp8(b[x])), alphaOf(m[x])
				}
			}
		})
	}
	rgba, alpha, err := Display(img, opts)
	if err != nil {
		return nil, err
	}
	ch := 3
	if alpha {
		ch = 4
	}
	return encodePNG8(w, h, ch, func(y int, row []byte) {
		pix := rgba.Pix[y*rgba.Stride : y*rgba.Stride+4*w]
		if alpha {
			copy(row, pix)
			return
		}
		for x := 0; x < w; x++ {
			row[3*x], row[3*x+1], row[3*x+2] = pix[4*x], pix[4*x+1], pix[4*x+2]
		}
	})
}

func alphaOf(m uint8) uint8 {
	if m == 0 {
		return 0
	}
	return 255
}

type pngPool struct{ p sync.Pool }

func (pp *pngPool) Get() *png.EncoderBuffer {
	b, _ := pp.p.Get().(*png.EncoderBuffer)
	return b
}
func (pp *pngPool) Put(b *png.EncoderBuffer) { pp.p.Put(b) }

// Encode writes img in format f. WebP is not handled here (see
// raster.ImageEncoder).
func Encode(img *raster.Image, f Format, opts Options) ([]byte, error) {
	if opts.Quality == 0 {
		opts.Quality = 85
	}
	var buf bytes.Buffer
	switch f {
	case PNG:
		if opts.ColorMap == nil && img.DataType == raster.Uint16 && (len(img.Bands) == 1 || len(img.Bands) == 3) {
			return encodePNG16(img, opts)
		}
		return encodePNG(img, opts)
	case JPEG:
		rgba, _, err := Display(img, Options{ColorMap: opts.ColorMap})
		if err != nil {
			return nil, err
		}
		// masked pixels are black in JPEG
		if img.Mask != nil && opts.ReturnMask {
			for i, m := range img.Mask {
				if m == 0 {
					rgba.Pix[i*4], rgba.Pix[i*4+1], rgba.Pix[i*4+2] = 0, 0, 0
				}
			}
		}
		// Display made every pixel opaque: the NRGBA pixels are RGBA ones,
		// and *image.RGBA (or Gray) takes jpeg's fast path.
		var im image.Image = &image.RGBA{Pix: rgba.Pix, Stride: rgba.Stride, Rect: rgba.Rect}
		if len(img.Bands) == 1 && opts.ColorMap == nil {
			im = dropAlpha(rgba)
		}
		if err := jpeg.Encode(&buf, im, &jpeg.Options{Quality: opts.Quality}); err != nil {
			return nil, err
		}
	case GTiff:
		return EncodeGeoTIFF(img, opts)
	case NPY:
		return EncodeNPY(img, opts.ReturnMask)
	default:
		return nil, fmt.Errorf("%w %q", ErrFormat, f)
	}
	return buf.Bytes(), nil
}

// dropAlpha converts a gray image held in NRGBA to Gray.
func dropAlpha(src *image.NRGBA) *image.Gray {
	g := image.NewGray(src.Rect)
	for i := range g.Pix {
		g.Pix[i] = src.Pix[i*4]
	}
	return g
}

func encodePNG16(img *raster.Image, opts Options) ([]byte, error) {
	w, h := img.Width, img.Height
	r := image.Rect(0, 0, w, h)
	masked := opts.ReturnMask && img.Mask != nil && img.MaskedCount() > 0
	var im image.Image
	v := func(b, i int) uint16 { return uint16(math.Max(0, math.Min(65535, img.Bands[b][i]))) }
	if len(img.Bands) == 1 && !masked {
		g := image.NewGray16(r)
		for i := 0; i < w*h; i++ {
			g.SetGray16(i%w, i/w, color.Gray16{Y: v(0, i)})
		}
		im = g
	} else {
		c := image.NewNRGBA64(r)
		for i := 0; i < w*h; i++ {
			var px color.NRGBA64
			if len(img.Bands) == 1 {
				px = color.NRGBA64{R: v(0, i), G: v(0, i), B: v(0, i), A: 65535}
			} else {
				px = color.NRGBA64{R: v(0, i), G: v(1, i), B: v(2, i), A: 65535}
			}
			if masked && img.Mask[i] == 0 {
				px.A = 0
			}
			c.SetNRGBA64(i%w, i/w, px)
		}
		im = c
		if !masked {
			im = opaque64{c}
		}
	}
	var buf bytes.Buffer
	if err := pngEnc.Encode(&buf, im); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type opaque64 struct{ *image.NRGBA64 }

func (o opaque64) Opaque() bool { return true }

// EncodeNPY writes a numpy .npy array of shape (bands[+1], height, width) in
// the image's data type; with mask, the last band is the mask (0/255).
func EncodeNPY(img *raster.Image, mask bool) ([]byte, error) {
	dt := img.DataType
	descr := map[raster.DataType]string{raster.Uint8: "|u1", raster.Int8: "|i1", raster.Uint16: "<u2", raster.Int16: "<i2",
		raster.Uint32: "<u4", raster.Int32: "<i4", raster.Float32: "<f4", raster.Float64: "<f8"}[dt]
	if descr == "" {
		descr, dt = "<f8", raster.Float64
	}
	nb := len(img.Bands)
	if mask {
		nb++
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d, %d), }", descr, nb, img.Height, img.Width)
	total := 10 + len(header) + 1
	pad := (64 - total%64) % 64
	header += strings.Repeat(" ", pad) + "\n"
	var buf bytes.Buffer
	buf.WriteString("\x93NUMPY\x01\x00")
	_ = binary.Write(&buf, binary.LittleEndian, uint16(len(header)))
	buf.WriteString(header)
	for _, b := range img.Bands {
		writeSamples(&buf, b, dt)
	}
	if mask {
		m := make([]float64, img.Width*img.Height)
		for i := range m {
			if img.Valid(i) {
				m[i] = 255
			}
		}
		writeSamples(&buf, m, dt)
	}
	return buf.Bytes(), nil
}

func writeSamples(buf *bytes.Buffer, b []float64, dt raster.DataType) {
	lo, hi := dt.Range()
	out := make([]byte, len(b)*dt.Size())
	for i, v := range b {
		if dt.IsInteger() {
			if math.IsNaN(v) {
				v = 0
			}
			v = math.Round(math.Max(lo, math.Min(hi, v)))
		}
		switch dt {
		case raster.Uint8:
			out[i] = uint8(v)
		case raster.Int8:
			out[i] = uint8(int8(v))
		case raster.Uint16:
			binary.LittleEndian.PutUint16(out[i*2:], uint16(v))
		case raster.Int16:
			binary.LittleEndian.PutUint16(out[i*2:], uint16(int16(v)))
		case raster.Uint32:
			binary.LittleEndian.PutUint32(out[i*4:], uint32(v))
		case raster.Int32:
			binary.LittleEndian.PutUint32(out[i*4:], uint32(int32(v)))
		case raster.Float32:
			binary.LittleEndian.PutUint32(out[i*4:], math.Float32bits(float32(v)))
		default:
			binary.LittleEndian.PutUint64(out[i*8:], math.Float64bits(v))
		}
	}
	buf.Write(out)
}

// WarmUp encodes a small image as PNG (with and without a mask) and JPEG,
// discarding the results: the first tile of a fresh process spent 5–12 ms
// more in encoding than later ones (code paged in, the deflate state of
// the pooled PNG writer built). Servers call it in the background at start.
func WarmUp() {
	const w = 256
	img := raster.NewImage(w, w, 3, raster.Uint8)
	for b := range img.Bands {
		for i := range img.Bands[b] {
			img.Bands[b][i] = float64((i*(b+3) + i/w) % 256)
		}
	}
	_, _ = Encode(img, PNG, Options{})
	_, _ = Encode(img, JPEG, Options{})
	img.Mask[0] = 0
	_, _ = Encode(img, PNG, Options{ReturnMask: true})
}
