package app

import "context"

// setupIngest starts the ingest pipeline for `tessera serve` (embedded
// queue and workers) by appending to a.components and a.closers.
func (a *App) setupIngest(ctx context.Context) error {
	return nil
}
