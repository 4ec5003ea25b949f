package hooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tessera-geo/tessera/internal/auth"
	"github.com/tessera-geo/tessera/internal/httpx"
)

// SignatureHeader carries the HMAC-SHA256 of a hook request's body.
const SignatureHeader = "X-Tessera-Signature"

// Config configures the hooks.
type Config struct {
	PreURL, PostURL string
	Secret          []byte
	Timeout         time.Duration
	// PreFailOpen serves the request when the pre-hook fails.
	PreFailOpen bool
	// PostFailClosed answers 502 when the post-hook fails.
	PostFailClosed bool
	// MaxBodyBytes bounds the request bodies sent to the pre-hook and
	// the answers read from hooks.
	MaxBodyBytes int64
	Client       *http.Client
}

// Sign returns the signature header value of body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header value in constant time.
func Verify(secret, body []byte, sig string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(sig))
}

// Hooks calls the configured webhooks.
type Hooks struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger
}

// New builds the hooks; it fails without a secret.
func New(cfg Config, log *slog.Logger) (*Hooks, error) {
	if len(cfg.Secret) == 0 {
		return nil, errors.New("hooks: a secret is required to sign hook requests")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 10 << 20
	}
	c := cfg.Client
	if c == nil {
		c = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Hooks{cfg: cfg, client: c, log: log}, nil
}

// redacted are request headers never sent to hooks (the principal is).
var redacted = map[string]bool{"Authorization": true, "X-Api-Key": true, "Cookie": true}

func headersOf(h http.Header) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, v := range h {
		if redacted[http.CanonicalHeaderKey(k)] {
			out[k] = []string{"[redacted]"}
			continue
		}
		out[k] = v
	}
	return out
}

// bodyValue is a body as JSON when it is JSON, else as a string.
func bodyValue(b []byte) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}

type principalDoc struct {
	Subject string   `json:"subject,omitempty"`
	Method  string   `json:"method,omitempty"`
	Scopes  []string `json:"scopes"`
}

func principalOf(ctx context.Context) principalDoc {
	p, _ := auth.FromContext(ctx)
	d := principalDoc{Subject: p.Subject, Method: p.Method, Scopes: []string{}}
	for _, s := range p.Scopes {
		d.Scopes = append(d.Scopes, string(s))
	}
	return d
}

// call POSTs a signed document and decodes the answer into out (an empty
// answer or 204 leaves out unchanged).
func (h *Hooks) call(ctx context.Context, u string, doc any, out any) error {
	body, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(h.cfg.Secret, body))
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, h.cfg.MaxBodyBytes+1))
	if err != nil {
		return err
	}
	if int64(len(b)) > h.cfg.MaxBodyBytes {
		return errors.New("hook answer too large")
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("hook answered %s", resp.Status)
	}
	if resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("hook answer is not the expected JSON: %w", err)
	}
	return nil
}

// PreRequest is what the pre-hook receives.
type PreRequest struct {
	Type      string              `json:"type"` // "pre"
	Time      time.Time           `json:"time"`
	RequestID string              `json:"request_id,omitempty"`
	Method    string              `json:"method"`
	Path      string              `json:"path"`
	Query     url.Values          `json:"query"`
	Headers   map[string][]string `json:"headers"`
	Body      json.RawMessage     `json:"body,omitempty"`
	Principal principalDoc        `json:"principal"`
}

// PreAnswer is what the pre-hook may answer; absent members change
// nothing.
type PreAnswer struct {
	// Reject answers the request without serving it.
	Reject *struct {
		Status  int               `json:"status"`
		Body    json.RawMessage   `json:"body"`
		Headers map[string]string `json:"headers"`
	} `json:"reject"`
	// Query replaces the whole query string.
	Query url.Values `json:"query"`
	// Headers are set on the request (an empty value removes one).
	Headers map[string]string `json:"headers"`
	// Body replaces the request body.
	Body json.RawMessage `json:"body"`
	// Collections and Filter narrow what the request sees.
	Collections json.RawMessage `json:"_collections"`
	Filter      json.RawMessage `json:"_filter"`
}

