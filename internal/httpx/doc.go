// Package httpx holds the HTTP plumbing shared by every HTTP surface of
// tessera (STAC API, tiles, ingest admin): JSON responses, the one mapping
// from typed errors to HTTP status codes, and middleware.
//
// Domain packages never import httpx; they return typed errors
// (search.InvalidParamError, store.ErrNotFound, stac.ValidationError, ...)
// and WriteError turns them into the STAC error body
// {"code": "...", "description": "..."}.
package httpx
