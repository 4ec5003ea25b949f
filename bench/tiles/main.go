// Command tiles is the tile server's benchmark harness. Unlike the Go
// benchmarks in internal/tiles, which run client and server in one process,
// it runs `tessera serve` (a GDAL build) as its own process, as users do:
//
//   - process start to first tile: exec `tessera serve` and fetch one tile
//     of a cold COG until it answers, -starts times on new data
//     directories and -starts times on an existing one (median and worst);
//   - warm tiles: 64 distinct z13 WebMercatorQuad PNG tiles, each fetched
//     once, then -requests tiles from one sequential client (p50/p95) and
//     from -c parallel clients (tiles/s), with the server's CPU time per tile
//     (from /proc).
//
// The source is a 10980×10980 uint16 3-band DEFLATE COG (512² blocks, UTM
// 31N, 10 m, like a Sentinel-2 tile), generated once into -cog (the same
// file the Go benchmarks use).
//
//	go build -tags gdal -o bin/tessera ./cmd/tessera
//	go run ./bench/tiles
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera-geo/tessera/bench/internal/proc"
	"github.com/tessera-geo/tessera/internal/raster"
	"github.com/tessera-geo/tessera/internal/render"
)

func main() {
	bin := flag.String("bin", "bin/tessera", "tessera binary built with -tags gdal")
	cog := flag.String("cog", filepath.Join(os.TempDir(), "tessera-bench", "s2like-10980.tif"), "benchmark COG (generated when missing)")
	starts := flag.Int("starts", 10, "timed process starts")
	reqs := flag.Int("requests", 1500, "tiles per warm run")
	conc := flag.Int("c", 8, "parallel clients of the throughput run")
	flag.Parse()
	if err := run(*bin, *cog, *starts, *reqs, *conc); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(bin, cog string, starts, reqs, conc int) error {
	if err := ensureCOG(cog); err != nil {
		return err
	}
	tiles := tileURLs(cog)

	// Starts on a new data directory (the store and the queue are
	// created), then on one that exists (a restart).
	dataDir, err := os.MkdirTemp("", "tessera-bench-tiles-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	for _, fresh := range []bool{true, false} {
		var first []time.Duration
		for i := 0; i < starts; i++ {
			dir := dataDir
			if fresh {
				dir = filepath.Join(dataDir, fmt.Sprint("new-", i))
			}
			s, d, err := startServer(bin, dir, tiles[i%len(tiles)])
			if err != nil {
				return err
			}
			s.stop()
			first = append(first, d)
		}
		sortDur(first)
		what := "an existing data directory"
		if fresh {
			what = "a new data directory"
		}
		fmt.Printf("| process start to first tile (cold COG), %s, %d starts | median %s, worst %s |\n", what, starts, ms(first[len(first)/2]), ms(first[len(first)-1]))
	}

	s, _, err := startServer(bin, dataDir, tiles[0])
	if err != nil {
		return err
	}
	defer s.stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for _, t := range tiles {
		if err := fetch(client, s.base+t); err != nil {
			return err
		}
	}

	cpu0 := proc.CPU(s.cmd.Process.Pid)
	lat, _, err := load(client, s.base, tiles, reqs, 1)
	if err != nil {
		return err
	}
	cpu := proc.CPU(s.cmd.Process.Pid) - cpu0
	fmt.Printf("| warm 256² PNG tile, 1 sequential client, %d tiles | p50 %s, p95 %s, p99 %s | server CPU %.2f ms/tile |\n",
		reqs, ms(lat[len(lat)/2]), ms(lat[len(lat)*95/100]), ms(lat[len(lat)*99/100]), cpu.Seconds()*1000/float64(reqs))

	cpu0 = proc.CPU(s.cmd.Process.Pid)
	lat, wall, err := load(client, s.base, tiles, reqs, conc)
	if err != nil {
		return err
	}
	cpu = proc.CPU(s.cmd.Process.Pid) - cpu0
	fmt.Printf("| warm 256² PNG tile, %d parallel clients, %d tiles | **%.0f tiles/s**, p50 %s, p95 %s | server CPU %.2f ms/tile |\n",
		conc, reqs, float64(reqs)/wall.Seconds(), ms(lat[len(lat)/2]), ms(lat[len(lat)*95/100]), cpu.Seconds()*1000/float64(reqs))
	fmt.Printf("\nserver RSS: %s\n", proc.RSS(s.cmd.Process.Pid))
	return nil
}

// tileURLs lists 64 z13 WebMercatorQuad tiles inside the COG, as paths.
func tileURLs(cog string) []string {
	lon, lat := 1.9, 44.75
	n := math.Exp2(13)
	x0 := int((lon + 180) / 360 * n)
	r := lat * math.Pi / 180
	y0 := int((1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n)
	var out []string
	for dy := 0; dy < 8; dy++ {
		for dx := 0; dx < 8; dx++ {
			out = append(out, fmt.Sprintf("/cog/tiles/WebMercatorQuad/13/%d/%d.png?url=%s&rescale=0,50000", x0+dx, y0+dy, url.QueryEscape(cog)))
		}
	}
	return out
}

type server struct {
	cmd  *exec.Cmd
	base string
}

// startServer execs `tessera serve` on dir and fetches tile until it
// answers; it returns the time from exec to that answer.
func startServer(bin, dir, tile string) (*server, time.Duration, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", proc.FreePort())
	t0 := time.Now()
	cmd := exec.Command(bin, "serve", "--data-dir", dir, "--addr", addr, "--log-level", "warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	s := &server{cmd: cmd, base: "http://" + addr}
	client := &http.Client{Timeout: 10 * time.Second}
	for {
		err := fetch(client, s.base+tile)
		if err == nil {
			return s, time.Since(t0), nil
		}
		if time.Since(t0) > 20*time.Second {
			s.stop()
			return nil, 0, fmt.Errorf("no tile 20 s after start: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	_ = s.cmd.Wait()
}

// load fetches n tiles, cycling through tiles, from conc clients; it
// returns the sorted latencies and the wall-clock time.
func load(client *http.Client, base string, tiles []string, n, conc int) ([]time.Duration, time.Duration, error) {
	var (
		next atomic.Int64
		mu   sync.Mutex
		lat  = make([]time.Duration, 0, n)
		ferr error
		wg   sync.WaitGroup
	)
	t0 := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				s := time.Now()
				err := fetch(client, base+tiles[i%len(tiles)])
				d := time.Since(s)
				mu.Lock()
				lat = append(lat, d)
				if err != nil {
					ferr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	wall := time.Since(t0)
	sortDur(lat)
	return lat, wall, ferr
}

func fetch(client *http.Client, u string) error {
	resp, err := client.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		return fmt.Errorf("%s: %d %s", u, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return nil
}

// ensureCOG writes the benchmark COG when it is missing: a 1098² pattern
// written as GeoTIFF (internal/render), upsampled ×10 by gdal_translate.
func ensureCOG(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	fmt.Fprintf(os.Stderr, "generating %s\n", path)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	const w = 1098
	img := raster.NewImage(w, w, 3, raster.Uint16)
	img.Bounds = [4]float64{399960, 4890240, 509760, 5000040}
	for b := range 3 {
		for y := range w {
			for x := range w {
				img.Bands[b][y*w+x] = math.Mod(float64(x*3+y*5+b*50+(x*y)%17), 250) * 200
			}
		}
	}
	raw, err := render.EncodeGeoTIFF(img, render.Options{EPSG: 32631})
	if err != nil {
		return err
	}
	small := path + ".small.tif"
	if err := os.WriteFile(small, raw, 0o644); err != nil {
		return err
	}
	defer os.Remove(small)
	tmp := path + ".tmp.tif"
	out, err := exec.Command("gdal_translate", "-q", "-a_srs", "EPSG:32631", "-outsize", "10980", "10980", "-r", "bilinear",
		"-of", "COG", "-co", "COMPRESS=DEFLATE", "-co", "NUM_THREADS=ALL_CPUS", "-co", "BLOCKSIZE=512", small, tmp).CombinedOutput()
	if err != nil {
		return fmt.Errorf("gdal_translate: %v\n%s", err, out)
	}
	return os.Rename(tmp, path)
}

func sortDur(d []time.Duration) { sort.Slice(d, func(i, j int) bool { return d[i] < d[j] }) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
