// Package api serves the STAC API (core, collections, OGC API Features,
// item search) over HTTP on top of the store interfaces.
//
// Handlers return errors; httpx.WriteError is the one place that turns them
// into status codes. Links are built from each request (X-Forwarded-Proto,
// X-Forwarded-Host, the configured base URL and root path), never stored.
package api
