package hooks_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/auth"
	"github.com/tessera-geo/tessera/internal/hooks"
)

var secret = []byte("hook-secret")

// hookServer answers with fn's document after checking the signature.
func hookServer(t *testing.T, fn func(doc map[string]any) (int, string)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !hooks.Verify(secret, b, r.Header.Get(hooks.SignatureHeader)) {
			http.Error(w, "bad signature", 401)
			return
		}
		var doc map[string]any
		_ = json.Unmarshal(b, &doc)
		status, body := fn(doc)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// app echoes what it received, as JSON, or a PNG at /png.
var app = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/png" {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write([]byte("\x89PNG"))
		return
	}
	b, _ := io.ReadAll(r.Body)
	rs := auth.RestrictionOf(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", `"x"`)
	w.WriteHeader(201)
	_ = json.NewEncoder(w).Encode(map[string]any{"query": r.URL.RawQuery, "accept": r.Header.Get("Accept"), "body": string(b), "collections": rs.Collections})
})

func run(t *testing.T, h http.Handler, method, target, body string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	req.Header.Set("Authorization", "Bearer secret-token")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var m map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	return rec, m
}

func newHooks(t *testing.T, cfg hooks.Config) *hooks.Hooks {
	cfg.Secret = secret
	h, err := hooks.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestPreHook(t *testing.T) {
	var seen map[string]any
	pre := hookServer(t, func(doc map[string]any) (int, string) {
		seen = doc
		switch doc["path"] {
		case "/reject":
			return 200, `{"reject":{"status":451,"body":{"code":"Unavailable","description":"not here"}}}`
		case "/rewrite":
			return 200, `{"query":{"limit":["1"]},"headers":{"Accept":"application/geo+json"},"body":{"x":2}}`
		case "/restrict":
			return 200, `{"_collections":["a"],"_filter":"eo:cloud_cover < 5"}`
		case "/broken":
			return 500, "oops"
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		}
		return 204, ""
	})
	h := newHooks(t, hooks.Config{PreURL: pre.URL, Timeout: 100 * time.Millisecond}).Pre()(app)

	rec, m := run(t, h, "POST", "/pass?a=1", `{"limit":3}`)
	if rec.Code != 201 || m["body"] != `{"limit":3}` || m["query"] != "a=1" {
		t.Fatalf("pass: %d %v", rec.Code, m)
	}
	if seen["method"] != "POST" || seen["body"].(map[string]any)["limit"] != 3.0 {
		t.Errorf("hook saw %v", seen)
	}
	if hdr := seen["headers"].(map[string]any)["Authorization"].([]any); hdr[0] != "[redacted]" {
		t.Errorf("credentials sent to the hook: %v", hdr)
	}
	if rec, m := run(t, h, "GET", "/reject", ""); rec.Code != 451 || m["description"] != "not here" {
		t.Errorf("reject: %d %v", rec.Code, m)
	}
	if rec, m := run(t, h, "POST", "/rewrite?limit=50", `{}`); rec.Code != 201 || m["query"] != "limit=1" || m["accept"] != "application/geo+json" || m["body"] != `{"x":2}` {
		t.Errorf("rewrite: %d %v", rec.Code, m)
	}
	if rec, m := run(t, h, "GET", "/restrict", ""); rec.Code != 201 || len(m["collections"].([]any)) != 1 {
		t.Errorf("restrict: %d %v", rec.Code, m)
	}
	for _, p := range []string{"/broken", "/slow"} {
		if rec, m := run(t, h, "GET", p, ""); rec.Code != 503 || strings.Contains(rec.Body.String(), "127.0.0.1") {
			t.Errorf("%s (fail closed): %d %v", p, rec.Code, m)
		}
	}
	open := newHooks(t, hooks.Config{PreURL: pre.URL, Timeout: 100 * time.Millisecond, PreFailOpen: true}).Pre()(app)
	if rec, _ := run(t, open, "POST", "/slow", `{"a":1}`); rec.Code != 201 {
		t.Errorf("fail open: %d", rec.Code)
	}
	// A wrong secret: the hook refuses, the request fails closed.
	wrong, _ := hooks.New(hooks.Config{PreURL: pre.URL, Secret: []byte("nope")}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if rec, _ := run(t, wrong.Pre()(app), "GET", "/pass", ""); rec.Code != 503 {
		t.Errorf("unsigned: %d", rec.Code)
	}
}

func TestPostHook(t *testing.T) {
	calls := 0
	post := hookServer(t, func(doc map[string]any) (int, string) {
		calls++
		if doc["status"] != 201.0 {
			return 200, `{}`
		}
		if doc["path"] == "/broken" {
			return 500, ""
		}
		return 200, `{"status":200,"headers":{"X-Hooked":"yes"},"body":{"changed":true}}`
	})
	h := newHooks(t, hooks.Config{PostURL: post.URL}).Post()(app)
	rec, m := run(t, h, "GET", "/x", "")
	if rec.Code != 201 || m["changed"] != true || rec.Header().Get("X-Hooked") != "yes" || rec.Header().Get("ETag") != "" {
		t.Fatalf("post: %d %v %v", rec.Code, m, rec.Header())
	}
	if rec.Header().Get("Content-Length") != "16" {
		t.Errorf("Content-Length %q", rec.Header().Get("Content-Length"))
	}
	before := calls
	if rec, _ := run(t, h, "GET", "/png", ""); rec.Body.String() != "\x89PNG" || calls != before {
		t.Errorf("binary response went through the post-hook")
	}
	if rec, m := run(t, h, "GET", "/broken", ""); rec.Code != 201 || m["query"] != "" {
		t.Errorf("failing post-hook (logged): %d %v", rec.Code, m)
	}
	closed := newHooks(t, hooks.Config{PostURL: post.URL, PostFailClosed: true}).Post()(app)
	if rec, _ := run(t, closed, "GET", "/broken", ""); rec.Code != 502 {
		t.Errorf("failing post-hook (closed): %d", rec.Code)
	}
}
