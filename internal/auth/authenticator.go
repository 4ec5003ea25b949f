package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/httpx"
)

// Anonymous is what requests without credentials may do.
type Anonymous string

// Anonymous policies.
const (
	AnonymousAll  Anonymous = "all"  // read and write (no authentication required; the default)
	AnonymousRead Anonymous = "read" // read only
	AnonymousNone Anonymous = "none" // nothing: every request needs credentials
)

// Config configures authentication.
type Config struct {
	// JWKSURL is where signing keys are fetched (cached for JWKSTTL,
	// fetched again on an unknown key id at most every JWKSMinRefresh).
	JWKSURL        string
	JWKSTTL        time.Duration
	JWKSMinRefresh time.Duration
	// KeyFile is a static verification key: a PEM public key or a JWKS
	// file (used when JWKSURL is empty).
	KeyFile  string
	Issuer   string // required "iss" when set
	Audience string // required in "aud" when set
	Leeway   time.Duration
	// Claim names: scopes (space-separated string or array; "scp" is
	// also read), visible collections (array or comma-separated string)
	// and a CQL2 filter (text or JSON).
	ScopeClaim       string
	CollectionsClaim string
	FilterClaim      string
	// DefaultScopes are given to a valid token without a scope claim.
	DefaultScopes []Scope
	// APIKeys are accepted in X-API-Key or "Authorization: ApiKey <key>".
	APIKeys []APIKey
	// Anonymous says what requests without credentials may do;
	// AnonymousCollections, when not nil, restricts what they see.
	Anonymous            Anonymous
	AnonymousCollections []string
	// TrustedHeaders honours stac-server's stac-collections-authx and
	// stac-filter-authx headers and _collections/_filter parameters,
	// which narrow what the request sees. Enable only behind a gateway
	// that sets (and strips client copies of) them.
	TrustedHeaders bool
	// RootPath is stripped before deciding which routes are writes.
	RootPath string
	Realm    string
	// MaxBodyBytes bounds the POST bodies read for _collections/_filter.
	MaxBodyBytes int64
	HTTPClient   *http.Client
}

// Defaults returns the configuration of an open server.
func Defaults() Config {
	return Config{
		JWKSTTL:          10 * time.Minute,
		JWKSMinRefresh:   30 * time.Second,
		Leeway:           30 * time.Second,
		ScopeClaim:       "scope",
		CollectionsClaim: "stac_collections",
		FilterClaim:      "stac_filter",
		DefaultScopes:    []Scope{ScopeRead},
		Anonymous:        AnonymousAll,
		Realm:            "tessera",
		MaxBodyBytes:     10 << 20,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch c.Anonymous {
	case AnonymousAll, AnonymousRead, AnonymousNone:
	default:
		return fmt.Errorf("anonymous access %q: want all, read or none", c.Anonymous)
	}
	if c.JWKSURL != "" && c.KeyFile != "" {
		return errors.New("give a JWKS URL or a key file, not both")
	}
	if c.Anonymous != AnonymousAll && c.JWKSURL == "" && c.KeyFile == "" && len(c.APIKeys) == 0 {
		return fmt.Errorf("anonymous access %q needs a way to authenticate: a JWKS URL, a key file or API keys", c.Anonymous)
	}
	return nil
}

// Authenticator turns request credentials into a Principal.
type Authenticator struct {
	cfg  Config
	keys keySource // nil: no JWTs
	log  *slog.Logger
	now  func() time.Time
}

// New builds an authenticator.
func New(cfg Config, log *slog.Logger) (*Authenticator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Authenticator{cfg: cfg, log: log, now: time.Now}
	switch {
	case cfg.JWKSURL != "":
		client := cfg.HTTPClient
		if client == nil {
			client = &http.Client{Timeout: 10 * time.Second}
		}
		a.keys = &remoteKeys{url: cfg.JWKSURL, client: client, ttl: cfg.JWKSTTL, minRefresh: cfg.JWKSMinRefresh, now: func() time.Time { return a.now() }}
	case cfg.KeyFile != "":
		k, err := loadStaticKeys(cfg.KeyFile)
		if err != nil {
			return nil, err
		}
		a.keys = k
	}
	if a.keys != nil && cfg.Audience == "" && log != nil {
		log.Warn("JWTs are accepted for any audience: set the audience (--auth-audience) so tokens issued for other services are refused")
	}
	return a, nil
}

// SetClock replaces the clock (tests).
func (a *Authenticator) SetClock(now func() time.Time) { a.now = now }

// enabled reports whether any credential is accepted.
func (a *Authenticator) enabled() bool { return a.keys != nil || len(a.cfg.APIKeys) > 0 }

func (a *Authenticator) anonymous() Principal {
	p := Principal{}
	switch a.cfg.Anonymous {
	case AnonymousAll:
		p.Scopes = []Scope{ScopeRead, ScopeWrite}
	case AnonymousRead:
		p.Scopes = []Scope{ScopeRead}
	}
	if a.cfg.AnonymousCollections != nil {
		p.Collections = slices.Clone(a.cfg.AnonymousCollections)
	}
	return p
}

// Authenticate returns the request's principal. Without credentials it is
// the anonymous principal; invalid credentials are an *invalidToken error;
// a key set that cannot be fetched wraps errUnavailable.
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	if !a.enabled() {
		return a.anonymous(), nil
	}
	if k := r.Header.Get("X-API-Key"); k != "" {
		return a.apiKey(k)
	}
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return a.anonymous(), nil
	}
	scheme, cred, _ := strings.Cut(authz, " ")
	cred = strings.TrimSpace(cred)
	switch {
	case strings.EqualFold(scheme, "ApiKey"):
		return a.apiKey(cred)
	case strings.EqualFold(scheme, "Bearer"):
		if a.keys == nil {
			// A bearer API key.
			return a.apiKey(cred)
		}
		if strings.Count(cred, ".") != 2 && len(a.cfg.APIKeys) > 0 {
			return a.apiKey(cred)
		}
		claims, err := a.verifyJWT(r.Context(), cred)
		if err != nil {
			return Principal{}, err
		}
		return a.fromClaims(claims)
	}
	return Principal{}, &invalidToken{"unsupported authorization scheme"}
}

