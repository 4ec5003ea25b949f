package ingest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/ingest"
	"github.com/tessera-geo/tessera/internal/queue"
	"github.com/tessera-geo/tessera/internal/store/sqlite"
)

// TestPoisonMessages publishes good messages (plain, wrapped in SNS and
// SQS envelopes, by http and file href, inside a FeatureCollection) and a
// poison message of every kind in the same batch, and checks that every
// good record is stored, every poison is dead-lettered with its reason and
// original payload, and every record is notified.
func TestPoisonMessages(t *testing.T) {
	for _, k := range queueKinds() {
		t.Run(k.name, func(t *testing.T) { testPoison(t, k) })
	}
}

func testPoison(t *testing.T, k queueKind) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	q := openQueue(t, k, dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	notes := subscribe(t, q.URL())

	coll, good := items(1, 12)
	web := map[string][]byte{"/item.json": good[1]}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := web[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	files := t.TempDir()
	if err := os.WriteFile(filepath.Join(files, "item.json"), good[2], 0o644); err != nil {
		t.Fatal(err)
	}
	closed := fmt.Sprintf("http://127.0.0.1:%d/item.json", freePort(t))

	badGeometry := edit(t, good[9], func(m map[string]any) {
		m["geometry"] = map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{0, 0}, {1, 0}, {1, 1}}}}
		delete(m, "bbox")
	})
	orphan := edit(t, good[10], func(m map[string]any) { m["collection"] = "no-such-collection" })
	huge := edit(t, good[11], func(m map[string]any) {
		m["properties"].(map[string]any)["padding"] = strings.Repeat("x", 100<<10)
	})
	fcBad := edit(t, good[8], func(m map[string]any) { m["id"] = "" })
	fc := mustJSON(t, map[string]any{"type": "FeatureCollection", "features": []any{rawJSON(good[7]), rawJSON(fcBad)}})

	type poison struct {
		data   []byte // the message
		dlq    []byte // what the dead letter holds
		reason ingest.Reason
	}
	poisons := []poison{
		{data: []byte(`{"type":"Feature", oops`), reason: ingest.ReasonInvalidJSON},
		{data: badGeometry, reason: ingest.ReasonInvalidSTAC},
		{data: orphan, reason: ingest.ReasonMissingCollection},
		{data: huge, reason: ingest.ReasonOversized},
		{data: mustJSON(t, map[string]string{"href": closed}), reason: ingest.ReasonFetch},
		{data: mustJSON(t, map[string]string{"href": srv.URL + "/missing.json"}), reason: ingest.ReasonFetch},
		{data: mustJSON(t, map[string]string{"href": "http://169.254.169.254/latest/meta-data/"}), reason: ingest.ReasonHrefRefused},
		{data: mustJSON(t, map[string]string{"href": "file:///etc/passwd"}), reason: ingest.ReasonHrefRefused},
		{data: []byte(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"items/a+b.json"}}}]}`), reason: ingest.ReasonUnsupported},
		{data: []byte(`{"type":"action","command":"truncate","collection":"sentinel-2-synthetic"}`), reason: ingest.ReasonAction},
		{data: fc, dlq: fcBad, reason: ingest.ReasonInvalidSTAC},
	}
	msgs := [][]byte{coll,
		good[0],
		mustJSON(t, map[string]string{"href": srv.URL + "/item.json"}),                         // good[1]
		mustJSON(t, map[string]string{"href": "file://" + filepath.Join(files, "item.json")}),  // good[2]
		mustJSON(t, map[string]string{"Type": "Notification", "Message": string(good[3])}),     // SNS
		mustJSON(t, map[string]any{"Records": []map[string]string{{"body": string(good[4])}}}), // SQS
		mustJSON(t, map[string]string{"Type": "Notification", "Message": string( // SQS record of an SNS notification
			mustJSON(t, map[string]any{"Records": []map[string]string{{"body": string(good[5])}}}))}),
		good[6],
	}
	for _, p := range poisons {
		msgs = append(msgs, p.data)
	}
	const wantGood = 8 // good[0..7]
	if err := q.Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}

	w := ingest.New(ingest.Deps{Queue: q, Store: st}, ingest.Options{
		BatchSize: 100, Linger: 300 * time.Millisecond,
		MaxAttempts: 3, RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		CollectionWait: time.Second, MaxMessageBytes: 64 << 10, Notify: true,
		Fetch: ingest.FetchOptions{Timeout: 2 * time.Second, FileRoots: []string{files}},
	})
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(wctx) })
	defer func() { stop(); wg.Wait() }()

	waitFor(t, 60*time.Second, "every poison dead-lettered", func() (bool, string) {
		s, err := q.Stats(ctx)
		return err == nil && s.DeadLetters == uint64(len(poisons)) && s.Pending == 0 && s.InFlight == 0, fmt.Sprintf("%+v %v", s, err)
	})
	if n, _ := countItems(t, filepath.Join(dir, "catalog.db")); n != wantGood {
		t.Errorf("stored %d items, want %d", n, wantGood)
	}
	var dls []queue.DeadLetter
	if err := q.DeadLetters().List(ctx, func(d queue.DeadLetter) bool { dls = append(dls, d); return true }); err != nil {
		t.Fatal(err)
	}
	if len(dls) != len(poisons) {
		t.Fatalf("listed %d dead letters, want %d", len(dls), len(poisons))
	}
	for _, p := range poisons {
		want := p.dlq
		if want == nil {
			want = p.data
		}
		found := false
		for _, d := range dls {
			if string(d.Data) != string(want) {
				continue
			}
			found = true
			if !strings.HasPrefix(d.Reason, string(p.reason)+":") {
				t.Errorf("dead letter %.60s: reason %q, want %s", want, d.Reason, p.reason)
			}
			if d.Attempts < 1 || d.DeadLettered.IsZero() || d.Published.IsZero() || d.MessageID == "" {
				t.Errorf("dead letter %.60s: incomplete %+v", want, d)
			}
		}
		if !found {
			t.Errorf("no dead letter holds %.80s", want)
		}
	}

	// One notification per record: the collection, the good items and
	// every poison (the FeatureCollection yields one of each).
	counts := map[string]int{}
	deadline := time.After(10 * time.Second)
	for counts["successful"]+counts["failed"] < 1+wantGood+len(poisons) {
		select {
		case m := <-notes:
			counts[m.Header.Get(ingest.AttrIngestStatus)]++
			if m.Header.Get(ingest.AttrIngestStatus) == "successful" && m.Header.Get(ingest.AttrRecordType) == "Item" &&
				(m.Header.Get(ingest.AttrSWLon) == "" || m.Header.Get(ingest.AttrCollection) == "") {
				t.Errorf("notification without bbox or collection attributes: %v", m.Header)
			}
			if !strings.HasPrefix(string(m.Data), `{"record":`) {
				t.Errorf("notification body %.60s", m.Data)
			}
		case <-deadline:
			t.Fatalf("notifications: %v, want %d successful and %d failed", counts, 1+wantGood, len(poisons))
		}
	}
	if counts["successful"] != 1+wantGood || counts["failed"] != len(poisons) {
		t.Errorf("notifications: %v, want %d successful and %d failed", counts, 1+wantGood, len(poisons))
	}

	// Replay: after the collection appears, the orphan goes through.
	orphanColl := edit(t, coll, func(m map[string]any) { m["id"] = "no-such-collection" })
	if err := q.Publish(ctx, orphanColl); err != nil {
		t.Fatal(err)
	}
	for _, d := range dls {
		if strings.HasPrefix(d.Reason, string(ingest.ReasonMissingCollection)) {
			if err := q.Publish(ctx, d.Data); err != nil {
				t.Fatal(err)
			}
			if err := q.DeadLetters().Delete(ctx, d.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, 20*time.Second, "the replayed orphan stored", func() (bool, string) {
		n, _ := countItems(t, filepath.Join(dir, "catalog.db"))
		return n == wantGood+1, fmt.Sprint(n, " items")
	})
}

type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }
