package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/harness/detect"
	"github.com/reloadlab/reloadlab/harness/detect/detectmd"
	"github.com/reloadlab/reloadlab/harness/fsmount"
	"github.com/reloadlab/reloadlab/harness/results"
	"github.com/reloadlab/reloadlab/harness/writepattern"
)

func runDetect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("detect", `Run every trigger (and the viper and koanf file watchers) against every write
pattern on every file system, several trials per cell, and write
results/detect/matrix.json, matrix.md and latency.png. Mounting tmpfs, overlay
and FUSE needs root; without it those file systems are skipped with the reason.
The output directory is replaced only when the run completes; an interrupted
run unmounts everything and leaves the previous results untouched.

Columns: `+strings.Join(detect.ColumnNames(), ", ")+`
Patterns: `+strings.Join(writepattern.Names(), ", ")+`
File systems: `+strings.Join(fsmount.Names(), ", "), stderr)
	cols := fs.String("triggers", "", "comma-separated `columns` (triggers and peers; default all)")
	patterns := fs.String("patterns", "", "comma-separated write `patterns` (default all)")
	fss := fs.String("fs", "", "comma-separated file `systems` (default all)")
	trials := fs.Int("trials", detect.DefaultTrials, "trials per cell")
	deadline := fs.Duration("deadline", detect.DefaultDeadline, "time after the last write for the last version to be served (at least 3 poll intervals)")
	concurrency := fs.Int("concurrency", detect.DefaultConcurrency, "trials run at the same time")
	keys := fs.Int("keys", detect.DefaultKeys, "keys in the trial configs")
	idle := fs.Duration("idle", detect.DefaultIdle, "idle-cost window (0 skips the idle-cost experiment)")
	experiments := fs.String("experiments", "overflow,watchlimit,instancelimit,idle,articleloop", "comma-separated experiments besides the matrix: overflow, watchlimit, instancelimit, idle, articleloop (\"none\" for none)")
	out := fs.String("out", "results/detect", "output `dir`")
	quick := fs.Bool("quick", false, "a quick look: at most 3 trials per cell and a 2s idle window")
	render := fs.Bool("render", false, "run no trials: re-derive the model checks and redraw matrix.md and latency.png from the matrix.json in -out")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *render {
		return renderDetect(*out, stdout)
	}
	if *quick {
		*trials = min(*trials, 3)
		*idle = min(*idle, 2*time.Second)
	}
	cfg := detect.Config{
		Columns:     detect.SplitList(*cols),
		Patterns:    detect.SplitList(*patterns),
		FileSystems: detect.SplitList(*fss),
		Trials:      *trials,
		Deadline:    *deadline,
		Concurrency: *concurrency,
		Keys:        *keys,
		Progress:    stderr,
		Command:     "go run ./harness/cmd/lab detect" + quoteArgs(args),
	}
	for _, e := range detect.SplitList(*experiments) {
		switch e {
		case "overflow":
			cfg.Overflow = true
		case "articleloop":
			cfg.ArticleLoop = true
		case "watchlimit":
			cfg.WatchLimit = true
		case "instancelimit":
			cfg.InstanceLimit = true
		case "idle":
			cfg.Idle = *idle
		case "none":
		default:
			return fmt.Errorf("detect: unknown experiment %q (valid: overflow, watchlimit, instancelimit, idle, articleloop, none)", e)
		}
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("detect: find the lab binary for child processes: %w", err)
	}
	cfg.Child = detect.Child{Path: exe, Args: []string{"detect-child"}}

	stage, err := results.NewStage(*out)
	if err != nil {
		return err
	}
	defer stage.Abort()
	m, err := detect.Run(ctx, cfg)
	if err != nil {
		return err
	}
	return writeDetect(stage, m, *out, stdout)
}

// writeDetect writes the three result files into stage and commits it.
func writeDetect(stage *results.Stage, m *detect.Matrix, out string, stdout io.Writer) error {
	if err := results.WriteJSON(stage.Path("matrix.json"), m); err != nil {
		return err
	}
	if err := detectmd.WriteMarkdownFile(stage.Path("matrix.md"), m); err != nil {
		return err
	}
	if err := detectmd.WriteLatencyPlot(stage.Path("latency.png"), m); err != nil {
		return err
	}
	if err := stage.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s/matrix.json, %s/matrix.md and %s/latency.png\n", out, out, out)
	return nil
}

// renderDetect re-derives and redraws the results in out from its
// matrix.json, running no trials.
func renderDetect(out string, stdout io.Writer) error {
	data, err := os.ReadFile(filepath.Join(out, "matrix.json"))
	if err != nil {
		return fmt.Errorf("detect -render: %w", err)
	}
	var m detect.Matrix
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("detect -render: %s/matrix.json: %w", out, err)
	}
	if m.Schema != detect.Schema {
		return fmt.Errorf("detect -render: %s/matrix.json has schema %q, want %q", out, m.Schema, detect.Schema)
	}
	detect.Derive(&m)
	stage, err := results.NewStage(out)
	if err != nil {
		return err
	}
	defer stage.Abort()
	return writeDetect(stage, &m, out, stdout)
}

// runDetectChild is the hidden command the detect lab starts its child
// processes with: it reads one job from stdin (see detect.ChildMain).
func runDetectChild(ctx context.Context, _ []string, stdout, stderr io.Writer) error {
	return detect.ChildMain(ctx, os.Stdin, stdout, stderr)
}

// quoteArgs renders args for a shell, with a leading space.
func quoteArgs(args []string) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteByte(' ')
		if a == "" || strings.ContainsAny(a, " \t'\"$*?()[]{}<>|&;\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		b.WriteString(a)
	}
	return b.String()
}
