package stac

import "encoding/json"

// Collection is a validated STAC Collection.
type Collection struct {
	ID string
	// Doc is the canonical JSON document (hierarchy links removed, "links"
	// last).
	Doc []byte
}

// DecodeCollection parses, validates and normalises a STAC Collection.
func DecodeCollection(raw []byte, opts DecodeOptions) (Collection, error) {
	var obj object
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Collection{}, &ValidationError{Reason: "not a JSON object: " + jsonErr(err)}
	}
	if t := str(obj["type"]); t != "Collection" {
		return Collection{}, invalid("type", `must be "Collection", got %s`, show(obj["type"]))
	}
	var c Collection
	if err := json.Unmarshal(obj["id"], &c.ID); err != nil || c.ID == "" {
		return Collection{}, invalid("id", "must be a non-empty string")
	}
	if str(obj["stac_version"]) == "" {
		return Collection{}, invalid("stac_version", "must be a non-empty string")
	}
	if _, ok := obj["description"]; !ok {
		return Collection{}, invalid("description", "is required")
	}
	if err := checkExtent(obj["extent"]); err != nil {
		return Collection{}, err
	}
	links, err := stripHierarchyLinks(obj["links"])
	if err != nil {
		return Collection{}, err
	}
	if !opts.Now.IsZero() {
		now, _ := json.Marshal(opts.Now.UTC().Format(TimeFormat))
		if v, ok := obj["created"]; !ok || isNull(v) {
			obj["created"] = now
		}
		obj["updated"] = now
	}
	c.Doc = encodeCanonical(obj, collectionKeyOrder, links)
	return c, nil
}

func checkExtent(raw json.RawMessage) error {
	if len(raw) == 0 || isNull(raw) {
		return invalid("extent", "is required")
	}
	var ext struct {
		Spatial *struct {
			BBox [][]float64 `json:"bbox"`
		} `json:"spatial"`
		Temporal *struct {
			Interval [][]*string `json:"interval"`
		} `json:"temporal"`
	}
	if err := json.Unmarshal(raw, &ext); err != nil {
		return invalid("extent", "must be an object with spatial.bbox and temporal.interval arrays: %s", jsonErr(err))
	}
	if ext.Spatial == nil || len(ext.Spatial.BBox) == 0 {
		return invalid("extent.spatial.bbox", "must be a non-empty array of bounding boxes")
	}
	for _, b := range ext.Spatial.BBox {
		if len(b) != 4 && len(b) != 6 {
			return invalid("extent.spatial.bbox", "each bounding box needs 4 or 6 numbers")
		}
	}
	if ext.Temporal == nil || len(ext.Temporal.Interval) == 0 {
		return invalid("extent.temporal.interval", "must be a non-empty array of intervals")
	}
	for _, iv := range ext.Temporal.Interval {
		if len(iv) != 2 {
			return invalid("extent.temporal.interval", "each interval needs exactly 2 entries (null for open)")
		}
		for _, s := range iv {
			if s != nil {
				if _, err := ParseTime(*s); err != nil {
					return invalid("extent.temporal.interval", "%v", err)
				}
			}
		}
	}
	return nil
}
