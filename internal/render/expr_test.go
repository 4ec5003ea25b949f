package render_test

import (
	"math"
	"testing"

	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/render"
)

func img2(a, b []float64) *raster.Image {
	return &raster.Image{Width: len(a), Height: 1, Bands: [][]float64{a, b}, BandNames: []string{"b1", "b2"}, DataType: raster.Float64}
}

func TestExprEval(t *testing.T) {
	cases := []struct {
		expr string
		want []float64 // per pixel of the first output band; NaN = masked
	}{
		{"(b2-b1)/(b2+b1)", []float64{1.0 / 3, 0, math.NaN()}},
		{"b1*2+b2", []float64{4, 6, 0}},
		{"-b1**2", []float64{-1, -4, 0}},
		{"2^3^2", []float64{512, 512, 512}},
		{"where(b1>1, b1, 0)", []float64{0, 2, 0}},
		{"max(b1, b2) + min(b1, b2)", []float64{3, 4, 0}},
		{"clip(b2, 1.5, 1.8)", []float64{1.8, 1.8, 1.5}},
		{"sqrt(abs(-b2)) * 1e1", []float64{math.Sqrt(2) * 10, math.Sqrt(2) * 10, 0}},
		{"b1 == 2 & b2 != 0 | B1 < 0", []float64{0, 1, 0}},
		{"!b1", []float64{0, 0, 1}},
		{"b1 % 2", []float64{1, 0, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			e, err := render.ParseExpr(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.Eval(img2([]float64{1, 2, 0}, []float64{2, 2, 0}))
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range tc.want {
				if math.IsNaN(w) {
					if out.Valid(i) {
						t.Errorf("pixel %d: want masked, got %v", i, out.Bands[0][i])
					}
					continue
				}
				if !out.Valid(i) || math.Abs(out.Bands[0][i]-w) > 1e-9 {
					t.Errorf("pixel %d: got %v (valid %v), want %v", i, out.Bands[0][i], out.Valid(i), w)
				}
			}
		})
	}
	e, _ := render.ParseExpr("b1;b2;b1+b2")
	if out, _ := e.Eval(img2([]float64{1}, []float64{2})); len(out.Bands) != 3 || out.Bands[2][0] != 3 {
		t.Fatalf("multi-band expression: %+v", out)
	}
}

func TestExprErrors(t *testing.T) {
	for _, s := range []string{"", "(b1", "b1+", "b1 $ 2", "foo(b1)", "max(b1)", "1..2", ")", "b1 b2", "sqrt()", "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((b1))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))"} {
		if _, err := render.ParseExpr(s); err == nil {
			t.Errorf("%q: expected an error", s)
		}
	}
	e, _ := render.ParseExpr("b3+1")
	if _, err := e.Eval(img2([]float64{1}, []float64{2})); err == nil {
		t.Error("unknown band: expected an error")
	}
}

// FuzzParseExpr: the parser never panics, and whatever parses evaluates
// without panicking.
func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{"(b2-b1)/(b2+b1)", "b1*2+b2", "where(b1>1,b1,0)", "-b1**2^b2", "sqrt(abs(b1));b2", "1e308*1e308", "b1 % 0", "clip(b1,0,1)&!b2|b1<=3"} {
		f.Add(s)
	}
	im := img2([]float64{1, 2, 0, -1}, []float64{2, 2, 0, math.NaN()})
	f.Fuzz(func(t *testing.T, s string) {
		e, err := render.ParseExpr(s)
		if err != nil {
			return
		}
		for _, n := range e.Bands() {
			if n != "b1" && n != "b2" {
				return
			}
		}
		if _, err := e.Eval(im); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
	})
}
