// Package authtest issues JWTs for tests: an Issuer holds generated
// signing keys (RSA, EC P-256 and Ed25519) and serves their JWKS from an
// httptest server on 127.0.0.1.
package authtest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Issuer signs tokens and serves the JWKS of its published keys.
type Issuer struct {
	URL      string // JWKS URL
	Name     string // iss
	Audience string // aud
	Fetches  atomic.Int64

	t       testing.TB
	mu      sync.Mutex
	keys    map[string]signer // kid → private key
	publish map[string]bool
}

type signer struct {
	alg jwa.SignatureAlgorithm
	key jwk.Key
}

// New starts an issuer with one published RSA key "rsa-1", one EC key
// "ec-1" and one Ed25519 key "ed-1".
func New(t testing.TB) *Issuer {
	t.Helper()
	is := &Issuer{Name: "https://issuer.test", Audience: "tessera", t: t, keys: map[string]signer{}, publish: map[string]bool{}}
	is.AddKey("rsa-1", jwa.RS256(), true)
	is.AddKey("ec-1", jwa.ES256(), true)
	is.AddKey("ed-1", jwa.EdDSA(), true)
	srv := httptest.NewServer(http.HandlerFunc(is.serveJWKS))
	t.Cleanup(srv.Close)
	is.URL = srv.URL + "/.well-known/jwks.json"
	return is
}

// AddKey generates a key for alg under kid; published keys appear in the
// JWKS.
func (is *Issuer) AddKey(kid string, alg jwa.SignatureAlgorithm, published bool) {
	var raw any
	var err error
	switch alg.String() {
	case "RS256":
		raw, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		raw, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, raw, err = ed25519.GenerateKey(rand.Reader)
	default:
		is.t.Fatalf("authtest: unsupported alg %s", alg)
	}
	if err != nil {
		is.t.Fatal(err)
	}
	k, err := jwk.Import(raw)
	if err != nil {
		is.t.Fatal(err)
	}
	_ = k.Set(jwk.KeyIDKey, kid)
	_ = k.Set(jwk.AlgorithmKey, alg)
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys[kid] = signer{alg, k}
	is.publish[kid] = published
}

// Publish adds kid to the JWKS (key rotation).
func (is *Issuer) Publish(kid string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.publish[kid] = true
}

func (is *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	is.Fetches.Add(1)
	is.mu.Lock()
	set := jwk.NewSet()
	for kid, s := range is.keys {
		if !is.publish[kid] {
			continue
		}
		pub, err := jwk.PublicKeyOf(s.key)
		if err != nil {
			is.mu.Unlock()
			http.Error(w, err.Error(), 500)
			return
		}
		_ = set.AddKey(pub)
	}
	is.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(set)
}

// Claims are a token's claims; zero values get defaults.
type Claims struct {
	Subject   string
	Issuer    string // default is.Name
	Audience  string // default is.Audience
	Expires   time.Time
	NotBefore time.Time
	NoExpiry  bool
	Extra     map[string]any
}

// Token signs claims with kid's key ("rsa-1" when empty).
func (is *Issuer) Token(kid string, c Claims) string {
	is.t.Helper()
	if kid == "" {
		kid = "rsa-1"
	}
	is.mu.Lock()
	s, ok := is.keys[kid]
	is.mu.Unlock()
	if !ok {
		is.t.Fatalf("authtest: no key %q", kid)
	}
	if c.Issuer == "" {
		c.Issuer = is.Name
	}
	if c.Audience == "" {
		c.Audience = is.Audience
	}
	if c.Expires.IsZero() {
		c.Expires = time.Now().Add(time.Hour)
	}
	b := jwt.NewBuilder().Issuer(c.Issuer).Audience([]string{c.Audience}).Subject(c.Subject).IssuedAt(time.Now().Add(-time.Minute))
	if !c.NoExpiry {
		b = b.Expiration(c.Expires)
	}
	if !c.NotBefore.IsZero() {
		b = b.NotBefore(c.NotBefore)
	}
	for k, v := range c.Extra {
		b = b.Claim(k, v)
	}
	tok, err := b.Build()
	if err != nil {
		is.t.Fatal(err)
	}
	out, err := jwt.Sign(tok, jwt.WithKey(s.alg, s.key))
	if err != nil {
		is.t.Fatal(err)
	}
	return string(out)
}
