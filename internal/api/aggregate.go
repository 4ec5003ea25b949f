package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/store"
)

var aggregationConformance = []string{"https://api.stacspec.org/v0.3.0/aggregation"}

type aggregationInfo struct {
	Name     string `json:"name"`
	DataType string `json:"data_type"`
}

// availableAggregations lists what can be asked for: all of tessera's, or
// the subset a collection declares in its "aggregations" member.
func (s *Server) availableAggregations(r *http.Request, collection string) ([]aggregationInfo, error) {
	var declared map[string]bool
	if collection != "" {
		c, err := s.store.Collection(r.Context(), collection)
		if err != nil {
			return nil, err
		}
		var head struct {
			Aggregations []aggregationInfo `json:"aggregations"`
		}
		if json.Unmarshal(c.Doc, &head) == nil && len(head.Aggregations) > 0 {
			declared = map[string]bool{}
			for _, a := range head.Aggregations {
				declared[a.Name] = true
			}
		}
	}
	var out []aggregationInfo
	for _, d := range search.Aggregations {
		if declared == nil || declared[d.Name] {
			out = append(out, aggregationInfo{d.Name, d.DataType})
		}
	}
	return out, nil
}

func (s *Server) aggregations(w http.ResponseWriter, r *http.Request) error {
	cid := r.PathValue("collectionId")
	list, err := s.availableAggregations(r, cid)
	if err != nil {
		return err
	}
	base := s.base(r)
	agg := base + "/aggregate"
	if cid != "" {
		agg = base + "/collections/" + pathEscape(cid) + "/aggregate"
	}
	httpx.WriteJSON(w, http.StatusOK, typeJSON, map[string]any{
		"aggregations": list,
		"links": []Link{
			{Rel: "self", Href: s.selfURL(r, nil), Type: typeJSON},
			{Rel: "root", Href: base + "/", Type: typeJSON},
			{Rel: "aggregate", Href: agg, Type: typeJSON, Method: "GET"},
		},
	})
	return nil
}

// aggregate answers GET and POST /aggregate (and per collection): the
// aggregations of the items a search matches.
func (s *Server) aggregate(w http.ResponseWriter, r *http.Request) error {
	if _, ok := s.raw.(store.Aggregator); !ok {
		return httpx.NotFound("this store does not compute aggregations")
	}
	var (
		sq     search.Query
		names  []string
		params func(string) string
		err    error
	)
	if r.Method == http.MethodPost {
		body, err := s.readBody(w, r)
		if err != nil {
			return err
		}
		if sq, err = search.ParsePOST(body, s.cfg.Limits); err != nil {
			return err
		}
		var p map[string]string
		if names, p, err = search.AggregationNamesPOST(body); err != nil {
			return err
		}
		params = func(k string) string { return p[k] }
	} else {
		q := r.URL.Query()
		rest := url.Values{}
		for k, v := range q {
			if k != "aggregations" && !strings.HasSuffix(k, "_interval") && !strings.HasSuffix(k, "_precision") {
				rest[k] = v
			}
		}
		if sq, err = search.ParseGET(rest, s.cfg.Limits); err != nil {
			return err
		}
		if a := q.Get("aggregations"); a != "" {
			names = strings.Split(a, ",")
		}
		params = q.Get
	}
	cid := r.PathValue("collectionId")
	if cid != "" {
		if _, err := s.store.Collection(r.Context(), cid); err != nil {
			return err
		}
		sq.Collections = []string{cid}
	}
	if len(names) == 0 {
		// All the available ones, as stac-server does.
		list, err := s.availableAggregations(r, cid)
		if err != nil {
			return err
		}
		for _, a := range list {
			names = append(names, a.Name)
		}
	}
	aggs, err := search.ParseAggregations(names, params)
	if err != nil {
		return err
	}
	if err := s.checkQuery(r.Context(), sq); err != nil {
		return err
	}
	res, err := s.store.(store.Aggregator).Aggregate(r.Context(), sq, aggs)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(res))
	for i, a := range res {
		m := map[string]any{"name": a.Name, "data_type": a.DataType}
		if a.DataType == "frequency_distribution" {
			buckets := make([]map[string]any, len(a.Buckets))
			for j, b := range a.Buckets {
				bm := map[string]any{"key": b.Key, "data_type": b.DataType, "frequency": b.Frequency}
				if b.From != nil || b.To != nil {
					bm["from"], bm["to"] = b.From, b.To
				}
				buckets[j] = bm
			}
			m["buckets"], m["overflow"] = buckets, a.Overflow
		} else {
			m["value"] = a.Value
		}
		out[i] = m
	}
	base := s.base(r)
	httpx.WriteJSON(w, http.StatusOK, typeJSON, map[string]any{
		"type":         "AggregationCollection",
		"aggregations": out,
		"links": []Link{
			{Rel: "self", Href: s.selfURL(r, r.URL.Query()), Type: typeJSON},
			{Rel: "root", Href: base + "/", Type: typeJSON},
		},
	})
	return nil
}
