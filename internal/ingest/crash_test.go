package ingest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/queue"
	natsq "github.com/tessera-geo/tessera/internal/queue/nats"
	"github.com/tessera-geo/tessera/internal/synth"
)

var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tessera-ingest-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// tessera builds the tessera binary once per test run.
func tessera(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binPath = filepath.Join(binDir, "tessera")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/tessera").CombinedOutput()
		if err != nil {
			binError = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binError != nil {
		t.Fatal(binError)
	}
	return binPath
}

// serveProc is a `tessera serve` subprocess.
type serveProc struct {
	cmd  *exec.Cmd
	addr string
	done chan error
}

func startServe(t *testing.T, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(tessera(t), append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "warn"}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "tessera is serving on "); ok {
				ready <- rest
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case p.addr = <-ready:
	case err := <-p.done:
		t.Fatalf("tessera serve exited: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("tessera serve did not start")
	}
	return p
}

func (p *serveProc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("tessera serve: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("tessera serve did not stop on SIGTERM")
	}
}

func (p *serveProc) kill(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Kill() // SIGKILL: no cleanup at all
	<-p.done
}

// crashItems is how many items the crash test publishes: 60,000 with
// the embedded queue, 30,000 with the external one, which keeps the test
// around 2 minutes on our shared 2-core machines (100,000 passes too:
// TESSERA_CRASH_ITEMS=100000, 2½ minutes for the embedded queue at a load
// average of 11), or TESSERA_CRASH_ITEMS.
func crashItems(t *testing.T, k queueKind) int {
	if s := os.Getenv("TESSERA_CRASH_ITEMS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if k.start != nil {
		return 30_000
	}
	return 60_000
}

// TestCrashRecovery publishes N items, kills `tessera serve` with SIGKILL
// while it ingests them, restarts it, and checks that exactly N items are
// stored, once each, and that nothing was dead-lettered.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: builds the binary and ingests many items")
	}
	for _, k := range queueKinds() {
		t.Run(k.name, func(t *testing.T) { testCrash(t, k) })
	}
}

func testCrash(t *testing.T, k queueKind) {
	n := crashItems(t, k)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	args := []string{"--data-dir", dir, "--queue-ack-wait", "5s"}
	url := ""
	if k.start != nil {
		url = k.start(t)
		args = append(args, "--queue", url)
	}
	// connect opens a client on the queue; with the embedded queue the
	// address changes with every restart, and the file may be stale.
	connect := func() (*natsq.Queue, error) {
		u := url
		if u == "" {
			var err error
			if u, err = natsq.ReadAddr(filepath.Join(dir, "queue")); err != nil {
				return nil, err
			}
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return natsq.Open(cctx, natsq.Options{URL: u})
	}
	mustConnect := func() *natsq.Queue {
		for {
			q, err := connect()
			if err == nil {
				return q
			}
			if ctx.Err() != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// The publisher runs on its own: when the server dies under it, it
	// reconnects and publishes again every chunk not acknowledged
	// (duplicates in the queue are harmless: writes are upserts).
	g := synth.New(synth.Options{Seed: 42})
	chunks := [][][]byte{{g.Collection()}}
	seen := make(map[string]bool, n) // synth may repeat an id: publish n distinct ones
	for sent := 0; sent < n; {
		msgs := make([][]byte, 0, 1000)
		for len(msgs) < min(1000, n-sent) {
			doc := g.Next()
			var head struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(doc, &head); err != nil {
				t.Fatal(err)
			}
			if !seen[head.ID] {
				seen[head.ID] = true
				msgs = append(msgs, doc)
			}
		}
		chunks = append(chunks, msgs)
		sent += len(msgs)
	}
	srv := startServe(t, args...)
	start := time.Now()
	var published atomic.Int64
	var republished atomic.Int64
	pubDone := make(chan time.Duration, 1)
	go func() {
		pq := mustConnect()
		defer func() { pq.Close() }()
		for _, c := range chunks {
			for {
				pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err := pq.Publish(pctx, c...)
				cancel()
				if err == nil {
					break
				}
				if ctx.Err() != nil {
					return
				}
				republished.Add(int64(len(c)))
				pq.Close()
				pq = mustConnect()
			}
			published.Add(int64(len(c)))
		}
		pubDone <- time.Since(start)
	}()

	// Kill the server with SIGKILL while half the items are published and
	// a part of those ingested.
	waitFor(t, 2*time.Minute, "half the items published", func() (bool, string) {
		return published.Load() >= int64(n/2), fmt.Sprint(published.Load())
	})
	srv.kill(t)
	killed := time.Since(start)
	atKill := published.Load()
	srv = startServe(t, args...)
	var pubTime time.Duration
	select {
	case pubTime = <-pubDone:
	case <-ctx.Done():
		t.Fatalf("publishing did not finish: %d published", published.Load())
	}
	q := mustConnect()
	defer q.Close()
	waitFor(t, 2*time.Minute, "the queue drained", func() (bool, string) {
		s, err := q.Stats(ctx)
		return err == nil && s.Pending == 0 && s.InFlight == 0, fmt.Sprintf("%+v %v", s, err)
	})
	s, err := q.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.DeadLetters != 0 {
		q.DeadLetters().List(ctx, func(d queue.DeadLetter) bool { t.Logf("dead letter %s: %s", d.ID, d.Reason); return true })
		t.Errorf("%d dead letters, want none", s.DeadLetters)
	}
	drained := time.Since(start)
	srv.stop(t)
	got, distinct := countItems(t, filepath.Join(dir, "catalog.db"))
	if got != n || distinct != n {
		t.Errorf("stored %d items (%d distinct), want exactly %d", got, distinct, n)
	}
	t.Logf("%d items: killed at %s with %d published (%d republished after the kill), all published at %s, all stored at %s",
		n, killed.Round(time.Millisecond), atKill, republished.Load(), pubTime.Round(time.Millisecond), drained.Round(time.Millisecond))
}
