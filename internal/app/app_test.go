package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/tessera-geo/tessera/internal/app"
	"github.com/tessera-geo/tessera/internal/config"
	"github.com/tessera-geo/tessera/internal/loader"
	"github.com/tessera-geo/tessera/internal/synth"
)

// demoItems is the number of items in testdata/demo.
const demoItems = 104

// newServer loads the demo catalog plus synthetic items into a fresh data
// dir and serves it.
func newServer(t *testing.T, synthetic int, mod func(*config.Serve), extra ...string) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := config.Serve{
		Common: config.Common{DataDir: dir, LogLevel: "warn"},
		Addr:   "127.0.0.1:0", ID: "test", Title: "test", Description: "test",
		ItemsMaxLimit: 1000, ItemsDefaultLimit: 10, TilesAllowLocal: true,
	}
	if mod != nil {
		mod(&cfg)
	}
	files := append([]string{"../../testdata/demo"}, extra...)
	if synthetic > 0 {
		f := filepath.Join(dir, "synthetic.ndjson")
		var buf bytes.Buffer
		g := synth.New(synth.Options{Seed: 7})
		buf.Write(g.Collection())
		buf.WriteByte('\n')
		for range synthetic {
			buf.Write(g.Next())
			buf.WriteByte('\n')
		}
		if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	st, err := app.OpenStore(ctx, cfg.Common)
	if err != nil {
		t.Fatal(err)
	}
	var errs strings.Builder
	paths, err := loader.Files(files)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := loader.Load(ctx, st, paths, loader.Options{Errors: &errs})
	st.Close()
	if err != nil || sum.Failed > 0 {
		t.Fatalf("load: %v %s", err, errs.String())
	}
	if sum.Items < demoItems+synthetic {
		t.Fatalf("loaded %d items, want %d", sum.Items, demoItems+synthetic)
	}
	a, err := app.New(ctx, cfg, nil2(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); a.Close() })
	return srv
}

func nil2(t *testing.T) *slog.Logger {
	l, err := app.NewLogger(io.Discard, "error")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// oas validates responses against the served OpenAPI document.
type oas struct {
	router routers.Router
}

func loadOAS(t *testing.T, srv *httptest.Server) *oas {
	t.Helper()
	resp, err := http.Get(srv.URL + "/api")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		t.Fatalf("served OpenAPI document does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("served OpenAPI document is invalid: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: srv.URL}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &oas{router: r}
}

func (o *oas) check(t *testing.T, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	route, params, err := o.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: not in the OpenAPI document: %v", req.Method, req.URL, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{ExcludeRequestBody: true, ExcludeRequestQueryParams: true}}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true},
	})
	if err != nil {
		t.Fatalf("%s %s: response does not match the OpenAPI document: %v", req.Method, req.URL, err)
	}
}

type result struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func do(t *testing.T, o *oas, method, u string, body string, hdr ...string) result {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := result{status: resp.StatusCode, header: resp.Header, body: b}
	_ = json.Unmarshal(b, &r.json)
	if o != nil {
		if body != "" {
			req.Body = io.NopCloser(strings.NewReader(body))
		}
		o.check(t, req, resp, b)
	}
	return r
}

func links(r result, rel string) []map[string]any {
	var out []map[string]any
	ls, _ := r.json["links"].([]any)
	for _, l := range ls {
		m := l.(map[string]any)
		if m["rel"] == rel {
			out = append(out, m)
		}
	}
	return out
}

