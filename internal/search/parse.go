package search

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/peterstace/simplefeatures/geom"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/stac"
)

// ParseGET builds a Query from a GET query string.
func ParseGET(v url.Values, lim Limits) (Query, error) {
	q := Query{Limit: lim.DefaultLimit}
	var err error
	if s, ok := single(v, "collections"); ok {
		if q.Collections, err = parseList("collections", s); err != nil {
			return Query{}, err
		}
	}
	if s, ok := single(v, "ids"); ok {
		if q.IDs, err = parseList("ids", s); err != nil {
			return Query{}, err
		}
	}
	if s, ok := single(v, "bbox"); ok {
		b, err := ParseBBoxString(s)
		if err != nil {
			return Query{}, err
		}
		q.BBox = &b
	}
	if s, ok := single(v, "intersects"); ok {
		g, err := parseIntersects([]byte(s))
		if err != nil {
			return Query{}, err
		}
		q.Intersects = &g
	}
	if s, ok := single(v, "datetime"); ok {
		iv, err := ParseDatetime(s)
		if err != nil {
			return Query{}, err
		}
		q.Datetime = &iv
	}
	if s, ok := single(v, "limit"); ok {
		if q.Limit, err = parseLimit(s, lim); err != nil {
			return Query{}, err
		}
	}
	if s, ok := single(v, "token"); ok {
		q.Token = s
	}
	if s, ok := single(v, "filter"); ok {
		lang, _ := single(v, "filter-lang")
		crs, _ := single(v, "filter-crs")
		if q.Filter, err = parseFilter(json.RawMessage(s), true, lang, crs); err != nil {
			return Query{}, err
		}
	} else if _, ok := single(v, "filter-lang"); ok {
		if err := checkFilterLang(v.Get("filter-lang")); err != nil {
			return Query{}, err
		}
	}
	if s, ok := single(v, "sortby"); ok {
		if q.SortBy, err = ParseSortGET(s); err != nil {
			return Query{}, err
		}
	}
	if s, ok := single(v, "fields"); ok {
		if q.Fields, err = ParseFieldsGET(s); err != nil {
			return Query{}, err
		}
	}
	if s, ok := single(v, "q"); ok {
		if q.Q, err = ParseFreeText(s); err != nil {
			return Query{}, err
		}
	}
	if s, ok := single(v, "query"); ok {
		e, err := ParseQuery(json.RawMessage(s))
		if err != nil {
			return Query{}, err
		}
		q.Filter = and(q.Filter, e)
	}
	for _, p := range []string{"collections", "ids", "bbox", "intersects", "datetime", "limit", "token", "filter", "filter-lang", "filter-crs", "sortby", "fields", "query", "q"} {
		if len(v[p]) > 1 {
			return Query{}, invalid(p, "given %d times; give it once", len(v[p]))
		}
	}
	return q, q.check()
}

// single returns the parameter's value when it is present.
func single(v url.Values, key string) (string, bool) {
	vals, ok := v[key]
	if !ok || len(vals) == 0 {
		return "", false
	}
	return vals[0], true
}

// Body is the JSON body of POST /search. Fields are raw so that each can be
// checked and reported by name.
type Body struct {
	Collections json.RawMessage `json:"collections"`
	IDs         json.RawMessage `json:"ids"`
	BBox        json.RawMessage `json:"bbox"`
	Intersects  json.RawMessage `json:"intersects"`
	Datetime    json.RawMessage `json:"datetime"`
	Limit       json.RawMessage `json:"limit"`
	Token       json.RawMessage `json:"token"`
	Filter      json.RawMessage `json:"filter"`
	FilterLang  json.RawMessage `json:"filter-lang"`
	FilterCRS   json.RawMessage `json:"filter-crs"`
	SortBy      json.RawMessage `json:"sortby"`
	Fields      json.RawMessage `json:"fields"`
	Query       json.RawMessage `json:"query"`
	Q           json.RawMessage `json:"q"`
}