// Pre is the pre-hook middleware (a no-op without a pre-hook URL).
func (h *Hooks) Pre() httpx.Middleware {
	return func(next http.Handler) http.Handler {
		if h.cfg.PreURL == "" {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body []byte
			if r.Body != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
				b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
				if err != nil {
					httpx.WriteError(w, r, h.log, err)
					return
				}
				body = b
			}
			doc := PreRequest{Type: "pre", Time: time.Now().UTC(), RequestID: httpx.RequestID(r.Context()), Method: r.Method,
				Path: r.URL.Path, Query: r.URL.Query(), Headers: headersOf(r.Header), Body: bodyValue(body), Principal: principalOf(r.Context())}
			var ans PreAnswer
			if err := h.call(r.Context(), h.cfg.PreURL, doc, &ans); err != nil {
				if h.cfg.PreFailOpen {
					h.log.WarnContext(r.Context(), "pre-hook failed; serving the request (fail open)", "err", err)
					r.Body = io.NopCloser(bytes.NewReader(body))
					next.ServeHTTP(w, r)
					return
				}
				httpx.WriteError(w, r, h.log, &httpx.Error{Status: http.StatusServiceUnavailable, Code: httpx.CodeUnavailable,
					Description: "request hook unavailable", Err: err})
				return
			}
			if rj := ans.Reject; rj != nil {
				status := rj.Status
				if status < 400 || status > 599 {
					status = http.StatusForbidden
				}
				for k, v := range rj.Headers {
					w.Header().Set(k, v)
				}
				b := []byte(rj.Body)
				if len(b) == 0 || !json.Valid(b) {
					b, _ = json.Marshal(httpx.Body{Code: httpx.CodeForbidden, Description: "rejected by the request hook", RequestID: httpx.RequestID(r.Context())})
				}
				httpx.WriteBytes(w, status, "application/json", b)
				return
			}
			r2 := r.Clone(r.Context())
			if ans.Query != nil {
				r2.URL.RawQuery = ans.Query.Encode()
				r2.RequestURI = r2.URL.RequestURI()
			}
			for k, v := range ans.Headers {
				if v == "" {
					r2.Header.Del(k)
				} else {
					r2.Header.Set(k, v)
				}
			}
			if len(ans.Body) > 0 {
				body = ans.Body
			}
			r2.Body = io.NopCloser(bytes.NewReader(body))
			r2.ContentLength = int64(len(body))
			if len(ans.Collections) > 0 || len(ans.Filter) > 0 {
				narrow, err := auth.RestrictionFromJSON(ans.Collections, ans.Filter)
				if err != nil {
					// The hook, not the client, sent it: fail closed.
					httpx.WriteError(w, r, h.log, &httpx.Error{Status: http.StatusServiceUnavailable, Code: httpx.CodeUnavailable,
						Description: "request hook answered an invalid restriction", Err: err})
					return
				}
				r2 = r2.WithContext(auth.NarrowContext(r2.Context(), narrow))
			}
			next.ServeHTTP(w, r2)
		})
	}
}

// PostRequest is what the post-hook receives.
type PostRequest struct {
	Type      string              `json:"type"` // "post"
	Time      time.Time           `json:"time"`
	RequestID string              `json:"request_id,omitempty"`
	Method    string              `json:"method"`
	Path      string              `json:"path"`
	Query     url.Values          `json:"query"`
	Status    int                 `json:"status"`
	Headers   map[string][]string `json:"headers"`
	Body      json.RawMessage     `json:"body,omitempty"`
	Principal principalDoc        `json:"principal"`
}

// PostAnswer is what the post-hook may answer.
type PostAnswer struct {
	// Headers are set on the response (an empty value removes one).
	Headers map[string]string `json:"headers"`
	// Body replaces the response body (JSON).
	Body json.RawMessage `json:"body"`
}

// recorder buffers a response.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// Post is the post-hook middleware (a no-op without a post-hook URL). It
// sees JSON responses only; images and other bodies pass unchanged.
func (h *Hooks) Post() httpx.Middleware {
	return func(next http.Handler) http.Handler {
		if h.cfg.PostURL == "" {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &recorder{header: http.Header{}}
			next.ServeHTTP(rec, r)
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			out := w.Header()
			for k, v := range rec.header {
				out[k] = v
			}
			body := rec.body.Bytes()
			if strings.Contains(strings.ToLower(rec.header.Get("Content-Type")), "json") && r.Method != http.MethodHead {
				doc := PostRequest{Type: "post", Time: time.Now().UTC(), RequestID: httpx.RequestID(r.Context()), Method: r.Method,
					Path: r.URL.Path, Query: r.URL.Query(), Status: rec.status, Headers: rec.header, Body: bodyValue(body), Principal: principalOf(r.Context())}
				var ans PostAnswer
				if err := h.call(r.Context(), h.cfg.PostURL, doc, &ans); err != nil {
					h.log.WarnContext(r.Context(), "post-hook failed", "err", err, "path", r.URL.Path)
					if h.cfg.PostFailClosed {
						for k := range out {
							delete(out, k)
						}
						httpx.WriteError(w, r, h.log, &httpx.Error{Status: http.StatusBadGateway, Code: httpx.CodeUnavailable,
							Description: "response hook unavailable", Err: err})
						return
					}
				} else {
					for k, v := range ans.Headers {
						if v == "" {
							out.Del(k)
						} else {
							out.Set(k, v)
						}
					}
					if len(ans.Body) > 0 {
						body = ans.Body
						out.Del("ETag")
					}
				}
			}
			out.Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(rec.status)
			_, _ = w.Write(body)
		})
	}
}
