package render_test

import (
	"math"
	"testing"

	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/render"
)

// TestRescaleRounding: rescaled values are math.Round of the linear map,
// clamped to 0..255 (NaN to 0), halves away from zero.
func TestRescaleRounding(t *testing.T) {
	for _, v := range []float64{0, 0.1, 0.5, 0.49999999999999994, 1.5, 2.5, 127.49999999999999, 254.4, 254.5, 254.6, 255, 300, -1, -0.5, math.NaN(), math.Inf(1), math.Inf(-1), 1e300} {
		img := &raster.Image{Width: 1, Height: 1, Bands: [][]float64{{v}}}
		got := render.Rescale(img, [][2]float64{{0, 255}}).Bands[0][0]
		want := math.Round(v)
		switch {
		case math.IsNaN(v) || want < 0:
			want = 0
		case want > 255:
			want = 255
		}
		if got != want {
			t.Errorf("%v: got %v want %v", v, got, want)
		}
	}
}

// BenchmarkRescale: three 256×256 planes of uint16 values to 8 bits.
func BenchmarkRescale(b *testing.B) {
	img := raster.NewImage(256, 256, 3, raster.Uint16)
	for c := range img.Bands {
		for i := range img.Bands[c] {
			img.Bands[c][i] = float64((i*7 + c*1000) % 60000)
		}
	}
	for b.Loop() {
		render.Rescale(img, [][2]float64{{0, 50000}}).Release()
	}
}
