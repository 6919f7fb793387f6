// Command lab is reloadlab's harness: it runs the experiments and writes the
// results that REPORT.md cites.
//
// Usage:
//
//	lab list                      presets, stores, triggers, write patterns
//	lab micro   [flags]           go test micro benchmarks → results/micro
//	lab bench   [flags]           one strategy under load → results/<strategy>
//	lab compare [flags]           every strategy, repeated and interleaved → results/compare
//	lab calibrate [flags]         sham reloads of known cost: what the QPS-dip estimator resolves → results/calibrate
//	lab report  [flags]           REPORT.md and results/verdicts.json from the committed results
//	lab reproduce [flags]         re-measure quickly and check results/verdicts.json
//	lab detect  [flags]           trigger × write pattern × file system → results/detect
//
// Run `lab <command> -h` for a command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/reloadlab/reloadlab/harness/etcdcluster"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/reloadlab/reloadlab/harness/target"
)

func main() {
	etcdcluster.RunMemberIfChild() // this program, re-executed as an etcd member by make fleet and STRATEGY=etcd
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "lab:", err)
		}
		if errors.Is(err, context.Canceled) {
			os.Exit(130)
		}
		os.Exit(1)
	}
}

// command is one sub-command.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"list", "print presets, stores, triggers and write patterns", runList},
		{"micro", "run the store micro benchmarks into results/micro", runMicro},
		{"bench", "run one strategy under load while its config changes → results/<strategy>", runBench},
		{"anchors", "install nginx and build Caddy for the nginx and caddy presets (external targets)", runAnchors},
		{"compare", "every strategy, repeated and interleaved, with a noise floor → results/compare", runCompare},
		{"calibrate", "sham reloads of known cost: what the QPS-dip estimator resolves → results/calibrate", runCalibrate},
		{"viperenv", "viper's AutomaticEnv against os.Setenv in the article's order and others → results/viperenv", runViperEnv},
		{"fleet", "N replicas converging from one source: etcd watch, a shared directory (robust), polling; etcd faults → results/fleet", runFleet},
		{"report", "write REPORT.md and results/verdicts.json from the committed results", runReport},
		{"reproduce", "re-measure quickly and check every verdict in results/verdicts.json", runReproduce},
		{"detect", "which trigger notices which change on which file system → results/detect", runDetect},
		{"detect-child", "", runDetectChild}, // hidden: the detect lab's child process
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	for _, c := range cmds {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.name
	}
	return fmt.Errorf("unknown command %q (valid: %s)", args[0], strings.Join(names, ", "))
}

func usage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "usage: lab <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range cmds {
		if c.summary == "" {
			continue // hidden (internal) command
		}
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run `lab <command> -h` for the command's flags.")
}

// newFlagSet returns a FlagSet that reports errors instead of exiting.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("lab "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: lab %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and rejects positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", fs.Name(), fs.Args())
	}
	return nil
}

// cpuFlags parses the -target-cpus and -load-cpus flag values.
func cpuFlags(targetList, loadList string) (targetCPUs, loadCPUs []int, err error) {
	if targetCPUs, err = target.ParseCPUs(targetList); err != nil {
		return nil, nil, err
	}
	if loadCPUs, err = target.ParseCPUs(loadList); err != nil {
		return nil, nil, err
	}
	return targetCPUs, loadCPUs, nil
}