func TestLandingConformanceAndDocs(t *testing.T) {
	srv := newServer(t, 0, nil)
	o := loadOAS(t, srv)
	r := do(t, o, "GET", srv.URL+"/", "")
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("landing: %d %s", r.status, r.header.Get("Content-Type"))
	}
	for _, rel := range []string{"self", "root", "conformance", "data", "service-desc", "service-doc"} {
		if len(links(r, rel)) == 0 {
			t.Errorf("landing has no %s link", rel)
		}
	}
	if n := len(links(r, "search")); n != 2 {
		t.Errorf("landing has %d search links, want GET and POST", n)
	}
	if n := len(links(r, "child")); n != 3 {
		t.Errorf("landing has %d child links, want 3", n)
	}
	c := do(t, o, "GET", srv.URL+"/conformance", "")
	cls, _ := c.json["conformsTo"].([]any)
	if !slices.Contains(cls, any("https://api.stacspec.org/v1.0.0/item-search")) {
		t.Errorf("conformance lacks item-search: %v", cls)
	}
	y := do(t, nil, "GET", srv.URL+"/api", "", "Accept", "application/vnd.oai.openapi;version=3.0")
	if !bytes.HasPrefix(y.body, []byte("openapi: 3")) || !strings.Contains(y.header.Get("Content-Type"), "openapi") {
		t.Errorf("YAML service-desc: %s %q", y.header.Get("Content-Type"), y.body[:min(20, len(y.body))])
	}
	h := do(t, nil, "GET", srv.URL+"/api.html", "")
	if h.status != 200 || !strings.Contains(string(h.body), "/search") {
		t.Errorf("service-doc: %d", h.status)
	}
}

func TestCollectionsAndItems(t *testing.T) {
	srv := newServer(t, 0, nil)
	o := loadOAS(t, srv)
	r := do(t, o, "GET", srv.URL+"/collections?limit=2", "")
	cs := r.json["collections"].([]any)
	if len(cs) != 2 || len(links(r, "next")) != 1 {
		t.Fatalf("collections page: %d collections, next links %v", len(cs), links(r, "next"))
	}
	r2 := do(t, o, "GET", links(r, "next")[0]["href"].(string), "")
	if cs2 := r2.json["collections"].([]any); len(cs2) != 1 || len(links(r2, "next")) != 0 {
		t.Fatalf("second collections page: %v", r2.json)
	}
	col := do(t, o, "GET", srv.URL+"/collections/sentinel-1-grd", "")
	if col.json["id"] != "sentinel-1-grd" || len(links(col, "items")) != 1 || len(links(col, "self")) != 1 {
		t.Fatalf("collection: %v", col.json["links"])
	}
	items := do(t, o, "GET", srv.URL+"/collections/sentinel-1-grd/items", "")
	if items.header.Get("Content-Type") != "application/geo+json" || len(items.json["features"].([]any)) != 2 {
		t.Fatalf("items: %s %v", items.header.Get("Content-Type"), items.json)
	}
	it := do(t, o, "GET", srv.URL+"/collections/sentinel-1-grd/items/S1A_IW_GRDH_1SDV_20230413T135628_20230413T135653_048084_05C7C1_2E24", "")
	if it.status != 200 {
		// the id comes from the fixture; fall back to the first item of the page
		f := items.json["features"].([]any)[0].(map[string]any)
		it = do(t, o, "GET", srv.URL+"/collections/sentinel-1-grd/items/"+url.PathEscape(f["id"].(string)), "")
	}
	if it.status != 200 || it.json["type"] != "Feature" {
		t.Fatalf("item: %d", it.status)
	}
	self := links(it, "self")[0]["href"].(string)
	if !strings.HasPrefix(self, srv.URL+"/collections/sentinel-1-grd/items/") {
		t.Fatalf("item self link %s", self)
	}
	for _, rel := range []string{"parent", "collection", "root"} {
		if len(links(it, rel)) != 1 {
			t.Errorf("item has %d %s links", len(links(it, rel)), rel)
		}
	}
	for _, u := range []string{"/collections/nope", "/collections/nope/items", "/collections/sentinel-1-grd/items/nope", "/collections/nope/items/x", "/no/such/path"} {
		r := do(t, nil, "GET", srv.URL+u, "")
		if r.status != 404 || r.json["code"] != "NotFound" || r.json["description"] == "" {
			t.Errorf("GET %s: %d %s", u, r.status, r.body)
		}
	}
}

