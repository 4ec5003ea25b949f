package ingest

import (
	"encoding/json"
	"strconv"

	"github.com/tessera-geo/tessera/internal/queue"
	"github.com/tessera-geo/tessera/internal/stac"
)

// Notification attributes, named as stac-server names its SNS message
// attributes (plus id).
const (
	AttrRecordType   = "recordType"   // Item, Collection, action or unknown
	AttrIngestStatus = "ingestStatus" // successful or failed
	AttrCollection   = "collection"
	AttrID           = "id"
	AttrDatetime     = "datetime"
	AttrStart        = "start_datetime"
	AttrEnd          = "end_datetime"
	AttrSWLon        = "bbox.sw_lon"
	AttrSWLat        = "bbox.sw_lat"
	AttrNELon        = "bbox.ne_lon"
	AttrNELat        = "bbox.ne_lat"
)

// maxNotifiedRecord is the largest failed payload copied into a
// notification.
const maxNotifiedRecord = 256 << 10

// notification builds the result message for a record: the body is
// stac-server's {"record": ..., "error": ...}.
func notification(r *record) queue.Notification {
	attrs := map[string]string{AttrIngestStatus: "successful", AttrRecordType: "unknown"}
	var body []byte
	rec := r.raw
	switch {
	case r.item != nil:
		it := r.item
		attrs[AttrRecordType] = "Item"
		attrs[AttrCollection] = it.Collection
		attrs[AttrID] = it.ID
		if it.Datetime != nil {
			attrs[AttrDatetime] = it.Datetime.UTC().Format(stac.TimeFormat)
		}
		attrs[AttrStart] = it.Start.UTC().Format(stac.TimeFormat)
		attrs[AttrEnd] = it.End.UTC().Format(stac.TimeFormat)
		attrs[AttrSWLon] = num(it.BBox.MinX)
		attrs[AttrSWLat] = num(it.BBox.MinY)
		attrs[AttrNELon] = num(it.BBox.MaxX)
		attrs[AttrNELat] = num(it.BBox.MaxY)
		if r.fail == nil {
			rec = it.Doc
		}
	case r.coll != nil:
		attrs[AttrRecordType] = "Collection"
		attrs[AttrCollection] = r.coll.ID
		attrs[AttrID] = r.coll.ID
		if r.fail == nil {
			rec = r.coll.Doc
		}
	case r.action != nil:
		attrs[AttrRecordType] = "action"
		attrs[AttrCollection] = r.action.Collection
	}
	stored := r.fail == nil && (r.item != nil || r.coll != nil)
	switch {
	case !stored && len(rec) > maxNotifiedRecord:
		rec = []byte("null") // an oversized payload: the error says so, the DLQ keeps it
	case !stored && !json.Valid(rec):
		rec, _ = json.Marshal(string(rec))
	}
	if r.fail != nil {
		attrs[AttrIngestStatus] = "failed"
		msg, _ := json.Marshal(r.fail.Error())
		body = make([]byte, 0, len(rec)+len(msg)+24)
		body = append(body, `{"record":`...)
		body = append(body, rec...)
		body = append(body, `,"error":`...)
		body = append(body, msg...)
		body = append(body, '}')
	} else {
		body = make([]byte, 0, len(rec)+12)
		body = append(body, `{"record":`...)
		body = append(body, rec...)
		body = append(body, '}')
	}
	return queue.Notification{Data: body, Attributes: attrs}
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
