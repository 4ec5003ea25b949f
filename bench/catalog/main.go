// Command catalog is the catalog benchmark harness: it generates N
// synthetic items (internal/synth), loads them with `tessera load`, starts
// `tessera serve`, measures the time to the first served request, then runs
// a query mix over HTTP and prints p50/p95/p99 latencies and the server's
// RSS. Results go to stdout as a Markdown table for docs/benchmarks.md.
//
//	go build -o bin/tessera ./cmd/tessera
//	go run ./bench/catalog -n 1000000 -dir bench/out
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tessera-geo/tessera/bench/internal/proc"
	"github.com/tessera-geo/tessera/internal/synth"
)

func main() {
	n := flag.Int("n", 100000, "items to generate and load")
	dir := flag.String("dir", "bench/out", "work directory (data file and catalog)")
	bin := flag.String("bin", "bin/tessera", "tessera binary")
	reqs := flag.Int("requests", 2000, "requests per query kind")
	conc := flag.Int("c", 1, "concurrent clients")
	reload := flag.Bool("reload", false, "reload even when the catalog exists")
	warm := flag.Bool("warm", true, "read the catalog file once before the query mix, so queries find it in the OS page cache")
	flag.Parse()
	if err := run(*n, *dir, *bin, *reqs, *conc, *reload, *warm); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

const collection = "sentinel-2-synthetic"

func run(n int, dir, bin string, reqs, conc int, reload, warm bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data := filepath.Join(dir, fmt.Sprintf("items-%d.ndjson", n))
	if _, err := os.Stat(data); err != nil {
		fmt.Fprintf(os.Stderr, "generating %d items into %s\n", n, data)
		if err := generate(data, n); err != nil {
			return err
		}
	}
	dataDir := filepath.Join(dir, fmt.Sprintf("catalog-%d", n))
	if _, err := os.Stat(filepath.Join(dataDir, "catalog.db")); err != nil || reload {
		os.RemoveAll(dataDir)
		fi, _ := os.Stat(data)
		start := time.Now()
		cmd := exec.Command(bin, "load", "--data-dir", dataDir, data)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("load: %v", err)
		}
		el := time.Since(start)
		fmt.Printf("| load | %d items (%.1f GB ndjson) | %.1f s | **%.0f items/s** (wall clock of `tessera load`; its own line: %s) |\n",
			n, float64(fi.Size())/1e9, el.Seconds(), float64(n)/el.Seconds(), strings.TrimSpace(string(out)))
	}

	// A first start builds any missing index (once per catalog); then time
	// a normal start to the first answered request.
	if err := warmUp(bin, dataDir); err != nil {
		return err
	}
	port := proc.FreePort()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	start := time.Now()
	srv := exec.Command(bin, "serve", "--data-dir", dataDir, "--addr", addr, "--log-level", "warn")
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()
	base := "http://" + addr
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for {
		resp, err := client.Get(base + "/conformance")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			break
		}
		if time.Since(start) > 20*time.Second {
			return fmt.Errorf("server did not start: %v", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	fmt.Printf("| startup | process start to first served request | %.1f ms | |\n", float64(time.Since(start).Microseconds())/1000)

	if warm {
		// A server that has run for a while has its catalog in the OS page
		// cache; right after a build or a test run it may not, and cold
		// reads then dominate every query (docs/benchmarks.md).
		if err := readAll(filepath.Join(dataDir, "catalog.db")); err != nil {
			return err
		}
	}
	ids := sampleIDs(n, 500)
	mix := []struct {
		name string
		req  func(r *rand.Rand) *http.Request
	}{
		{"bbox+datetime+collection, limit 10", func(r *rand.Rand) *http.Request {
			x, y := -170+r.Float64()*330, -50+r.Float64()*110
			t0 := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, r.IntN(100), 0)
			return get(base + "/search?" + url.Values{
				"collections": {collection}, "limit": {"10"},
				"bbox":     {fmt.Sprintf("%.3f,%.3f,%.3f,%.3f", x, y, x+4, y+4)},
				"datetime": {t0.Format(time.RFC3339) + "/" + t0.AddDate(0, 3, 0).Format(time.RFC3339)},
			}.Encode())
		}},
		{"ids (5), limit 10", func(r *rand.Rand) *http.Request {
			pick := make([]string, 5)
			for i := range pick {
				pick[i] = ids[r.IntN(len(ids))]
			}
			return get(base + "/search?ids=" + url.QueryEscape(strings.Join(pick, ",")))
		}},
		{"intersects polygon (POST), limit 10", func(r *rand.Rand) *http.Request {
			x, y := -170+r.Float64()*330, -50+r.Float64()*110
			body := fmt.Sprintf(`{"limit":10,"intersects":{"type":"Polygon","coordinates":[[[%[1]f,%[2]f],[%[3]f,%[2]f],[%[1]f,%[4]f],[%[1]f,%[2]f]]]}}`, x, y, x+6, y+6)
			req, _ := http.NewRequest("POST", base+"/search", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			return req
		}},
		{"filter on an indexed property + bbox, limit 10", func(r *rand.Rand) *http.Request {
			x, y := -170+r.Float64()*330, -50+r.Float64()*110
			return get(base + "/search?" + url.Values{"limit": {"10"},
				"bbox":   {fmt.Sprintf("%.3f,%.3f,%.3f,%.3f", x, y, x+10, y+10)},
				"filter": {fmt.Sprintf(`"eo:cloud_cover" < %d`, 5+r.IntN(20))}}.Encode())
		}},
		{"sort by an indexed property, limit 10", func(r *rand.Rand) *http.Request {
			dir := []string{"+", "-"}[r.IntN(2)]
			return get(base + "/search?limit=10&sortby=" + url.QueryEscape(dir+"properties.eo:cloud_cover"))
		}},
		{"free text (a tile id), limit 10", func(r *rand.Rand) *http.Request {
			id := ids[r.IntN(len(ids))]
			return get(base + "/search?limit=10&q=" + url.QueryEscape(strings.Split(id, "_")[1]))
		}},
		{"free text (half the catalog), limit 10", func(r *rand.Rand) *http.Request {
			return get(base + "/search?limit=10&q=" + []string{"S2A", "S2B"}[r.IntN(2)])
		}},
		{"aggregate datetime_frequency, 1 year in a 20° bbox", func(r *rand.Rand) *http.Request {
			x, y := -170+r.Float64()*320, -50+r.Float64()*100
			y0 := 2016 + r.IntN(8)
			return get(base + "/aggregate?" + url.Values{"aggregations": {"datetime_frequency"},
				"bbox":     {fmt.Sprintf("%.3f,%.3f,%.3f,%.3f", x, y, x+20, y+20)},
				"datetime": {fmt.Sprintf("%d-01-01T00:00:00Z/%d-12-31T23:59:59Z", y0, y0)}}.Encode())
		}},
		{"whole catalog, limit 10 (first page)", func(r *rand.Rand) *http.Request {
			return get(base + "/search?limit=10")
		}},
		{"continental bbox, limit 10", func(r *rand.Rand) *http.Request {
			return get(base + "/search?bbox=-10,35,30,60&limit=10")
		}},
	}
	fmt.Printf("\n| query (over HTTP, %d client(s), %d requests) | p50 | p95 | p99 | max |\n|---|---|---|---|---|\n", conc, reqs)
	for _, q := range mix {
		lat, err := measure(client, q.req, reqs, conc)
		if err != nil {
			return fmt.Errorf("%s: %w", q.name, err)
		}
		fmt.Printf("| %s | %s | %s | %s | %s |\n", q.name, pct(lat, 50), pct(lat, 95), pct(lat, 99), pct(lat, 100))
	}
	// Deep pagination: walk 1000 pages of 10 and time each page.
	var deep []time.Duration
	next := base + "/search?limit=10&collections=" + collection
	for page := 0; page < 1000 && next != ""; page++ {
		t0 := time.Now()
		resp, err := client.Get(next)
		if err != nil {
			return err
		}
		var fc struct {
			Links []struct{ Rel, Href string } `json:"links"`
		}
		err = json.NewDecoder(resp.Body).Decode(&fc)
		resp.Body.Close()
		if err != nil {
			return err
		}
		deep = append(deep, time.Since(t0))
		next = ""
		for _, l := range fc.Links {
			if l.Rel == "next" {
				next = l.Href
			}
		}
	}
	last := deep[len(deep)-10:]
	sort.Slice(last, func(i, j int) bool { return last[i] < last[j] })
	fmt.Printf("| pagination walk, %d pages of 10 | %s | %s | %s | %s (pages 991–1000: p50 %s) |\n",
		len(deep), pct(sortDur(deep), 50), pct(sortDur(deep), 95), pct(sortDur(deep), 99), pct(sortDur(deep), 100), last[len(last)/2].Round(10*time.Microsecond))
	// Deep sorted pagination: pages 1 and 100 of a sort by cloud cover.
	var sorted []time.Duration
	next = base + "/search?limit=10&sortby=" + url.QueryEscape("+properties.eo:cloud_cover")
	for page := 0; page < 100 && next != ""; page++ {
		t0 := time.Now()
		resp, err := client.Get(next)
		if err != nil {
			return err
		}
		var fc struct {
			Links []struct{ Rel, Href string } `json:"links"`
		}
		err = json.NewDecoder(resp.Body).Decode(&fc)
		resp.Body.Close()
		if err != nil {
			return err
		}
		sorted = append(sorted, time.Since(t0))
		next = ""
		for _, l := range fc.Links {
			if l.Rel == "next" {
				next = l.Href
			}
		}
	}
	fmt.Printf("| sorted walk (eo:cloud_cover), %d pages of 10 | %s | %s | %s | %s (page 1: %s, page %d: %s) |\n",
		len(sorted), pct(sortDur(sorted), 50), pct(sortDur(sorted), 95), pct(sortDur(sorted), 99), pct(sortDur(sorted), 100),
		sorted[0].Round(10*time.Microsecond), len(sorted), sorted[len(sorted)-1].Round(10*time.Microsecond))
	// Whole-catalog aggregation, a few times.
	var whole []time.Duration
	for range 5 {
		t0 := time.Now()
		resp, err := client.Get(base + "/aggregate?aggregations=datetime_frequency")
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		whole = append(whole, time.Since(t0))
	}
	fmt.Printf("| aggregate datetime_frequency (monthly), whole catalog, 5 runs | %s | | | %s |\n", pct(sortDur(whole), 50), pct(sortDur(whole), 100))
	fmt.Printf("\nserver RSS: %s\n", proc.RSS(srv.Process.Pid))
	return nil
}

// warmUp starts the server once and waits until it answers, so that a
// first start's one-time work (building new indexes) is not timed.
func warmUp(bin, dataDir string) error {
	addr := fmt.Sprintf("127.0.0.1:%d", proc.FreePort())
	srv := exec.Command(bin, "serve", "--data-dir", dataDir, "--addr", addr, "--log-level", "warn")
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	// Stop it as an operator would (SIGINT): a graceful stop checkpoints
	// the WAL, so the timed start does not pay for crash recovery.
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()
	deadline := time.Now().Add(30 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/conformance")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("server did not start")
}

func readAll(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}

func get(u string) *http.Request { r, _ := http.NewRequest("GET", u, nil); return r }

func measure(client *http.Client, mk func(*rand.Rand) *http.Request, reqs, conc int) ([]time.Duration, error) {
	var (
		mu   sync.Mutex
		lat  []time.Duration
		ferr error
		wg   sync.WaitGroup
	)
	per := reqs / conc
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 42))
			local := make([]time.Duration, 0, per)
			for i := 0; i < per; i++ {
				req := mk(r)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("status %d for %s", resp.StatusCode, req.URL)
					}
				}
				if err != nil {
					mu.Lock()
					ferr = err
					mu.Unlock()
					return
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}(uint64(w))
	}
	wg.Wait()
	return sortDur(lat), ferr
}

func sortDur(d []time.Duration) []time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}

func pct(sorted []time.Duration, p int) string {
	if len(sorted) == 0 {
		return "-"
	}
	i := min(len(sorted)*p/100, len(sorted)-1)
	return fmt.Sprintf("%.2f ms", float64(sorted[i].Microseconds())/1000)
}

func generate(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 4<<20)
	g := synth.New(synth.Options{Collection: collection, Seed: 1})
	w.Write(g.Collection())
	w.WriteByte('\n')
	for i := 0; i < n; i++ {
		w.Write(g.Next())
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// sampleIDs regenerates the deterministic items and keeps k ids.
func sampleIDs(n, k int) []string {
	g := synth.New(synth.Options{Collection: collection, Seed: 1})
	step := max(n/k, 1)
	var ids []string
	for i := 0; i < n; i++ {
		b := g.Next()
		if i%step == 0 {
			var v struct{ ID string }
			json.Unmarshal(b, &v)
			ids = append(ids, v.ID)
		}
	}
	return ids
}
