package mosaic_test

import (
	"errors"
	"math"
	"testing"

	"github.com/tessera-geo/tessera/internal/mosaic"
	"github.com/tessera-geo/tessera/internal/raster"
)

// img builds a 2×2 image: bands of 4 samples and a validity per pixel.
func img(valid []bool, bands ...[]float64) *raster.Image {
	m := raster.NewImage(2, 2, len(bands), raster.Uint8)
	for b, v := range bands {
		copy(m.Bands[b], v)
	}
	for i, ok := range valid {
		if !ok {
			m.Mask[i] = 0
		}
	}
	return m
}

var all = []bool{true, true, true, true}

func TestMethods(t *testing.T) {
	// three images; pixel 3 is valid in none, pixel 0 only in the second.
	feeds := []*raster.Image{
		img([]bool{false, true, true, false}, []float64{0, 10, 20, 0}, []float64{0, 5, 1, 0}),
		img([]bool{true, true, true, false}, []float64{7, 30, 2, 0}, []float64{3, 2, 9, 0}),
		img([]bool{false, true, true, false}, []float64{0, 20, 8, 0}, []float64{0, 9, 4, 0}),
	}
	cases := []struct {
		method string
		want   [][]float64 // per band, pixels 0..2 (pixel 3 must be masked)
	}{
		{"first", [][]float64{{7, 10, 20}, {3, 5, 1}}},
		{"highest", [][]float64{{7, 30, 20}, {3, 9, 9}}},
		{"lowest", [][]float64{{7, 10, 2}, {3, 2, 1}}},
		{"mean", [][]float64{{7, 20, 10}, {3, 5, 4}}}, // (5+2+9)/3=5.33→5, (1+9+4)/3=4.67→4 (truncated like numpy astype)
		{"median", [][]float64{{7, 20, 8}, {3, 5, 4}}},
		{"stdev", [][]float64{{0, math.Sqrt(200.0 / 3), math.Sqrt(168.0 / 3)}, {0, math.Sqrt(74.0 / 9), math.Sqrt(98.0 / 9)}}},
		{"lastbandhigh", [][]float64{{7, 20, 2}}},
		{"lastbandlow", [][]float64{{7, 30, 20}}},
	}
	for _, tc := range cases {
		t.Run(tc.method, func(t *testing.T) {
			m, err := mosaic.New(tc.method)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range feeds {
				if err := m.Feed(f); err != nil {
					t.Fatal(err)
				}
			}
			out := m.Result()
			if len(out.Bands) != len(tc.want) {
				t.Fatalf("%d bands, want %d", len(out.Bands), len(tc.want))
			}
			for b := range tc.want {
				for i, w := range tc.want[b] {
					if got := out.Bands[b][i]; math.Abs(got-w) > 1e-9 {
						t.Errorf("band %d pixel %d = %v, want %v", b, i, got, w)
					}
				}
			}
			if out.Valid(3) || !out.Valid(0) {
				t.Errorf("mask %v", out.Mask)
			}
		})
	}
	t.Run("count", func(t *testing.T) {
		m, _ := mosaic.New("count")
		for _, f := range feeds {
			_ = m.Feed(f)
		}
		out := m.Result()
		want := []float64{1, 3, 3, 0}
		for i, w := range want {
			if out.Bands[0][i] != w || !out.Valid(i) {
				t.Errorf("pixel %d = %v valid=%v, want %v", i, out.Bands[0][i], out.Valid(i), w)
			}
		}
	})
}

func TestFirstDone(t *testing.T) {
	m, _ := mosaic.New("first")
	if m.Done() || m.Result() != nil {
		t.Fatal("fresh method done or with a result")
	}
	_ = m.Feed(img([]bool{true, false, true, true}, []float64{1, 1, 1, 1}))
	if m.Done() {
		t.Fatal("done with a hole")
	}
	_ = m.Feed(img(all, []float64{2, 2, 2, 2}))
	if !m.Done() {
		t.Fatal("not done when full")
	}
	if got := m.Result().Bands[0]; got[1] != 2 || got[0] != 1 {
		t.Fatalf("result %v", got)
	}
}

func TestErrors(t *testing.T) {
	if _, err := mosaic.New("nope"); err == nil {
		t.Fatal("unknown method accepted")
	}
	for _, name := range mosaic.Names {
		m, _ := mosaic.New(name)
		if err := m.Feed(img(all, []float64{1, 2, 3, 4}, []float64{1, 2, 3, 4})); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "count" {
			continue
		}
		if err := m.Feed(img(all, []float64{1, 2, 3, 4})); !errors.Is(err, mosaic.ErrMismatch) {
			t.Errorf("%s: band mismatch: %v", name, err)
		}
		big := raster.NewImage(3, 3, 2, raster.Uint8)
		if err := m.Feed(big); !errors.Is(err, mosaic.ErrMismatch) {
			t.Errorf("%s: size mismatch: %v", name, err)
		}
	}
}

func TestFirstCovered(t *testing.T) {
	m, _ := mosaic.New("first")
	c, ok := m.(mosaic.Coverer)
	if !ok {
		t.Fatal("first is not a Coverer")
	}
	if c.Covered(0, 0, 1, 1) {
		t.Fatal("covered before any feed")
	}
	_ = m.Feed(img([]bool{true, false, true, true}, []float64{1, 1, 1, 1}))
	for _, tc := range []struct {
		x0, y0, x1, y1 int
		want           bool
	}{{0, 0, 1, 1, true}, {0, 0, 2, 1, false}, {0, 1, 2, 2, true}, {-5, 1, 9, 9, true}, {0, 0, 2, 2, false}} {
		if got := c.Covered(tc.x0, tc.y0, tc.x1, tc.y1); got != tc.want {
			t.Errorf("Covered(%d,%d,%d,%d) = %v", tc.x0, tc.y0, tc.x1, tc.y1, got)
		}
	}
	for _, name := range []string{"highest", "mean", "count"} {
		if m, _ := mosaic.New(name); func() bool { _, ok := m.(mosaic.Coverer); return ok }() {
			t.Errorf("%s must not skip covered sources", name)
		}
	}
}

