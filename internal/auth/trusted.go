package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/tessera-geo/tessera/internal/httpx"
)

// Header and parameter names of stac-server's authorization passing.
const (
	HeaderCollections = "stac-collections-authx"
	HeaderFilter      = "stac-filter-authx"
	ParamCollections  = "_collections"
	ParamFilter       = "_filter"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// ParseRestriction reads a collection list (comma-separated; "" means
// no list) and a CQL2 filter (text or JSON; "" means none) as a
// gateway or hook gives them.
func ParseRestriction(collections, filter string) (Restriction, error) {
	var r Restriction
	if collections = strings.TrimSpace(collections); collections != "" {
		r.Collections = append([]string{}, stringsOf(collections, ",")...)
	}
	if filter = strings.TrimSpace(filter); filter != "" {
		f, err := parseFilterClaim(filter)
		if err != nil {
			return r, httpx.BadRequest(ParamFilter, "not a valid CQL2 filter: %v", err)
		}
		r.Filter = f
	}
	return r, nil
}

// RestrictionFromJSON reads _collections (array or comma-separated string)
// and _filter (CQL2 text or JSON object) members.
func RestrictionFromJSON(collections, filter json.RawMessage) (Restriction, error) {
	var r Restriction
	if len(collections) > 0 && string(collections) != "null" {
		var v any
		if err := json.Unmarshal(collections, &v); err != nil {
			return r, httpx.BadRequest(ParamCollections, "want an array of collection ids")
		}
		switch v.(type) {
		case string, []any:
			r.Collections = append([]string{}, stringsOf(v, ",")...)
		default:
			return r, httpx.BadRequest(ParamCollections, "want an array of collection ids")
		}
	}
	if len(filter) > 0 && string(filter) != "null" {
		var v any
		if err := json.Unmarshal(filter, &v); err != nil {
			return r, httpx.BadRequest(ParamFilter, "not a valid CQL2 filter")
		}
		f, err := parseFilterClaim(v)
		if err != nil {
			return r, httpx.BadRequest(ParamFilter, "not a valid CQL2 filter: %v", err)
		}
		r.Filter = f
	}
	return r, nil
}

// trusted applies the gateway's headers and parameters: they narrow the
// principal's restriction and are removed from the request, so they never
// appear in links.
func (a *Authenticator) trusted(w http.ResponseWriter, r *http.Request, need Scope) (*http.Request, error) {
	narrow, err := ParseRestriction(r.Header.Get(HeaderCollections), r.Header.Get(HeaderFilter))
	if err != nil {
		return r, err
	}
	r2 := r.Clone(r.Context())
	r2.Header.Del(HeaderCollections)
	r2.Header.Del(HeaderFilter)
	q := r2.URL.Query()
	if q.Has(ParamCollections) || q.Has(ParamFilter) {
		pr, err := ParseRestriction(q.Get(ParamCollections), q.Get(ParamFilter))
		if err != nil {
			return r, err
		}
		narrow = narrow.Narrow(pr)
		q.Del(ParamCollections)
		q.Del(ParamFilter)
		r2.URL.RawQuery = q.Encode()
		r2.RequestURI = r2.URL.RequestURI()
	}
	// Bodies of reading POSTs (searches, aggregations) only: documents
	// written by transactions are never rewritten.
	if r2.Method == http.MethodPost && need == ScopeRead && r2.Body != nil && isJSON(r2.Header.Get("Content-Type")) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r2.Body, a.cfg.MaxBodyBytes))
		if err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return r, err
			}
			return r, httpx.BadRequest("body", "could not read the request body")
		}
		var doc map[string]json.RawMessage
		if json.Unmarshal(body, &doc) == nil {
			c, hasC := doc[ParamCollections]
			f, hasF := doc[ParamFilter]
			if hasC || hasF {
				pr, err := RestrictionFromJSON(c, f)
				if err != nil {
					return r, err
				}
				narrow = narrow.Narrow(pr)
				delete(doc, ParamCollections)
				delete(doc, ParamFilter)
				body, _ = json.Marshal(doc)
			}
		}
		r2.Body = io.NopCloser(bytes.NewReader(body))
		r2.ContentLength = int64(len(body))
	}
	return r2.WithContext(NarrowContext(r2.Context(), narrow)), nil
}

func isJSON(ct string) bool {
	ct = strings.ToLower(ct)
	return ct == "" || strings.Contains(ct, "json")
}