func TestSearch(t *testing.T) {
	srv := newServer(t, 500, nil)
	o := loadOAS(t, srv)
	count := func(r result) int { return len(r.json["features"].([]any)) }
	tests := []struct {
		name  string
		get   string // query string for GET
		post  string // equivalent POST body
		count int
	}{
		{"collections", "collections=sentinel-1-grd,landsat-8-l1&limit=100", `{"collections":["sentinel-1-grd","landsat-8-l1"],"limit":100}`, 4},
		{"ids", "ids=LC80100102015050LGN00,LC80100102015082LGN00", `{"ids":["LC80100102015050LGN00","LC80100102015082LGN00"]}`, 2},
		{"bbox", "bbox=-180,-90,180,90&collections=sentinel-s2-l2a-cogs-test&limit=1000", `{"bbox":[-180,-90,180,90],"collections":["sentinel-s2-l2a-cogs-test"],"limit":1000}`, 100},
		{"bbox across antimeridian", "bbox=170,-90,-170,-60&collections=sentinel-s2-l2a-cogs-test&limit=1000", `{"bbox":[170,-90,-170,-60],"collections":["sentinel-s2-l2a-cogs-test"],"limit":1000}`, 100},
		{"datetime interval", "datetime=2015-01-01T00:00:00Z/2015-12-31T23:59:59Z&collections=landsat-8-l1", `{"datetime":"2015-01-01T00:00:00Z/2015-12-31T23:59:59Z","collections":["landsat-8-l1"]}`, 2},
		{"datetime open", "datetime=../2015-03-01T00:00:00Z&collections=landsat-8-l1", `{"datetime":"../2015-03-01T00:00:00Z","collections":["landsat-8-l1"]}`, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := do(t, o, "GET", srv.URL+"/search?"+tc.get, "")
			p := do(t, o, "POST", srv.URL+"/search", tc.post)
			if g.status != 200 || p.status != 200 {
				t.Fatalf("GET %d %s / POST %d %s", g.status, g.body, p.status, p.body)
			}
			if count(g) != tc.count || count(p) != tc.count {
				t.Fatalf("GET %d / POST %d features, want %d", count(g), count(p), tc.count)
			}
			if g.json["numberReturned"].(float64) != float64(tc.count) {
				t.Fatalf("numberReturned %v", g.json["numberReturned"])
			}
		})
	}
	// intersects: exact geometry test (the fixture's geometry lies within
	// the landsat footprints' bboxes).
	geom, err := os.ReadFile("../../testdata/stac/stac-server/intersectsGeometry.json")
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, o, "POST", srv.URL+"/search", `{"intersects":`+string(geom)+`}`)
	if r.status != 200 {
		t.Fatalf("intersects: %d %s", r.status, r.body)
	}
	g := do(t, o, "GET", srv.URL+"/search?intersects="+url.QueryEscape(string(geom)), "")
	if count(g) != count(r) {
		t.Fatalf("GET intersects %d, POST %d", count(g), count(r))
	}
	// The wrongly wound polygon is accepted (stac-server does the same).
	ccw, _ := os.ReadFile("../../testdata/stac/bad-geometry/polygonWoundCCW.json")
	if r := do(t, o, "POST", srv.URL+"/search", `{"intersects":`+string(ccw)+`}`); r.status != 200 {
		t.Fatalf("CW polygon: %d %s", r.status, r.body)
	}
}