// TestFeedAt: an image fed at an offset gives what the same image padded
// to the grid (masked outside) gives through Feed, for every method.
func TestFeedAt(t *testing.T) {
	const gw, gh = 5, 4
	// part builds a w×h image whose values depend on the grid position.
	part := func(w, h, seed int, hole int) *raster.Image {
		m := raster.NewImage(w, h, 2, raster.Uint16)
		for i := 0; i < w*h; i++ {
			m.Bands[0][i] = float64((i*7 + seed*13) % 23)
			m.Bands[1][i] = float64((i*5 + seed*3) % 17)
		}
		if hole >= 0 {
			m.Mask[hole] = 0
		}
		return m
	}
	pad := func(img *raster.Image, x0, y0 int) *raster.Image {
		out := raster.NewImage(gw, gh, len(img.Bands), img.DataType)
		for i := range out.Mask {
			out.Mask[i] = 0
		}
		for y := 0; y < img.Height; y++ {
			for x := 0; x < img.Width; x++ {
				o, i := (y0+y)*gw+x0+x, y*img.Width+x
				for b := range img.Bands {
					out.Bands[b][o] = img.Bands[b][i]
				}
				out.Mask[o] = img.Mask[i]
			}
		}
		return out
	}
	feeds := []struct {
		img    *raster.Image
		x0, y0 int
	}{{part(3, 2, 1, 0), 1, 1}, {part(5, 1, 2, -1), 0, 3}, {part(2, 4, 3, 5), 3, 0}, {part(5, 4, 4, 7), 0, 0}}
	for _, name := range mosaic.Names {
		t.Run(name, func(t *testing.T) {
			placed, err := mosaic.NewOnGrid(name, mosaic.Grid{Width: gw, Height: gh})
			if err != nil {
				t.Fatal(err)
			}
			padded, _ := mosaic.New(name)
			for _, f := range feeds {
				if err := placed.FeedAt(f.img, f.x0, f.y0); err != nil {
					t.Fatal(err)
				}
				if err := padded.Feed(pad(f.img, f.x0, f.y0)); err != nil {
					t.Fatal(err)
				}
				if placed.Done() != padded.Done() {
					t.Fatalf("Done %v, padded %v", placed.Done(), padded.Done())
				}
			}
			got, want := placed.Result(), padded.Result()
			if len(got.Bands) != len(want.Bands) || got.DataType != want.DataType {
				t.Fatalf("%d bands %s, want %d %s", len(got.Bands), got.DataType, len(want.Bands), want.DataType)
			}
			for i := range want.Mask {
				if got.Valid(i) != want.Valid(i) {
					t.Fatalf("pixel %d valid=%v, want %v", i, got.Valid(i), want.Valid(i))
				}
				for b := range want.Bands {
					if want.Valid(i) && got.Bands[b][i] != want.Bands[b][i] {
						t.Errorf("band %d pixel %d = %v, want %v", b, i, got.Bands[b][i], want.Bands[b][i])
					}
				}
			}
		})
	}
	t.Run("outside the grid", func(t *testing.T) {
		m, _ := mosaic.NewOnGrid("first", mosaic.Grid{Width: gw, Height: gh})
		for _, at := range [][2]int{{3, 0}, {-1, 0}, {0, 3}} {
			if err := m.FeedAt(part(3, 2, 1, -1), at[0], at[1]); !errors.Is(err, mosaic.ErrMismatch) {
				t.Errorf("at %v: %v", at, err)
			}
		}
		fresh, _ := mosaic.New("first")
		if err := fresh.FeedAt(part(3, 2, 1, -1), 0, 0); !errors.Is(err, mosaic.ErrMismatch) {
			t.Errorf("FeedAt without a grid: %v", err)
		}
	})
}

// TestRelease: planes given back by Release are reused zeroed: a method
// fed after another's Release gives what a fresh one gives.
func TestRelease(t *testing.T) {
	for _, name := range mosaic.Names {
		t.Run(name, func(t *testing.T) {
			used, _ := mosaic.New(name)
			_ = used.Feed(img(all, []float64{9, 9, 9, 9}, []float64{7, 7, 7, 7}))
			_ = used.Result()
			used.Release()
			if used.Result() != nil {
				t.Fatal("a result after Release")
			}
			half := img([]bool{true, false, true, false}, []float64{1, 2, 3, 4}, []float64{5, 6, 7, 8})
			again, _ := mosaic.New(name)
			fresh, _ := mosaic.New(name)
			_ = again.Feed(half)
			_ = fresh.Feed(half)
			got, want := again.Result(), fresh.Result()
			for b := range want.Bands {
				for i := range want.Bands[b] {
					if got.Bands[b][i] != want.Bands[b][i] || got.Mask[i] != want.Mask[i] {
						t.Fatalf("band %d pixel %d = %v (mask %d), want %v (%d)", b, i, got.Bands[b][i], got.Mask[i], want.Bands[b][i], want.Mask[i])
					}
				}
			}
		})
	}
}
