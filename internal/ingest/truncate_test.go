package ingest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/ingest"
	"github.com/tessera-geo/tessera/internal/store/sqlite"
)

// TestTruncate: when enabled, a truncate action deletes the items of one
// collection and keeps the collection; items published after it are
// written after it.
func TestTruncate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	q := openQueue(t, queueKind{name: "embedded"}, dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	coll, docs := items(5, 30)
	other := edit(t, coll, func(m map[string]any) { m["id"] = "other" })
	otherItem := edit(t, docs[0], func(m map[string]any) { m["collection"] = "other" })
	msgs := append([][]byte{coll, other, otherItem}, docs[:20]...)
	msgs = append(msgs, []byte(`{"type":"action","command":"truncate","collection":"sentinel-2-synthetic"}`))
	msgs = append(msgs, docs[20:]...)
	if err := q.Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	w := ingest.New(ingest.Deps{Queue: q, Store: st}, ingest.Options{AllowTruncate: true, Linger: 100 * time.Millisecond})
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(wctx) })
	defer func() { stop(); wg.Wait() }()
	waitFor(t, 30*time.Second, "the queue drained", func() (bool, string) {
		s, err := q.Stats(ctx)
		return err == nil && s.Pending == 0 && s.InFlight == 0, fmt.Sprintf("%+v %v", s, err)
	})
	// 10 items after the truncate, plus the other collection's item.
	if n, _ := countItems(t, filepath.Join(dir, "catalog.db")); n != 11 {
		t.Errorf("%d items after truncate, want 11", n)
	}
	if _, err := st.Collection(ctx, "sentinel-2-synthetic"); err != nil {
		t.Errorf("collection gone after truncate: %v", err)
	}
	if s, _ := q.Stats(ctx); s.DeadLetters != 0 {
		t.Errorf("%d dead letters", s.DeadLetters)
	}
}

// TestFetcher checks the href policy: status codes, sizes, refused
// addresses and schemes.
func TestFetcher(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte(`{"ok":true}`))
		case "/big":
			w.Write(make([]byte, 2048))
		case "/busy":
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case "/redirect":
			http.Redirect(w, r, "http://169.254.169.254/", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	f := ingest.NewFetcher(ingest.FetchOptions{MaxBytes: 1024, Timeout: 2 * time.Second, FileRoots: []string{"testdata-none"}})
	for _, tc := range []struct {
		href      string
		reason    ingest.Reason // "" = success
		transient bool
	}{
		{href: srv.URL + "/ok"},
		{href: srv.URL + "/big", reason: ingest.ReasonOversized},
		{href: srv.URL + "/busy", reason: ingest.ReasonFetch, transient: true},
		{href: srv.URL + "/nope", reason: ingest.ReasonFetch},
		{href: srv.URL + "/redirect", reason: ingest.ReasonHrefRefused},
		{href: "http://169.254.169.254/latest/meta-data/", reason: ingest.ReasonHrefRefused},
		{href: "http://[fd00:ec2::254]/", reason: ingest.ReasonHrefRefused},
		{href: "http://[fe80::1]/", reason: ingest.ReasonHrefRefused},
		{href: "file:///etc/passwd", reason: ingest.ReasonHrefRefused},
		{href: "s3://bucket/key.json", reason: ingest.ReasonUnsupported},
		{href: "ftp://host/x", reason: ingest.ReasonHrefRefused},
		{href: "relative/path.json", reason: ingest.ReasonHrefRefused},
	} {
		t.Run(tc.href, func(t *testing.T) {
			_, fail := f.Fetch(context.Background(), tc.href)
			switch {
			case tc.reason == "" && fail != nil:
				t.Fatalf("failed: %v", fail)
			case tc.reason == "":
			case fail == nil:
				t.Fatalf("succeeded, want %s", tc.reason)
			case fail.Reason != tc.reason || fail.Transient != tc.transient:
				t.Fatalf("got %v (transient %v), want %s (transient %v)", fail, fail.Transient, tc.reason, tc.transient)
			}
		})
	}
}