func TestSearchErrors(t *testing.T) {
	srv := newServer(t, 0, nil)
	o := loadOAS(t, srv)
	feature, _ := os.ReadFile("../../testdata/stac/stac-server/intersectsFeature.json")
	unclosed, _ := os.ReadFile("../../testdata/stac/bad-geometry/badGeoUnclosed.json")
	tests := []struct {
		name, method, query, body, param string
	}{
		{"bbox not numbers", "GET", "bbox=a,b,c,d", "", "bbox"},
		{"bbox 3 numbers", "GET", "bbox=1,2,3", "", "bbox"},
		{"bbox lat order", "GET", "bbox=0,10,1,5", "", "bbox"},
		{"bbox lon range", "GET", "bbox=0,0,200,5", "", "bbox"},
		{"bbox post type", "POST", "", `{"bbox":"1,2,3,4"}`, "bbox"},
		{"datetime garbage", "GET", "datetime=yesterday", "", "datetime"},
		{"datetime reversed", "GET", "datetime=2020-01-02T00:00:00Z/2020-01-01T00:00:00Z", "", "datetime"},
		{"datetime both open", "GET", "datetime=../..", "", "datetime"},
		{"datetime post type", "POST", "", `{"datetime":5}`, "datetime"},
		{"bbox with intersects", "POST", "", `{"bbox":[0,0,1,1],"intersects":{"type":"Point","coordinates":[0,0]}}`, "bbox"},
		{"feature as intersects", "POST", "", `{"intersects":` + string(feature) + `}`, "intersects"},
		{"unclosed polygon", "POST", "", `{"intersects":` + string(unclosed) + `}`, "intersects"},
		{"malformed json", "POST", "", `{"bbox":[0,0,1,1]`, "body"},
		{"json array body", "POST", "", `[1,2]`, "body"},
		{"limit zero", "GET", "limit=0", "", "limit"},
		{"limit negative", "POST", "", `{"limit":-1}`, "limit"},
		{"limit text", "GET", "limit=ten", "", "limit"},
		{"limit fraction", "POST", "", `{"limit":1.5}`, "limit"},
		{"collections type", "POST", "", `{"collections":"a"}`, "collections"},
		{"empty collections", "GET", "collections=,", "", "collections"},
		{"bad token", "GET", "token=xyz", "", "token"},
		{"repeated param", "GET", "limit=1&limit=2", "", "limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := srv.URL + "/search"
			if tc.query != "" {
				u += "?" + tc.query
			}
			r := do(t, o, tc.method, u, tc.body)
			if r.status != 400 || r.json["code"] != "BadRequest" {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if d, _ := r.json["description"].(string); !strings.Contains(d, tc.param) {
				t.Fatalf("description %q does not name %q", d, tc.param)
			}
		})
	}
	if r := do(t, nil, "DELETE", srv.URL+"/search", ""); r.status != 405 || r.json["code"] != "MethodNotAllowed" || r.header.Get("Allow") == "" {
		t.Fatalf("DELETE /search: %d %s", r.status, r.body)
	}
	big := `{"ids":["` + strings.Repeat("x", 11<<20) + `"]}`
	if r := do(t, nil, "POST", srv.URL+"/search", big); r.status != 413 {
		t.Fatalf("huge body: %d", r.status)
	}
	// Items endpoint errors too.
	if r := do(t, o, "GET", srv.URL+"/collections/landsat-8-l1/items?bbox=1,2", ""); r.status != 400 {
		t.Fatalf("items bad bbox: %d", r.status)
	}
	if r := do(t, o, "GET", srv.URL+"/search?limit=5000", ""); r.status != 200 || len(r.json["features"].([]any)) != demoItems {
		t.Fatalf("limit above maximum is lowered, not refused: %d", r.status)
	}
}

// TestPaginationWalks pages through every item with GET and POST next links.
func TestPaginationWalks(t *testing.T) {
	const synthetic = 700
	srv := newServer(t, synthetic, nil)
	o := loadOAS(t, srv)
	type walkFn func() map[string]int
	walkGET := func(start string) map[string]int {
		seen := map[string]int{}
		u := start
		for pages := 0; u != ""; pages++ {
			if pages > 1000 {
				t.Fatal("GET walk does not end")
			}
			r := do(t, o, "GET", u, "")
			for _, f := range r.json["features"].([]any) {
				m := f.(map[string]any)
				seen[m["collection"].(string)+"/"+m["id"].(string)]++
			}
			u = ""
			if n := links(r, "next"); len(n) == 1 {
				u = n[0]["href"].(string)
			}
		}
		return seen
	}
	walkPOST := func(body map[string]any) map[string]int {
		seen := map[string]int{}
		for pages := 0; ; pages++ {
			if pages > 1000 {
				t.Fatal("POST walk does not end")
			}
			b, _ := json.Marshal(body)
			r := do(t, o, "POST", srv.URL+"/search", string(b))
			for _, f := range r.json["features"].([]any) {
				m := f.(map[string]any)
				seen[m["collection"].(string)+"/"+m["id"].(string)]++
			}
			n := links(r, "next")
			if len(n) == 0 {
				return seen
			}
			if n[0]["method"] != "POST" || n[0]["merge"] != true {
				t.Fatalf("POST next link: %v", n[0])
			}
			for k, v := range n[0]["body"].(map[string]any) {
				body[k] = v
			}
		}
	}
	for name, fn := range map[string]walkFn{
		"GET search":  func() map[string]int { return walkGET(srv.URL + "/search?limit=37") },
		"GET items":   func() map[string]int { return walkGET(srv.URL + "/collections/sentinel-2-synthetic/items?limit=50") },
		"POST search": func() map[string]int { return walkPOST(map[string]any{"limit": 41}) },
		"POST with bbox": func() map[string]int {
			return walkPOST(map[string]any{"limit": 9, "bbox": []float64{-180, -90, 180, 90}})
		},
	} {
		seen := fn()
		want := demoItems + synthetic
		if strings.Contains(name, "items") {
			want = synthetic
		}
		if len(seen) != want {
			t.Errorf("%s: saw %d distinct items, want %d", name, len(seen), want)
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s: %s seen %d times", name, id, n)
			}
		}
	}
}

