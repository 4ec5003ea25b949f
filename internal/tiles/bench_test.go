//go:build gdal

package tiles_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/raster/gdal"
	"github.com/tessera-geo/tessera/internal/tiles"
)

// benchCOG generates (once, cached in the temp dir) a 10980×10980 uint16
// 3-band DEFLATE COG in UTM 31N at 10 m, like a Sentinel-2 tile: a
// 1098² pattern upsampled ×10 with bilinear resampling.
func benchCOG(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "tessera-bench")
	out := filepath.Join(dir, "s2like-10980.tif")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	_ = os.MkdirAll(dir, 0o755)
	small := makeCOG(b, dir, cogSpec{name: "small", w: 1098, h: 1098, bands: 3, dt: raster.Uint16, epsg: 32631,
		bounds: [4]float64{399960, 4890240, 509760, 5000040}, value: pattern(200)})
	tmp := out + ".tmp.tif"
	run(b, "gdal_translate", "-q", "-outsize", "10980", "10980", "-r", "bilinear", "-of", "COG", "-co", "COMPRESS=DEFLATE",
		"-co", "NUM_THREADS=ALL_CPUS", "-co", "BLOCKSIZE=512", small, tmp)
	if err := os.Rename(tmp, out); err != nil {
		b.Fatal(err)
	}
	return out
}

// benchTiles lists z13 WebMercatorQuad tiles inside the data.
func benchTiles() [][2]int {
	var out [][2]int
	x0, y0 := lonLatTile(1.9, 44.75, 13)
	for dy := 0; dy < 8; dy++ {
		for dx := 0; dx < 8; dx++ {
			out = append(out, [2]int{x0 + dx, y0 + dy})
		}
	}
	return out
}

func benchServer(b *testing.B) *httptest.Server {
	cfg := tiles.Defaults()
	r, err := gdal.New(gdal.Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	s, err := tiles.New(cfg, tiles.Deps{Reader: r})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	ts := httptest.NewServer(mux)
	b.Cleanup(func() { ts.Close(); _ = r.Close() })
	return ts
}

func fetch(b *testing.B, c *http.Client, u string) {
	resp, err := c.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d for %s", resp.StatusCode, u)
	}
}

// BenchmarkTileHTTP: warm 256×256 PNG tiles over HTTP from the 10980²
// COG. Reports p50/p95 latency of sequential requests and the throughput
// of parallel clients.
func BenchmarkTileHTTP(b *testing.B) {
	src := benchCOG(b)
	ts := benchServer(b)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	list := benchTiles()
	urls := make([]string, len(list))
	for i, t := range list {
		urls[i] = fmt.Sprintf("%s/cog/tiles/WebMercatorQuad/13/%d/%d.png?url=%s&rescale=0,50000", ts.URL, t[0], t[1], url.QueryEscape(src))
	}
	for _, u := range urls { // warm: open handles, fill GDAL's block cache
		fetch(b, c, u)
	}
	b.Run("latency", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		cpu0 := cpuTime(b)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			fetch(b, c, urls[i%len(urls)])
			lat = append(lat, time.Since(t0))
		}
		reportCPU(b, cpu0, b.N)
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
	})
	b.Run("throughput", func(b *testing.B) {
		var n atomic.Int64
		b.SetParallelism(4)
		t0 := time.Now()
		cpu0 := cpuTime(b)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				fetch(b, c, urls[int(i)%len(urls)])
			}
		})
		b.ReportMetric(float64(n.Load())/time.Since(t0).Seconds(), "tiles/s")
		reportCPU(b, cpu0, int(n.Load()))
	})
}

// cpuTime returns the process's user+system CPU time (server and client:
// both run in the benchmark process).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per tile since cpu0: unlike wall-clock
// throughput it hardly depends on what else runs on the machine, and
// 2 cores / cpu-ms-per-tile bounds the throughput on an idle machine.
func reportCPU(b *testing.B, cpu0 time.Duration, tiles int) {
	if tiles > 0 {
		b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(tiles), "cpu-ms/tile")
	}
}

// BenchmarkFirstTile: GDAL configuration + server construction + the first
// tile of a cold source (what a fresh process does before its first tile);
// median and worst of b.N runs.
func BenchmarkFirstTile(b *testing.B) {
	src := benchCOG(b)
	x, y := lonLatTile(1.9, 44.75, 13)
	lat := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		ts := benchServer(b)
		fetch(b, http.DefaultClient, fmt.Sprintf("%s/cog/tiles/WebMercatorQuad/13/%d/%d.png?url=%s&rescale=0,50000", ts.URL, x, y, url.QueryEscape(src)))
		lat = append(lat, time.Since(t0))
		ts.Close()
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms-to-first-tile")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms-to-first-tile")
}
