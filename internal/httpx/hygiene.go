package httpx

import (
	"compress/gzip"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CORSConfig configures cross-origin requests.
type CORSConfig struct {
	// Origins allowed ("*" for any). Empty means "*".
	Origins []string
	// Credentials allows credentialed requests (cookies, Authorization);
	// it needs explicit origins, which are then echoed.
	Credentials bool
	Methods     []string // default GET, POST, PUT, PATCH, DELETE, OPTIONS
	Headers     []string // request headers allowed
	MaxAge      time.Duration
}

var (
	defaultCORSMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
	defaultCORSHeaders = []string{"Content-Type", "Authorization", "If-Match", "If-None-Match", "X-Request-Id", "X-API-Key"}
)

// CORSWith answers preflight requests and adds CORS headers for the
// allowed origins; other origins get no CORS headers (the browser then
// refuses the response).
func CORSWith(c CORSConfig) Middleware {
	any := len(c.Origins) == 0 || slices.Contains(c.Origins, "*")
	methods := strings.Join(cmpOr(c.Methods, defaultCORSMethods), ", ")
	headers := strings.Join(cmpOr(c.Headers, defaultCORSHeaders), ", ")
	maxAge := "3600"
	if c.MaxAge > 0 {
		maxAge = strconv.Itoa(int(c.MaxAge.Seconds()))
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			origin := r.Header.Get("Origin")
			allowed := ""
			switch {
			case any && !c.Credentials:
				allowed = "*"
			case origin != "" && (any || slices.Contains(c.Origins, origin)):
				allowed = origin
			}
			if !any || c.Credentials {
				h.Add("Vary", "Origin")
			}
			if allowed != "" {
				h.Set("Access-Control-Allow-Origin", allowed)
				h.Set("Access-Control-Expose-Headers", "ETag, Location, Content-Bbox, Content-Crs, Server-Timing, X-Request-Id, Retry-After, WWW-Authenticate")
				if c.Credentials {
					h.Set("Access-Control-Allow-Credentials", "true")
				}
			}
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				if allowed != "" {
					h.Set("Access-Control-Allow-Methods", methods)
					h.Set("Access-Control-Allow-Headers", headers)
					h.Set("Access-Control-Max-Age", maxAge)
				}
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func cmpOr(a, b []string) []string {
	if len(a) > 0 {
		return a
	}
	return b
}

// RequestLimits refuses requests whose URL is longer than maxURL bytes
// (414) or that carry more than maxHeaders header fields (431). Zero
// disables a limit. The header block's size is bounded by the server's
// MaxHeaderBytes.
func RequestLimits(maxURL, maxHeaders int) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if maxURL > 0 && len(r.RequestURI) > maxURL {
				WriteError(w, r, nil, &Error{Status: http.StatusRequestURITooLong, Code: CodeBadRequest,
					Description: fmt.Sprintf("request URL longer than %d bytes: use POST /search for long queries", maxURL)})
				return
			}
			if maxHeaders > 0 {
				n := 0
				for _, v := range r.Header {
					n += len(v)
				}
				if n > maxHeaders {
					WriteError(w, r, nil, &Error{Status: http.StatusRequestHeaderFieldsTooLarge, Code: CodeBadRequest,
						Description: fmt.Sprintf("more than %d header fields", maxHeaders)})
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// htmlCSP is the content security policy of the HTML pages (API docs, map
// viewer): only this origin's scripts (and the pages' own inline ones).
const htmlCSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https:; connect-src 'self' https:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// SecurityHeaders adds X-Content-Type-Options to every response and a
// content security policy, frame and referrer policies to HTML pages.
func SecurityHeaders() Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Content-Type-Options", "nosniff")
			next.ServeHTTP(&headerHook{ResponseWriter: w, before: func(h http.Header) {
				if strings.HasPrefix(h.Get("Content-Type"), "text/html") {
					h.Set("Content-Security-Policy", htmlCSP)
					h.Set("X-Frame-Options", "DENY")
					h.Set("Referrer-Policy", "no-referrer")
				}
			}}, r)
		})
	}
}

// headerHook calls before once, just before the header is written.
type headerHook struct {
	http.ResponseWriter
	before func(http.Header)
	done   bool
}

func (h *headerHook) WriteHeader(code int) {
	if !h.done {
		h.done = true
		h.before(h.Header())
	}
	h.ResponseWriter.WriteHeader(code)
}

func (h *headerHook) Write(b []byte) (int, error) {
	if !h.done {
		h.WriteHeader(http.StatusOK)
	}
	return h.ResponseWriter.Write(b)
}

func (h *headerHook) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// gzipMinSize is the smallest body worth compressing.
const gzipMinSize = 1024

var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}

// compressible reports whether a content type is JSON (or text).
func compressible(ct string) bool {
	ct = strings.ToLower(ct)
	return strings.Contains(ct, "json") || strings.HasPrefix(ct, "text/") || strings.Contains(ct, "yaml") || strings.Contains(ct, "openapi")
}

// acceptsGzip reports whether the Accept-Encoding header allows gzip.
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		params = strings.ReplaceAll(params, " ", "")
		if q, ok := strings.CutPrefix(params, "q="); ok {
			if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// Gzip compresses JSON and text responses of at least 1 KiB for clients
// whose Accept-Encoding allows gzip; images (tiles) pass unchanged.
func Gzip() Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !acceptsGzip(r.Header.Get("Accept-Encoding")) || r.Method == http.MethodHead {
				next.ServeHTTP(w, r)
				return
			}
			gw := &gzipWriter{ResponseWriter: w}
			defer gw.close()
			next.ServeHTTP(gw, r)
		})
	}
}

type gzipWriter struct {
	http.ResponseWriter
	decided bool
	gz      *gzip.Writer
}

func (g *gzipWriter) WriteHeader(code int) {
	if g.decided {
		g.ResponseWriter.WriteHeader(code)
		return
	}
	g.decided = true
	h := g.Header()
	ct := h.Get("Content-Type")
	if compressible(ct) {
		h.Add("Vary", "Accept-Encoding")
	}
	size := -1
	if cl := h.Get("Content-Length"); cl != "" {
		size, _ = strconv.Atoi(cl)
	}
	if code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified && h.Get("Content-Encoding") == "" &&
		compressible(ct) && (size < 0 || size >= gzipMinSize) {
		h.Del("Content-Length")
		h.Set("Content-Encoding", "gzip")
		g.gz = gzipPool.Get().(*gzip.Writer)
		g.gz.Reset(g.ResponseWriter)
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if !g.decided {
		g.WriteHeader(http.StatusOK)
	}
	if g.gz != nil {
		return g.gz.Write(b)
	}
	return g.ResponseWriter.Write(b)
}

func (g *gzipWriter) Flush() {
	if g.gz != nil {
		_ = g.gz.Flush()
	}
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (g *gzipWriter) close() {
	if g.gz != nil {
		_ = g.gz.Close()
		gzipPool.Put(g.gz)
		g.gz = nil
	}
}

func (g *gzipWriter) Unwrap() http.ResponseWriter { return g.ResponseWriter }
