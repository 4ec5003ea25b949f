package config

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/pflag"
)

// Security configures authentication, authorization, request limits,
// CORS, compression and the pre/post hooks of `tessera serve`. The zero
// value is an open server, as before these settings existed.
type Security struct {
	AuthJWKSURL              string
	AuthKeyFile              string
	AuthIssuer               string
	AuthAudience             string
	AuthLeeway               time.Duration
	AuthAPIKeysFile          string
	AuthAPIKeys              string // JSON array (env TESSERA_AUTH_API_KEYS)
	AuthAnonymous            string // all (default), read or none
	AuthAnonymousCollections []string
	AuthScopeClaim           string
	AuthCollectionsClaim     string
	AuthFilterClaim          string
	AuthTrustedHeaders       bool

	CORSOrigins     []string
	CORSCredentials bool
	CORSMethods     []string
	CORSHeaders     []string

	RateLimit      float64 // requests per second per principal (or per IP when anonymous); 0 off
	RateLimitBurst int
	RateLimitIP    float64 // requests per second per client address, before authentication; 0 off

	Gzip           bool
	MaxURLBytes    int
	MaxHeaderCount int

	PreHookURL         string
	PostHookURL        string
	HookSecret         string
	HookTimeout        time.Duration
	PreHookFailOpen    bool
	PostHookFailClosed bool

	AssetProxy        string // NONE (default), ALL or LIST
	AssetProxyBuckets []string
	AssetProxyExpiry  time.Duration
	AssetProxyRegion  string
	// AssetProxyEndpoint is the S3 endpoint URL to presign for (default:
	// --s3-endpoint, or AWS).
	AssetProxyEndpoint string
}

// AddFlags registers the security flags.
func (c *Security) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.AuthJWKSURL, "auth-jwks-url", "", "JWKS URL whose keys verify Bearer JWTs (RS256, ES256, EdDSA) (env TESSERA_AUTH_JWKS_URL)")
	fs.StringVar(&c.AuthKeyFile, "auth-key-file", "", "static JWT verification key: a PEM public key or a JWKS file (env TESSERA_AUTH_KEY_FILE)")
	fs.StringVar(&c.AuthIssuer, "auth-issuer", "", "required JWT issuer (iss) (env TESSERA_AUTH_ISSUER)")
	fs.StringVar(&c.AuthAudience, "auth-audience", "", "required JWT audience (aud) (env TESSERA_AUTH_AUDIENCE)")
	fs.DurationVar(&c.AuthLeeway, "auth-leeway", 30*time.Second, "clock skew tolerated on exp/nbf (env TESSERA_AUTH_LEEWAY)")
	fs.StringVar(&c.AuthAPIKeysFile, "auth-api-keys-file", "", "JSON file of API keys as SHA-256 hashes: [{name, sha256, scopes, collections, filter}] (env TESSERA_AUTH_API_KEYS_FILE)")
	fs.StringVar(&c.AuthAPIKeys, "auth-api-keys", "", "API keys in the file's JSON format, usually from the environment (env TESSERA_AUTH_API_KEYS)")
	fs.StringVar(&c.AuthAnonymous, "auth-anonymous", "all", "what requests without credentials may do: all, read or none (env TESSERA_AUTH_ANONYMOUS)")
	fs.StringSliceVar(&c.AuthAnonymousCollections, "auth-anonymous-collections", nil, "the only collections anonymous requests see (default: all) (env TESSERA_AUTH_ANONYMOUS_COLLECTIONS)")
	fs.StringVar(&c.AuthScopeClaim, "auth-scope-claim", "scope", "JWT claim with the scopes read, write, admin (env TESSERA_AUTH_SCOPE_CLAIM)")
	fs.StringVar(&c.AuthCollectionsClaim, "auth-collections-claim", "stac_collections", "JWT claim listing the visible collections (env TESSERA_AUTH_COLLECTIONS_CLAIM)")
	fs.StringVar(&c.AuthFilterClaim, "auth-filter-claim", "stac_filter", "JWT claim with a CQL2 filter every visible item matches (env TESSERA_AUTH_FILTER_CLAIM)")
	fs.BoolVar(&c.AuthTrustedHeaders, "auth-trusted-headers", false, "honour stac-collections-authx/stac-filter-authx headers and _collections/_filter parameters (only behind a gateway that sets them) (env TESSERA_AUTH_TRUSTED_HEADERS)")
	fs.StringSliceVar(&c.CORSOrigins, "cors-origins", []string{"*"}, "origins allowed by CORS (* for any) (env TESSERA_CORS_ORIGINS)")
	fs.BoolVar(&c.CORSCredentials, "cors-credentials", false, "allow credentialed CORS requests (needs explicit origins) (env TESSERA_CORS_CREDENTIALS)")
	fs.StringSliceVar(&c.CORSMethods, "cors-methods", nil, "methods allowed by CORS (default GET, POST, PUT, PATCH, DELETE, OPTIONS) (env TESSERA_CORS_METHODS)")
	fs.StringSliceVar(&c.CORSHeaders, "cors-headers", nil, "request headers allowed by CORS (default Content-Type, Authorization, If-Match, If-None-Match, X-Request-Id, X-API-Key) (env TESSERA_CORS_HEADERS)")
	fs.Float64Var(&c.RateLimit, "rate-limit", 0, "requests per second per principal (per address when anonymous); 0 disables (env TESSERA_RATE_LIMIT)")
	fs.IntVar(&c.RateLimitBurst, "rate-limit-burst", 0, "burst size of the rate limits (default 2× the rate, at least 10) (env TESSERA_RATE_LIMIT_BURST)")
	fs.Float64Var(&c.RateLimitIP, "rate-limit-ip", 0, "requests per second per client address before authentication; 0 disables (env TESSERA_RATE_LIMIT_IP)")
	fs.BoolVar(&c.Gzip, "gzip", true, "gzip JSON responses for clients that accept it (env TESSERA_GZIP)")
	fs.IntVar(&c.MaxURLBytes, "max-url-bytes", 16<<10, "longest request URL (414 beyond) (env TESSERA_MAX_URL_BYTES)")
	fs.IntVar(&c.MaxHeaderCount, "max-header-count", 100, "most request header fields (431 beyond) (env TESSERA_MAX_HEADER_COUNT)")
	fs.StringVar(&c.PreHookURL, "pre-hook-url", "", "webhook called before each request; may reject or rewrite it (env TESSERA_PRE_HOOK_URL)")
	fs.StringVar(&c.PostHookURL, "post-hook-url", "", "webhook called with each JSON response; may change headers and body (env TESSERA_POST_HOOK_URL)")
	fs.StringVar(&c.HookSecret, "hook-secret", "", "HMAC-SHA256 key signing hook requests (X-Tessera-Signature); prefer the environment (env TESSERA_HOOK_SECRET)")
	fs.DurationVar(&c.HookTimeout, "hook-timeout", 5*time.Second, "timeout of a hook call (env TESSERA_HOOK_TIMEOUT)")
	fs.BoolVar(&c.PreHookFailOpen, "pre-hook-fail-open", false, "serve the request when the pre-hook fails (default: 503) (env TESSERA_PRE_HOOK_FAIL_OPEN)")
	fs.StringVar(&c.AssetProxy, "asset-proxy", "NONE", "serve s3:// asset hrefs through /collections/{cid}/items/{iid}/assets/{key} (302 to a presigned URL): NONE, ALL or LIST (env TESSERA_ASSET_PROXY)")
	fs.StringSliceVar(&c.AssetProxyBuckets, "asset-proxy-buckets", nil, "buckets proxied in LIST mode (env TESSERA_ASSET_PROXY_BUCKETS)")
	fs.DurationVar(&c.AssetProxyExpiry, "asset-proxy-expiry", 5*time.Minute, "lifetime of presigned asset URLs (env TESSERA_ASSET_PROXY_EXPIRY)")
	fs.StringVar(&c.AssetProxyRegion, "asset-proxy-region", "", "S3 region for presigning (default: the AWS SDK's) (env TESSERA_ASSET_PROXY_REGION)")
	fs.StringVar(&c.AssetProxyEndpoint, "asset-proxy-endpoint", "", "S3-compatible endpoint URL presigned asset URLs point to, e.g. http://127.0.0.1:7070 (default: --s3-endpoint, or AWS) (env TESSERA_ASSET_PROXY_ENDPOINT)")
	fs.BoolVar(&c.PostHookFailClosed, "post-hook-fail-closed", false, "answer 502 when the post-hook fails (default: log and send the response unchanged) (env TESSERA_POST_HOOK_FAIL_CLOSED)")
}

