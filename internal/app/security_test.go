package app_test

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/auth"
	"github.com/tessera-geo/tessera/internal/config"
	"github.com/tessera-geo/tessera/internal/hooks"
)

func TestRateLimitGzipAndHeaders(t *testing.T) {
	srv := newServer(t, 0, func(c *config.Serve) {
		c.Gzip = true
		c.RateLimit, c.RateLimitBurst = 0.01, 3 // no refill during the test
		c.MaxURLBytes = 4096
		c.CORSOrigins = []string{"https://browser.test"}
		c.AuthAPIKeys = fmt.Sprintf(`[{"name":"k","sha256":%q,"scopes":["read"]}]`, auth.HashAPIKey("k"))
	})
	// Gzip only for clients that ask.
	req, _ := http.NewRequest("GET", srv.URL+"/search?limit=20", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("X-API-Key", "k")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip: %v", resp.Header)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(zr)
	resp.Body.Close()
	if !strings.Contains(string(b), `"FeatureCollection"`) {
		t.Fatalf("body %.100s", b)
	}
	// The key has its own bucket of 3; anonymous clients another.
	var codes []int
	for range 4 {
		r := do(t, nil, "GET", srv.URL+"/collections", "", "X-API-Key", "k")
		codes = append(codes, r.status)
		if r.status == 429 {
			if s, _ := strconv.Atoi(r.header.Get("Retry-After")); s < 1 {
				t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
			}
		}
	}
	// The gzip request above took the first of the key's 3 tokens.
	if fmt.Sprint(codes) != "[200 200 429 429]" {
		t.Fatalf("codes %v", codes)
	}
	if r := do(t, nil, "GET", srv.URL+"/conformance", ""); r.status != 200 {
		t.Fatalf("anonymous limited with the key: %d", r.status)
	}
	// CORS for the configured origin only; HTML pages carry a CSP.
	h := do(t, nil, "GET", srv.URL+"/api.html", "", "Origin", "https://browser.test")
	if h.header.Get("Access-Control-Allow-Origin") != "https://browser.test" || h.header.Get("Content-Security-Policy") == "" {
		t.Errorf("headers %v", h.header)
	}
	if e := do(t, nil, "GET", srv.URL+"/conformance", "", "Origin", "https://evil.test"); e.header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS allows an unlisted origin")
	}
	if l := do(t, nil, "GET", srv.URL+"/search?ids="+strings.Repeat("x", 5000), ""); l.status != 414 {
		t.Errorf("long URL: %d", l.status)
	}
}

