package render

import (
	"math"

	"github.com/tessera-geo/tessera/internal/raster"
)

// Rescale maps each band linearly from its [min, max] range to 0..255 and
// returns a uint8 image. One range applies to every band; otherwise ranges
// are per band (a band without a range is clamped).
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
		nb := make([]float64, len(b))
		if has && r[1] != r[0] {
			scale := 255 / (r[1] - r[0])
			for j, v := range b {
				nb[j] = clamp8(math.Round((v - r[0]) * scale))
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

func clamp8(v float64) float64 {
	if v < 0 || math.IsNaN(v) {
		return 0
	}
	if v > 255 {
		return 255
	}
	return v
}
