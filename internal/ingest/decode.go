package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/tessera-geo/tessera/internal/stac"
)

// Action is a control message: {"type":"action","command":"truncate","collection":"<id>"}.
type Action struct {
	Command    string `json:"command"`
	Collection string `json:"collection"`
}

// record is one thing a message asks for: an item, a collection or an
// action, or the failure that prevents it.
type record struct {
	raw    []byte // the record's own JSON (or the bytes that failed to parse)
	item   *stac.Item
	coll   *stac.Collection
	action *Action
	fail   *Failure
}

// maxDepth bounds envelope nesting (SNS in SQS in S3 event ...).
const maxDepth = 5

// decoder expands a message payload into records.
type decoder struct {
	opts  stac.DecodeOptions
	fetch *Fetcher
	max   int // largest payload or fetched document
}

// expand decodes one payload. The common case (an Item or Collection) is
// validated once by stac.Decode; only when the document is not one does
// the decoder look for an envelope, an href, an action or a collection of
// features.
func (d *decoder) expand(ctx context.Context, data []byte, depth int, out []record) []record {
	data = bytes.TrimSpace(data)
	if d.max > 0 && len(data) > d.max {
		return append(out, record{raw: data, fail: permanent(ReasonOversized, "message is %d bytes, larger than the limit of %d", len(data), d.max)})
	}
	if depth > maxDepth {
		return append(out, record{raw: data, fail: permanent(ReasonUnsupported, "envelopes nested more than %d deep", maxDepth)})
	}
	doc, err := stac.Decode(data, d.opts)
	if err == nil {
		return append(out, record{raw: data, item: doc.Item, coll: doc.Collection})
	}
	var ve *stac.ValidationError
	if !errors.As(err, &ve) || ve.Field != "type" {
		switch {
		case !json.Valid(data):
			return append(out, record{raw: data, fail: permanent(ReasonInvalidJSON, "%s", jsonError(data))})
		case len(data) > 0 && data[0] == '[':
			return d.array(ctx, data, depth, out)
		}
		return append(out, record{raw: data, fail: &Failure{Reason: ReasonInvalidSTAC, Err: err}})
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return append(out, record{raw: data, fail: &Failure{Reason: ReasonInvalidSTAC, Err: err}})
	}
	switch {
	case str(m["Type"]) == "Notification" && m["Message"] != nil: // SNS
		return d.expand(ctx, []byte(str(m["Message"])), depth+1, out)
	case m["Records"] != nil: // SQS batch, S3 event, SNS-to-Lambda
		return d.records(ctx, data, m["Records"], depth, out)
	case m["body"] != nil && isString(m["body"]): // one SQS message
		return d.expand(ctx, []byte(str(m["body"])), depth+1, out)
	case m["href"] != nil && m["type"] == nil:
		return d.href(ctx, data, str(m["href"]), depth, out)
	}
	switch str(m["type"]) {
	case "action":
		var a Action
		if json.Unmarshal(data, &a) != nil || a.Command == "" {
			return append(out, record{raw: data, fail: permanent(ReasonInvalidSTAC, `an action needs a "command"`)})
		}
		return append(out, record{raw: data, action: &a})
	case "FeatureCollection", "ItemCollection":
		var fs []json.RawMessage
		if json.Unmarshal(m["features"], &fs) != nil {
			return append(out, record{raw: data, fail: permanent(ReasonInvalidSTAC, "features: must be an array")})
		}
		for _, f := range fs {
			out = d.expand(ctx, f, depth+1, out)
		}
		return out
	}
	return append(out, record{raw: data, fail: &Failure{Reason: ReasonInvalidSTAC, Err: err}})
}

func (d *decoder) array(ctx context.Context, data []byte, depth int, out []record) []record {
	var arr []json.RawMessage
	if err := json.Unmarshal(data, &arr); err != nil {
		return append(out, record{raw: data, fail: permanent(ReasonInvalidJSON, "%v", err)})
	}
	for _, e := range arr {
		out = d.expand(ctx, e, depth+1, out)
	}
	return out
}

// records unwraps an SQS batch ({"Records":[{"body":...}]}), an S3 event
// notification ({"Records":[{"s3":{...}}]}) or an SNS-to-Lambda event
// ({"Records":[{"Sns":{"Message":...}}]}).
func (d *decoder) records(ctx context.Context, data []byte, raw json.RawMessage, depth int, out []record) []record {
	var recs []struct {
		Body *string `json:"body"`
		SNS  *struct {
			Message string `json:"Message"`
		} `json:"Sns"`
		EventName string `json:"eventName"`
		S3        *struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object struct {
				Key string `json:"key"`
			} `json:"object"`
		} `json:"s3"`
	}
	if err := json.Unmarshal(raw, &recs); err != nil {
		return append(out, record{raw: data, fail: permanent(ReasonUnsupported, "Records: %v", err)})
	}
	for _, r := range recs {
		switch {
		case r.Body != nil:
			out = d.expand(ctx, []byte(*r.Body), depth+1, out)
		case r.SNS != nil:
			out = d.expand(ctx, []byte(r.SNS.Message), depth+1, out)
		case r.S3 != nil:
			if r.EventName != "" && !strings.HasPrefix(r.EventName, "ObjectCreated") {
				continue // deletions and other events are not ingest requests
			}
			// S3 event keys are URL-encoded with '+' for spaces.
			key, err := url.QueryUnescape(r.S3.Object.Key)
			if err != nil {
				key = r.S3.Object.Key
			}
			href := "s3://" + r.S3.Bucket.Name + "/" + key
			out = d.href(ctx, data, href, depth, out)
		default:
			out = append(out, record{raw: data, fail: permanent(ReasonUnsupported, "a record in Records has no body, Sns or s3 member")})
		}
	}
	return out
}

// href fetches a referenced document and expands it. Failures keep the
// referencing message as the record, so that a replay fetches again.
func (d *decoder) href(ctx context.Context, data []byte, href string, depth int, out []record) []record {
	if d.fetch == nil {
		return append(out, record{raw: data, fail: permanent(ReasonHrefRefused, "href messages are disabled")})
	}
	body, f := d.fetch.Fetch(ctx, href)
	if f != nil {
		return append(out, record{raw: data, fail: f})
	}
	n := len(out)
	out = d.expand(ctx, body, depth+1, out)
	for i := n; i < len(out); i++ {
		if out[i].fail != nil {
			out[i].fail.Err = fmt.Errorf("%s: %w", href, out[i].fail.Err)
			out[i].raw = data
		}
	}
	return out
}

func str(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

func isString(v json.RawMessage) bool { return len(v) > 0 && v[0] == '"' }

// jsonError describes why data is not JSON, with the byte offset.
func jsonError(data []byte) string {
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("not valid JSON at byte %d: %v", se.Offset, err)
	}
	if err != nil {
		return "not valid JSON: " + err.Error()
	}
	return "not valid JSON"
}
