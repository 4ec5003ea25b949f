package nats

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tessera-geo/tessera/internal/queue"
)

// deadLetters reads the TESSERA_DLQ stream; a dead letter's id is its
// stream sequence.
type deadLetters struct{ q *Queue }

func (d deadLetters) List(ctx context.Context, fn func(queue.DeadLetter) bool) error {
	info, err := d.q.dlq.Info(ctx)
	if err != nil {
		return err
	}
	if info.State.Msgs == 0 {
		return nil
	}
	last := info.State.LastSeq
	c, err := d.q.dlq.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return err
	}
	it, err := c.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	for {
		m, err := it.Next(jetstream.NextMaxWait(5 * time.Second))
		if errors.Is(err, nats.ErrTimeout) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		md, err := m.Metadata()
		if err != nil {
			return err
		}
		dl := fromHeaders(md.Sequence.Stream, m.Headers(), m.Data())
		if !fn(dl) || md.Sequence.Stream >= last {
			return nil
		}
	}
}

func parseID(id string) (uint64, error) {
	seq, err := strconv.ParseUint(id, 10, 64)
	if err != nil || seq == 0 {
		return 0, fmt.Errorf("dead letter %q: %w (ids are positive integers)", id, queue.ErrNotFound)
	}
	return seq, nil
}

func (d deadLetters) Get(ctx context.Context, id string) (queue.DeadLetter, error) {
	seq, err := parseID(id)
	if err != nil {
		return queue.DeadLetter{}, err
	}
	m, err := d.q.dlq.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return queue.DeadLetter{}, fmt.Errorf("dead letter %s: %w", id, queue.ErrNotFound)
	}
	if err != nil {
		return queue.DeadLetter{}, err
	}
	return fromHeaders(seq, m.Header, m.Data), nil
}

func (d deadLetters) Delete(ctx context.Context, id string) error {
	seq, err := parseID(id)
	if err != nil {
		return err
	}
	err = d.q.dlq.DeleteMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("dead letter %s: %w", id, queue.ErrNotFound)
	}
	return err
}

func (d deadLetters) Purge(ctx context.Context) (uint64, error) {
	info, err := d.q.dlq.Info(ctx)
	if err != nil {
		return 0, err
	}
	if err := d.q.dlq.Purge(ctx); err != nil {
		return 0, err
	}
	return info.State.Msgs, nil
}

func fromHeaders(seq uint64, h nats.Header, data []byte) queue.DeadLetter {
	dl := queue.DeadLetter{
		ID:        strconv.FormatUint(seq, 10),
		MessageID: h.Get(HeaderMessageID),
		Data:      data,
		Reason:    h.Get(HeaderReason),
	}
	dl.Attempts, _ = strconv.Atoi(h.Get(HeaderAttempts))
	dl.Published, _ = time.Parse(time.RFC3339Nano, h.Get(HeaderPublished))
	dl.DeadLettered, _ = time.Parse(time.RFC3339Nano, h.Get(HeaderDeadLettered))
	return dl
}
