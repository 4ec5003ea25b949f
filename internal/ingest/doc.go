// Package ingest turns queue messages into catalog writes: it unwraps
// envelopes (SNS notifications, SQS records, S3 events), fetches hrefs,
// validates with the catalog's write path (stac.Decode), upserts items in
// batches, dead-letters what can never succeed, retries what may, and
// publishes a result notification for every record.
//
// Delivery is at least once: a message is acknowledged only after its
// records are durably written (or dead-lettered), and writes are
// idempotent upserts keyed by (collection, id).
package ingest
