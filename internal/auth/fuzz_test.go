package auth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/auth"
)

// FuzzParseRestriction: gateway headers and parameters never panic, and a
// parsed collection list never widens an existing one.
func FuzzParseRestriction(f *testing.F) {
	f.Add("a,b", "eo:cloud_cover < 10")
	f.Add("", `{"op":"=","args":[{"property":"x"},1]}`)
	f.Add(",,,", "(((")
	f.Add("a", `{"op":`)
	f.Fuzz(func(t *testing.T, collections, filter string) {
		r, err := auth.ParseRestriction(collections, filter)
		if err != nil {
			return
		}
		n := auth.Restriction{Collections: []string{"only"}}.Narrow(r)
		for _, c := range n.Collections {
			if c != "only" {
				t.Fatalf("narrowing widened to %q", c)
			}
		}
	})
}

// FuzzMiddleware: any Authorization header, query and body either passes
// as the anonymous principal (open server) or is refused with 401; never
// a panic, never a 5xx, and trusted parameters never reach the handler.
func FuzzMiddleware(f *testing.F) {
	f.Add("Bearer a.b.c", "_collections=a&limit=1", `{"_collections":["a"],"limit":1}`)
	f.Add("ApiKey x", "_filter=x%3D1", `{"_filter":{"op":"=","args":[{"property":"x"},1]}}`)
	f.Add("Basic Og==", "", "[]")
	f.Add("Bearer "+strings.Repeat("a", 100), "_collections", `{"_collections":5}`)
	cfg := auth.Defaults()
	cfg.APIKeys, _ = auth.ParseAPIKeys([]byte(`[{"name":"k","sha256":"` + auth.HashAPIKey("k") + `","scopes":["read"]}]`))
	cfg.TrustedHeaders = true
	a, err := auth.New(cfg, quiet())
	if err != nil {
		f.Fatal(err)
	}
	h := a.Middleware()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("_collections") || r.URL.Query().Has("_filter") {
			panic("trusted parameter reached the handler")
		}
		w.WriteHeader(200)
	}))
	f.Fuzz(func(t *testing.T, authz, query, body string) {
		req := httptest.NewRequest("POST", "/search", strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Authorization", authz)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
}
