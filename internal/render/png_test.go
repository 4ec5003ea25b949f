package render_test

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"testing"

	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/render"
)

// TestEncodePNGPixels decodes PNG tiles with image/png and compares every
// pixel with Display (the reference for what a tile shows), and checks the
// PNG colour model: gray for one band, RGB for three, alpha only when a
// pixel is transparent.
func TestEncodePNGPixels(t *testing.T) {
	cm, err := render.NamedColorMap("viridis")
	if err != nil {
		t.Fatal(err)
	}
	half, err := render.ParseColorMap(`{"1":[255,0,0,128]}`)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		w, h, nb   int
		masked     bool
		returnMask bool
		cm         *render.ColorMap
		want       string // color model of the decoded image
	}{
		{"gray", 7, 5, 1, false, true, nil, "gray"},
		{"gray-masked", 7, 5, 1, true, true, nil, "nrgba"},
		{"gray-mask-not-returned", 7, 5, 1, true, false, nil, "gray"},
		{"rgb", 256, 256, 3, false, true, nil, "rgb"},
		{"rgb-odd", 3, 1, 3, false, true, nil, "rgb"},
		{"rgb-masked", 33, 17, 3, true, true, nil, "nrgba"},
		{"rgb-mask-not-returned", 33, 17, 3, true, false, nil, "rgb"},
		{"rgba-band", 9, 4, 4, false, true, nil, "rgb"},
		{"colormap", 16, 16, 1, false, true, cm, "rgb"},
		{"colormap-masked", 16, 16, 1, true, true, cm, "nrgba"},
		{"colormap-alpha", 4, 4, 1, false, true, half, "nrgba"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img := raster.NewImage(tc.w, tc.h, tc.nb, raster.Uint8)
			for b := range img.Bands {
				for i := range img.Bands[b] {
					// a ramp with values below 0 and above 255, and fractions
					img.Bands[b][i] = math.Mod(float64(i*7+b*40), 300) - 20.5
				}
			}
			if tc.nb == 4 {
				for i := range img.Bands[3] {
					img.Bands[3][i] = 255
				}
			}
			if tc.masked {
				for i := range img.Mask {
					if i%3 == 0 {
						img.Mask[i] = 0
					}
				}
			}
			opts := render.Options{ColorMap: tc.cm, ReturnMask: tc.returnMask}
			b, err := render.Encode(img, render.PNG, opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			model := map[string]bool{"gray": false, "rgb": false, "nrgba": false}
			switch got.(type) {
			case *image.Gray:
				model["gray"] = true
			case *image.RGBA:
				model["rgb"] = true
			case *image.NRGBA:
				model["nrgba"] = true
			}
			if !model[tc.want] {
				t.Fatalf("decoded as %T, want %s", got, tc.want)
			}
			want, _, err := render.Display(img, opts)
			if err != nil {
				t.Fatal(err)
			}
			for y := 0; y < tc.h; y++ {
				for x := 0; x < tc.w; x++ {
					w := want.NRGBAAt(x, y)
					r, g, bb, a := got.At(x, y).RGBA()
					if a == 0 && w.A == 0 {
						continue // colour of transparent pixels is free
					}
					gc := [4]uint8{uint8(r >> 8), uint8(g >> 8), uint8(bb >> 8), uint8(a >> 8)}
					if nr, ok := got.(*image.NRGBA); ok {
						c := nr.NRGBAAt(x, y)
						gc = [4]uint8{c.R, c.G, c.B, c.A}
					}
					if gc != [4]uint8{w.R, w.G, w.B, w.A} {
						t.Fatalf("pixel %d,%d: got %v want %v", x, y, gc, w)
					}
				}
			}
		})
	}
}

// BenchmarkEncodePNG: a 256×256 RGB tile (smooth imagery-like ramps).
func BenchmarkEncodePNG(b *testing.B) {
	img := raster.NewImage(256, 256, 3, raster.Uint8)
	for c := range img.Bands {
		for i := range img.Bands[c] {
			x, y := i%256, i/256
			img.Bands[c][i] = math.Mod(float64(x*3+y*5+c*50+(x*y)%17), 250)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := render.Encode(img, render.PNG, render.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