// TestLoad runs concurrent clients against a secured server for a few
// seconds (TESSERA_LOAD_SECONDS, default 3) and requires no 5xx.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	secs := 3
	if v, err := strconv.Atoi(os.Getenv("TESSERA_LOAD_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	srv := newServer(t, 0, func(c *config.Serve) {
		c.Gzip, c.Transactions = true, true
		c.AuthAnonymous = "read"
		c.RateLimit, c.RateLimitBurst = 1000, 1000
		c.AuthAPIKeys = fmt.Sprintf(`[{"name":"r","sha256":%q,"scopes":["read"],"collections":[%q]},{"name":"w","sha256":%q,"scopes":["write"]}]`,
			auth.HashAPIKey("r"), colS2, auth.HashAPIKey("w"))
	})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	paths := []string{"/", "/collections", "/search?limit=20", "/collections/" + colS2 + "/items?limit=5",
		"/search?filter=eo:cloud_cover<10", "/aggregate?aggregations=total_count", "/search?bbox=1", "/collections/nope",
		"/queryables", "/search?token=garbage", "/collections?q=sentinel"}
	var total, fivexx atomic.Int64
	stop := time.Now().Add(time.Duration(secs) * time.Second)
	var wg sync.WaitGroup
	for c := range 50 {
		wg.Go(func() {
			key := []string{"", "r", "w", "bad"}[c%4]
			for i := 0; time.Now().Before(stop); i++ {
				var req *http.Request
				if i%7 == 3 {
					req, _ = http.NewRequest("POST", srv.URL+"/search", strings.NewReader(`{"limit":5,"collections":["`+colL8+`"]}`))
					req.Header.Set("Content-Type", "application/json")
				} else {
					req, _ = http.NewRequest("GET", srv.URL+paths[(c+i)%len(paths)], nil)
				}
				if key != "" {
					req.Header.Set("X-API-Key", key)
				}
				req.Header.Set("Accept-Encoding", "gzip")
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				total.Add(1)
				if resp.StatusCode >= 500 {
					fivexx.Add(1)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d requests in %d s, %d 5xx", total.Load(), secs, fivexx.Load())
	if fivexx.Load() != 0 {
		t.Fatalf("%d responses were 5xx", fivexx.Load())
	}
}

func TestHooksThroughServe(t *testing.T) {
	secret := "s3cret"
	pre := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !hooks.Verify([]byte(secret), b, r.Header.Get(hooks.SignatureHeader)) {
			w.WriteHeader(401)
			return
		}
		var doc hooks.PreRequest
		_ = json.Unmarshal(b, &doc)
		if doc.Path == "/collections/"+colL8+"/items" && doc.Method == "POST" {
			_, _ = io.WriteString(w, `{"reject":{"status":403,"body":{"code":"Forbidden","description":"frozen collection"}}}`)
			return
		}
		// Everyone sees sentinel-1 only.
		_, _ = io.WriteString(w, `{"_collections":["`+colS1+`"]}`)
	}))
	defer pre.Close()
	post := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"headers":{"X-Served-By":"hook"}}`)
	}))
	defer post.Close()
	srv := newServer(t, 0, func(c *config.Serve) {
		c.Transactions = true
		c.PreHookURL, c.PostHookURL, c.HookSecret, c.HookTimeout = pre.URL, post.URL, secret, 2*time.Second
	})
	ids, _ := walkGET(t, srv.URL+"/search?limit=50", nil)
	if len(ids) != 2 || !strings.HasPrefix(ids[0], colS1+"/") {
		t.Fatalf("pre-hook restriction: %v", ids)
	}
	r := do(t, nil, "GET", srv.URL+"/collections/"+colS2, "")
	if r.status != 404 || r.header.Get("X-Served-By") != "hook" {
		t.Errorf("hidden collection: %d %v", r.status, r.header)
	}
	if w := do(t, nil, "POST", srv.URL+"/collections/"+colL8+"/items", itemJSON("x", "")); w.status != 403 || !strings.Contains(string(w.body), "frozen") {
		t.Errorf("rejected write: %d %s", w.status, w.body)
	}
}

func TestTrustedGatewayAndAnonymousCollections(t *testing.T) {
	srv := newServer(t, 0, func(c *config.Serve) {
		c.AuthTrustedHeaders = true
		c.AuthAnonymousCollections = []string{colS1, colS2}
	})
	r := do(t, nil, "GET", srv.URL+"/collections", "")
	if n := r.json["numberMatched"].(float64); n != 2 {
		t.Fatalf("anonymous collections: %v", n)
	}
	// The gateway narrows further; a client cannot widen with them.
	// (A gateway adds them to every request; they never appear in links.)
	g := do(t, nil, "GET", srv.URL+"/search?limit=50&_collections="+colS2+","+colL8+"&_filter="+url.QueryEscape("platform = 'sentinel-2a'"), "")
	if n := len(g.json["features"].([]any)); n != 2 {
		t.Fatalf("_collections/_filter: %d features", n)
	}
	for _, l := range g.json["links"].([]any) {
		assertNoLeak(t, l.(map[string]any)["href"].(string))
	}
	ids, _ := walkGET(t, srv.URL+"/search?limit=3", []string{auth.HeaderCollections, colS1 + "," + colL8})
	if len(ids) != 2 || !strings.HasPrefix(ids[0], colS1) {
		t.Fatalf("stac-collections-authx: %v", ids)
	}
	p := do(t, nil, "POST", srv.URL+"/search", `{"limit":1,"_collections":["`+colL8+`"]}`)
	if n := len(p.json["features"].([]any)); n != 0 {
		t.Fatalf("POST _collections outside the anonymous list: %d features", n)
	}
}
