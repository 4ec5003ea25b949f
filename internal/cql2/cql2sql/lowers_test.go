package cql2sql

import (
	"testing"
	"unicode"
)

// TestLowersToASCII checks the constant against the unicode tables.
func TestLowersToASCII(t *testing.T) {
	var want []rune
	for r := rune(128); r <= unicode.MaxRune; r++ {
		if unicode.ToLower(r) < 128 {
			want = append(want, r)
		}
	}
	if got := []rune(lowersToASCII); string(got) != string(want) {
		t.Errorf("lowersToASCII = %q, the unicode tables give %q", got, want)
	}
}
