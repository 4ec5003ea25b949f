package postgres

import "github.com/tessera-geo/tessera/internal/stac"

// properties returns the text of the top-level "properties" member of a
// JSON object, without decoding anything else: the write path sends it
// along with the document so that the server parses a few hundred bytes
// into the content column instead of the whole item. ok is false when doc
// is not an object with that member (the server then extracts it itself).
func properties(doc []byte) (v []byte, ok bool) { return stac.Member(doc, "properties") }
