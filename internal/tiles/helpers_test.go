//go:build gdal

package tiles_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/raster/gdal"
	"github.com/tessera-geo/tessera/internal/render"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/store/sqlite"
	"github.com/tessera-geo/tessera/internal/tiles"
)

// needTool skips when an external binary is missing, except in CI where
// every tool must be installed.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	needTool(t, name)
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// cogSpec describes a synthetic source.
type cogSpec struct {
	name   string
	w, h   int
	bands  int
	dt     raster.DataType
	epsg   int
	bounds [4]float64 // minx miny maxx maxy
	nodata *float64
	alpha  bool                      // write an alpha band (from valid)
	mask   bool                      // write an internal mask band (from valid)
	value  func(b, x, y int) float64 // pixel value
	valid  func(x, y int) bool       // for alpha/mask/nodata
}

// makeCOG writes the source as a GeoTIFF with the pure-Go writer, then
// turns it into a COG with gdal_translate -of COG.
func makeCOG(t testing.TB, dir string, s cogSpec) string {
	t.Helper()
	img := raster.NewImage(s.w, s.h, s.bands, s.dt)
	img.Bounds = s.bounds
	for b := 0; b < s.bands; b++ {
		for y := 0; y < s.h; y++ {
			for x := 0; x < s.w; x++ {
				v := s.value(b, x, y)
				if s.valid != nil && !s.valid(x, y) {
					img.Mask[y*s.w+x] = 0
					if s.nodata != nil {
						v = *s.nodata
					}
				}
				img.Bands[b][y*s.w+x] = v
			}
		}
	}
	raw, err := render.EncodeGeoTIFF(img, render.Options{EPSG: s.epsg, ReturnMask: s.alpha})
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, s.name+".raw.tif")
	if err := os.WriteFile(src, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-q", "-of", "COG", "-co", "BLOCKSIZE=256", "-co", "OVERVIEWS=IGNORE_EXISTING", "-a_srs", fmt.Sprintf("EPSG:%d", s.epsg)}
	if s.nodata != nil {
		args = append(args, "-a_nodata", fmt.Sprint(*s.nodata))
	}
	if s.alpha {
		args = append(args, "-colorinterp_"+fmt.Sprint(s.bands+1), "alpha")
	}
	if s.mask {
		// a mask band from the validity: write it as a separate byte GeoTIFF
		m := raster.NewImage(s.w, s.h, 1, raster.Uint8)
		m.Bounds = s.bounds
		for i := range m.Bands[0] {
			if s.valid(i%s.w, i/s.w) {
				m.Bands[0][i] = 255
			}
		}
		mraw, _ := render.EncodeGeoTIFF(m, render.Options{EPSG: s.epsg})
		mp := filepath.Join(dir, s.name+".mask.tif")
		if err := os.WriteFile(mp, mraw, 0o644); err != nil {
			t.Fatal(err)
		}
		withMask := filepath.Join(dir, s.name+".withmask.tif")
		run(t, "gdal_translate", "-q", "-mask", "none", src, withMask)
		// add the mask with gdal_translate's -mask <band> from a VRT stack
		vrt := filepath.Join(dir, s.name+".vrt")
		run(t, "gdalbuildvrt", "-q", "-separate", vrt, src, mp)
		bargs := []string{"-q"}
		for b := 1; b <= s.bands; b++ {
			bargs = append(bargs, "-b", fmt.Sprint(b))
		}
		bargs = append(bargs, "-mask", fmt.Sprint(s.bands+1), "--config", "GDAL_TIFF_INTERNAL_MASK", "YES", vrt, withMask)
		run(t, "gdal_translate", bargs...)
		src = withMask
	}
	out := filepath.Join(dir, s.name+".tif")
	run(t, "gdal_translate", append(args, src, out)...)
	return out
}

// newServer returns a tile server over the GDAL reader.
func newServer(t testing.TB, mut func(*tiles.Config)) (*httptest.Server, *gdal.Reader) {
	t.Helper()
	cfg := tiles.Defaults()
	if mut != nil {
		mut(&cfg)
	}
	r, err := gdal.New(gdal.Config{MaxSources: cfg.MaxSources, HandlesPerSource: cfg.HandlesPerSource}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s, err := tiles.New(cfg, tiles.Deps{Reader: r, Items: testItems{}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() { ts.Close(); _ = r.Close() })
	return ts, r
}

// testItems serves STAC items registered by tests.
type testItems struct{}

var itemStore = map[string][]byte{}

func (testItems) Item(_ context.Context, c, id string) ([]byte, error) {
	if b, ok := itemStore[c+"/"+id]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("item %s/%s: %w", c, id, store.ErrNotFound)
}

func get(t testing.TB, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	return readResponse(t, resp, err)
}

// postJSON posts a JSON body.
func postJSON(t testing.TB, u, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	return readResponse(t, resp, err)
}

// readResponse reads the body of a request's response.
func readResponse(t testing.TB, resp *http.Response, err error) (*http.Response, []byte) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// npy decodes our .npy output into float64 planes.
func npy(t testing.TB, b []byte) (shape [3]int, planes [][]float64) {
	t.Helper()
	if len(b) < 10 || string(b[1:6]) != "NUMPY" {
		t.Fatalf("not npy: %q", b[:min(len(b), 40)])
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	hdr := string(b[10 : 10+hl])
	var descr string
	if i := strings.Index(hdr, "'descr': '"); i >= 0 {
		descr = hdr[i+10 : i+13]
	}
	if _, err := fmt.Sscanf(hdr[strings.Index(hdr, "'shape': (")+10:], "%d, %d, %d", &shape[0], &shape[1], &shape[2]); err != nil {
		t.Fatalf("shape in %q: %v", hdr, err)
	}
	data := b[10+hl:]
	n := shape[1] * shape[2]
	for p := 0; p < shape[0]; p++ {
		pl := make([]float64, n)
		for i := range pl {
			k := p*n + i
			switch descr {
			case "|u1":
				pl[i] = float64(data[k])
			case "<u2":
				pl[i] = float64(binary.LittleEndian.Uint16(data[2*k:]))
			case "<i2":
				pl[i] = float64(int16(binary.LittleEndian.Uint16(data[2*k:])))
			case "<f4":
				pl[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(data[4*k:])))
			case "<f8":
				pl[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*k:]))
			default:
				t.Fatalf("dtype %q", descr)
			}
		}
		planes = append(planes, pl)
	}
	return shape, planes
}

// readRaw converts any GDAL-readable file to float64 planes through
// gdal_translate -of ENVI -ot Float64 (band sequential, little endian).
func readRaw(t testing.TB, path string, w, h int) [][]float64 {
	t.Helper()
	out := path + ".f64"
	run(t, "gdal_translate", "-q", "-of", "ENVI", "-co", "INTERLEAVE=BSQ", "-ot", "Float64", path, out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	n := w * h
	if len(b)%(8*n) != 0 {
		t.Fatalf("raw size %d not a multiple of %d", len(b), 8*n)
	}
	var planes [][]float64
	for p := 0; p < len(b)/(8*n); p++ {
		pl := make([]float64, n)
		for i := range pl {
			pl[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*(p*n+i):]))
		}
		planes = append(planes, pl)
	}
	return planes
}

func writeFile(p string, b []byte) error { return os.WriteFile(p, b, 0o644) }

// boxItem is a STAC item for writeBoxCatalog: its geometry is the box
// (lon/lat) and its one asset the raster at href.
type boxItem struct {
	id, datetime, asset, href string
	box                       [4]float64
}

// writeBoxCatalog writes a SQLite catalog at path holding collection and
// items.
func writeBoxCatalog(t testing.TB, path, collection string, items []boxItem) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	col, err := stac.DecodeCollection([]byte(fmt.Sprintf(`{"type":"Collection","stac_version":"1.0.0","id":%q,"description":"test","license":"CC0-1.0",
		"extent":{"spatial":{"bbox":[[-180,-90,180,90]]},"temporal":{"interval":[[null,null]]}},"links":[]}`, collection)), stac.DecodeOptions{})
	if err == nil {
		err = db.PutCollection(ctx, col, store.Upsert)
	}
	if err != nil {
		t.Fatal(err)
	}
	var its []stac.Item
	for _, it := range items {
		b := it.box
		doc := fmt.Sprintf(`{"type":"Feature","stac_version":"1.0.0","id":%q,"collection":%q,
			"geometry":{"type":"Polygon","coordinates":[[[%[3]g,%[4]g],[%[5]g,%[4]g],[%[5]g,%[6]g],[%[3]g,%[6]g],[%[3]g,%[4]g]]]},
			"properties":{"datetime":%[7]q},
			"assets":{%[8]q:{"href":%[9]q,"type":"image/tiff; application=geotiff; profile=cloud-optimized"}},"links":[]}`,
			it.id, collection, b[0], b[1], b[2], b[3], it.datetime, it.asset, it.href)
		si, err := stac.DecodeItem([]byte(doc), stac.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		its = append(its, si)
	}
	if _, err := db.PutItems(ctx, its, store.Upsert); err != nil {
		t.Fatal(err)
	}
}
