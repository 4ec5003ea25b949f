// Package cli defines tessera's subcommands. Each command parses its flags
// (and TESSERA_* variables through config), then hands over to app or a
// component package.
package cli

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/tessera-geo/tessera/internal/app"
	"github.com/tessera-geo/tessera/internal/config"
	"github.com/tessera-geo/tessera/internal/loader"
)

// Root returns the tessera command tree.
func Root(env config.LookupEnv) *cobra.Command {
	root := &cobra.Command{
		Use:           "tessera",
		Short:         "A STAC catalog, ingest pipeline and raster tile server",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var cpuprofile string
	var stopProfile func()
	root.PersistentFlags().StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile (pprof) of the command to this file")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if cpuprofile == "" {
			return nil
		}
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
		return nil
	}
	root.PersistentPostRun = func(*cobra.Command, []string) {
		if stopProfile != nil {
			stopProfile()
		}
	}
	root.AddCommand(serveCmd(env), loadCmd(env), versionCmd())
	root.AddCommand(migrateCmd(env))
	root.AddCommand(ingestCmds(env)...)
	return root
}

func serveCmd(env config.LookupEnv) *cobra.Command {
	var cfg config.Serve
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the STAC API (and tiles) on the embedded or configured store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := config.ApplyEnv(cmd.Flags(), env); err != nil {
				return err
			}
			start := time.Now()
			log, err := app.NewLogger(os.Stderr, cfg.LogLevel)
			if err != nil {
				return err
			}
			a, err := app.New(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer a.Close()
			return a.Run(cmd.Context(), func(addr string) {
				log.Info("serving", "url", "http://"+addr+cfg.RootPath+"/", "startup", time.Since(start).Round(time.Microsecond))
				fmt.Fprintf(cmd.OutOrStdout(), "tessera is serving on http://%s%s/\n", addr, cfg.RootPath)
			})
		},
	}
	cfg.AddFlags(cmd.Flags())
	return cmd
}

func loadCmd(env config.LookupEnv) *cobra.Command {
	var cfg config.Load
	cmd := &cobra.Command{
		Use:   "load [flags] PATH...",
		Short: "Bulk-load collections and items from files, directories, ndjson or FeatureCollections (- for stdin)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := config.ApplyEnv(cmd.Flags(), env); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			files, err := loader.Files(args)
			if err != nil {
				return err
			}
			st, err := app.OpenStore(cmd.Context(), cfg.Common)
			if err != nil {
				return err
			}
			defer st.Close()
			var total int64
			for _, f := range files {
				if fi, err := os.Stat(f); err == nil && f != "-" {
					total += fi.Size()
				}
			}
			if total == 0 {
				total = -1
			}
			bar := progressbar.NewOptions64(total,
				progressbar.OptionSetWriter(os.Stderr),
				progressbar.OptionSetVisibility(isTerminal(os.Stderr)),
				progressbar.OptionShowBytes(true),
				progressbar.OptionSetDescription("loading"),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish())
			sum, err := loader.Load(cmd.Context(), st, files, loader.Options{
				BatchSize: cfg.BatchSize,
				Writers:   cfg.Writers,
				Errors:    cmd.ErrOrStderr(),
				Progress:  func(n int64) { _ = bar.Set64(n) },
			})
			_ = bar.Finish()
			fmt.Fprintln(cmd.OutOrStdout(), sum)
			if err != nil {
				return err
			}
			if sum.Failed > 0 {
				return errors.New(fmt.Sprint(sum.Failed, " records failed"))
			}
			return nil
		},
	}
	cfg.AddFlags(cmd.Flags())
	return cmd
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			v := "devel"
			if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				v = bi.Main.Version
			}
			fmt.Fprintln(cmd.OutOrStdout(), "tessera", v)
		},
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
