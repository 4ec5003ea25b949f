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

// FuzzGzip: whatever Accept-Encoding says, the client gets the body back
// intact (compressed only when it said gzip is acceptable).
func FuzzGzip(f *testing.F) {
	f.Add("gzip")
	f.Add("gzip;q=0, *;q=0.5")
	f.Add("br;q=1.0, gzip;q=0.8, *;q=0.1")
	f.Add(";;,,q=")
	body := strings.Repeat(`{"k":"v"},`, 300)
	h := httpx.Gzip()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteBytes(w, 200, "application/json", []byte(body))
	}))
	f.Fuzz(func(t *testing.T, accept string) {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Accept-Encoding", accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Body.Bytes()
		if rec.Header().Get("Content-Encoding") == "gzip" {
			if !strings.Contains(strings.ToLower(accept), "gzip") && !strings.Contains(accept, "*") {
				t.Fatalf("gzip sent for %q", accept)
			}
			zr, err := gzip.NewReader(rec.Body)
			if err != nil {
				t.Fatal(err)
			}
			got, _ = io.ReadAll(zr)
		}
		if string(got) != body {
			t.Fatalf("body changed for %q", accept)
		}
	})
}
