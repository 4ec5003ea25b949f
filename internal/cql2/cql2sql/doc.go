// Package cql2sql compiles a cql2.Expr into a SQL WHERE-clause expression
// for SQLite (the embedded store) or PostgreSQL/PostGIS.
//
// Compile returns a Clause. When Clause.Exact is false the SQL is a
// prefilter that selects a superset of the matching items, and the caller
// must finish with cql2.Evaluate; results after that step are exact. Every
// literal is a bound argument ("?" for SQLite, "$n" for PostgreSQL);
// property names are validated and placed in JSON paths, never user strings.
//
// Translation rules, both dialects:
//   - Each sub-expression is compiled so that SQL's TRUE/FALSE/NULL equals
//     cql2.Evaluate's true/false/unknown ("exact"), or else it is a superset
//     prefilter. NOT of a prefilter cannot be narrowed and becomes 1=1.
//   - Values are typed: a JSON property compared with a number reads as a
//     number only when its JSON type is number (NULL otherwise), so a
//     string property never compares with a number — as in Evaluate.
//     Property-property comparisons use coalesce over the three kinds.
//   - Sub-expressions without properties are folded with cql2.Evaluate.
//   - datetime compared with TIMESTAMP/DATE uses the datetime column;
//     temporal predicates on datetime use the start_datetime/end_datetime
//     interval; open interval ends fold away. Other properties compared with
//     instants are prefilters (the JSON value must be a string; Evaluate
//     parses it), as are temporal predicates on them.
//   - Unknown functions are an *UnsupportedError.
//
// SQLite specifics: timestamps bind as unix microseconds. LIKE becomes a
// case-sensitive GLOB (exact). CASEI = / LIKE literal becomes an ASCII
// lower() GLOB prefilter that also keeps values containing the few
// non-ASCII letters whose lower case is ASCII (KELVIN SIGN, ...). ACCENTI,
// %, div and ^ are prefilters. Spatial predicates on geometry compare the
// item bbox columns with the literal's envelope (overlap, or cover for
// S_CONTAINS/S_EQUALS; items with minx > maxx cross the antimeridian and
// always pass); S_DISJOINT keeps everything. Array predicates use
// json_each and are exact for string/number/boolean literal arrays.
//
// PostgreSQL specifics: spatial predicates are exact PostGIS calls on the
// geometry column with ST_GeomFromWKB($n, 4326) arguments; text ordering
// uses COLLATE "C" (byte order, as Evaluate); CASEI uses lower() and is
// trusted to match Go's strings.ToLower (true for common scripts with a
// UTF-8 database locale); arrays use jsonb containment. The PostgreSQL SQL
// is golden-tested here and executed against PostGIS by the store tests.
package cql2sql