// Validate checks the security settings.
func (c Security) Validate() error {
	var errs []error
	switch c.AuthAnonymous {
	case "", "all", "read", "none":
	default:
		errs = append(errs, fmt.Errorf("--auth-anonymous %q: want all, read or none", c.AuthAnonymous))
	}
	if c.AuthJWKSURL != "" && c.AuthKeyFile != "" {
		errs = append(errs, errors.New("--auth-jwks-url and --auth-key-file exclude each other"))
	}
	if c.AuthAnonymous == "read" || c.AuthAnonymous == "none" {
		if c.AuthJWKSURL == "" && c.AuthKeyFile == "" && c.AuthAPIKeysFile == "" && c.AuthAPIKeys == "" {
			errs = append(errs, fmt.Errorf("--auth-anonymous=%s needs --auth-jwks-url, --auth-key-file or API keys", c.AuthAnonymous))
		}
	}
	for _, u := range []struct{ flag, v string }{{"--auth-jwks-url", c.AuthJWKSURL}, {"--pre-hook-url", c.PreHookURL}, {"--post-hook-url", c.PostHookURL}} {
		if u.v == "" {
			continue
		}
		p, err := url.Parse(u.v)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("%s %q: want an absolute http(s) URL", u.flag, u.v))
		}
	}
	if (c.PreHookURL != "" || c.PostHookURL != "") && c.HookSecret == "" {
		errs = append(errs, errors.New("hooks need --hook-secret (TESSERA_HOOK_SECRET) to sign their requests"))
	}
	if c.CORSCredentials {
		for _, o := range c.CORSOrigins {
			if o == "*" {
				errs = append(errs, errors.New("--cors-credentials needs explicit --cors-origins, not *"))
			}
		}
	}
	switch c.AssetProxy {
	case "", "NONE", "ALL":
	case "LIST":
		if len(c.AssetProxyBuckets) == 0 {
			errs = append(errs, errors.New("--asset-proxy=LIST needs --asset-proxy-buckets"))
		}
	default:
		errs = append(errs, fmt.Errorf("--asset-proxy %q: want NONE, ALL or LIST", c.AssetProxy))
	}
	if c.RateLimit < 0 || c.RateLimitIP < 0 || c.RateLimitBurst < 0 {
		errs = append(errs, errors.New("rate limits must be ≥ 0"))
	}
	return errors.Join(errs...)
}
