// Package cql2 parses, encodes and evaluates OGC Common Query Language
// (CQL2, OGC 21-065r2) filter expressions, in both the cql2-text and the
// cql2-json encodings, for every conformance class: basic-cql2,
// advanced-comparison-operators, case- and accent-insensitive comparison,
// basic-spatial-functions(-plus), spatial-functions, temporal-functions,
// array-functions, property-property comparisons and arithmetic.
//
// Both encodings parse into one sealed AST (Expr); Text and JSON encode it
// back, and parse(encode(x)) is Equal to x. Evaluate is the reference
// semantics over a decoded STAC item; package cql2sql translates the AST to
// SQL for SQLite and PostgreSQL and reports when its SQL is only a prefilter
// that must be finished with Evaluate.
//
// The package does no I/O and imports no HTTP or database package.
//
// cql2-text notes: keywords and built-in names are case-insensitive; a
// single quote inside a string is written ” (backslash is an ordinary
// character, except as the LIKE escape); a double quote inside a quoted
// property name is written "". "a NOT LIKE b", "NOT BETWEEN", "NOT IN" and
// "IS NOT NULL" parse to Not{...}, as cql2-json has no negated operators. A
// parenthesized list in a function argument or array element position, e.g.
// A_CONTAINS(p, ('a')), is an array even with a single element. Unary minus
// on a non-literal x becomes (-1 * x). DATE values are midnight UTC; both
// parsers accept A_CONTAINED_BY as an alias of A_CONTAINEDBY.
package cql2
