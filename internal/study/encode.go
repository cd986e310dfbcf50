package study

import (
	"bytes"
	"fmt"
	"io"

	"github.com/BurntSushi/toml"
)

// Encode writes the study as a study file that plans to the same grid:
// ranges expanded into values, paths absolute. It is the study.toml of a
// study directory.
func (st *Study) Encode(w io.Writer, version string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Resolved by gridstudy %s: ranges expanded, paths absolute.\n# `gridstudy plan` of this file gives the same grid.\n\n", version)
	top := map[string]any{"name": st.Name, "trials": st.Trials, "seed": st.Seed}
	if len(st.Constraints) > 0 {
		top["constraints"] = st.Constraints
	}
	if len(st.Zip) > 0 {
		top["zip"] = st.Zip
	}
	enc(&b, top)
	source := st.Path
	if source == "" {
		source = "flags"
	}
	section(&b, "gridstudy", map[string]any{"version": version, "source": source, "study_file_dir": st.FileDir})
	run := map[string]any{}
	if st.Run.Command != "" {
		run["command"] = st.Run.Command
	}
	if len(st.Run.Args) > 0 {
		run["args"] = st.Run.Args
	}
	if st.Run.BaseConfig != "" {
		run["base_config"] = st.Run.BaseConfig
	}
	if st.Run.Timeout > 0 {
		run["timeout"] = st.Run.Timeout.String()
	}
	if st.Run.Retain != "" {
		run["retain"] = st.Run.Retain
	}
	if len(st.Run.Keep) > 0 {
		run["keep"] = st.Run.Keep
	}
	section(&b, "run", run)
	for _, p := range st.Params {
		section(&b, "params."+joinKey(p.Name), paramTable(p))
	}
	fixed := map[string]any{}
	for _, s := range st.Fixed {
		fixed[s.Name] = s.Value
	}
	section(&b, "fixed", fixed)
	for _, m := range st.Models {
		if t := modelCommandTable(m); len(t) > 0 {
			section(&b, "models."+joinKey(m.Name), t)
		} else {
			fmt.Fprintf(&b, "[models.%s]\n\n", joinKey(m.Name))
		}
		ov := map[string]any{}
		for _, s := range m.Overrides {
			ov[s.Name] = s.Value
		}
		section(&b, "models."+joinKey(m.Name)+".overrides", ov)
		for _, p := range m.Params {
			section(&b, "models."+joinKey(m.Name)+".params."+joinKey(p.Name), paramTable(p))
		}
	}
	section(&b, "slurm", st.Slurm)
	section(&b, "local", st.Local)
	// Each [collect.metrics.NAME] gets its own header: the encoder would
	// write it as [metrics.NAME], the image metrics' table.
	judge := st.Collect
	judge.Metrics = nil
	section(&b, "collect", judge)
	for _, name := range st.Collect.metricNames() {
		section(&b, "collect.metrics."+joinKey(name), st.Collect.Metrics[name])
	}
	section(&b, "plots", st.Plots)
	section(&b, "metrics", st.Metrics)
	st.encodeStages(&b)
	_, err := w.Write(b.Bytes())
	return err
}

func paramTable(p *Param) map[string]any {
	vals := make([]any, len(p.Values))
	for i, v := range p.Values {
		vals[i] = v.Any()
	}
	t := map[string]any{"values": vals}
	if p.Scale != "list" {
		t["scale"] = p.Scale
	}
	return t
}

// section writes [name] and the table's keys, or nothing for an empty table.
func section(b *bytes.Buffer, name string, v any) {
	var body bytes.Buffer
	enc(&body, v)
	if len(bytes.TrimSpace(body.Bytes())) == 0 {
		return
	}
	fmt.Fprintf(b, "[%s]\n", name)
	b.Write(body.Bytes())
}

func enc(b *bytes.Buffer, v any) {
	e := toml.NewEncoder(b)
	e.Indent = ""
	// Encoding plain maps and structs of TOML types cannot fail.
	_ = e.Encode(v)
	b.WriteByte('\n')
}
