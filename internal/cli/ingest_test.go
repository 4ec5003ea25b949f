package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/cli"
	natsq "github.com/tessera-geo/tessera/internal/queue/nats"
	"github.com/tessera-geo/tessera/internal/synth"
)

func noEnv(string) (string, bool) { return "", false }

// run runs one tessera command in-process and returns its output.
func run(t *testing.T, ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	t.Helper()
	cmd := cli.Root(noEnv)
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	if stdin != nil {
		cmd.SetIn(stdin)
	}
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

// lineWriter hands each written line to a channel.
type lineWriter struct{ ch chan string }

func (w lineWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		select {
		case w.ch <- l:
		default:
		}
	}
	return len(p), nil
}

// serve runs `tessera serve` in-process until the test ends and returns
// its base URL.
func serve(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	lines := make(chan string, 16)
	done := make(chan error, 1)
	go func() {
		cmd := cli.Root(noEnv)
		cmd.SetArgs(append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "error"}, args...))
		cmd.SetOut(lineWriter{lines})
		done <- cmd.ExecuteContext(ctx)
	}()
	stopped := false
	t.Cleanup(func() {
		cancel()
		if stopped {
			return
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	for {
		select {
		case l := <-lines:
			if rest, ok := strings.CutPrefix(l, "tessera is serving on "); ok {
				return strings.TrimSuffix(rest, "/")
			}
		case err := <-done:
			stopped = true
			t.Fatalf("serve stopped: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not start")
		}
	}
}

func writeNDJSON(t *testing.T, dir string, n int, extra ...string) string {
	t.Helper()
	g := synth.New(synth.Options{Seed: 9})
	var b bytes.Buffer
	b.Write(g.Collection())
	b.WriteByte('\n')
	for range n {
		b.Write(g.Next())
		b.WriteByte('\n')
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	p := filepath.Join(dir, "items.ndjson")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func matched(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/search?limit=1000")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var fc struct {
		Features []json.RawMessage `json:"features"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&fc); err != nil {
		t.Fatal(err)
	}
	return len(fc.Features)
}

func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestIngestCommands drives the embedded queue of a running serve with
// `ingest publish` and `dlq list|show|replay|purge`, found through
// --data-dir.
func TestIngestCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	base := serve(t, "--data-dir", dir, "--ingest-linger", "10ms")
	src := writeNDJSON(t, t.TempDir(), 25, `{"broken": `)

	out, err := run(t, ctx, nil, "ingest", "publish", "--data-dir", dir, src)
	if err != nil || !strings.Contains(out, "published 27 messages") {
		t.Fatalf("publish: %v\n%s", err, out)
	}
	// stdin too
	out, err = run(t, ctx, strings.NewReader("{\"type\":\"Feature\"}\n"), "ingest", "publish", "--data-dir", dir, "-")
	if err != nil || !strings.Contains(out, "published 1 messages") {
		t.Fatalf("publish -: %v\n%s", err, out)
	}
	eventually(t, "25 items searchable", func() (bool, string) {
		n := matched(t, base)
		return n == 25, fmt.Sprint(n)
	})
	var list string
	eventually(t, "two dead letters", func() (bool, string) {
		list, err = run(t, ctx, nil, "dlq", "list", "--data-dir", dir)
		return err == nil && strings.Count(strings.TrimSpace(list), "\n") == 2, list
	})
	if !strings.Contains(list, "invalid-json") || !strings.Contains(list, "invalid-stac") {
		t.Errorf("dlq list:\n%s", list)
	}
	id := strings.Fields(strings.Split(list, "\n")[1])[0]
	out, err = run(t, ctx, nil, "dlq", "show", "--data-dir", dir, id)
	if err != nil || !strings.Contains(out, "reason: invalid-") || !strings.Contains(out, "attempts: 1") {
		t.Errorf("dlq show: %v\n%s", err, out)
	}
	if _, err := run(t, ctx, nil, "dlq", "show", "--data-dir", dir, "999"); err == nil {
		t.Error("dlq show of a missing id succeeded")
	}
	out, err = run(t, ctx, nil, "dlq", "list", "--data-dir", dir, "--json")
	if err != nil || strings.Count(out, `"reason":"invalid-`) != 2 {
		t.Errorf("dlq list --json: %v\n%s", err, out)
	}
	out, err = run(t, ctx, nil, "dlq", "replay", "--data-dir", dir, "--all", "--reason", "no-such-reason")
	if err != nil || !strings.Contains(out, "replayed 0") {
		t.Fatalf("dlq replay --reason: %v\n%s", err, out)
	}
	out, err = run(t, ctx, nil, "dlq", "replay", "--data-dir", dir, "--all")
	if err != nil || !strings.Contains(out, "replayed 2") {
		t.Fatalf("dlq replay: %v\n%s", err, out)
	}
	// Still poison: they come back.
	eventually(t, "replayed poison dead-lettered again", func() (bool, string) {
		list, err = run(t, ctx, nil, "dlq", "list", "--data-dir", dir)
		return err == nil && strings.Count(strings.TrimSpace(list), "\n") == 2 && !strings.Contains(list, "\n"+id+" "), list
	})
	out, err = run(t, ctx, nil, "dlq", "purge", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "purged 2") {
		t.Fatalf("dlq purge: %v\n%s", err, out)
	}
	if _, err := run(t, ctx, nil, "dlq", "list", "--data-dir", t.TempDir()); err == nil || !strings.Contains(err.Error(), "no embedded queue") {
		t.Errorf("dlq list on a data dir without a server: %v", err)
	}
}

// TestWorkerCommand runs `tessera worker` on an external nats-server and
// publishes with `ingest publish --queue`.
func TestWorkerCommand(t *testing.T) {
	url := startNATS(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() {
		_, err := run(t, ctx, nil, "worker", "--queue", url, "--data-dir", dir, "--log-level", "error", "--ingest-linger", "10ms")
		done <- err
	}()
	src := writeNDJSON(t, t.TempDir(), 40)
	out, err := run(t, context.Background(), nil, "ingest", "publish", "--queue", url, src)
	if err != nil {
		t.Fatalf("publish: %v\n%s", err, out)
	}
	q, err := natsq.Open(context.Background(), natsq.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	eventually(t, "the worker to drain the queue", func() (bool, string) {
		s, err := q.Stats(context.Background())
		return err == nil && s.Pending == 0 && s.InFlight == 0 && s.DeadLetters == 0, fmt.Sprintf("%+v %v", s, err)
	})
	base := serve(t, "--data-dir", dir, "--ingest=false")
	eventually(t, "40 items searchable", func() (bool, string) {
		n := matched(t, base)
		return n == 40, fmt.Sprint(n)
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("worker: %v", err)
	}
}

func startNATS(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("nats-server is required in CI (apt-get install nats-server)")
		}
		t.Skip("nats-server not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return fmt.Sprintf("nats://127.0.0.1:%d", port)
		}
		if time.Now().After(deadline) {
			t.Fatal("nats-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