// ParsePOST builds a Query from a POST /search body.
func ParsePOST(body []byte, lim Limits) (Query, error) {
	body = bytes.TrimSpace(body)
	q := Query{Limit: lim.DefaultLimit}
	if len(body) == 0 {
		return q, nil
	}
	var b Body
	if err := json.Unmarshal(body, &b); err != nil {
		return Query{}, &InvalidParamError{Param: "body", Reason: "not a JSON object: " + describeJSONError(err), Err: err}
	}
	var err error
	if present(b.Collections) {
		if q.Collections, err = stringArray("collections", b.Collections); err != nil {
			return Query{}, err
		}
	}
	if present(b.IDs) {
		if q.IDs, err = stringArray("ids", b.IDs); err != nil {
			return Query{}, err
		}
	}
	if present(b.BBox) {
		var v []float64
		if err := json.Unmarshal(b.BBox, &v); err != nil {
			return Query{}, invalid("bbox", "must be an array of 4 or 6 numbers")
		}
		bb, err := geo.BBoxFromSlice(v)
		if err != nil {
			return Query{}, invalid("bbox", "%v", err)
		}
		q.BBox = &bb
	}
	if present(b.Intersects) {
		g, err := parseIntersects(b.Intersects)
		if err != nil {
			return Query{}, err
		}
		q.Intersects = &g
	}
	if present(b.Datetime) {
		var s string
		if err := json.Unmarshal(b.Datetime, &s); err != nil {
			return Query{}, invalid("datetime", "must be a string (an RFC 3339 instant or interval)")
		}
		iv, err := ParseDatetime(s)
		if err != nil {
			return Query{}, err
		}
		q.Datetime = &iv
	}
	if present(b.Limit) {
		var n json.Number
		if err := json.Unmarshal(b.Limit, &n); err != nil {
			return Query{}, invalid("limit", "must be an integer")
		}
		if q.Limit, err = parseLimit(n.String(), lim); err != nil {
			return Query{}, err
		}
	}
	if present(b.Token) {
		if err := json.Unmarshal(b.Token, &q.Token); err != nil {
			return Query{}, invalid("token", "must be a string")
		}
	}
	var lang, crs string
	if present(b.FilterLang) && json.Unmarshal(b.FilterLang, &lang) != nil {
		return Query{}, invalid("filter-lang", "must be a string")
	}
	if present(b.FilterCRS) && json.Unmarshal(b.FilterCRS, &crs) != nil {
		return Query{}, invalid("filter-crs", "must be a string")
	}
	if present(b.Filter) {
		if q.Filter, err = parseFilter(b.Filter, false, lang, crs); err != nil {
			return Query{}, err
		}
	}
	if present(b.SortBy) {
		if q.SortBy, err = ParseSortPOST(b.SortBy); err != nil {
			return Query{}, err
		}
	}
	if present(b.Fields) {
		if q.Fields, err = ParseFieldsPOST(b.Fields); err != nil {
			return Query{}, err
		}
	}
	if present(b.Q) {
		// A string, or an array of terms (ORed).
		var s string
		if json.Unmarshal(b.Q, &s) != nil {
			var terms []string
			if err := json.Unmarshal(b.Q, &terms); err != nil {
				return Query{}, invalid("q", "must be a string or an array of strings")
			}
			for i, t := range terms {
				if strings.ContainsRune(t, ' ') {
					terms[i] = `"` + strings.ReplaceAll(t, `"`, "") + `"`
				}
			}
			s = strings.Join(terms, ",")
		}
		if q.Q, err = ParseFreeText(s); err != nil {
			return Query{}, err
		}
	}
	if present(b.Query) {
		e, err := ParseQuery(b.Query)
		if err != nil {
			return Query{}, err
		}
		q.Filter = and(q.Filter, e)
	}
	return q, q.check()
}

// and combines two optional filters.
func and(a, b cql2.Expr) cql2.Expr {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return cql2.And{Args: []cql2.Expr{a, b}}
}

// CRS84 is the only filter-crs tessera accepts.
const CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

func checkFilterLang(lang string) error {
	switch lang {
	case "", "cql2-text", "cql2-json":
		return nil
	}
	return invalid("filter-lang", "%q is not supported; use cql2-text or cql2-json", lang)
}

// parseFilter parses a filter given as a GET parameter (raw is the text of
// the parameter) or as a POST member (raw is a JSON value: an object for
// cql2-json, a string for cql2-text). GET defaults to cql2-text, POST to
// cql2-json.
func parseFilter(raw json.RawMessage, get bool, lang, crs string) (cql2.Expr, error) {
	if err := checkFilterLang(lang); err != nil {
		return nil, err
	}
	if crs != "" && crs != CRS84 && crs != "CRS84" && crs != "OGC:CRS84" {
		return nil, invalid("filter-crs", "%q is not supported; only %s", crs, CRS84)
	}
	var (
		e   cql2.Expr
		err error
	)
	switch {
	case get && lang != "cql2-json":
		e, err = cql2.ParseText(string(raw))
	case get:
		e, err = cql2.ParseJSON(raw)
	default:
		trimmed := bytes.TrimSpace(raw)
		if len(trimmed) > 0 && trimmed[0] == '"' {
			// A string is cql2-text whatever filter-lang says, unless it
			// explicitly says cql2-json.
			if lang == "cql2-json" {
				return nil, invalid("filter", "filter-lang is cql2-json but the filter is a string; send a JSON object, or set filter-lang to cql2-text")
			}
			var s string
			_ = json.Unmarshal(trimmed, &s)
			e, err = cql2.ParseText(s)
		} else {
			if lang == "cql2-text" {
				return nil, invalid("filter", "filter-lang is cql2-text but the filter is not a string")
			}
			e, err = cql2.ParseJSON(trimmed)
		}
	}
	if err != nil {
		return nil, &InvalidParamError{Param: "filter", Reason: err.Error(), Err: err}
	}
	return e, nil
}

