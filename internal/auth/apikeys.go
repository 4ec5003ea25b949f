package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// APIKey is a configured API key. Only the SHA-256 of the key is kept
// (hex, as `printf %s "$KEY" | sha256sum` prints it).
type APIKey struct {
	Name   string   `json:"name"`
	SHA256 string   `json:"sha256"`
	Scopes []string `json:"scopes"`
	// Collections, when present, are the only collections the key sees.
	Collections []string `json:"collections,omitempty"`
	// Filter, when present, is a CQL2 filter (text, or a JSON object)
	// every item the key sees matches.
	Filter json.RawMessage `json:"filter,omitempty"`

	hash      [32]byte
	principal Principal
}

// ParseAPIKeys reads a JSON array of API keys.
func ParseAPIKeys(b []byte) ([]APIKey, error) {
	var keys []APIKey
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("API keys: want a JSON array of {name, sha256, scopes, collections, filter}: %w", err)
	}
	seen := map[string]bool{}
	for i := range keys {
		k := &keys[i]
		if k.Name == "" {
			return nil, fmt.Errorf("API key %d: name is required", i)
		}
		h, err := hex.DecodeString(strings.TrimSpace(k.SHA256))
		if err != nil || len(h) != sha256.Size {
			return nil, fmt.Errorf("API key %q: sha256 must be 64 hex digits (the SHA-256 of the key, never the key itself)", k.Name)
		}
		if seen[string(h)] {
			return nil, fmt.Errorf("API key %q: the same key is listed twice", k.Name)
		}
		seen[string(h)] = true
		copy(k.hash[:], h)
		p := Principal{Subject: k.Name, Method: "api-key"}
		for _, s := range k.Scopes {
			sc, ok := ParseScope(s)
			if !ok {
				return nil, fmt.Errorf("API key %q: unknown scope %q (want read, write or admin)", k.Name, s)
			}
			p.Scopes = append(p.Scopes, sc)
		}
		if k.Collections != nil {
			p.Collections = append([]string{}, k.Collections...)
		}
		if len(k.Filter) > 0 {
			var v any
			_ = json.Unmarshal(k.Filter, &v)
			f, err := parseFilterClaim(v)
			if err != nil {
				return nil, fmt.Errorf("API key %q: filter: %w", k.Name, err)
			}
			p.Filter = f
		}
		k.principal = p
	}
	return keys, nil
}

// LoadAPIKeys reads ParseAPIKeys' format from a file.
func LoadAPIKeys(path string) ([]APIKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("API keys file: %w", err)
	}
	keys, err := ParseAPIKeys(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}

// HashAPIKey returns the hex SHA-256 to store for a key.
func HashAPIKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// matchAPIKey compares the presented key's hash with every configured one
// in constant time (no early exit, so timing reveals nothing).
func matchAPIKey(keys []APIKey, presented string) (Principal, bool) {
	h := sha256.Sum256([]byte(presented))
	found := -1
	for i := range keys {
		if subtle.ConstantTimeCompare(h[:], keys[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Principal{}, false
	}
	return keys[found].principal, true
}
