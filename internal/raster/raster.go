package raster

import (
	"context"
	"fmt"
	"math"
	"strings"
)

// Reader opens raster sources by href: a local path, an http(s):// URL or an
// s3://bucket/key URL. Implementations cache and pool handles; Open is cheap
// after the first call for a given href.
type Reader interface {
	Open(ctx context.Context, href string, opts OpenOptions) (Dataset, error)
}

// OpenOptions tune how a source is opened.
type OpenOptions struct{}

// Dataset is an opened source. It is safe for concurrent use; Close releases
// the caller's reference (pooled handles stay cached in the Reader).
type Dataset interface {
	// Info describes the source. It never touches the source again.
	Info() Info
	// BoundsIn returns the dataset footprint in crs (an SRS string GDAL
	// understands, e.g. "EPSG:3857"), as [minx, miny, maxx, maxy] in
	// x/y (easting/longitude first) order.
	BoundsIn(ctx context.Context, crs string) ([4]float64, error)
	// ReadWindow resamples the source onto the grid described by w. It
	// returns an *Error wrapping ErrOutsideBounds when w does not intersect
	// the data.
	ReadWindow(ctx context.Context, w Window) (*Image, error)
	// Point returns the pixel values at (x, y) expressed in crs, as a 1×1
	// image at native resolution.
	Point(ctx context.Context, x, y float64, crs string, bands []int, nodata *float64) (*Image, error)
	Close() error
}

// ImageEncoder is an optional capability of a Reader: encoding formats the
// pure-Go render package cannot (WebP through GDAL's WEBP driver).
type ImageEncoder interface {
	EncodeImage(img *Image, format string, quality int) ([]byte, error)
}

// Window is a target pixel grid: Width×Height pixels covering Bounds in CRS.
type Window struct {
	CRS        string     // SRS understood by the backend: "EPSG:3857", WKT, ...
	Bounds     [4]float64 // minx, miny, maxx, maxy in x/y order
	Width      int
	Height     int
	Bands      []int      // 1-based data band indexes; nil means all data bands
	Resampling Resampling // warp resampling
	Nodata     *float64   // overrides the source nodata value
	Unscale    bool       // apply the bands' scale/offset
}

// Validate checks the window.
func (w Window) Validate() error {
	if w.Width <= 0 || w.Height <= 0 {
		return fmt.Errorf("raster: window size %dx%d", w.Width, w.Height)
	}
	if w.Width*w.Height > 1<<26 {
		return fmt.Errorf("raster: window size %dx%d too large", w.Width, w.Height)
	}
	b := w.Bounds
	if !(b[2] > b[0]) || !(b[3] > b[1]) {
		return fmt.Errorf("raster: empty window bounds %v", b)
	}
	return nil
}

// Resampling is a resampling method (GDAL's names).
type Resampling string

// Resampling methods.
const (
	Nearest     Resampling = "nearest"
	Bilinear    Resampling = "bilinear"
	Cubic       Resampling = "cubic"
	CubicSpline Resampling = "cubic_spline"
	Lanczos     Resampling = "lanczos"
	Average     Resampling = "average"
	Mode        Resampling = "mode"
	Min         Resampling = "min"
	Max         Resampling = "max"
	Med         Resampling = "med"
	Q1          Resampling = "q1"
	Q3          Resampling = "q3"
	RMS         Resampling = "rms"
	Sum         Resampling = "sum"
)

// Resamplings lists the methods in a stable order.
var Resamplings = []Resampling{Nearest, Bilinear, Cubic, CubicSpline, Lanczos, Average, Mode, Min, Max, Med, Q1, Q3, RMS, Sum}

// ParseResampling accepts a method name (case-insensitive).
func ParseResampling(s string) (Resampling, error) {
	for _, r := range Resamplings {
		if strings.EqualFold(s, string(r)) {
			return r, nil
		}
	}
	names := make([]string, len(Resamplings))
	for i, r := range Resamplings {
		names[i] = string(r)
	}
	return "", fmt.Errorf("unknown resampling %q (one of %s)", s, strings.Join(names, ", "))
}

// Info describes a dataset.
type Info struct {
	Href         string
	Driver       string
	Width        int
	Height       int
	BandCount    int        // data bands (an alpha band is not counted)
	DataType     DataType   // of the data bands
	CRS          string     // WKT
	EPSG         int        // 0 when the CRS has no EPSG code
	GeoTransform [6]float64 // GDAL's affine transform
	Bounds       [4]float64 // native CRS, x/y order
	GeoBounds    [4]float64 // WGS84 lon/lat
	Nodata       *float64
	HasAlpha     bool
	HasMask      bool  // a per-dataset mask band (internal or .msk)
	Overviews    []int // overview widths, finest first
	Bands        []BandInfo
}

// Resolution returns the native pixel size (x, y), both positive.
func (i Info) Resolution() (float64, float64) {
	return math.Hypot(i.GeoTransform[1], i.GeoTransform[4]), math.Hypot(i.GeoTransform[2], i.GeoTransform[5])
}

// BandInfo describes one data band.
type BandInfo struct {
	Name        string // "b1", "b2", ...
	Description string
	ColorInterp string
	Scale       float64
	Offset      float64
	Nodata      *float64
	Metadata    map[string]string
}

// DataType is a pixel data type, in numpy-style spelling.
type DataType string

// Data types.
const (
	Uint8   DataType = "uint8"
	Int8    DataType = "int8"
	Uint16  DataType = "uint16"
	Int16   DataType = "int16"
	Uint32  DataType = "uint32"
	Int32   DataType = "int32"
	Float32 DataType = "float32"
	Float64 DataType = "float64"
)

// Range returns the representable range of an integer type (and ±MaxFloat
// for float types).
func (d DataType) Range() (float64, float64) {
	switch d {
	case Uint8:
		return 0, 255
	case Int8:
		return -128, 127
	case Uint16:
		return 0, 65535
	case Int16:
		return -32768, 32767
	case Uint32:
		return 0, math.MaxUint32
	case Int32:
		return math.MinInt32, math.MaxInt32
	case Float32:
		return -math.MaxFloat32, math.MaxFloat32
	default:
		return -math.MaxFloat64, math.MaxFloat64
	}
}

// IsInteger tells whether d is an integer type.
func (d DataType) IsInteger() bool { return d != Float32 && d != Float64 && d != "" }

// Size is the size in bytes of one sample.
func (d DataType) Size() int {
	switch d {
	case Uint8, Int8:
		return 1
	case Uint16, Int16:
		return 2
	case Uint32, Int32, Float32:
		return 4
	default:
		return 8
	}
}
