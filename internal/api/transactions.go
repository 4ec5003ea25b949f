package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
)

// transactionConformance are the Transaction extensions' classes.
var transactionConformance = []string{
	"https://api.stacspec.org/v1.0.0/ogcapi-features/extensions/transaction",
	"https://api.stacspec.org/v1.0.0/collections/extensions/transaction",
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
	"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
}

// etag is a strong validator of a stored document.
func etag(doc []byte) string {
	sum := sha256.Sum256(doc)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// checkIfMatch enforces If-Match against the current document.
func checkIfMatch(r *http.Request, current []byte) error {
	im := r.Header.Get("If-Match")
	if im == "" || im == "*" {
		return nil
	}
	want := etag(current)
	for _, v := range strings.Split(im, ",") {
		if strings.TrimSpace(v) == want {
			return nil
		}
	}
	return fmt.Errorf("If-Match %s does not match the current ETag %s: %w", im, want, store.ErrPreconditionFailed)
}

func (s *Server) decodeOptions() stac.DecodeOptions { return stac.DecodeOptions{Now: time.Now()} }

// prepareItem sets the item's collection (and id when given) from the URL,
// refusing documents that name others, and keeps created when replacing.
func prepareItem(raw json.RawMessage, collection, id string, created json.RawMessage) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, httpx.BadRequest("body", "must be a STAC Item (a JSON object)")
	}
	if c, ok := obj["collection"]; ok && string(c) != "null" {
		var got string
		if json.Unmarshal(c, &got) != nil || got != collection {
			return nil, httpx.BadRequest("collection", "the item's collection %s does not match the collection in the URL (%q)", c, collection)
		}
	}
	obj["collection"], _ = json.Marshal(collection)
	if id != "" {
		if v, ok := obj["id"]; ok {
			var got string
			if json.Unmarshal(v, &got) != nil || got != id {
				return nil, httpx.BadRequest("id", "the item's id %s does not match the id in the URL (%q)", v, id)
			}
		}
		obj["id"], _ = json.Marshal(id)
	}
	if created != nil {
		var props map[string]json.RawMessage
		if json.Unmarshal(obj["properties"], &props) == nil && props != nil {
			if _, ok := props["created"]; !ok {
				props["created"] = created
				obj["properties"], _ = json.Marshal(props)
			}
		}
	}
	return json.Marshal(obj)
}

