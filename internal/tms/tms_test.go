package tms_test

import (
	"math"
	"testing"

	"github.com/tessera-geo/tessera/internal/tms"
)

func TestDefaultSets(t *testing.T) {
	s, err := tms.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"WebMercatorQuad", "WorldCRS84Quad", "WGS1984Quad", "EuropeanETRS89_LAEAQuad", "UTM31WGS84Quad"} {
		if _, err := s.Get(id); err != nil {
			t.Fatal(err)
		}
	}
	// Definitions are parsed on first use: every embedded one must parse
	// and hold the id its file is named for.
	for _, id := range s.IDs() {
		if tm, err := s.Get(id); err != nil || tm.ID != id {
			t.Errorf("%s: %v", id, err)
		}
	}
	if len(s.IDs()) != 64 {
		t.Errorf("%d sets, want 64", len(s.IDs()))
	}
	wm, _ := s.Get("WebMercatorQuad")
	b, _ := wm.Bounds(tms.Tile{Z: 1, X: 1, Y: 0})
	if math.Abs(b[0]) > 1e-6 || math.Abs(b[2]-20037508.342789244) > 1e-6 || math.Abs(b[1]) > 1e-6 {
		t.Fatalf("WebMercatorQuad 1/1/0 = %v", b)
	}
	if wm.SRS() != "EPSG:3857" || wm.YX() {
		t.Fatal(wm.SRS())
	}
	// axis order: WGS1984Quad is lat/lon in the document, lon/lat in Bounds
	g, _ := s.Get("WGS1984Quad")
	b, _ = g.Bounds(tms.Tile{Z: 0, X: 1, Y: 0})
	if b != [4]float64{0, -90, 180, 90} || !g.YX() {
		t.Fatalf("WGS1984Quad 0/1/0 = %v", b)
	}
	laea, _ := s.Get("EuropeanETRS89_LAEAQuad")
	b, _ = laea.Bounds(tms.Tile{Z: 0, X: 0, Y: 0})
	if b != [4]float64{2000000, 1000000, 6500000, 5500000} {
		t.Fatalf("LAEA 0/0/0 = %v", b)
	}
	if _, err := wm.Bounds(tms.Tile{Z: 2, X: 4, Y: 0}); err == nil {
		t.Fatal("x out of matrix")
	}
	r, _ := wm.TileRange(2, [4]float64{1, 1, 2, 2})
	if r.MinX != 2 || r.MaxX != 2 || r.MinY != 1 || r.MaxY != 1 {
		t.Fatalf("%+v", r)
	}
	if z := wm.ZoomForResolution(150); z != 11 {
		t.Fatalf("zoom for 150 m: %d", z)
	}
}