func (q Query) check() error {
	if q.BBox != nil && q.Intersects != nil {
		return invalid("bbox", "cannot be combined with intersects; give one of them")
	}
	return nil
}

func present(v json.RawMessage) bool { return len(v) > 0 && !bytes.Equal(v, []byte("null")) }

func stringArray(param string, raw json.RawMessage) ([]string, error) {
	var v []string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, invalid(param, "must be an array of strings")
	}
	for _, s := range v {
		if s == "" {
			return nil, invalid(param, "must not contain empty strings")
		}
	}
	return v, nil
}

func parseList(param, s string) ([]string, error) {
	parts := strings.Split(s, ",")
	out := parts[:0]
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, invalid(param, "must be a comma-separated list of one or more values")
	}
	return out, nil
}

func parseLimit(s string, lim Limits) (int, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, invalid("limit", "%q is not an integer", s)
	}
	if n < 1 {
		return 0, invalid("limit", "must be at least 1, got %d", n)
	}
	if lim.MaxLimit > 0 && n > int64(lim.MaxLimit) {
		n = int64(lim.MaxLimit)
	}
	return int(n), nil
}

// ParseBBoxString parses "minx,miny,maxx,maxy" (or 6 numbers).
func ParseBBoxString(s string) (geo.BBox, error) {
	parts := strings.Split(s, ",")
	v := make([]float64, 0, len(parts))
	for _, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return geo.BBox{}, invalid("bbox", "%q is not a number; expected minx,miny,maxx,maxy", strings.TrimSpace(p))
		}
		v = append(v, f)
	}
	b, err := geo.BBoxFromSlice(v)
	if err != nil {
		return geo.BBox{}, invalid("bbox", "%v", err)
	}
	return b, nil
}

func parseIntersects(raw []byte) (geom.Geometry, error) {
	g, err := stac.DecodeGeometry(raw)
	if err != nil {
		return geom.Geometry{}, invalid("intersects", "%v", err)
	}
	return g, nil
}

// ParseDatetime parses a STAC datetime parameter: an RFC 3339 instant, or
// an interval "start/end" where either end may be ".." or empty (open).
// A full date (2020-01-02) stands for that whole UTC day.
func ParseDatetime(s string) (Interval, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Interval{}, invalid("datetime", "must not be empty")
	}
	parts := strings.Split(s, "/")
	switch len(parts) {
	case 1:
		start, end, err := parseInstant(parts[0])
		if err != nil {
			return Interval{}, err
		}
		return Interval{Start: &start, End: &end}, nil
	case 2:
		var iv Interval
		if open(parts[0]) && open(parts[1]) {
			return Interval{}, invalid("datetime", "%q: at least one end of the interval must be a timestamp", s)
		}
		if !open(parts[0]) {
			start, _, err := parseInstant(parts[0])
			if err != nil {
				return Interval{}, err
			}
			iv.Start = &start
		}
		if !open(parts[1]) {
			_, end, err := parseInstant(parts[1])
			if err != nil {
				return Interval{}, err
			}
			iv.End = &end
		}
		if iv.Start != nil && iv.End != nil && iv.Start.After(*iv.End) {
			return Interval{}, invalid("datetime", "interval start %s is after its end %s", parts[0], parts[1])
		}
		return iv, nil
	default:
		return Interval{}, invalid("datetime", "%q: expected an instant or one start/end interval", s)
	}
}

func open(s string) bool { s = strings.TrimSpace(s); return s == "" || s == ".." }

// parseInstant returns the instant, or the first and last instants of a
// full date.
func parseInstant(s string) (time.Time, time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) == len("2006-01-02") {
		d, err := time.Parse("2006-01-02", s)
		if err == nil {
			return d, d.Add(24*time.Hour - time.Nanosecond), nil
		}
	}
	t, err := stac.ParseTime(s)
	if err != nil {
		return time.Time{}, time.Time{}, invalid("datetime", "%q is not an RFC 3339 timestamp (e.g. 2020-01-02T03:04:05Z)", s)
	}
	return t, t, nil
}

func describeJSONError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("%s must not be a %s", te.Field, te.Value)
		}
		return fmt.Sprintf("expected an object, got a %s", te.Value)
	}
	return err.Error()
}
