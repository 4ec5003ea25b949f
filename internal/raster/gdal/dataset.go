//go:build gdal

package gdal

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/airbusgeo/godal"

	"github.com/tessera-geo/tessera/internal/raster"
)

// dataset is a caller's reference to a pooled source.
type dataset struct{ src *source }

func (d *dataset) Info() raster.Info { return d.src.info }

func (d *dataset) Close() error { return nil }

// BoundsIn returns (and caches) the dataset footprint in crs.
func (d *dataset) BoundsIn(ctx context.Context, crs string) ([4]float64, error) {
	s := d.src
	s.mu.Lock()
	b, ok := s.bounds[crs]
	s.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := transformBounds(s.info.CRS, crs, s.info.Bounds)
	if err != nil {
		return b, &raster.Error{Op: "bounds", Href: s.href, Err: raster.ErrUnsupported, Reason: err.Error()}
	}
	s.mu.Lock()
	if len(s.bounds) > 64 {
		clear(s.bounds)
	}
	s.bounds[crs] = b
	s.mu.Unlock()
	return b, nil
}

func fmtF(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// ReadWindow warps the source into w with GDAL's warper (the same code path
// as gdalwarp), into an in-memory dataset with an alpha band that carries
// the validity mask (from nodata, a source alpha band or a mask band).
func (d *dataset) ReadWindow(ctx context.Context, w raster.Window) (*raster.Image, error) {
	s := d.src
	if err := w.Validate(); err != nil {
		return nil, &raster.Error{Op: "read", Href: s.href, Err: raster.ErrUnsupported, Reason: err.Error()}
	}
	bands, err := d.bandIndexes(w.Bands)
	if err != nil {
		return nil, err
	}
	fp, err := d.BoundsIn(ctx, w.CRS)
	if err != nil {
		return nil, err
	}
	if fp[0] >= w.Bounds[2] || fp[2] <= w.Bounds[0] || fp[1] >= w.Bounds[3] || fp[3] <= w.Bounds[1] {
		return nil, &raster.Error{Op: "read", Href: s.href, Err: raster.ErrOutsideBounds}
	}
	rs := w.Resampling
	if rs == "" {
		rs = raster.Nearest
	}
	gdalRS := string(rs)
	if rs == raster.CubicSpline {
		gdalRS = "cubicspline"
	}
	sw := []string{
		"-of", "MEM",
		"-t_srs", w.CRS,
		"-te", fmtF(w.Bounds[0]), fmtF(w.Bounds[1]), fmtF(w.Bounds[2]), fmtF(w.Bounds[3]),
		"-ts", strconv.Itoa(w.Width), strconv.Itoa(w.Height),
		"-r", gdalRS,
		"-dstalpha",
	}
	if w.Nodata != nil {
		sw = append(sw, "-srcnodata", fmtF(*w.Nodata))
	}

	h, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	out, err := godal.Warp("", []*godal.Dataset{h}, sw, godal.SkipWarnings)
	s.release(h)
	if err != nil {
		return nil, &raster.Error{Op: "read", Href: s.href, Err: raster.ErrUnreadable, Reason: err.Error()}
	}
	defer out.Close(godal.SkipWarnings)
	nb := len(out.Bands())
	if nb < 2 {
		return nil, &raster.Error{Op: "read", Href: s.href, Err: raster.ErrUnreadable, Reason: "warp produced no alpha band"}
	}
	// Output band k (1-based) holds source band k; the alpha band is last.
	// Data bands are read as float64 planes, the alpha band straight into
	// the mask.
	n := w.Width * w.Height
	zero := make([]int, len(bands)) // godal.Bands is 0-based
	for i, b := range bands {
		zero[i] = s.dataBands[b-1] - 1
	}
	buf := make([]float64, n*len(bands))
	if err := out.Read(0, 0, buf, w.Width, w.Height, godal.Bands(zero...), godal.BandInterleaved(), godal.SkipWarnings); err != nil {
		return nil, &raster.Error{Op: "read", Href: s.href, Err: raster.ErrUnreadable, Reason: err.Error()}
	}
	img := &raster.Image{Width: w.Width, Height: w.Height, DataType: s.info.DataType, CRS: w.CRS, Bounds: w.Bounds, Mask: make([]uint8, n)}
	if err := out.Bands()[nb-1].Read(0, 0, img.Mask, w.Width, w.Height, godal.SkipWarnings); err != nil {
		return nil, &raster.Error{Op: "read", Href: s.href, Err: raster.ErrUnreadable, Reason: err.Error()}
	}
	for j, a := range img.Mask {
		if a != 0 {
			img.Mask[j] = 255
		}
	}
	for i, b := range bands {
		plane := buf[i*n : (i+1)*n : (i+1)*n]
		if w.Unscale {
			bi := s.info.Bands[b-1]
			if bi.Scale != 1 || bi.Offset != 0 {
				for j := range plane {
					plane[j] = plane[j]*bi.Scale + bi.Offset
				}
				img.DataType = raster.Float64
			}
		}
		img.Bands = append(img.Bands, plane)
		img.BandNames = append(img.BandNames, s.info.Bands[b-1].Name)
	}
	return img, nil
}

func (d *dataset) bandIndexes(req []int) ([]int, error) {
	cnt := d.src.info.BandCount
	if len(req) == 0 {
		out := make([]int, cnt)
		for i := range out {
			out[i] = i + 1
		}
		return out, nil
	}
	for _, b := range req {
		if b < 1 || b > cnt {
			return nil, &raster.Error{Op: "read", Href: d.src.href, Err: raster.ErrInvalidBand, Reason: fmt.Sprintf("band %d out of range 1..%d", b, cnt)}
		}
	}
	return req, nil
}

// Point reads the native pixel under (x, y).
func (d *dataset) Point(ctx context.Context, x, y float64, crs string, bands []int, nodata *float64) (*raster.Image, error) {
	s := d.src
	idx, err := d.bandIndexes(bands)
	if err != nil {
		return nil, err
	}
	px, py := x, y
	if crs != "" {
		src, err := newSRS(crs)
		if err != nil {
			return nil, &raster.Error{Op: "point", Href: s.href, Err: raster.ErrUnsupported, Reason: err.Error()}
		}
		dst, err := newSRS(s.info.CRS)
		if err != nil {
			src.Close()
			return nil, &raster.Error{Op: "point", Href: s.href, Err: raster.ErrUnsupported, Reason: err.Error()}
		}
		tr, err := godal.NewTransform(src, dst, godal.SkipWarnings)
		src.Close()
		dst.Close()
		if err != nil {
			return nil, &raster.Error{Op: "point", Href: s.href, Err: raster.ErrUnsupported, Reason: err.Error()}
		}
		xs, ys, ok := []float64{x}, []float64{y}, []bool{false}
		_ = tr.TransformEx(xs, ys, []float64{0}, ok)
		tr.Close()
		if !ok[0] || math.IsInf(xs[0], 0) || math.IsNaN(xs[0]) {
			return nil, &raster.Error{Op: "point", Href: s.href, Err: raster.ErrOutsideBounds}
		}
		px, py = xs[0], ys[0]
	}
	gt := s.info.GeoTransform
	det := gt[1]*gt[5] - gt[2]*gt[4]
	if det == 0 {
		return nil, &raster.Error{Op: "point", Href: s.href, Err: raster.ErrUnreadable, Reason: "singular geotransform"}
	}
	dx, dy := px-gt[0], py-gt[3]
	col := (gt[5]*dx - gt[2]*dy) / det
	row := (-gt[4]*dx + gt[1]*dy) / det
	c, r := int(math.Floor(col)), int(math.Floor(row))
	if c < 0 || r < 0 || c >= s.info.Width || r >= s.info.Height {
		return nil, &raster.Error{Op: "point", Href: s.href, Err: raster.ErrOutsideBounds}
	}
	h, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer s.release(h)
	img := raster.NewImage(1, 1, len(idx), s.info.DataType)
	img.CRS = s.info.CRS
	img.Bounds = [4]float64{px, py, px, py}
	all := h.Bands()
	for i, b := range idx {
		band := all[s.dataBands[b-1]-1]
		v := []float64{0}
		if err := band.Read(c, r, v, 1, 1, godal.SkipWarnings); err != nil {
			return nil, &raster.Error{Op: "point", Href: s.href, Err: raster.ErrUnreadable, Reason: err.Error()}
		}
		img.Bands[i][0] = v[0]
		img.BandNames[i] = s.info.Bands[b-1].Name
		nd := s.info.Bands[b-1].Nodata
		if nodata != nil {
			nd = nodata
		}
		if nd != nil && (v[0] == *nd || (math.IsNaN(*nd) && math.IsNaN(v[0]))) {
			img.Mask[0] = 0
		}
	}
	if nodata == nil && (s.alphaBand != 0 || s.info.HasMask) {
		var mb godal.Band
		if s.alphaBand != 0 {
			mb = all[s.alphaBand-1]
		} else {
			mb = all[s.dataBands[0]-1].MaskBand()
		}
		m := []uint8{0}
		if err := mb.Read(c, r, m, 1, 1, godal.SkipWarnings); err == nil && m[0] == 0 {
			img.Mask[0] = 0
		}
	}
	return img, nil
}

var _ raster.Dataset = (*dataset)(nil)
