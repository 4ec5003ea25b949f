package stac

import (
	"bytes"
	"encoding/json"
	"sort"
)

// object is a decoded JSON object whose members are kept raw.
type object map[string]json.RawMessage

// leadingKeys are written first, in this order; other members follow
// sorted; "links" is always last (see AppendLinks).
var itemKeyOrder = []string{"type", "stac_version", "stac_extensions", "id", "collection", "geometry", "bbox", "properties", "assets"}

var collectionKeyOrder = []string{"type", "stac_version", "stac_extensions", "id", "title", "description", "keywords", "license", "providers", "extent", "summaries", "item_assets", "assets"}

// encodeCanonical writes obj with the leading keys first, the rest sorted
// and "links" last. links must be a JSON array.
func encodeCanonical(obj object, leading []string, links json.RawMessage) []byte {
	var buf bytes.Buffer
	buf.Grow(estimate(obj) + len(links) + 16)
	buf.WriteByte('{')
	first := true
	write := func(k string, v json.RawMessage) {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(v)
	}
	seen := make(map[string]bool, len(leading)+1)
	for _, k := range leading {
		seen[k] = true
		if v, ok := obj[k]; ok {
			write(k, v)
		}
	}
	rest := make([]string, 0, len(obj))
	for k := range obj {
		if !seen[k] && k != "links" {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		write(k, obj[k])
	}
	write("links", links)
	buf.WriteByte('}')
	return buf.Bytes()
}

func estimate(obj object) int {
	n := 2
	for k, v := range obj {
		n += len(k) + len(v) + 4
	}
	return n
}

// compact removes insignificant white space from a raw JSON value.
func compact(v json.RawMessage) json.RawMessage {
	if bytes.IndexAny(v, " \t\r\n") < 0 {
		return v
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return v
	}
	return buf.Bytes()
}

// AppendLinks appends to dst the document doc (a canonical document, whose
// last member is the "links" array) with extra link objects added to that
// array. Each entry of extra must be an encoded JSON object. doc is not
// modified.
func AppendLinks(dst, doc []byte, extra ...[]byte) []byte {
	marker := []byte(`"links":[`)
	end := len(doc) - 2 // index of the ']' closing the links array
	i := bytes.Index(doc, marker)
	if end < 0 || i < 0 || doc[end] != ']' || bytes.Count(doc, marker) != 1 {
		return appendLinksSlow(dst, doc, extra)
	}
	open := i + len(marker)
	dst = append(dst, doc[:end]...)
	for j, e := range extra {
		if j > 0 || open != end {
			dst = append(dst, ',')
		}
		dst = append(dst, e...)
	}
	return append(dst, "]}"...)
}

// appendLinksSlow handles documents where the fast path cannot locate the
// links array unambiguously (a link object with a nested "links" member).
func appendLinksSlow(dst, doc []byte, extra [][]byte) []byte {
	var obj object
	if err := json.Unmarshal(doc, &obj); err != nil {
		return append(dst, doc...)
	}
	var links []json.RawMessage
	_ = json.Unmarshal(obj["links"], &links)
	for _, e := range extra {
		links = append(links, e)
	}
	lb, _ := json.Marshal(links)
	delete(obj, "links")
	var b bytes.Buffer
	b.Write(dst)
	enc, _ := json.Marshal(obj)
	// re-open the object to append links last
	b.Write(enc[:len(enc)-1])
	if len(obj) > 0 {
		b.WriteByte(',')
	}
	b.WriteString(`"links":`)
	b.Write(lb)
	b.WriteByte('}')
	return b.Bytes()
}
