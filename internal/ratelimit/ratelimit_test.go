package ratelimit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/ratelimit"
)

func TestBucket(t *testing.T) {
	now := time.Unix(0, 0)
	l := ratelimit.New(2, 3, 10)
	l.SetClock(func() time.Time { return now })
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d refused within the burst", i)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("over the burst: %v %v", ok, wait)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key is limited")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("no refill")
	}
}

func TestBoundedMemory(t *testing.T) {
	l := ratelimit.New(1, 1, 100)
	for i := range 10_000 {
		l.Allow(fmt.Sprint(i))
	}
	if n := l.Len(); n > 100 {
		t.Fatalf("%d buckets kept, max 100", n)
	}
}

func TestMiddleware(t *testing.T) {
	l := ratelimit.New(1, 2, 0)
	h := ratelimit.Middleware(l, func(r *http.Request) string { return r.Header.Get("K") }, nil)(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	var codes []int
	for range 3 {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("K", "x")
		h.ServeHTTP(rec, req)
		codes = append(codes, rec.Code)
		if rec.Code == 429 && rec.Header().Get("Retry-After") != "1" {
			t.Errorf("Retry-After %q", rec.Header().Get("Retry-After"))
		}
	}
	if fmt.Sprint(codes) != "[200 200 429]" {
		t.Fatalf("codes %v", codes)
	}
}
