package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Media types.
const (
	typeJSON    = "application/json"
	typeGeoJSON = "application/geo+json"
	typeOpenAPI = "application/vnd.oai.openapi+json;version=3.0"
	typeHTML    = "text/html"
	typeSchema  = "application/schema+json"

	relQueryables = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
)

// Link is a STAC/OGC link object.
type Link struct {
	Rel    string          `json:"rel"`
	Href   string          `json:"href"`
	Type   string          `json:"type,omitempty"`
	Title  string          `json:"title,omitempty"`
	Method string          `json:"method,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
	Merge  bool            `json:"merge,omitempty"`
}

// base returns the public URL of the API root for this request, without a
// trailing slash.
func (s *Server) base(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return strings.TrimSuffix(s.cfg.BaseURL, "/")
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
		proto = p
	}
	host := r.Host
	if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" && validHost(h) {
		host = h
	}
	return proto + "://" + host + s.cfg.RootPath
}

func firstValue(v string) string {
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}

// validHost rejects header values that would turn links into something
// else than a host[:port].
func validHost(h string) bool {
	if len(h) > 255 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]_", c)) {
			return false
		}
	}
	return true
}

// pathEscape escapes an id for use as one path segment.
func pathEscape(s string) string { return url.PathEscape(s) }

// selfURL is the request's own URL under the public base.
func (s *Server) selfURL(r *http.Request, query url.Values) string {
	u := s.base(r) + r.URL.Path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called with types that always encode
	}
	return b
}

func readAll(r io.Reader) ([]byte, error) { return io.ReadAll(r) }
