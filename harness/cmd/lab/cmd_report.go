package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/reloadlab/reloadlab/harness/ledger"
	"github.com/reloadlab/reloadlab/harness/report"
)

func runReport(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", `Write REPORT.md and results/verdicts.json from the committed results
(results/compare, results/detect, results/micro, results/<strategy>,
results/compare-sweep-*). Measures nothing.`, stderr)
	root := fs.String("results", "results", "results `dir`")
	out := fs.String("out", "REPORT.md", "report `file`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	claims, vs, err := report.Write(*root, *out, "lab report "+strings.Join(args, " "))
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, c := range claims {
		counts[c.Verdict]++
	}
	fmt.Fprintf(stdout, "wrote %s (%d claims: %d confirmed, %d refuted, %d depend, %d not reproducible) and %s/verdicts.json (%d verdicts)\n",
		*out, len(claims), counts[ledger.Confirmed], counts[ledger.Refuted], counts[ledger.Depends], counts[ledger.NotReproducible], *root, len(vs))
	return nil
}
