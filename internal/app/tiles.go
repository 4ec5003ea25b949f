package app

import "net/http"

// registerTiles mounts the tile server when this build has a raster reader.
func (a *App) registerTiles(mux *http.ServeMux) error {
	return nil
}
