package app

import (
	"net"
	"net/http"

	"github.com/tessera-geo/tessera/internal/auth"
	"github.com/tessera-geo/tessera/internal/hooks"
	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/ratelimit"
)

// authConfig maps serve's settings to the authenticator's.
func (a *App) authConfig() (auth.Config, error) {
	s := a.cfg.Security
	c := auth.Defaults()
	c.JWKSURL, c.KeyFile, c.Issuer, c.Audience = s.AuthJWKSURL, s.AuthKeyFile, s.AuthIssuer, s.AuthAudience
	if s.AuthLeeway > 0 {
		c.Leeway = s.AuthLeeway
	}
	if s.AuthAnonymous != "" {
		c.Anonymous = auth.Anonymous(s.AuthAnonymous)
	}
	c.AnonymousCollections = s.AuthAnonymousCollections
	if s.AuthScopeClaim != "" {
		c.ScopeClaim = s.AuthScopeClaim
	}
	if s.AuthCollectionsClaim != "" {
		c.CollectionsClaim = s.AuthCollectionsClaim
	}
	if s.AuthFilterClaim != "" {
		c.FilterClaim = s.AuthFilterClaim
	}
	c.TrustedHeaders = s.AuthTrustedHeaders
	c.RootPath = a.cfg.RootPath
	if s.AuthAPIKeysFile != "" {
		keys, err := auth.LoadAPIKeys(s.AuthAPIKeysFile)
		if err != nil {
			return c, err
		}
		c.APIKeys = append(c.APIKeys, keys...)
	}
	if s.AuthAPIKeys != "" {
		keys, err := auth.ParseAPIKeys([]byte(s.AuthAPIKeys))
		if err != nil {
			return c, err
		}
		c.APIKeys = append(c.APIKeys, keys...)
	}
	return c, nil
}

// middleware is the HTTP chain around the routes, outermost first.
func (a *App) middleware(stripRoot httpx.Middleware) ([]httpx.Middleware, error) {
	s := a.cfg.Security
	acfg, err := a.authConfig()
	if err != nil {
		return nil, err
	}
	authn, err := auth.New(acfg, a.log)
	if err != nil {
		return nil, err
	}
	chain := []httpx.Middleware{
		httpx.RequestIDs(), httpx.AccessLog(a.log), httpx.Recover(a.log),
		httpx.RequestLimits(s.MaxURLBytes, s.MaxHeaderCount),
		httpx.CORSWith(httpx.CORSConfig{Origins: s.CORSOrigins, Credentials: s.CORSCredentials, Methods: s.CORSMethods, Headers: s.CORSHeaders}),
	}
	if s.Gzip {
		chain = append(chain, httpx.Gzip())
	}
	chain = append(chain, httpx.SecurityHeaders())
	if s.RateLimitIP > 0 {
		chain = append(chain, ratelimit.Middleware(ratelimit.New(s.RateLimitIP, s.RateLimitBurst, 0), clientAddr, a.log))
	}
	chain = append(chain, authn.Middleware())
	if s.RateLimit > 0 {
		chain = append(chain, ratelimit.Middleware(ratelimit.New(s.RateLimit, s.RateLimitBurst, 0), principalKey, a.log))
	}
	if s.PreHookURL != "" || s.PostHookURL != "" {
		h, err := hooks.New(hooks.Config{PreURL: s.PreHookURL, PostURL: s.PostHookURL, Secret: []byte(s.HookSecret),
			Timeout: s.HookTimeout, PreFailOpen: s.PreHookFailOpen, PostFailClosed: s.PostHookFailClosed}, a.log)
		if err != nil {
			return nil, err
		}
		chain = append(chain, h.Pre(), h.Post())
	}
	return append(chain, stripRoot), nil
}

// clientAddr keys rate limits by the connection's address (not by
// X-Forwarded-For, which clients can forge).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return "ip:" + host
}

// principalKey keys rate limits by the authenticated principal, or by
// address for anonymous requests.
func principalKey(r *http.Request) string {
	if p, ok := auth.FromContext(r.Context()); ok && !p.Anonymous() {
		return p.Method + ":" + p.Subject
	}
	return clientAddr(r)
}
