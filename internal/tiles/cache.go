package tiles

import (
	lru "container/list"
	"sync"
	"time"
)

// ttlCache is a size-bounded LRU whose entries also expire after ttl.
// Safe for concurrent use.
type ttlCache[V any] struct {
	mu  sync.Mutex
	ttl time.Duration
	max int
	ll  *lru.List // front: most recent
	m   map[string]*lru.Element
	now func() time.Time
}

type ttlEntry[V any] struct {
	key     string
	v       V
	expires time.Time
}

func newTTLCache[V any](max int, ttl time.Duration) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, max: max, ll: lru.New(), m: map[string]*lru.Element{}, now: time.Now}
}

func (c *ttlCache[V]) get(key string) (V, bool) {
	var zero V
	if c == nil || c.max <= 0 || c.ttl <= 0 {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return zero, false
	}
	en := e.Value.(*ttlEntry[V])
	if c.now().After(en.expires) {
		c.ll.Remove(e)
		delete(c.m, key)
		return zero, false
	}
	c.ll.MoveToFront(e)
	return en.v, true
}

func (c *ttlCache[V]) put(key string, v V) {
	if c == nil || c.max <= 0 || c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	exp := c.now().Add(c.ttl)
	if e, ok := c.m[key]; ok {
		en := e.Value.(*ttlEntry[V])
		en.v, en.expires = v, exp
		c.ll.MoveToFront(e)
		return
	}
	c.m[key] = c.ll.PushFront(&ttlEntry[V]{key: key, v: v, expires: exp})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.m, last.Value.(*ttlEntry[V]).key)
	}
}

func (c *ttlCache[V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
