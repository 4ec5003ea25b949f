package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/search"
)

// Scope is a permission a principal holds.
type Scope string

// Scopes, each implying the ones before it.
const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
	ScopeAdmin Scope = "admin"
)

func (s Scope) rank() int {
	switch s {
	case ScopeRead:
		return 1
	case ScopeWrite:
		return 2
	case ScopeAdmin:
		return 3
	}
	return 0
}

// ParseScope maps a scope name ("read", "write", "admin", optionally with
// a "stac:" prefix) to a Scope; ok is false for other names.
func ParseScope(s string) (Scope, bool) {
	sc := Scope(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "stac:"))
	return sc, sc.rank() > 0
}

// Restriction limits what a principal sees. The zero value restricts
// nothing.
type Restriction struct {
	// Collections, when not nil, are the only collections visible (an
	// empty, non-nil list: none).
	Collections []string
	// Filter, when not nil, is a CQL2 filter every visible item matches.
	Filter cql2.Expr
}

// Unrestricted reports whether r restricts nothing.
func (r Restriction) Unrestricted() bool { return r.Collections == nil && r.Filter == nil }

// Narrow returns the restriction that satisfies both r and o: the
// intersection of the collection lists and the conjunction of the filters.
func (r Restriction) Narrow(o Restriction) Restriction {
	out := Restriction{Collections: r.Collections, Filter: r.Filter}
	switch {
	case o.Collections == nil:
	case out.Collections == nil:
		out.Collections = slices.Clone(o.Collections)
	default:
		both := []string{}
		for _, c := range out.Collections {
			if slices.Contains(o.Collections, c) {
				both = append(both, c)
			}
		}
		out.Collections = both
	}
	switch {
	case o.Filter == nil:
	case out.Filter == nil:
		out.Filter = o.Filter
	default:
		out.Filter = cql2.And{Args: []cql2.Expr{out.Filter, o.Filter}}
	}
	return out
}

// Allows reports whether the collection is visible.
func (r Restriction) Allows(collection string) bool {
	return r.Collections == nil || slices.Contains(r.Collections, collection)
}

// Principal is who made a request.
type Principal struct {
	// Subject identifies the principal ("sub" of a token, the name of an
	// API key); empty for anonymous requests.
	Subject string
	// Method is how it was authenticated: "jwt", "api-key" or "" (anonymous).
	Method string
	Scopes []Scope
	Restriction
}

// Anonymous reports whether no credentials were presented.
func (p Principal) Anonymous() bool { return p.Method == "" }

// Has reports whether the principal holds scope s (admin implies write,
// write implies read).
func (p Principal) Has(s Scope) bool {
	for _, x := range p.Scopes {
		if x.rank() >= s.rank() {
			return true
		}
	}
	return false
}

type ctxKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, &p)
}

// FromContext returns the request's principal; ok is false when the
// context carries none (an internal caller, e.g. ingest), which is
// unrestricted.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(*Principal)
	if !ok {
		return Principal{}, false
	}
	return *p, true
}

// NarrowContext returns a context whose principal is further restricted by
// o (used by trusted gateway headers and the pre-hook). A context without
// a principal gets an anonymous one restricted by o.
func NarrowContext(ctx context.Context, o Restriction) context.Context {
	p, _ := FromContext(ctx)
	p.Restriction = p.Restriction.Narrow(o)
	return WithPrincipal(ctx, p)
}

// RestrictionOf returns the context's restriction (none without a
// principal).
func RestrictionOf(ctx context.Context) Restriction {
	p, _ := FromContext(ctx)
	return p.Restriction
}

// CacheKey is a fingerprint of the context's restriction ("" when
// unrestricted): caches shared between requests (tiles, mosaics) must
// include it in their keys.
func CacheKey(ctx context.Context) string {
	r := RestrictionOf(ctx)
	if r.Unrestricted() {
		return ""
	}
	var b strings.Builder
	if r.Collections != nil {
		cs := slices.Clone(r.Collections)
		slices.Sort(cs)
		b.WriteString("c:" + strings.Join(slices.Compact(cs), ",") + ";")
	}
	if r.Filter != nil {
		b.WriteString("f:" + cql2.Text(r.Filter))
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:12])
}

// Restrict ANDs the context principal's restriction into q: the searched
// collections are intersected with the visible ones and the principal's
// filter is ANDed with q's. It returns false when nothing can match (the
// caller answers an empty result without asking the store).
//
// Tiles, mosaics and any other code building a search.Query from a
// request must call it before store.Search (or read through Store, which
// does).
func Restrict(ctx context.Context, q *search.Query) bool {
	return RestrictQuery(RestrictionOf(ctx), q)
}

// RestrictQuery is Restrict with an explicit restriction.
func RestrictQuery(r Restriction, q *search.Query) bool {
	if r.Collections != nil {
		if len(q.Collections) == 0 {
			q.Collections = slices.Clone(r.Collections)
		} else {
			var keep []string
			for _, c := range q.Collections {
				if r.Allows(c) {
					keep = append(keep, c)
				}
			}
			q.Collections = keep
		}
		if len(q.Collections) == 0 {
			return false
		}
	}
	if r.Filter != nil {
		if q.Filter == nil {
			q.Filter = r.Filter
		} else {
			q.Filter = cql2.And{Args: []cql2.Expr{q.Filter, r.Filter}}
		}
	}
	return true
}
