package render_test

import (
	"bytes"
	"image/png"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/render"
)

func TestColorMaps(t *testing.T) {
	for _, n := range render.ColorMapNames() {
		cm, err := render.NamedColorMap(n)
		if err != nil {
			t.Fatal(n, err)
		}
		if c, ok := cm.Lookup(0); !ok || c[3] != 255 {
			t.Fatalf("%s: %v", n, c)
		}
	}
	v, _ := render.NamedColorMap("viridis")
	vr, _ := render.NamedColorMap("viridis_r")
	a, _ := v.Lookup(0)
	b, _ := vr.Lookup(255)
	if a != b || a != (render.RGBA{0x44, 0x01, 0x54, 255}) {
		t.Fatalf("viridis start %v, reversed end %v", a, b)
	}
	cm, err := render.ParseColorMap(`{"1":[255,0,0],"2":"#00ff0080"}`)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := cm.Lookup(2); c != (render.RGBA{0, 255, 0, 128}) {
		t.Fatal(c)
	}
	if _, ok := cm.Lookup(3); ok {
		t.Fatal("3 is not in the map")
	}
	iv, err := render.ParseColorMap(`[[[0,10],[1,2,3,4]],[[10,20],[5,6,7,8]]]`)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := iv.Lookup(15); c != (render.RGBA{5, 6, 7, 8}) {
		t.Fatal(c)
	}
	for _, bad := range []string{`{`, `{"a":[1,2,3]}`, `{"1":[1,2]}`, `{"1":[300,0,0]}`, `[[[0],[1,2,3]]]`, `{}`} {
		if _, err := render.ParseColorMap(bad); err == nil {
			t.Errorf("%s: expected an error", bad)
		}
	}
}

func TestEncodePNGMask(t *testing.T) {
	img := raster.NewImage(2, 1, 1, raster.Uint8)
	img.Bands[0] = []float64{10, 300}
	img.Mask[1] = 0
	b, err := render.Encode(img, render.PNG, render.Options{ReturnMask: true})
	if err != nil {
		t.Fatal(err)
	}
	im, _ := png.Decode(bytes.NewReader(b))
	if _, _, _, a := im.At(1, 0).RGBA(); a != 0 {
		t.Fatal("masked pixel must be transparent")
	}
	if r, _, _, _ := im.At(0, 0).RGBA(); r>>8 != 10 {
		t.Fatal(r >> 8)
	}
	if _, err := render.Encode(raster.NewImage(2, 2, 2, raster.Uint8), render.PNG, render.Options{}); err == nil {
		t.Fatal("2 bands cannot be shown")
	}
}

func TestNPYAndGeoTIFFHeaders(t *testing.T) {
	img := raster.NewImage(3, 2, 2, raster.Int16)
	b, _ := render.EncodeNPY(img, true)
	if !strings.Contains(string(b[:128]), "'shape': (3, 2, 3)") || (len(b)-(10+int(b[8])))%2 != 0 {
		t.Fatalf("npy header %q", b[:80])
	}
	tif, _ := render.EncodeGeoTIFF(img, render.Options{EPSG: 3857})
	if string(tif[:4]) != "II*\x00" {
		t.Fatal("not a little-endian TIFF")
	}
}

func TestStatistics(t *testing.T) {
	img := raster.NewImage(4, 1, 1, raster.Float64)
	img.Bands[0] = []float64{1, 2, 3, 100}
	img.Mask[3] = 0
	st := render.Statistics(img, render.StatsOptions{})[0]
	if st.Min != 1 || st.Max != 3 || st.Mean != 2 || st.Count != 3 || st.MaskedPixels != 1 || st.Median != 2 {
		t.Fatalf("%+v", st)
	}
}

func TestAlgorithms(t *testing.T) {
	img := raster.NewImage(8, 8, 2, raster.Float64)
	img.Bounds = [4]float64{0, 0, 8, 8}
	for i := range img.Bands[0] {
		img.Bands[0][i], img.Bands[1][i] = float64(i%8), 3
	}
	for _, n := range render.AlgorithmNames() {
		a, err := render.NewAlgorithm(n, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Apply(img); err != nil {
			t.Fatal(n, err)
		}
	}
	if _, err := render.NewAlgorithm("hillshade", `{"azimuth": "x"}`); err == nil {
		t.Fatal("bad params must fail")
	}
	tr, _ := render.NewAlgorithm("terrainrgb", "")
	img.Bands[0][0] = 0
	out, _ := tr.Apply(img)
	// (0 - -10000) / 0.1 = 100000 = 1*65536 + 134*256 + 160
	if out.Bands[0][0] != 1 || out.Bands[1][0] != 134 || out.Bands[2][0] != 160 {
		t.Fatal(out.Bands[0][0], out.Bands[1][0], out.Bands[2][0])
	}
}