func TestLinksFromRequest(t *testing.T) {
	srv := newServer(t, 0, nil)
	r := do(t, nil, "GET", srv.URL+"/collections/landsat-8-l1", "", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "stac.example.org")
	if self := links(r, "self")[0]["href"]; self != "https://stac.example.org/collections/landsat-8-l1" {
		t.Fatalf("forwarded self link %v", self)
	}
	bad := do(t, nil, "GET", srv.URL+"/", "", "X-Forwarded-Host", "evil.com/<script>")
	if self := links(bad, "self")[0]["href"].(string); strings.Contains(self, "evil") {
		t.Fatalf("bad forwarded host used: %s", self)
	}
	rooted := newServer(t, 0, func(c *config.Serve) { c.RootPath = "/stac" })
	for _, p := range []string{"/collections/landsat-8-l1", "/stac/collections/landsat-8-l1"} {
		r := do(t, nil, "GET", rooted.URL+p, "")
		if self := links(r, "self")[0]["href"]; self != rooted.URL+"/stac/collections/landsat-8-l1" {
			t.Fatalf("%s: root-path self link %v", p, self)
		}
	}
	based := newServer(t, 0, func(c *config.Serve) { c.BaseURL = "https://data.example.com/api" })
	r = do(t, nil, "GET", based.URL+"/search?collections=landsat-8-l1&limit=1", "")
	next := links(r, "next")[0]["href"].(string)
	if !strings.HasPrefix(next, "https://data.example.com/api/search?") {
		t.Fatalf("base-url next link %s", next)
	}
}

// TestGDALOAPIF reads the catalog with GDAL's OGC API Features client.
func TestGDALOAPIF(t *testing.T) {
	for _, tool := range []string{"ogrinfo", "ogr2ogr"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required in CI (apt-get install gdal-bin)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	srv := newServer(t, 250, nil)
	out, err := exec.Command("ogrinfo", "-ro", "-q", "OAPIF:"+srv.URL).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	for _, c := range []string{"sentinel-1-grd", "landsat-8-l1", "sentinel-s2-l2a-cogs-test", "sentinel-2-synthetic"} {
		if !strings.Contains(string(out), c) {
			t.Errorf("ogrinfo does not list %s:\n%s", c, out)
		}
	}
	for c, want := range map[string]int{"sentinel-2-synthetic": 250, "sentinel-s2-l2a-cogs-test": 100} {
		dst := filepath.Join(t.TempDir(), "out.json")
		cmd := exec.Command("ogr2ogr", "-f", "GeoJSON", dst, "OAPIF:"+srv.URL, c)
		cmd.Env = append(os.Environ(), "OAPIF_PAGE_SIZE=37")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ogr2ogr %s: %v\n%s", c, err, out)
		}
		b, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		var fc struct {
			Features []struct {
				Properties map[string]any `json:"properties"`
			} `json:"features"`
		}
		if err := json.Unmarshal(b, &fc); err != nil {
			t.Fatal(err)
		}
		if len(fc.Features) != want {
			t.Errorf("ogr2ogr wrote %d features of %s, want %d", len(fc.Features), c, want)
		}
		ids := map[string]bool{}
		for _, f := range fc.Features {
			ids[fmt.Sprint(f.Properties["id"])] = true
		}
		if len(ids) != want {
			t.Errorf("ogr2ogr wrote %d distinct ids of %s, want %d", len(ids), c, want)
		}
	}
}
