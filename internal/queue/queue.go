package queue

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned for a dead letter that does not exist.
var ErrNotFound = errors.New("message not found")

// Message is one delivery of an ingest message. Exactly one of Ack, Nack or
// Term should be called; a message left alone is redelivered after the
// queue's acknowledgement timeout.
type Message interface {
	// Data is the payload as published.
	Data() []byte
	// ID identifies the message in the queue (stable across redeliveries).
	ID() string
	// Attempt is the delivery count, 1 on the first delivery.
	Attempt() int
	// Published is when the message entered the queue.
	Published() time.Time
	// Ack removes the message: it has been handled for good.
	Ack(ctx context.Context) error
	// Nack asks for redelivery after delay.
	Nack(ctx context.Context, delay time.Duration) error
	// Term removes the message without redelivery (after it was dead-lettered).
	Term(ctx context.Context) error
}

// DeadLetter is a message that will not be retried, with why.
type DeadLetter struct {
	// ID is the dead letter's own id (set when read back).
	ID string
	// MessageID is the id the message had in the ingest queue.
	MessageID string
	Data      []byte
	Reason    string
	Attempts  int
	// Published is when the message entered the ingest queue.
	Published time.Time
	// DeadLettered is when it was given up on.
	DeadLettered time.Time
}

// Notification is a result published for every handled message.
type Notification struct {
	Data []byte
	// Attributes are message attributes (SNS message attributes, NATS
	// headers) that let subscribers filter without decoding Data.
	Attributes map[string]string
}

// Stats describes the backlog.
type Stats struct {
	// Pending counts messages not yet delivered.
	Pending uint64
	// InFlight counts messages delivered but not yet acknowledged.
	InFlight uint64
	// DeadLetters counts messages in the dead-letter store.
	DeadLetters uint64
}

// Queue is the ingest queue. Implementations are safe for concurrent use.
type Queue interface {
	// Publish appends messages to the ingest queue. It returns when every
	// message is stored durably by the queue, or with the first error (some
	// messages may have been stored; publishing again is safe because
	// ingest is idempotent).
	Publish(ctx context.Context, msgs ...[]byte) error
	// Receive returns between 1 and max messages. It blocks until the first
	// one arrives (or ctx ends), then waits at most linger for more.
	Receive(ctx context.Context, max int, linger time.Duration) ([]Message, error)
	// DeadLetter stores a dead letter durably.
	DeadLetter(ctx context.Context, dl DeadLetter) error
	// Notify publishes a notification (best effort: it does not wait for a
	// subscriber).
	Notify(ctx context.Context, n Notification) error
	// DeadLetters gives access to the dead-letter store.
	DeadLetters() DeadLetters
	// Stats describes the backlog.
	Stats(ctx context.Context) (Stats, error)
	// Close releases the connection (and stops an embedded server).
	Close() error
}

// DeadLetters reads and manages the dead-letter store.
type DeadLetters interface {
	// List calls fn for each dead letter in order, until fn returns false.
	List(ctx context.Context, fn func(DeadLetter) bool) error
	// Get returns one dead letter or an error wrapping ErrNotFound.
	Get(ctx context.Context, id string) (DeadLetter, error)
	// Delete removes one dead letter or returns an error wrapping ErrNotFound.
	Delete(ctx context.Context, id string) error
	// Purge removes every dead letter and says how many there were.
	Purge(ctx context.Context) (uint64, error)
}
