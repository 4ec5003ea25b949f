// Package queue is the ingest queue as the ingest pipeline sees it: durable
// publishing, batched at-least-once delivery with explicit acknowledgement
// and delayed redelivery, a dead-letter store, and a notification channel.
//
// The default implementation is NATS JetStream (package queue/nats), either
// embedded in the tessera process or an external cluster. An SQS/SNS adapter
// can implement the same interface: Receive maps to ReceiveMessage (with the
// ApproximateReceiveCount attribute as the attempt), Nack to
// ChangeMessageVisibility, Ack to DeleteMessage, DeadLetter to a second queue
// and Notify to an SNS topic with message attributes.
package queue
