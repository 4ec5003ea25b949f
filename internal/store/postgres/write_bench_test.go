package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/store/postgres"
	"github.com/tessera-geo/tessera/internal/synth"
)

// BenchmarkPutItems measures bulk loading through PutItems (COPY): the
// items are generated and decoded before the timer starts, then written in
// batches of 5,000 by 1 or 2 concurrent writers into an empty collection of
// a fresh database, as `tessera load` does. TESSERA_PG_LOAD_N sets the
// number of items per iteration (default 50,000).
//
//	eval "$(scripts/postgres.sh)"
//	go test -run '^$' -bench PutItems -benchtime 1x ./internal/store/postgres/
func BenchmarkPutItems(b *testing.B) {
	n := 50_000
	if v, err := strconv.Atoi(os.Getenv("TESSERA_PG_LOAD_N")); err == nil && v > 0 {
		n = v
	}
	const coll = "sentinel-2-synthetic"
	g := synth.New(synth.Options{Collection: coll, Seed: 1})
	c, err := stac.DecodeCollection(g.Collection(), stac.DecodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	items := make([]stac.Item, n)
	for i := range items {
		if items[i], err = stac.DecodeItem(g.Next(), stac.DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	const batch = 5000
	for _, writers := range []int{1, 2} {
		b.Run("writers="+strconv.Itoa(writers), func(b *testing.B) {
			ctx := context.Background()
			db, err := postgres.Open(ctx, migrated(b), postgres.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var server, client time.Duration
			var autovacuums int64
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				if err := db.DeleteCollection(ctx, coll); err != nil && !errors.Is(err, store.ErrNotFound) {
					b.Fatal(err)
				}
				if err := db.PutCollection(ctx, c, store.Create); err != nil {
					b.Fatal(err)
				}
				s0, c0 := serverCPU(ctx, db), clientCPU()
				b.StartTimer()
				next := make(chan []stac.Item)
				go func() {
					defer close(next)
					for i := 0; i < n; i += batch {
						next <- items[i:min(n, i+batch)]
					}
				}()
				var wg sync.WaitGroup
				errc := make(chan error, writers)
				for range writers {
					wg.Go(func() {
						for bt := range next {
							errs, err := db.PutItems(ctx, bt, store.Upsert)
							if err == nil {
								err = errors.Join(errs...)
							}
							if err != nil {
								errc <- err
								return
							}
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				server += cpuSince(s0, serverCPU(ctx, db))
				client += clientCPU() - c0
				autovacuums += autovacuumRuns(ctx, b, db)
				b.StartTimer()
				close(errc)
				for err := range errc {
					b.Fatal(err)
				}
			}
			total := float64(n) * float64(b.N)
			b.ReportMetric(total/b.Elapsed().Seconds(), "items/s")
			// CPU time per item does not depend on what else the machine
			// runs (much): the figure to compare changes by.
			b.ReportMetric(float64(server.Microseconds())/total, "server-µs/item")
			b.ReportMetric(float64(client.Microseconds())/total, "client-µs/item")
			// Autovacuum working on the items during the load counts in the
			// server's CPU: say how often it started.
			b.ReportMetric(float64(autovacuums)/float64(b.N), "autovacuums/op")
		})
	}
}

// autovacuumRuns is how many autovacuums and autoanalyzes of the item
// partitions have started (running ones included) since the collection
// was created.
func autovacuumRuns(ctx context.Context, b *testing.B, db *postgres.DB) int64 {
	var n int64
	err := db.Pool().QueryRow(ctx, `SELECT
		  (SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0) FROM pg_stat_all_tables
		    WHERE relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'items'::regclass))
		+ (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND datname = current_database())`).Scan(&n)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// migrated returns the DSN of a fresh, migrated database.
func migrated(b *testing.B) string {
	dsn := freshDB(b)
	if err := postgres.Migrate(context.Background(), dsn); err != nil {
		b.Fatal(err)
	}
	return dsn
}

// serverCPU is the CPU time (user + system, from /proc) used so far by
// the server processes working for this database: its connections and
// autovacuum there. Other databases of the same server are not counted.
func serverCPU(ctx context.Context, db *postgres.DB) map[int]time.Duration {
	rows, _ := db.Pool().Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	pids, _ := pgx.CollectRows(rows, pgx.RowTo[int32])
	out := map[int]time.Duration{}
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15)
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[int(pid)] = time.Duration(u+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
	}
	return out
}

// cpuSince is the CPU time the processes of now used since then.
func cpuSince(then, now map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, t := range now {
		d += t - then[pid]
	}
	return d
}

// clientCPU is this process's CPU time (user + system).
func clientCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
