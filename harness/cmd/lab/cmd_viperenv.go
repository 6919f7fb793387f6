package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/reloadlab/reloadlab/harness/results"
	"github.com/reloadlab/reloadlab/harness/viperenv"
)

// init makes the lab a viperenv case child when viperenv.Run re-executes
// it (viperenv.ChildEnvVar set): the case runs, its answer goes to stdout
// and the process exits before main parses any command.
func init() {
	handled, err := viperenv.ServeChild(os.Stdout)
	if !handled {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lab viperenv child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runViperEnv(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("viperenv", `Test the article's chapter 3.3 claim that viper's AutomaticEnv misses an
os.Setenv made before (or after) the config is read, with the real viper: each
case (the article's order and others) runs in its own child process with a
fresh viper.New() reading a real config.yaml. Writes summary.json and
summary.md to -out; an interrupted run leaves the previous results untouched.

Cases: `+strings.Join(viperenv.CaseNames(), ", "), stderr)
	out := fs.String("out", "results/viperenv", "output `dir`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	stage, err := results.NewStage(*out)
	if err != nil {
		return err
	}
	defer stage.Abort()
	r, err := viperenv.Run(ctx)
	if err != nil {
		return err
	}
	if err := results.WriteJSON(stage.Path("summary.json"), r); err != nil {
		return err
	}
	var md bytes.Buffer
	if err := viperenv.WriteMarkdown(&md, r); err != nil {
		return err
	}
	if err := results.WriteFile(stage.Path("summary.md"), md.Bytes()); err != nil {
		return err
	}
	if err := stage.Commit(); err != nil {
		return err
	}
	for _, c := range r.Cases {
		expects := c.ArticleExpects
		if expects == "" {
			expects = "-"
		}
		fmt.Fprintf(stdout, "%-26s got %-5s source %-5s article expects %s\n", c.Name, c.Got, c.Source, expects)
	}
	fmt.Fprintf(stdout, "viper %s; results in %s\n", r.ViperVersion, *out)
	return nil
}
