// Package nats implements queue.Queue on NATS JetStream: an external server
// or cluster (nats://host:4222), or a server embedded in the process with
// its file storage in a directory of its own.
//
// Layout (fixed names, so that every tessera process sharing a NATS server
// agrees on them):
//
//	stream TESSERA_INGEST  subject tessera.ingest  work-queue retention; durable pull consumer "tessera-ingest"
//	stream TESSERA_DLQ     subject tessera.dlq     limits retention; original payload + Tessera-* headers
//	subject tessera.notify                          core NATS publish; optional stream TESSERA_NOTIFY keeps them
package nats
