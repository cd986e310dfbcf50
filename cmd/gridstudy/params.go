package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/gridstudy/gridstudy/internal/runconfig"
)

func paramsCmd() *command {
	var sf studyFlags
	return &command{
		name:  "params",
		usage: "[STUDY.toml|DIR] [flags]",
		short: "list the study's parameters and the keys of its base config",
		long: `Params lists the study's swept parameters (type, number of values, scale,
the models they apply to), its fixed values and model overrides, and every
key of its base config, which can be swept or fixed by its dotted name.`,
		flags: sf.register,
		run: func(ctx context.Context, e *env, fs *pflag.FlagSet, args []string) error {
			st, _, err := sf.load(args)
			if err != nil {
				return err
			}
			w := e.stdout
			fmt.Fprintf(w, "%-24s %-6s %6s  %-6s %-12s %s\n", "PARAMETER", "TYPE", "VALUES", "SCALE", "MODELS", "VALUES")
			for _, p := range st.AllParams() {
				applies := "all"
				if p.Model != "" {
					applies = p.Model
				}
				fmt.Fprintf(w, "%-24s %-6s %6d  %-6s %-12s %s\n", p.Name, p.Kind, len(p.Values), p.Scale, applies, span(p.Values))
			}
			for _, s := range st.Fixed {
				fmt.Fprintf(w, "fixed     %s = %v\n", s.Name, s.Value)
			}
			for _, m := range st.Models {
				for _, s := range m.Overrides {
					fmt.Fprintf(w, "override  %s: %s = %v\n", m.Name, s.Name, s.Value)
				}
			}
			if st.Run.BaseConfig == "" {
				return nil
			}
			cfg, err := runconfig.Read(st.Run.BaseConfig)
			if err != nil {
				return err
			}
			keys := runconfig.Keys(cfg)
			fmt.Fprintf(w, "base config %s: %d keys\n", st.Run.BaseConfig, len(keys))
			for _, k := range keys {
				v, _ := runconfig.Get(cfg, k)
				fmt.Fprintf(w, "  %s = %v\n", k, v)
			}
			return nil
		},
	}
}
