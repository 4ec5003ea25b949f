package ingest_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	natsq "github.com/tessera-geo/tessera/internal/queue/nats"
	"github.com/tessera-geo/tessera/internal/synth"

	_ "modernc.org/sqlite"
)

// queueKind is where a test's queue lives: "" for the embedded server, or
// a function starting an external nats-server and returning its URL.
type queueKind struct {
	name  string
	start func(t *testing.T) string // nil: embedded
}

func queueKinds() []queueKind {
	return []queueKind{{name: "embedded"}, {name: "external", start: startNATS}}
}

// startNATS runs the nats-server binary (Debian package nats-server) with
// JetStream in a temp dir. Without it the test is skipped, except in CI
// (CI=true), where it must run.
func startNATS(t *testing.T) string {
	t.Helper()
	return startNATSAt(t, freePort(t), t.TempDir())
}

// startNATSAt starts nats-server on port with its store in dir; the test
// may kill it (natsProcs) and start it again on the same port and dir.
func startNATSAt(t *testing.T, port int, dir string) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("nats-server is required in CI (apt-get install nats-server)")
		}
		t.Skip("nats-server not installed (apt-get install nats-server)")
	}
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", dir)
	if os.Getenv("TESSERA_TEST_VERBOSE") != "" {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	natsProcs[port] = cmd
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		nc, err := nats.Connect(url)
		if err == nil {
			nc.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// natsProcs are the nats-server processes by port (tests do not run in
// parallel).
var natsProcs = map[int]*exec.Cmd{}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// openQueue opens the queue of kind k (embedded in dir, or external).
func openQueue(t *testing.T, k queueKind, dir string) *natsq.Queue {
	t.Helper()
	opts := natsq.Options{Dir: filepath.Join(dir, "queue"), AckWait: 5 * time.Second}
	if k.start != nil {
		opts.URL = k.start(t)
	}
	q, err := natsq.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// subscribe collects notifications.
func subscribe(t testing.TB, url string) chan *nats.Msg {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ch := make(chan *nats.Msg, 1<<20)
	if _, err := nc.ChanSubscribe(natsq.NotifySubject, ch); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return ch
}

// countItems counts the items of a SQLite catalog, and the distinct ids.
func countItems(t *testing.T, path string) (n, distinct int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT collection || '/' || id) FROM items`).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	return n, distinct
}

// items returns n synthetic items of one collection, and the collection.
func items(seed uint64, n int) (coll []byte, out [][]byte) {
	g := synth.New(synth.Options{Seed: seed})
	coll = g.Collection()
	for range n {
		out = append(out, g.Next())
	}
	return coll, out
}

// edit decodes a JSON object, lets fn change it, and encodes it again.
func edit(t *testing.T, doc []byte, fn func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s (%s)", timeout, what, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// distinctIDs counts the distinct item ids of docs (synth may repeat one).
func distinctIDs(t *testing.T, docs [][]byte) int {
	t.Helper()
	seen := map[string]bool{}
	for _, d := range docs {
		var head struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(d, &head); err != nil {
			t.Fatal(err)
		}
		seen[head.ID] = true
	}
	return len(seen)
}
