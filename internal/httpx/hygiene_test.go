package httpx_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/httpx"
)

func serve(h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })

func TestCORS(t *testing.T) {
	cases := []struct {
		name       string
		cfg        httpx.CORSConfig
		origin     string
		wantOrigin string
		wantCreds  bool
	}{
		{"default any", httpx.CORSConfig{}, "https://a.test", "*", false},
		{"listed", httpx.CORSConfig{Origins: []string{"https://a.test"}}, "https://a.test", "https://a.test", false},
		{"not listed", httpx.CORSConfig{Origins: []string{"https://a.test"}}, "https://evil.test", "", false},
		{"credentials echo", httpx.CORSConfig{Origins: []string{"https://a.test"}, Credentials: true}, "https://a.test", "https://a.test", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := httpx.CORSWith(tc.cfg)(ok)
			rec := serve(h, "GET", "/", map[string]string{"Origin": tc.origin})
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tc.wantOrigin {
				t.Errorf("allow origin %q, want %q", got, tc.wantOrigin)
			}
			if got := rec.Header().Get("Access-Control-Allow-Credentials") == "true"; got != tc.wantCreds {
				t.Errorf("credentials %v", got)
			}
			pre := serve(h, "OPTIONS", "/search", map[string]string{"Origin": tc.origin, "Access-Control-Request-Method": "POST"})
			if pre.Code != 204 || (tc.wantOrigin != "") != (pre.Header().Get("Access-Control-Allow-Methods") != "") {
				t.Errorf("preflight %d %v", pre.Code, pre.Header())
			}
		})
	}
}

func TestGzip(t *testing.T) {
	big := strings.Repeat(`{"a":1},`, 500)
	h := httpx.Gzip()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/png":
			httpx.WriteBytes(w, 200, "image/png", []byte(big))
		case "/small":
			httpx.WriteBytes(w, 200, "application/json", []byte(`{}`))
		default:
			httpx.WriteBytes(w, 200, "application/geo+json", []byte(big))
		}
	}))
	cases := []struct {
		name, path, accept string
		gz                 bool
	}{
		{"json gzip", "/json", "gzip, deflate, br", true},
		{"json q=0", "/json", "gzip;q=0", false},
		{"json no accept", "/json", "", false},
		{"image", "/png", "gzip", false},
		{"small", "/small", "gzip", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(h, "GET", tc.path, map[string]string{"Accept-Encoding": tc.accept})
			isGz := rec.Header().Get("Content-Encoding") == "gzip"
			if isGz != tc.gz {
				t.Fatalf("gzip %v, want %v", isGz, tc.gz)
			}
			body := rec.Body.Bytes()
			if isGz {
				if rec.Header().Get("Content-Length") != "" {
					t.Error("compressed response keeps the plain Content-Length")
				}
				zr, err := gzip.NewReader(rec.Body)
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(zr)
			}
			if tc.path != "/small" && string(body) != big {
				t.Errorf("body corrupted (%d bytes)", len(body))
			}
		})
	}
}

func TestSecurityHeadersAndLimits(t *testing.T) {
	h := httpx.SecurityHeaders()(httpx.RequestLimits(100, 5)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/page" {
			httpx.WriteBytes(w, 200, "text/html; charset=utf-8", []byte("<p>x</p>"))
			return
		}
		httpx.WriteBytes(w, 200, "application/json", []byte("{}"))
	})))
	page := serve(h, "GET", "/page", nil)
	if page.Header().Get("Content-Security-Policy") == "" || page.Header().Get("X-Frame-Options") != "DENY" || page.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("HTML headers %v", page.Header())
	}
	js := serve(h, "GET", "/x", nil)
	if js.Header().Get("Content-Security-Policy") != "" || js.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("JSON headers %v", js.Header())
	}
	if rec := serve(h, "GET", "/search?bbox="+strings.Repeat("1,", 100), nil); rec.Code != 414 || !strings.Contains(rec.Body.String(), `"code"`) {
		t.Errorf("long URL: %d %s", rec.Code, rec.Body)
	}
	many := map[string]string{}
	for _, k := range []string{"A", "B", "C", "D", "E", "F"} {
		many["X-"+k] = "1"
	}
	if rec := serve(h, "GET", "/", many); rec.Code != 431 {
		t.Errorf("many headers: %d", rec.Code)
	}
}
