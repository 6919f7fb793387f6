package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/reloadlab/reloadlab/strategies"
	"github.com/reloadlab/reloadlab/strategies/store"
)

func runList(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("list", "Print the presets (STRATEGY=), stores (STORE=), triggers (TRIGGER=) and write patterns (PATTERN=).", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PRESET\tSTORE\tTRIGGER\tDESCRIPTION")
	for _, p := range strategies.Presets() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Name, p.Store, p.Trigger, p.Description)
	}
	fmt.Fprintln(tw, "\nSTORE\tDESCRIPTION")
	for _, n := range store.Names() {
		fmt.Fprintf(tw, "%s\t%s\n", n, store.Describe(n))
	}
	fmt.Fprintln(tw, "\nTRIGGER\tDESCRIPTION")
	for _, n := range strategies.TriggerNames() {
		fmt.Fprintf(tw, "%s\t%s\n", n, strategies.DescribeTrigger(n))
	}
	return tw.Flush()
}
