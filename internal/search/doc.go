// Package search turns STAC API search requests (GET query strings and POST
// bodies) into a validated query plan, Query, which stores execute. Every
// malformed input is an *InvalidParamError naming the parameter.
//
// The package knows nothing about HTTP servers or databases: it parses
// url.Values and JSON bytes.
package search
