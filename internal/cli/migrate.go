package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tessera-geo/tessera/internal/app"
	"github.com/tessera-geo/tessera/internal/config"
)

func migrateCmd(env config.LookupEnv) *cobra.Command {
	var cfg config.Common
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the catalog schema of a PostgreSQL store (idempotent; replicas may run it at once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := config.ApplyEnv(cmd.Flags(), env); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			msg, err := app.MigrateStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
	cfg.AddFlags(cmd.Flags())
	return cmd
}
