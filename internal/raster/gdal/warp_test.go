//go:build gdal

package gdal

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/tessera-geo/tessera/internal/raster"
)

func TestOverviewLevel(t *testing.T) {
	widths := []int{500, 250, 125} // of a 1000 px wide source
	cases := []struct {
		ratio float64
		want  int
	}{
		// gdalwarp keeps the finer level until the ratio passes the next one,
		// or comes within 0.1 of it
		{0.5, -1}, {1, -1}, {1.05, -1}, {1.5, -1}, {1.95, -1}, {2, 0}, {2.05, 0}, {3, 0}, {3.95, 0}, {4, 1}, {7.99, 1}, {8.05, 2}, {100, 2},
	}
	for _, tc := range cases {
		if got := overviewLevel(tc.ratio, 1000, widths); got != tc.want {
			t.Errorf("ratio %v: level %d, want %d", tc.ratio, got, tc.want)
		}
	}
	if got := overviewLevel(5, 1000, nil); got != -1 {
		t.Errorf("no overviews: level %d", got)
	}
}

// makeCOG writes a 3-band uint16 COG in UTM 31N with nodata 0 in a corner.
func makeCOG(t *testing.T) string {
	t.Helper()
	const w, h = 600, 500
	mem, err := godal.Create(godal.Memory, "", 3, godal.UInt16, w, h)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	buf := make([]uint16, w*h*3)
	for b := 0; b < 3; b++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := uint16((x*3+y*5+b*50+(x*y)%17)%250*200 + 1)
				if x+y < 150 {
					v = 0
				}
				buf[b*w*h+y*w+x] = v
			}
		}
	}
	if err := mem.Write(0, 0, buf, w, h, godal.BandInterleaved()); err != nil {
		t.Fatal(err)
	}
	sr, err := godal.NewSpatialRefFromEPSG(32631)
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	_ = mem.SetSpatialRef(sr)
	_ = mem.SetGeoTransform([6]float64{400000, 100, 0, 4950000, 0, -100})
	for _, b := range mem.Bands() {
		_ = b.SetNoData(0)
	}
	out := filepath.Join(t.TempDir(), "src.tif")
	ds, err := mem.Translate(out, []string{"-of", "COG", "-co", "BLOCKSIZE=256", "-co", "OVERVIEW_COUNT=2"})
	if err != nil {
		t.Fatal(err)
	}
	_ = ds.Close()
	return out
}

// TestWarperReuse reads windows of several zooms, including ones partly
// outside the data, in an order that reuses each warper, and compares
// every pixel with a fresh gdalwarp (godal.Warp) of the same window; with
// the default warper budget, and with none (every warper used once).
func TestWarperReuse(t *testing.T) {
	for _, tc := range []struct {
		name   string
		budget int64
	}{{"kept", 0}, {"no-budget", 1}} {
		t.Run(tc.name, func(t *testing.T) { testWarperReuse(t, tc.budget) })
	}
}

func testWarperReuse(t *testing.T, budget int64) {
	r, err := New(Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if budget > 0 {
		r.budget.max = budget
	}
	<-r.ready // makeCOG uses GDAL's drivers, which New registers in the background
	src := makeCOG(t)
	ds, err := r.Open(context.Background(), src, raster.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := godal.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	b, err := ds.BoundsIn(context.Background(), "EPSG:3857")
	if err != nil {
		t.Fatal(err)
	}
	cx, cy := (b[0]+b[2])/2, (b[1]+b[3])/2
	windows := [][4]float64{}
	for _, size := range []float64{8000, 30000, 8000, 100000, 30000} { // ~ full res, overview 0, full res, overview 1, ...
		for _, off := range [][2]float64{{0, 0}, {-0.45, 0.4}, {0, 0}} { // centre, mostly outside (nodata corner), centre
			x0, y0 := cx+off[0]*(b[2]-b[0])-size/2, cy+off[1]*(b[3]-b[1])-size/2
			windows = append(windows, [4]float64{x0, y0, x0 + size, y0 + size})
		}
	}
	for _, rs := range []raster.Resampling{raster.Nearest, raster.Bilinear} {
		for i, wb := range windows {
			img, err := ds.ReadWindow(context.Background(), raster.Window{CRS: "EPSG:3857", Bounds: wb, Width: 64, Height: 64, Resampling: rs})
			if err != nil {
				t.Fatalf("%s window %d: %v", rs, i, err)
			}
			out, err := ref.Warp("", []string{"-of", "MEM", "-t_srs", "EPSG:3857", "-te", fmtF(wb[0]), fmtF(wb[1]), fmtF(wb[2]), fmtF(wb[3]),
				"-ts", "64", "64", "-r", map[raster.Resampling]string{raster.Nearest: "near", raster.Bilinear: "bilinear"}[rs], "-dstalpha"})
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float64, 64*64*4)
			err = out.Read(0, 0, want, 64, 64, godal.BandInterleaved())
			_ = out.Close()
			if err != nil {
				t.Fatal(err)
			}
			for p := 0; p < 64*64; p++ {
				if (want[3*64*64+p] > 0) != (img.Mask[p] != 0) {
					t.Fatalf("%s window %d pixel %d: validity differs", rs, i, p)
				}
				if img.Mask[p] == 0 {
					continue
				}
				for c := 0; c < 3; c++ {
					if got := img.Bands[c][p]; got != want[c*64*64+p] {
						t.Fatalf("%s window %d band %d pixel %d: %v, gdalwarp %v", rs, i, c+1, p, got, want[c*64*64+p])
					}
				}
			}
		}
	}
	if used := r.budget.used.Load(); (budget > 0) != (used == 0) {
		t.Errorf("budget %d: %d bytes of warpers kept", budget, used)
	}
	_ = r.Close()
	if used := r.budget.used.Load(); used != 0 {
		t.Errorf("%d bytes of warpers left after Close", used)
	}
}

// TestWarmUp: the start-up warm-up reads its tile, leaves no source in the
// reader and no file in /vsimem.
func TestWarmUp(t *testing.T) {
	r, err := New(Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	<-r.ready
	const name = "/vsimem/tessera-warm-test.tif"
	if err := r.warmUp(name); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Sources != 0 || st.OpenHandles != 0 {
		t.Fatalf("warm-up left %+v", st)
	}
	if _, err := godal.VSIOpen(name); err == nil {
		t.Fatal("warm-up left its GeoTIFF in /vsimem")
	}
}
