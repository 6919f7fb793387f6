package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/reloadlab/reloadlab/harness/anchors"
	"github.com/reloadlab/reloadlab/strategies"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/reloadlab/reloadlab/harness/compare"
	"github.com/reloadlab/reloadlab/harness/detect"
	"github.com/reloadlab/reloadlab/harness/detect/detectmd"
	"github.com/reloadlab/reloadlab/harness/machine"
	"github.com/reloadlab/reloadlab/harness/results"
	"github.com/reloadlab/reloadlab/harness/verdict"
)

// reproduceTrials is the trials per cell of reproduce's detect matrix:
// every cell of the full matrix, so that every detect verdict is
// re-checked, with fewer trials (a detect-miss verdict rests on every trial
// missing, which three trials test as well as ten).
const reproduceTrials = 3

func runReproduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("reproduce", `Re-measure with a quick compare and the whole detect matrix (every column,
pattern and file system, 3 trials a cell) and check every verdict in
results/verdicts.json. Prints each verdict's outcome, then one line:
"re-checked N of M asserted verdicts; F flipped; V vanished", and fails if
an asserted (clear) verdict flips or vanishes:
  flipped   the re-run finds a real difference the other way (p < 0.05
            beyond its A/A floor), or the opposite of a detect verdict
            (a miss caught in every trial, a zero broken);
  vanished  a clear compare effect (beyond twice the A/A floor) shrinks
            below one floor in the re-run.
The summary goes to results/reproduce/summary.{json,md} (committed; REPORT.md
states its counts); the re-run's own results to results/reproduce/raw (not
committed).`, stderr)
	root := fs.String("results", "results", "results `dir` holding verdicts.json")
	out := fs.String("out", filepath.Join("results", "reproduce"), "where the summary (and the re-run's results, under raw/) go")
	skipCompare := fs.Bool("skip-compare", false, "check only the detect verdicts")
	skipDetect := fs.Bool("skip-detect", false, "check only the compare verdicts")
	reuse := fs.Bool("reuse", false, "measure nothing: check against the re-run results already under -out/raw (after a change to the verdicts or the checks)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	started := time.Now()
	vpath := filepath.Join(*root, "verdicts.json")
	vf, err := verdict.Read(vpath)
	if err != nil {
		return fmt.Errorf("reproduce: %w (run `make report` first)", err)
	}
	hash, err := verdict.FileSHA256(vpath)
	if err != nil {
		return err
	}
	var run *compare.Run
	var m *detect.Matrix
	if *reuse {
		if run, m, err = readRerun(filepath.Join(*out, "raw")); err != nil {
			return err
		}
		*skipCompare, *skipDetect = true, true
	}
	if !*skipCompare {
		strats := reproduceStrategies(ctx, vf.Verdicts, stderr)
		run, err = compare.Compare(ctx, compare.Config{Quick: true, Strategies: strats, Out: filepath.Join(*out, "raw", "compare"), Log: stderr, CommandLine: "lab reproduce (quick compare)"})
		if err != nil {
			return err
		}
	}
	if !*skipDetect {
		if m, err = reproduceDetect(ctx, filepath.Join(*out, "raw", "detect"), stderr); err != nil {
			return err
		}
	}
	sum := verdict.Summarize(verdict.Check(vf.Verdicts, run, m))
	sum.VerdictsSHA256, sum.Started, sum.Commit = hash, started.UTC(), machine.Read().Commit
	sum.Command = "lab reproduce" + quoteArgs(args)
	if m != nil {
		sum.DetectTrials = m.Params.Trials
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERDICT\tOUTCOME\tDETAIL")
	for _, r := range sum.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Verdict.Statement, r.Outcome, r.Detail)
	}
	tw.Flush()
	if len(sum.NotRechecked) > 0 {
		fmt.Fprintf(stdout, "\nnot re-checked (%d): %s\n", len(sum.NotRechecked), strings.Join(sum.NotRechecked, ", "))
	}
	fmt.Fprintf(stdout, "\n%s\n", sum.Line())
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	if err := results.WriteJSON(filepath.Join(*out, "summary.json"), sum); err != nil {
		return err
	}
	if err := results.WriteFile(filepath.Join(*out, "summary.md"), []byte(sum.Markdown())); err != nil {
		return err
	}
	return sum.Err()
}

// reproduceDetect runs the whole detection matrix (every column, pattern
// and file system) with reproduceTrials trials a cell, and no experiments,
// into dir.
func reproduceDetect(ctx context.Context, dir string, progress io.Writer) (*detect.Matrix, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("reproduce: find the lab binary: %w", err)
	}
	cfg := detect.Config{
		Trials:   reproduceTrials,
		Progress: progress, Command: "lab reproduce (detect matrix, every cell)",
		Child: detect.Child{Path: exe, Args: []string{"detect-child"}},
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	stage, err := results.NewStage(dir)
	if err != nil {
		return nil, err
	}
	defer stage.Abort()
	m, err := detect.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := results.WriteJSON(stage.Path("matrix.json"), m); err != nil {
		return nil, err
	}
	if err := detectmd.WriteMarkdownFile(stage.Path("matrix.md"), m); err != nil {
		return nil, err
	}
	return m, stage.Commit()
}

// readRerun reads the re-run results a previous reproduce left under dir.
func readRerun(dir string) (*compare.Run, *detect.Matrix, error) {
	var run compare.Run
	var m detect.Matrix
	for _, f := range []struct {
		path string
		v    any
	}{{filepath.Join(dir, "compare", "summary.json"), &run}, {filepath.Join(dir, "detect", "matrix.json"), &m}} {
		data, err := os.ReadFile(f.path)
		if err != nil {
			return nil, nil, fmt.Errorf("reproduce -reuse: %w (run `make reproduce` first)", err)
		}
		if err := json.Unmarshal(data, f.v); err != nil {
			return nil, nil, fmt.Errorf("reproduce -reuse: %s is corrupt: %w", f.path, err)
		}
	}
	return &run, &m, nil
}

// reproduceStrategies returns the strategies the quick compare re-runs:
// the lab's presets, and each anchor (nginx, caddy) that the verdicts name
// and that can run here without installing or building anything (make
// anchors does that). An anchor left out is said so; its verdicts are
// then "not checked (not in the re-run)", never a failure.
func reproduceStrategies(ctx context.Context, vs []verdict.Verdict, log io.Writer) []string {
	named := map[string]bool{}
	for _, v := range vs {
		if v.Kind == verdict.KindCompare {
			named[v.Strategy] = true
		}
	}
	out := strategies.Names()
	for _, a := range anchors.Names() {
		if !named[a] {
			continue
		}
		reason := anchors.Available(ctx, a)
		if reason == "" && a == anchors.NameCaddy {
			if _, ok := anchors.CaddyCached(ctx, ""); !ok {
				reason = "Caddy is not built yet (make anchors builds it, about 3 minutes)"
			}
		}
		if reason != "" {
			fmt.Fprintf(log, "reproduce: %s left out of the quick compare: %s; its verdicts are not checked\n", a, reason)
			continue
		}
		out = append(out, a)
	}
	return out
}
