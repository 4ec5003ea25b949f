// Package ratelimit is a keyed token-bucket rate limiter with bounded
// memory, and its HTTP middleware (429 with Retry-After).
package ratelimit

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/tessera-geo/tessera/internal/httpx"
)

// Limiter keeps one token bucket per key: rate tokens a second, at most
// burst. At most maxKeys buckets are kept; when full, buckets that have
// refilled (idle clients) are dropped first, then arbitrary ones (a
// dropped client starts again with a full bucket, so memory pressure
// errs towards allowing).
type Limiter struct {
	rate    float64
	burst   float64
	maxKeys int
	now     func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a limiter; burst < 1 means max(10, 2×rate).
func New(rate float64, burst int, maxKeys int) *Limiter {
	b := float64(burst)
	if burst < 1 {
		b = math.Max(10, 2*rate)
	}
	if maxKeys < 1 {
		maxKeys = 100_000
	}
	return &Limiter{rate: rate, burst: b, maxKeys: maxKeys, now: time.Now, buckets: map[string]*bucket{}}
}

// SetClock replaces the clock (tests).
func (l *Limiter) SetClock(now func() time.Time) { l.now = now }

// Len is the number of buckets kept.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// Allow takes a token from key's bucket. When none is left it returns
// false and how long until one is.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.maxKeys {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// evict frees at least a tenth of the buckets, full ones first.
func (l *Limiter) evict(now time.Time) {
	target := len(l.buckets) - l.maxKeys*9/10
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, k)
			target--
		}
	}
	for k := range l.buckets {
		if target <= 0 {
			break
		}
		delete(l.buckets, k)
		target--
	}
}

// Middleware refuses requests over the limit of their key with 429 and
// Retry-After (whole seconds, at least 1). An empty key is not limited.
func Middleware(l *Limiter, key func(*http.Request) string, log *slog.Logger) httpx.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k := key(r)
			if k == "" {
				next.ServeHTTP(w, r)
				return
			}
			ok, wait := l.Allow(k)
			if !ok {
				secs := int(math.Ceil(wait.Seconds()))
				w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
				httpx.WriteError(w, r, log, &httpx.Error{Status: http.StatusTooManyRequests, Code: httpx.CodeTooManyRequests,
					Description: fmt.Sprintf("too many requests: retry in %d s", max(1, secs))})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
