package api

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/tessera-geo/tessera/internal/auth"
)

// queryableNames caches, per principal restriction and collection list,
// the names of the queryables, so that a filtered or sorted search does
// not re-read every collection document and the recorded item properties.
// It only ever answers "known": a name it does not hold sends the caller
// to the store (known with fresh), so a property that items have just
// gained is accepted at once, and a stale entry can only accept a name
// that a collection lost within the last queryableTTL (the search then
// matches nothing by it).
type queryableNames struct {
	mu      sync.Mutex
	entries map[string]queryableEntry
}

type queryableEntry struct {
	names    map[string]bool
	complete bool // false: the store does not record item properties, accept any name
	at       time.Time
}

const (
	queryableTTL     = 10 * time.Second
	queryableEntries = 256
)

// unknownQueryable returns the first of names that is not a queryable of
// collections for the request's principal ("" when all are).
func (s *Server) unknownQueryable(ctx context.Context, collections []string, names []string) (string, error) {
	key := auth.CacheKey(ctx) + "\x00" + strings.Join(collections, "\x00")
	c := &s.qnames
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && time.Since(e.at) < queryableTTL && missing(e, names) == "" {
		return "", nil
	}
	props, complete, err := s.queryables(ctx, collections)
	if err != nil {
		return "", err
	}
	e = queryableEntry{names: make(map[string]bool, len(props)), complete: complete, at: time.Now()}
	for n := range props {
		e.names[n] = true
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= queryableEntries {
		c.entries = map[string]queryableEntry{}
	}
	c.entries[key] = e
	c.mu.Unlock()
	return missing(e, names), nil
}

func missing(e queryableEntry, names []string) string {
	if !e.complete {
		return ""
	}
	for _, n := range names {
		if !e.names[n] {
			return n
		}
	}
	return ""
}
