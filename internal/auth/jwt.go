package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// errUnavailable is a key-set fetch failure: the request cannot be
// authenticated now (503), which is not the client's fault.
var errUnavailable = errors.New("auth: key set unavailable")

// keySource finds the public key for a token's key id.
type keySource interface {
	key(ctx context.Context, kid string) (jwk.Key, error)
}

// staticKeys is a key set read once (a PEM public key or a JWKS file).
type staticKeys struct{ set jwk.Set }

func loadStaticKeys(path string) (*staticKeys, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth key file: %w", err)
	}
	var set jwk.Set
	if len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		set, err = jwk.Parse(b)
	} else {
		set, err = jwk.Parse(b, jwk.WithPEM(true))
	}
	if err != nil {
		return nil, fmt.Errorf("auth key file %s: %w", path, err)
	}
	if set.Len() == 0 {
		return nil, fmt.Errorf("auth key file %s: no keys", path)
	}
	return &staticKeys{set: set}, nil
}

func (s *staticKeys) key(_ context.Context, kid string) (jwk.Key, error) {
	return lookup(s.set, kid)
}

var errUnknownKey = errors.New("unknown signing key")

// lookup finds kid in set; a token without a kid matches the only key of a
// one-key set.
func lookup(set jwk.Set, kid string) (jwk.Key, error) {
	if set == nil {
		return nil, errUnknownKey
	}
	if kid == "" {
		if set.Len() == 1 {
			k, _ := set.Key(0)
			return k, nil
		}
		return nil, errUnknownKey
	}
	if k, ok := set.LookupKeyID(kid); ok {
		return k, nil
	}
	return nil, errUnknownKey
}

// remoteKeys is a JWKS fetched over HTTP, cached for ttl and fetched again
// (at most once per minRefresh) when a token names an unknown key id, so
// that key rotation needs no restart.
type remoteKeys struct {
	url        string
	client     *http.Client
	ttl        time.Duration
	minRefresh time.Duration
	now        func() time.Time

	mu      sync.Mutex
	set     jwk.Set
	fetched time.Time // last successful fetch
	tried   time.Time // last attempt
}

func (r *remoteKeys) key(ctx context.Context, kid string) (jwk.Key, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if r.set == nil || now.Sub(r.fetched) > r.ttl {
		if err := r.fetch(ctx, now); err != nil && r.set == nil {
			return nil, err
		}
	}
	k, err := lookup(r.set, kid)
	if err == nil {
		return k, nil
	}
	if now.Sub(r.tried) < r.minRefresh {
		return nil, err
	}
	if ferr := r.fetch(ctx, now); ferr != nil {
		return nil, err
	}
	return lookup(r.set, kid)
}

func (r *remoteKeys) fetch(ctx context.Context, now time.Time) error {
	r.tried = now
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", errUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", errUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: JWKS answered %s", errUnavailable, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: %v", errUnavailable, err)
	}
	set, err := jwk.Parse(b)
	if err != nil {
		return fmt.Errorf("%w: JWKS: %v", errUnavailable, err)
	}
	r.set, r.fetched = set, now
	return nil
}

// allowedAlgs are the signature algorithms accepted (no "none", no HMAC:
// a public key must never be usable as a shared secret).
var allowedAlgs = map[string]jwa.SignatureAlgorithm{
	"RS256": jwa.RS256(),
	"ES256": jwa.ES256(),
	"EdDSA": jwa.EdDSA(),
}

// invalidToken is a token that was presented but cannot be accepted.
type invalidToken struct{ reason string }

func (e *invalidToken) Error() string { return "invalid token: " + e.reason }

// verifyJWT checks the signature, algorithm, issuer, audience and
// validity period of a compact JWT and returns its claims.
func (a *Authenticator) verifyJWT(ctx context.Context, raw string) (map[string]any, error) {
	msg, err := jws.Parse([]byte(raw), jws.WithCompact())
	if err != nil || len(msg.Signatures()) != 1 {
		return nil, &invalidToken{"malformed"}
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	algHdr, _ := hdr.Algorithm()
	alg, ok := allowedAlgs[algHdr.String()]
	if !ok {
		return nil, &invalidToken{fmt.Sprintf("algorithm %q is not accepted", algHdr.String())}
	}
	kid, _ := hdr.KeyID()
	key, err := a.keys.key(ctx, kid)
	if errors.Is(err, errUnavailable) {
		return nil, err
	}
	if err != nil {
		return nil, &invalidToken{"unknown key id"}
	}
	if ka, ok := key.Algorithm(); ok && ka.String() != "" && ka.String() != alg.String() {
		return nil, &invalidToken{"algorithm does not match the key"}
	}
	opts := []jwt.ParseOption{
		jwt.WithKey(alg, key),
		jwt.WithValidate(true),
		jwt.WithAcceptableSkew(a.cfg.Leeway),
		jwt.WithClock(jwt.ClockFunc(a.now)),
	}
	if a.cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(a.cfg.Issuer))
	}
	if a.cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(a.cfg.Audience))
	}
	tok, err := jwt.Parse([]byte(raw), opts...)
	if err != nil {
		return nil, &invalidToken{tokenReason(err)}
	}
	if _, ok := tok.Expiration(); !ok {
		return nil, &invalidToken{"no expiry (exp)"}
	}
	b, err := json.Marshal(tok)
	if err != nil {
		return nil, &invalidToken{"claims"}
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		return nil, &invalidToken{"claims"}
	}
	return claims, nil
}

// tokenReason names why validation failed without echoing token content.
func tokenReason(err error) string {
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		return "expired"
	case errors.Is(err, jwt.TokenNotYetValidError()):
		return "not valid yet"
	case errors.Is(err, jwt.InvalidIssuerError()):
		return "wrong issuer"
	case errors.Is(err, jwt.InvalidAudienceError()):
		return "wrong audience"
	case errors.Is(err, jwt.InvalidIssuedAtError()):
		return "issued in the future"
	}
	return "signature or claims rejected"
}
