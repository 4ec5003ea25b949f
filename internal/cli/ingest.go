package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tessera-geo/tessera/internal/app"
	"github.com/tessera-geo/tessera/internal/config"
	"github.com/tessera-geo/tessera/internal/ingest"
	"github.com/tessera-geo/tessera/internal/loader"
	"github.com/tessera-geo/tessera/internal/queue"
)

// ingestCmds are `tessera ingest`, `tessera worker` and `tessera dlq`.
func ingestCmds(env config.LookupEnv) []*cobra.Command {
	return []*cobra.Command{ingestCmd(env), workerCmd(env), dlqCmd(env)}
}

func ingestCmd(env config.LookupEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Publish to the ingest queue",
	}
	var cfg config.QueueClient
	var chunk int
	pub := &cobra.Command{
		Use:   "publish [--data-dir DIR | --queue URL] PATH...",
		Short: "Publish items and collections from files, directories, ndjson or FeatureCollections (- for stdin), one message each",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := connect(cmd, env, cfg)
			if err != nil {
				return err
			}
			defer q.Close()
			files, err := loader.Files(args)
			if err != nil {
				return err
			}
			start := time.Now()
			sum, err := ingest.Publish(cmd.Context(), q, files, cmd.InOrStdin(), chunk)
			el := time.Since(start)
			fmt.Fprintf(cmd.OutOrStdout(), "published %d messages from %d files in %s (%.0f messages/s)\n",
				sum.Messages, sum.Files, el.Round(time.Millisecond), float64(sum.Messages)/max(el.Seconds(), 1e-9))
			return err
		},
	}
	cfg.AddFlags(pub.Flags())
	pub.Flags().IntVar(&chunk, "chunk", 1000, "messages published before waiting for the queue's acknowledgements")
	cmd.AddCommand(pub)
	return cmd
}

func connect(cmd *cobra.Command, env config.LookupEnv, cfg config.QueueClient) (queue.Queue, error) {
	if err := config.ApplyEnv(cmd.Flags(), env); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return app.ConnectQueue(cmd.Context(), cfg)
}

func workerCmd(env config.LookupEnv) *cobra.Command {
	var cfg config.Worker
	cmd := &cobra.Command{
		Use:   "worker --queue nats://HOST:PORT",
		Short: "Run ingest workers on an external queue, writing to the configured store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := config.ApplyEnv(cmd.Flags(), env); err != nil {
				return err
			}
			log, err := app.NewLogger(os.Stderr, cfg.LogLevel)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return app.RunWorker(ctx, cfg, log)
		},
	}
	cfg.AddFlags(cmd.Flags())
	return cmd
}

func dlqCmd(env config.LookupEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "Inspect and manage the ingest dead-letter queue",
	}
	sub := func(use, short string, args cobra.PositionalArgs, run func(ctx context.Context, cmd *cobra.Command, d queue.DeadLetters, q queue.Queue, args []string) error) *cobra.Command {
		var cfg config.QueueClient
		c := &cobra.Command{
			Use: use, Short: short, Args: args,
			RunE: func(cmd *cobra.Command, args []string) error {
				q, err := connect(cmd, env, cfg)
				if err != nil {
					return err
				}
				defer q.Close()
				return run(cmd.Context(), cmd, q.DeadLetters(), q, args)
			},
		}
		cfg.AddFlags(c.Flags())
		return c
	}
	var asJSON bool
	list := sub("list", "List dead letters: id, time, attempts and reason, one per line", cobra.NoArgs,
		func(ctx context.Context, cmd *cobra.Command, d queue.DeadLetters, _ queue.Queue, _ []string) error {
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				var encErr error
				err := d.List(ctx, func(dl queue.DeadLetter) bool {
					encErr = enc.Encode(map[string]any{
						"id": dl.ID, "message_id": dl.MessageID, "reason": dl.Reason, "attempts": dl.Attempts,
						"published": fmtTime(dl.Published), "dead_lettered": fmtTime(dl.DeadLettered), "bytes": len(dl.Data),
					})
					return encErr == nil
				})
				return errors.Join(err, encErr)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tDEAD-LETTERED\tATTEMPTS\tREASON")
			err := d.List(ctx, func(dl queue.DeadLetter) bool {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", dl.ID, dl.DeadLettered.UTC().Format(time.RFC3339), dl.Attempts, dl.Reason)
				return true
			})
			tw.Flush()
			return err
		})
	list.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per dead letter")
	show := sub("show ID", "Print a dead letter: its headers, then its original payload", cobra.ExactArgs(1),
		func(ctx context.Context, cmd *cobra.Command, d queue.DeadLetters, _ queue.Queue, args []string) error {
			dl, err := d.Get(ctx, args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "id: %s\nmessage-id: %s\nreason: %s\nattempts: %d\npublished: %s\ndead-lettered: %s\n\n%s\n",
				dl.ID, dl.MessageID, dl.Reason, dl.Attempts, fmtTime(dl.Published), fmtTime(dl.DeadLettered), dl.Data)
			return nil
		})
	var all bool
	var reason string
	replay := sub("replay ID... | --all [--reason PREFIX]", "Publish dead letters to the ingest queue again and remove them from the dead-letter queue", cobra.ArbitraryArgs,
		func(ctx context.Context, cmd *cobra.Command, d queue.DeadLetters, q queue.Queue, args []string) error {
			if all == (len(args) > 0) {
				return errors.New("give dead-letter ids or --all")
			}
			if all {
				err := d.List(ctx, func(dl queue.DeadLetter) bool {
					if strings.HasPrefix(dl.Reason, reason) {
						args = append(args, dl.ID)
					}
					return true
				})
				if err != nil {
					return err
				}
			}
			n := 0
			for _, id := range args {
				dl, err := d.Get(ctx, id)
				if err != nil {
					return err
				}
				if err := q.Publish(ctx, dl.Data); err != nil {
					return err
				}
				if err := d.Delete(ctx, id); err != nil {
					return err
				}
				n++
			}
			fmt.Fprintf(cmd.OutOrStdout(), "replayed %d dead letters\n", n)
			return nil
		})
	replay.Flags().BoolVar(&all, "all", false, "replay every dead letter")
	replay.Flags().StringVar(&reason, "reason", "", "with --all, only dead letters whose reason starts with this, e.g. missing-collection")
	purge := sub("purge", "Delete every dead letter", cobra.NoArgs,
		func(ctx context.Context, cmd *cobra.Command, d queue.DeadLetters, _ queue.Queue, _ []string) error {
			n, err := d.Purge(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "purged %d dead letters\n", n)
			return nil
		})
	cmd.AddCommand(list, show, replay, purge)
	return cmd
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}
