package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"reloadlab/harness/compare"
	"reloadlab/harness/detect"
	"reloadlab/harness/results"
	"reloadlab/harness/verdict"
)

// reducedPatterns are the write patterns of reproduce's detect matrix.
var reducedPatterns = []string{"inplace", "rename", "vim", "k8s-configmap", "delete-create", "copy-preserve-mtime", "touch"}

func runReproduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("reproduce", `Re-measure with a quick compare and a reduced detect matrix (disk and tmpfs,
a few patterns, 3 trials) and check every verdict in results/verdicts.json.
Prints verdict → reproduced / not reproduced / not checked, and fails if a
clear verdict flips: a compare verdict flips when the re-run finds a real
difference (p < 0.05, beyond its A/A floor) the other way; a detect verdict
when the re-run sees the opposite (a miss caught, a zero broken). The re-run's
results go to results/reproduce (not committed).`, stderr)
	root := fs.String("results", "results", "results `dir` holding verdicts.json")
	out := fs.String("out", filepath.Join("results", "reproduce"), "where the re-run's results go")
	skipCompare := fs.Bool("skip-compare", false, "check only the detect verdicts")
	skipDetect := fs.Bool("skip-detect", false, "check only the compare verdicts")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	vf, err := verdict.Read(filepath.Join(*root, "verdicts.json"))
	if err != nil {
		return fmt.Errorf("reproduce: %w (run `make report` first)", err)
	}
	var run *compare.Run
	if !*skipCompare {
		run, err = compare.Compare(ctx, compare.Config{Quick: true, Out: filepath.Join(*out, "compare"), Log: stderr, CommandLine: "lab reproduce (quick compare)"})
		if err != nil {
			return err
		}
	}
	var m *detect.Matrix
	if !*skipDetect {
		if m, err = reducedDetect(ctx, filepath.Join(*out, "detect"), stderr); err != nil {
			return err
		}
	}
	res := verdict.Check(vf.Verdicts, run, m)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERDICT\tOUTCOME\tDETAIL")
	flips := 0
	counts := map[string]int{}
	for _, r := range res {
		counts[r.Outcome]++
		if r.Outcome == verdict.Flipped {
			flips++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Verdict.Statement, r.Outcome, r.Detail)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\n%d verdicts: %d reproduced, %d not reproduced, %d flipped, %d within noise, %d not in the re-run\n", len(res),
		counts[verdict.Reproduced], counts[verdict.NotReproduced], counts[verdict.Flipped], counts[verdict.WithinNoise], counts[verdict.NotMeasured])
	if flips > 0 {
		return fmt.Errorf("reproduce: %d clear verdicts flipped", flips)
	}
	return nil
}

// reducedDetect runs the reduced detection matrix (every column, a few
// patterns, disk and tmpfs, 3 trials) into dir.
func reducedDetect(ctx context.Context, dir string, progress io.Writer) (*detect.Matrix, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("reproduce: find the lab binary: %w", err)
	}
	cfg := detect.Config{
		Patterns: reducedPatterns, FileSystems: []string{"disk", "tmpfs"}, Trials: 3,
		Progress: progress, Command: "lab reproduce (reduced detect matrix)",
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
	if err := detect.WriteMarkdownFile(stage.Path("matrix.md"), m); err != nil {
		return nil, err
	}
	return m, stage.Commit()
}
