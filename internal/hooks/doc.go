// Package hooks calls operator webhooks around each request, like
// stac-server's pre- and post-hook Lambdas.
//
// The pre-hook receives the request (method, path, query, headers with
// credentials redacted, body, principal) and may reject it with a status
// and body, rewrite its query, headers or body, or narrow what it sees by
// answering _collections / _filter. The post-hook receives each JSON
// response and may replace its headers and body, never its status.
//
// Every hook request is a JSON POST signed with HMAC-SHA256 over the exact
// body: X-Tessera-Signature: sha256=<hex>. The body carries a timestamp so
// a hook can refuse replays. A pre-hook that fails (error, timeout,
// non-2xx, bad JSON) fails the request closed (503) unless configured to
// fail open; a failing post-hook is logged and the response sent unchanged
// unless configured to fail closed (502).
package hooks
