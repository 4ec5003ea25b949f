package render

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/raster"
)

func TestParseColorFormula(t *testing.T) {
	cases := []struct {
		in   string
		ops  int
		want string // error fragment
	}{
		{"Gamma RGB 3.5 Saturation 1.7 Sigmoidal RGB 15 0.35", 3, ""},
		{"gamma r 2, sigmoidal 12 10 0.5", 2, ""},
		{"saturation 0", 1, ""},
		{"SIGMOIDAL rgb -5 0.5", 1, ""},
		{"", 0, "no operation"},
		{"brightness rgb 2", 0, "not an operation"},
		{"gamma", 0, "needs bands"},
		{"gamma x 2", 0, "is not r, g, b"},
		{"gamma rgb", 0, "takes 1 number"},
		{"gamma rgb 1 2", 0, "takes 1 number"},
		{"gamma rgb 0", 0, "positive"},
		{"gamma rgb nan", 0, "not a number"},
		{"sigmoidal rgb 10 2", 0, "bias"},
		{"saturation -1", 0, "negative"},
		{"saturation", 0, "takes 1 number"},
	}
	for _, tc := range cases {
		f, err := ParseColorFormula(tc.in)
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q: got %v, %v; want an error with %q", tc.in, f, err, tc.want)
			}
			continue
		}
		if err != nil || len(f) != tc.ops {
			t.Errorf("%q: got %d ops, %v; want %d", tc.in, len(f), err, tc.ops)
		}
	}
}

func rgbPixel(r, g, b float64) *raster.Image {
	img := raster.NewImage(1, 1, 3, raster.Uint8)
	img.Bands[0][0], img.Bands[1][0], img.Bands[2][0] = r, g, b
	return img
}

func apply(t *testing.T, formula string, img *raster.Image) [3]float64 {
	t.Helper()
	f, err := ParseColorFormula(formula)
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Apply(img)
	if err != nil {
		t.Fatal(err)
	}
	if out.DataType != raster.Uint8 {
		t.Fatalf("%s: data type %s", formula, out.DataType)
	}
	return [3]float64{out.Bands[0][0], out.Bands[1][0], out.Bands[2][0]}
}

func TestColorFormulaValues(t *testing.T) {
	cases := []struct {
		formula string
		in      [3]float64
		want    [3]float64
	}{
		// (64/255)^(1/2) = 0.50097 → 127; other bands untouched.
		{"gamma r 2", [3]float64{64, 64, 64}, [3]float64{127, 64, 64}},
		// The sigmoidal curve passes through 0, its centre and 1.
		{"sigmoidal rgb 10 0.5", [3]float64{0, 127.5, 255}, [3]float64{0, 127, 255}},
		// Contrast: below the centre darker, above brighter:
		// (1/(1+e^(10(0.5-v))) - 1/(1+e^5)) / (1/(1+e^-5) - 1/(1+e^5)).
		{"sigmoidal g 10 0.5", [3]float64{100, 100, 100}, [3]float64{100, 63, 100}},
		{"sigmoidal 2 10 0.5", [3]float64{200, 200, 200}, [3]float64{200, 242, 200}},
		// Greys have no chroma: saturation leaves them as they are.
		{"saturation 3", [3]float64{90, 90, 90}, [3]float64{90, 90, 90}},
	}
	for _, tc := range cases {
		got := apply(t, tc.formula, rgbPixel(tc.in[0], tc.in[1], tc.in[2]))
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1 {
				t.Errorf("%s on %v = %v, want %v (±1)", tc.formula, tc.in, got, tc.want)
				break
			}
		}
	}
	// Saturation 1 keeps colours (8-bit round trip through LCh), 0 makes
	// them grey, and more than 1 spreads the channels apart.
	for _, c := range [][3]float64{{200, 40, 30}, {20, 180, 90}, {60, 70, 220}, {255, 255, 0}} {
		same := apply(t, "saturation 1", rgbPixel(c[0], c[1], c[2]))
		for i := range same {
			if math.Abs(same[i]-c[i]) > 2 {
				t.Errorf("saturation 1 of %v = %v", c, same)
				break
			}
		}
		grey := apply(t, "saturation 0", rgbPixel(c[0], c[1], c[2]))
		if math.Abs(grey[0]-grey[1]) > 2 || math.Abs(grey[1]-grey[2]) > 2 {
			t.Errorf("saturation 0 of %v = %v, want a grey", c, grey)
		}
		more := apply(t, "saturation 1.5", rgbPixel(c[0], c[1], c[2]))
		spread := func(p [3]float64) float64 { return max(p[0], p[1], p[2]) - min(p[0], p[1], p[2]) }
		if spread(more) < spread(c)-2 {
			t.Errorf("saturation 1.5 of %v = %v: less saturated", c, more)
		}
	}
	// A negative contrast undoes a positive one (within 8-bit steps, where
	// the curve is not flat).
	for _, v := range []float64{30, 60, 128, 190} {
		got := apply(t, "sigmoidal rgb 8 0.4 sigmoidal rgb -8 0.4", rgbPixel(v, v, v))
		if math.Abs(got[0]-v) > 2 {
			t.Errorf("sigmoidal 8 then -8 of %v = %v", v, got[0])
		}
	}
	// 16-bit data is scaled by 65535.
	img := raster.NewImage(1, 1, 1, raster.Uint16)
	img.Bands[0][0] = 65535
	f, _ := ParseColorFormula("gamma r 1.5")
	out, err := f.Apply(img)
	if err != nil || out.Bands[0][0] != 255 {
		t.Errorf("16-bit white: %v, %v", out.Bands, err)
	}
	// Bands the image does not have.
	if _, err := f.Apply(img); err != nil {
		t.Fatal(err)
	}
	g, _ := ParseColorFormula("gamma b 2")
	if _, err := g.Apply(img); !errors.Is(err, ErrBandCount) {
		t.Errorf("gamma b on one band: %v", err)
	}
}

func FuzzParseColorFormula(f *testing.F) {
	for _, s := range []string{"Gamma RGB 3.5 Saturation 1.7 Sigmoidal RGB 15 0.35", "gamma r 2, sigmoidal 12 10 0.5", "saturation 0", "sigmoidal rgb -5 0.5", "gamma 1 1e308"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		formula, err := ParseColorFormula(s)
		if err != nil {
			return
		}
		img := rgbPixel(10, 128, 250)
		out, err := formula.Apply(img)
		if err != nil {
			return
		}
		for _, b := range out.Bands {
			if v := b[0]; !(v >= 0 && v <= 255) || v != math.Trunc(v) {
				t.Fatalf("%q gives %v", s, v)
			}
		}
	})
}
