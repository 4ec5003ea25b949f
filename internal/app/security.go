package app

import (
	"github.com/tessera-geo/tessera/internal/auth"
	"github.com/tessera-geo/tessera/internal/httpx"
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
	acfg, err := a.authConfig()
	if err != nil {
		return nil, err
	}
	authn, err := auth.New(acfg, a.log)
	if err != nil {
		return nil, err
	}
	return []httpx.Middleware{
		httpx.RequestIDs(), httpx.AccessLog(a.log), httpx.Recover(a.log),
		httpx.CORS("*"),
		authn.Middleware(),
		stripRoot,
	}, nil
}
