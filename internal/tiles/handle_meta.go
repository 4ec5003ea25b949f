package tiles

import (
	"embed"
	"encoding/json"
	"html/template"
	"math"
	"net/http"
	"strings"

	"github.com/tessera-geo/tessera/internal/httpx"
	"github.com/tessera-geo/tessera/internal/render"
)

func (s *Server) tileMatrixSets(w http.ResponseWriter, r *http.Request, _ resolver) error {
	base := s.baseURL(r)
	type link struct {
		Href  string `json:"href"`
		Rel   string `json:"rel"`
		Type  string `json:"type"`
		Title string `json:"title,omitempty"`
	}
	type entry struct {
		ID    string `json:"id"`
		Title string `json:"title,omitempty"`
		URI   string `json:"uri,omitempty"`
		CRS   string `json:"crs"`
		Links []link `json:"links"`
	}
	var out struct {
		TileMatrixSets []entry `json:"tileMatrixSets"`
	}
	for _, id := range s.tms.IDs() {
		t, _ := s.tms.Get(id)
		out.TileMatrixSets = append(out.TileMatrixSets, entry{ID: id, Title: t.Title, URI: t.URI, CRS: t.CRS, Links: []link{{
			Href: base + "/tileMatrixSets/" + id, Rel: "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", Type: "application/json", Title: "Definition of " + id}}})
	}
	b, _ := json.Marshal(out)
	s.writeBody(w, r, http.StatusOK, "application/json", b, nil)
	return nil
}

func (s *Server) tileMatrixSet(w http.ResponseWriter, r *http.Request, _ resolver) error {
	t, err := s.getTMS(r.PathValue("id"))
	if err != nil {
		return err
	}
	b, _ := json.Marshal(t)
	s.writeBody(w, r, http.StatusOK, "application/json", b, nil)
	return nil
}

func (s *Server) colorMaps(w http.ResponseWriter, r *http.Request, _ resolver) error {
	base := s.baseURL(r)
	type link struct {
		Href string `json:"href"`
		Rel  string `json:"rel"`
	}
	out := struct {
		ColorMaps []string `json:"colorMaps"`
		Links     []link   `json:"links"`
	}{ColorMaps: render.ColorMapNames()}
	for _, n := range out.ColorMaps {
		out.Links = append(out.Links, link{Href: base + "/colorMaps/" + n, Rel: "item"})
	}
	b, _ := json.Marshal(out)
	s.writeBody(w, r, http.StatusOK, "application/json", b, nil)
	return nil
}

func (s *Server) colorMap(w http.ResponseWriter, r *http.Request, _ resolver) error {
	cm, err := render.NamedColorMap(r.PathValue("name"))
	if err != nil {
		return httpx.NotFound("unknown colormap %q (see /colorMaps)", r.PathValue("name"))
	}
	b, _ := json.Marshal(cm.Table())
	s.writeBody(w, r, http.StatusOK, "application/json", b, nil)
	return nil
}

func (s *Server) algorithms(w http.ResponseWriter, r *http.Request, _ resolver) error {
	out := map[string]any{}
	for _, n := range render.AlgorithmNames() {
		title, params, _ := render.AlgorithmInfo(n)
		out[n] = map[string]any{"title": title, "parameters": params}
	}
	b, _ := json.Marshal(out)
	s.writeBody(w, r, http.StatusOK, "application/json", b, nil)
	return nil
}

//go:embed static
var static embed.FS

func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := static.ReadFile("static/" + name)
	if err != nil || strings.Contains(name, "/") {
		httpx.WriteError(w, r, s.log, httpx.NotFound("no file %q", name))
		return
	}
	ct := "application/octet-stream"
	switch {
	case strings.HasSuffix(name, ".js"):
		ct = "text/javascript; charset=utf-8"
	case strings.HasSuffix(name, ".css"):
		ct = "text/css; charset=utf-8"
	}
	s.writeBody(w, r, http.StatusOK, ct, b, nil)
}

var mapTmpl = template.Must(template.ParseFS(static, "static/map.html"))

// viewerConfig is what the embedded viewer needs: the tile template, zoom
// range and the tile matrices (pixel grid per zoom), and the initial view
// as a fractional tile position at the initial zoom.
type viewerConfig struct {
	Title    string     `json:"title"`
	Tiles    string     `json:"tiles"`
	MinZoom  int        `json:"minzoom"`
	MaxZoom  int        `json:"maxzoom"`
	Zoom     int        `json:"zoom"`
	Center   [2]float64 `json:"center"` // tile units at Zoom
	Matrices [][4]int   `json:"matrices"`
	Bounds   [4]float64 `json:"bounds"`
}

func (s *Server) mapHTML(w http.ResponseWriter, r *http.Request, res resolver) error {
	t, tg, minz, maxz, geo, err := s.targetCommon(r, res)
	if err != nil {
		return err
	}
	defer tg.close()
	b, err := tg.assets[0].ds.BoundsIn(r.Context(), t.SRS())
	if err != nil {
		return err
	}
	u, err := s.tileURL(r, t, "{z}/{x}/{y}")
	if err != nil {
		return err
	}
	cfg := viewerConfig{Title: tg.title, Tiles: u, MinZoom: 0, MaxZoom: min(t.MaxZoom(), maxz+2), Bounds: geo}
	for _, m := range t.TileMatrices {
		cfg.Matrices = append(cfg.Matrices, [4]int{m.MatrixWidth, m.MatrixHeight, m.TileWidth, m.TileHeight})
	}
	// initial zoom: the data fills about two tiles
	cfg.Zoom = min(maxz, minz+1)
	m := t.TileMatrices[cfg.Zoom]
	ox, oy := m.PointOfOrigin[0], m.PointOfOrigin[1]
	if t.YX() {
		ox, oy = oy, ox
	}
	tw := m.CellSize * float64(m.TileWidth)
	th := m.CellSize * float64(m.TileHeight)
	cx, cy := (b[0]+b[2])/2, (b[1]+b[3])/2
	cfg.Center = [2]float64{(cx - ox) / tw, (oy - cy) / th}
	if math.IsNaN(cfg.Center[0]) || math.IsNaN(cfg.Center[1]) {
		cfg.Center = [2]float64{0, 0}
	}
	js, _ := json.Marshal(cfg)
	var buf strings.Builder
	if err := mapTmpl.Execute(&buf, map[string]any{"Title": tg.title, "Config": template.JS(js)}); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-cache")
	httpx.WriteBytes(w, http.StatusOK, "text/html; charset=utf-8", []byte(buf.String()))
	return nil
}
