// Package auth authenticates HTTP requests (Bearer JWTs verified against a
// JWKS or a static key, and API keys kept as SHA-256 hashes) into a
// Principal, and restricts what a principal may read and write.
//
// A Principal carries scopes (read, write, admin) and a Restriction: an
// optional list of collections and an optional CQL2 filter. The middleware
// stores the principal in the request context; Restrict ANDs its
// restriction into a search.Query, and Store wraps a store.Store so that
// every read and write made with that context sees only what the principal
// may see. Nothing about the restriction is ever carried in a link or a
// token: it is applied again, server-side, on every request.
//
// Tiles and any other reader of the catalog call Restrict(ctx, &q) on the
// queries they build (or read through Store) with the request's context.
package auth
