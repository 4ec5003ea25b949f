package nats_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/queue"
	natsq "github.com/tessera-geo/tessera/internal/queue/nats"
)

func open(t *testing.T, dir string) *natsq.Queue {
	t.Helper()
	q, err := natsq.Open(context.Background(), natsq.Options{Dir: dir, AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func TestEmbeddedDirIsExclusive(t *testing.T) {
	dir := t.TempDir()
	q := open(t, dir)
	if url, err := natsq.ReadAddr(dir); err != nil || url != q.URL() {
		t.Fatalf("addr file: %q %v, want %q", url, err, q.URL())
	}
	if _, err := natsq.Open(context.Background(), natsq.Options{Dir: dir}); err == nil {
		t.Fatal("a second embedded server started on the same directory")
	}
	q.Close()
	if _, err := natsq.ReadAddr(dir); err == nil {
		t.Error("addr file left behind after Close")
	}
	open(t, dir) // the lock is released
}

func TestReceiveAckNackDeadLetter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q := open(t, t.TempDir())
	var msgs [][]byte
	for i := range 5 {
		msgs = append(msgs, fmt.Appendf(nil, `{"n":%d}`, i))
	}
	if err := q.Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, err := q.Receive(ctx, 10, 200*time.Millisecond)
	if err != nil || len(got) != 5 {
		t.Fatalf("Receive: %d messages, %v", len(got), err)
	}
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Errorf("Receive returned after %s, before the linger", el)
	}
	for i, m := range got {
		if string(m.Data()) != string(msgs[i]) || m.Attempt() != 1 || m.Published().IsZero() {
			t.Errorf("message %d: %s attempt %d", i, m.Data(), m.Attempt())
		}
	}
	// ack 0-2, nack 3 with a delay, dead-letter 4
	for _, m := range got[:3] {
		m.Ack(ctx)
	}
	got[3].Nack(ctx, 300*time.Millisecond)
	if err := q.DeadLetter(ctx, queue.DeadLetter{MessageID: got[4].ID(), Data: got[4].Data(), Reason: "bad\nthing", Attempts: 1, Published: got[4].Published()}); err != nil {
		t.Fatal(err)
	}
	if err := got[4].Term(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := q.Receive(ctx, 10, 100*time.Millisecond)
	if err != nil || len(again) != 1 || string(again[0].Data()) != string(msgs[3]) || again[0].Attempt() != 2 {
		t.Fatalf("redelivery: %v %v", again, err)
	}
	again[0].Ack(ctx)

	var dls []queue.DeadLetter
	if err := q.DeadLetters().List(ctx, func(d queue.DeadLetter) bool { dls = append(dls, d); return true }); err != nil {
		t.Fatal(err)
	}
	if len(dls) != 1 || dls[0].Reason != "bad thing" || string(dls[0].Data) != string(msgs[4]) || dls[0].MessageID != got[4].ID() {
		t.Fatalf("dead letters: %+v", dls)
	}
	if d, err := q.DeadLetters().Get(ctx, dls[0].ID); err != nil || string(d.Data) != string(msgs[4]) {
		t.Fatalf("Get: %+v %v", d, err)
	}
	if _, err := q.DeadLetters().Get(ctx, "77"); !errors.Is(err, queue.ErrNotFound) {
		t.Errorf("Get of a missing id: %v", err)
	}
	if err := q.DeadLetters().Delete(ctx, dls[0].ID); err != nil {
		t.Fatal(err)
	}
	q.DeadLetter(ctx, queue.DeadLetter{Data: []byte("x"), Reason: "r"})
	if n, err := q.DeadLetters().Purge(ctx); err != nil || n != 1 {
		t.Errorf("Purge: %d %v", n, err)
	}
	time.Sleep(100 * time.Millisecond)
	st, err := q.Stats(ctx)
	if err != nil || st != (queue.Stats{}) {
		t.Errorf("Stats at the end: %+v %v", st, err)
	}
}