// createItems handles POST /collections/{id}/items: one Feature, or a
// FeatureCollection written all or nothing.
func (s *Server) createItems(w http.ResponseWriter, r *http.Request) error {
	cid := r.PathValue("collectionId")
	if _, err := s.store.Collection(r.Context(), cid); err != nil {
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var head struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return httpx.BadRequest("body", "not a JSON object: %v", err)
	}
	raws := []json.RawMessage{body}
	single := head.Type != "FeatureCollection"
	if !single {
		raws = head.Features
		if len(raws) == 0 {
			return httpx.BadRequest("features", "is empty")
		}
	}
	opts := s.decodeOptions()
	items := make([]stac.Item, len(raws))
	for i, raw := range raws {
		b, err := prepareItem(raw, cid, "", nil)
		if err == nil {
			items[i], err = stac.DecodeItem(b, opts)
		}
		if err != nil && !single {
			return fmt.Errorf("features[%d]: %w", i, err)
		}
		if err != nil {
			return err
		}
	}
	var taken []string
	for _, it := range items {
		if _, err := s.store.Item(r.Context(), cid, it.ID); err == nil {
			taken = append(taken, it.ID)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if len(taken) > 0 {
		return fmt.Errorf("items %q already exist in collection %q (use PUT to replace): %w", taken, cid, store.ErrConflict)
	}
	errs, err := s.store.PutItems(r.Context(), items, store.Create)
	if err != nil {
		return err
	}
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	base := s.base(r)
	if single {
		it := items[0]
		w.Header().Set("Location", base+"/collections/"+pathEscape(cid)+"/items/"+pathEscape(it.ID))
		w.Header().Set("ETag", etag(it.Doc))
		httpx.WriteBytes(w, http.StatusCreated, typeGeoJSON, stac.AppendLinks(nil, it.Doc, itemLinks(base, cid, it.ID)...))
		return nil
	}
	page := store.Page{Items: make([]store.Record, len(items))}
	for i, it := range items {
		page.Items[i] = store.Record{Collection: cid, ID: it.ID, Doc: it.Doc}
	}
	return s.writeItemCollectionStatus(w, http.StatusCreated, base, page, []Link{{Rel: "root", Href: base + "/", Type: typeJSON}}, nil)
}

// checked returns the stored document a write changes, after checking
// If-Match against it.
func checked(r *http.Request, rec store.Record, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	return rec.Doc, checkIfMatch(r, rec.Doc)
}

// newDocument reads the new document of a PUT, or applies the patch of a
// PATCH to current.
func (s *Server) newDocument(w http.ResponseWriter, r *http.Request, current []byte) ([]byte, error) {
	body, err := s.readBody(w, r)
	if err != nil || r.Method != http.MethodPatch {
		return body, err
	}
	return applyPatch(r, current, body)
}

// updateItem handles PUT and PATCH /collections/{id}/items/{itemId}.
func (s *Server) updateItem(w http.ResponseWriter, r *http.Request) error {
	cid, iid := r.PathValue("collectionId"), r.PathValue("itemId")
	rec, err := s.store.Item(r.Context(), cid, iid)
	cur, err := checked(r, rec, err)
	if err != nil {
		return err
	}
	doc, err := s.newDocument(w, r, cur)
	if err != nil {
		return err
	}
	return s.writeReplacedItem(w, r, cid, iid, doc, cur)
}

func createdOf(doc []byte) json.RawMessage {
	var v struct {
		Properties struct {
			Created json.RawMessage `json:"created"`
		} `json:"properties"`
	}
	_ = json.Unmarshal(doc, &v)
	return v.Properties.Created
}

func (s *Server) writeReplacedItem(w http.ResponseWriter, r *http.Request, cid, iid string, body, current []byte) error {
	b, err := prepareItem(body, cid, iid, createdOf(current))
	if err != nil {
		return err
	}
	it, err := stac.DecodeItem(b, s.decodeOptions())
	if err != nil {
		return err
	}
	errs, err := s.store.PutItems(r.Context(), []stac.Item{it}, store.Replace)
	if err != nil {
		return err
	}
	if errs[0] != nil {
		return errs[0]
	}
	w.Header().Set("ETag", etag(it.Doc))
	httpx.WriteBytes(w, http.StatusOK, typeGeoJSON, stac.AppendLinks(nil, it.Doc, itemLinks(s.base(r), cid, iid)...))
	return nil
}

// applyPatch applies a JSON merge patch (RFC 7386; application/json or
// application/merge-patch+json) or a JSON Patch (RFC 6902;
// application/json-patch+json) to doc.
func applyPatch(r *http.Request, doc, patch []byte) ([]byte, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json-patch+json":
		p, err := jsonpatch.DecodePatch(patch)
		if err != nil {
			return nil, httpx.BadRequest("body", "not a JSON Patch (RFC 6902): %v", err)
		}
		out, err := p.Apply(doc)
		if err != nil {
			return nil, httpx.BadRequest("body", "the JSON Patch does not apply: %v", err)
		}
		return out, nil
	case "", "application/json", "application/merge-patch+json":
		out, err := jsonpatch.MergePatch(doc, patch)
		if err != nil {
			return nil, httpx.BadRequest("body", "not a JSON merge patch (RFC 7386): %v", err)
		}
		return out, nil
	default:
		return nil, &httpx.Error{Status: http.StatusUnsupportedMediaType, Code: httpx.CodeUnsupportedMedia,
			Description: fmt.Sprintf("PATCH takes application/merge-patch+json, application/json or application/json-patch+json, not %q", ct)}
	}
}

// deleteItem handles DELETE /collections/{id}/items/{itemId}.
func (s *Server) deleteItem(w http.ResponseWriter, r *http.Request) error {
	cid, iid := r.PathValue("collectionId"), r.PathValue("itemId")
	rec, err := s.store.Item(r.Context(), cid, iid)
	if _, err := checked(r, rec, err); err != nil {
		return err
	}
	if err := s.store.DeleteItem(r.Context(), cid, iid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// createCollection handles POST /collections.
func (s *Server) createCollection(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	c, err := stac.DecodeCollection(body, s.decodeOptions())
	if err != nil {
		return err
	}
	if err := s.store.PutCollection(r.Context(), c, store.Create); err != nil {
		return err
	}
	base := s.base(r)
	w.Header().Set("Location", base+"/collections/"+pathEscape(c.ID))
	w.Header().Set("ETag", etag(c.Doc))
	httpx.WriteBytes(w, http.StatusCreated, typeJSON, stac.AppendLinks(nil, c.Doc, s.collectionLinks(base, c.ID)...))
	return nil
}

func (s *Server) writeReplacedCollection(w http.ResponseWriter, r *http.Request, id string, body []byte) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return httpx.BadRequest("body", "must be a STAC Collection (a JSON object)")
	}
	if v, ok := obj["id"]; ok {
		var got string
		if json.Unmarshal(v, &got) != nil || got != id {
			return httpx.BadRequest("id", "the collection's id %s does not match the id in the URL (%q)", v, id)
		}
	}
	c, err := stac.DecodeCollection(body, s.decodeOptions())
	if err != nil {
		return err
	}
	if err := s.store.PutCollection(r.Context(), c, store.Replace); err != nil {
		return err
	}
	w.Header().Set("ETag", etag(c.Doc))
	httpx.WriteBytes(w, http.StatusOK, typeJSON, stac.AppendLinks(nil, c.Doc, s.collectionLinks(s.base(r), id)...))
	return nil
}

// updateCollection handles PUT and PATCH /collections/{id}.
func (s *Server) updateCollection(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("collectionId")
	rec, err := s.store.Collection(r.Context(), id)
	cur, err := checked(r, rec, err)
	if err != nil {
		return err
	}
	doc, err := s.newDocument(w, r, cur)
	if err != nil {
		return err
	}
	return s.writeReplacedCollection(w, r, id, doc)
}

// deleteCollection handles DELETE /collections/{id}: the collection and
// all its items.
func (s *Server) deleteCollection(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("collectionId")
	rec, err := s.store.Collection(r.Context(), id)
	if _, err := checked(r, rec, err); err != nil {
		return err
	}
	if err := s.store.DeleteCollection(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