func (a *Authenticator) apiKey(k string) (Principal, error) {
	if k == "" || len(a.cfg.APIKeys) == 0 {
		return Principal{}, &invalidToken{"unknown API key"}
	}
	p, ok := matchAPIKey(a.cfg.APIKeys, k)
	if !ok {
		return Principal{}, &invalidToken{"unknown API key"}
	}
	return p, nil
}

// fromClaims maps verified claims to a principal.
func (a *Authenticator) fromClaims(claims map[string]any) (Principal, error) {
	p := Principal{Method: "jwt"}
	p.Subject, _ = claims["sub"].(string)
	raw, ok := claims[a.cfg.ScopeClaim]
	if !ok {
		raw, ok = claims["scp"]
	}
	if ok {
		for _, s := range stringsOf(raw, " ") {
			if sc, ok := ParseScope(s); ok {
				p.Scopes = append(p.Scopes, sc)
			}
		}
	} else {
		p.Scopes = slices.Clone(a.cfg.DefaultScopes)
	}
	if v, ok := claims[a.cfg.CollectionsClaim]; ok && v != nil {
		p.Collections = append([]string{}, stringsOf(v, ",")...)
	}
	if v, ok := claims[a.cfg.FilterClaim]; ok && v != nil {
		f, err := parseFilterClaim(v)
		if err != nil {
			return Principal{}, &invalidToken{"filter claim is not valid CQL2"}
		}
		p.Filter = f
	}
	return p, nil
}

// stringsOf reads a claim that is an array of strings or a string of
// sep-separated values.
func stringsOf(v any, sep string) []string {
	var out []string
	switch x := v.(type) {
	case string:
		for _, s := range strings.Split(x, sep) {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// parseFilterClaim reads a CQL2 filter given as text or as a JSON object.
func parseFilterClaim(v any) (cql2.Expr, error) {
	switch x := v.(type) {
	case string:
		s := strings.TrimSpace(x)
		if strings.HasPrefix(s, "{") {
			return cql2.ParseJSON([]byte(s))
		}
		return cql2.ParseText(s)
	case map[string]any:
		b, err := jsonMarshal(x)
		if err != nil {
			return nil, err
		}
		return cql2.ParseJSON(b)
	}
	return nil, fmt.Errorf("want CQL2 text or JSON, got %T", v)
}

// RequiredScope is the scope a request needs: read for GET, HEAD and
// OPTIONS and for the POSTs that only read (searches, aggregations, the
// tiler's search registration, statistics and feature endpoints); write
// for everything else (the Transaction extension's POST /collections,
// POST /collections/{id}/items, PUT, PATCH, DELETE, and any method or
// route not known to read). path is the escaped path, as the router
// matches it.
func RequiredScope(method, path string) Scope {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return ScopeRead
	case http.MethodPost:
		p := strings.TrimSuffix(path, "/")
		switch {
		case p == "/search", p == "/aggregate", p == "/searches/register",
			strings.HasPrefix(p, "/collections/") && strings.HasSuffix(p, "/aggregate") && strings.Count(p, "/") == 3,
			strings.HasSuffix(p, "/statistics"), strings.HasSuffix(p, "/feature"):
			return ScopeRead
		}
	}
	return ScopeWrite
}

// Middleware authenticates every request, refuses what the principal may
// not do (401 with WWW-Authenticate without valid credentials, 403 when
// the scope is missing) and stores the principal in the context.
func (a *Authenticator) Middleware() httpx.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodOptions {
				next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), a.anonymous())))
				return
			}
			p, err := a.Authenticate(r)
			var it *invalidToken
			switch {
			case errors.As(err, &it):
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q, error="invalid_token", error_description=%q`, a.cfg.Realm, it.Error()))
				httpx.WriteError(w, r, a.log, &httpx.Error{Status: http.StatusUnauthorized, Code: httpx.CodeUnauthorized, Description: it.Error()})
				return
			case err != nil:
				a.log.WarnContext(r.Context(), "authentication unavailable", "err", err)
				httpx.WriteError(w, r, a.log, &httpx.Error{Status: http.StatusServiceUnavailable, Code: httpx.CodeUnavailable, Description: "authentication is temporarily unavailable", Err: err})
				return
			}
			path := r.URL.EscapedPath()
			if root := a.cfg.RootPath; root != "" && (path == root || strings.HasPrefix(path, root+"/")) {
				path = strings.TrimPrefix(path, root)
			}
			need := RequiredScope(r.Method, path)
			if !p.Has(need) {
				if p.Anonymous() {
					w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q`, a.cfg.Realm))
					httpx.WriteError(w, r, a.log, &httpx.Error{Status: http.StatusUnauthorized, Code: httpx.CodeUnauthorized, Description: "authentication required"})
					return
				}
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q, error="insufficient_scope", scope=%q`, a.cfg.Realm, string(need)))
				httpx.WriteError(w, r, a.log, &httpx.Error{Status: http.StatusForbidden, Code: httpx.CodeForbidden, Description: fmt.Sprintf("the %q scope is required", need)})
				return
			}
			ctx := WithPrincipal(r.Context(), p)
			r = r.WithContext(ctx)
			if a.cfg.TrustedHeaders {
				var err error
				if r, err = a.trusted(w, r, need); err != nil {
					httpx.WriteError(w, r, a.log, err)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
