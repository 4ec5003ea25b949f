package render

import (
	"math"

	"github.com/tessera-geo/tessera/internal/raster"
)

// Rescale maps each band linearly from its [min, max] range to 0..255 and
// returns a uint8 image. One range applies to every band; otherwise ranges
// are per band (a band without a range is clamped). The result's mask is
// the input's; its planes are new (raster.NewPlane) and may be given back
// with its Release.
func Rescale(img *raster.Image, ranges [][2]float64) *raster.Image {
	out := &raster.Image{Width: img.Width, Height: img.Height, DataType: raster.Uint8, CRS: img.CRS, Bounds: img.Bounds,
		BandNames: append([]string(nil), img.BandNames...), Mask: img.Mask}
	for i, b := range img.Bands {
		var r [2]float64
		has := false
		switch {
		case len(ranges) == 1:
			r, has = ranges[0], true
		case i < len(ranges):
			r, has = ranges[i], true
		}
		nb := raster.NewPlane(len(b))
		if has && r[1] != r[0] {
			scale := 255 / (r[1] - r[0])
			for j, v := range b {
				nb[j] = round8((v - r[0]) * scale)
			}
		} else {
			for j, v := range b {
				nb[j] = clamp8(v)
			}
		}
		out.Bands = append(out.Bands, nb)
	}
	return out
}

// round8 is clamp8(math.Round(x)), without branches on the data inside
// (0, 254.5): truncation is exact there, x-t is the exact fraction, and
// int32(2*(x-t)) is 1 exactly when it is at least one half.
func round8(x float64) float64 {
	if !(x > 0) { // also NaN
		return 0
	}
	if x >= 254.5 {
		return 255
	}
	t := float64(int32(x))
	return t + float64(int32((x-t)*2))
}

func clamp8(v float64) float64 {
	if v < 0 || math.IsNaN(v) {
		return 0
	}
	if v > 255 {
		return 255
	}
	return v
}
