package postgres

import "github.com/tessera-geo/tessera/internal/stac"

// properties returns the text of the item's top-level "properties"
// member: the write path sends it along with the document so that the
// server parses a few hundred bytes into the content column instead of the
// whole item. Decoded items carry it; otherwise the document is scanned
// for it, without decoding anything else. ok is false when the document is
// not an object with that member (the server then extracts it itself).
func properties(it stac.Item) (v []byte, ok bool) {
	if it.RawProperties != nil {
		return it.RawProperties, true
	}
	return stac.Member(it.Doc, "properties")
}
