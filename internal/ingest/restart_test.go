package ingest_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/ingest"
	natsq "github.com/tessera-geo/tessera/internal/queue/nats"
	"github.com/tessera-geo/tessera/internal/store/sqlite"
)

// TestExternalServerCrash kills the external nats-server with SIGKILL
// while a worker ingests, starts it again on the same port and storage,
// and checks that the worker reconnects and every item is stored once.
func TestExternalServerCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	const n = 10_000
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	port, natsDir, dir := freePort(t), t.TempDir(), t.TempDir()
	url := startNATSAt(t, port, natsDir)
	q, err := natsq.Open(ctx, natsq.Options{URL: url, AckWait: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "catalog.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	coll, docs := items(77, n)
	msgs := append([][]byte{coll}, docs...)
	if err := q.Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	w := ingest.New(ingest.Deps{Queue: q, Store: st}, ingest.Options{RetryBase: 100 * time.Millisecond})
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(wctx) })
	defer func() { stop(); wg.Wait() }()

	waitFor(t, time.Minute, "a third ingested", func() (bool, string) {
		s, err := q.Stats(ctx)
		return err == nil && s.Pending+s.InFlight < uint64(2*n/3), fmt.Sprintf("%+v %v", s, err)
	})
	p := natsProcs[port]
	_ = p.Process.Kill()
	_ = p.Wait()
	time.Sleep(500 * time.Millisecond)
	startNATSAt(t, port, natsDir)
	waitFor(t, 90*time.Second, "the queue drained after the restart", func() (bool, string) {
		s, err := q.Stats(ctx)
		return err == nil && s.Pending == 0 && s.InFlight == 0, fmt.Sprintf("%+v %v", s, err)
	})
	if s, _ := q.Stats(ctx); s.DeadLetters != 0 {
		t.Errorf("%d dead letters", s.DeadLetters)
	}
	want := distinctIDs(t, docs)
	if got, distinct := countItems(t, filepath.Join(dir, "catalog.db")); got != want || distinct != want {
		t.Errorf("stored %d items (%d distinct), want %d", got, distinct, want)
	}
}
