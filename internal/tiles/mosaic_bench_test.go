//go:build gdal

package tiles_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/raster/gdal"
	"github.com/tessera-geo/tessera/internal/store/sqlite"
	"github.com/tessera-geo/tessera/internal/tiles"
)

// benchMosaicCatalog generates (once, cached in the temp dir) 15 overlapping
// 1024² 3-band uint8 COGs in EPSG:4326, 24°×24° each on a 5×3 grid
// (lon -66..66, lat -30..42; every fourth with a nodata disk), and a
// SQLite catalog of their items.
func benchMosaicCatalog(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "tessera-bench", "mosaic")
	db := filepath.Join(dir, "catalog.db")
	if _, err := os.Stat(db); err == nil {
		return db
	}
	_ = os.MkdirAll(dir, 0o755)
	tmp := db + ".tmp"
	_ = os.Remove(tmp)
	nodata := 0.0
	var items []boxItem
	for i := 0; i < 15; i++ {
		minx, miny := -66+float64(i%5)*27, -30+float64(i/5)*24
		bb := [4]float64{minx, miny, minx + 24, miny + 24}
		spec := cogSpec{name: fmt.Sprintf("m%02d", i), w: 1024, h: 1024, bands: 3, dt: raster.Uint8, epsg: 4326, bounds: bb, value: pattern(1)}
		if i%4 == 1 {
			spec.nodata, spec.valid = &nodata, disk(512, 512, 480)
		}
		items = append(items, boxItem{id: fmt.Sprintf("m%02d", i), datetime: fmt.Sprintf("2024-01-%02dT00:00:00Z", i+1), asset: "visual", href: makeCOG(b, dir, spec), box: bb})
	}
	writeBoxCatalog(b, tmp, "bench", items)
	if err := os.Rename(tmp, db); err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkMosaicTile: warm 256×256 PNG tiles of a registered search over
// the 15 COGs, per zoom, sequential requests over HTTP; p50/p95 latency.
// "nocache" disables the per-tile search cache (every tile searches SQLite).
func BenchmarkMosaicTile(b *testing.B) {
	dbPath := benchMosaicCatalog(b)
	for _, cached := range []bool{true, false} {
		cfg := tiles.Defaults()
		name := "cached"
		if !cached {
			cfg.Mosaic.CacheTTL = 0
			name = "nocache"
		}
		db, err := sqlite.Open(context.Background(), dbPath, sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		r, err := gdal.New(gdal.Config{}, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		s, err := tiles.New(cfg, tiles.Deps{Reader: r, Finder: tiles.StoreFinder{Searcher: db}, Searches: db})
		if err != nil {
			b.Fatal(err)
		}
		mux := http.NewServeMux()
		s.Register(mux)
		ts := httptest.NewServer(mux)
		id := register(b, ts.URL, `{"collections":["bench"]}`)
		c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
		for _, z := range []int{0, 3, 4, 5, 6} {
			// the tiles of zoom z around (0°, 6°N), up to 4
			var urls []string
			x0, y0 := lonLatTile(0, 6, z)
			for _, d := range [][2]int{{0, 0}, {-1, 0}, {0, -1}, {-1, -1}} {
				x, y := x0+d[0], y0+d[1]
				if x < 0 || y < 0 {
					continue
				}
				urls = append(urls, fmt.Sprintf("%s/searches/%s/tiles/WebMercatorQuad/%d/%d/%d.png?assets=visual", ts.URL, id, z, x, y))
			}
			for _, u := range urls {
				fetch(b, c, u)
			}
			if resp, err := c.Get(urls[0]); err == nil {
				resp.Body.Close()
				b.Logf("%s z%d: %s; %s", name, z, resp.Header.Get(tiles.HeaderMosaicItems), resp.Header.Get("Server-Timing"))
			}
			b.Run(fmt.Sprintf("%s/z%d", name, z), func(b *testing.B) {
				lat := make([]time.Duration, 0, b.N)
				for i := 0; i < b.N; i++ {
					t0 := time.Now()
					fetch(b, c, urls[i%len(urls)])
					lat = append(lat, time.Since(t0))
				}
				sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
			})
		}
		ts.Close()
		_ = r.Close()
		_ = db.Close()
	}
}
