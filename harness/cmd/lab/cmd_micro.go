package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/harness/machine"
	"github.com/reloadlab/reloadlab/harness/results"
	"github.com/reloadlab/reloadlab/harness/tools"
)

// benchstatTables are the comparisons written to benchstat.txt: the title,
// then benchstat's arguments.
var benchstatTables = []struct {
	title string
	args  []string
}{
	{"Read overhead: Get with no writer, each store against a bare map (no synchronisation)",
		[]string{"-filter", ".name:Get /writer:none", "-col", "/store@(baremap lockmap lockswap syncmap atomic)"}},
	{"Get while a background writer rebuilds and applies a 10k-key config every 100 ms or 1 ms, against lockmap",
		[]string{"-filter", ".name:Get -/writer:none -/store:baremap", "-col", "/store@(lockmap lockswap syncmap atomic)"}},
	{"Apply of a prebuilt 1k/10k/100k-key config, against lockmap",
		[]string{"-filter", ".name:Apply", "-col", "/store@(lockmap lockswap syncmap atomic)"}},
	{"Parse and validation of a 1k/10k/100k-key config (the stage every store pays before its apply)",
		[]string{"-filter", ".name:Parse", "-col", "/keys@(1k 10k 100k)"}},
	{"The reload library's Load (and a key lookup) beside the atomic store's Get, same 10k-key config, no writer",
		[]string{"-filter", ".name:Load", "-col", "/src@(store-atomic reload)"}},
	{"Walking 10k files (the article's os.DirFS claim), against filepath.Walk",
		[]string{"-filter", ".name:Walk", "-col", "/way@(filepath.Walk filepath.WalkDir os.DirFS+fs.WalkDir)"}},
}

func runMicro(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("micro", `Run the micro benchmarks (packages strategies/store, strategies/config, reload and harness/walkbench) and write
results/micro/bench.txt (benchfmt, with machine config lines) and
results/micro/benchstat.txt (benchstat tables comparing the stores).
The output directory is replaced only when the run completes.`, stderr)
	out := fs.String("out", "results/micro", "output `dir`")
	count := fs.Int("count", 6, "go test -count: repetitions of each benchmark (6 gives a finite 95% CI)")
	cpu := fs.String("cpu", "1,2", "go test -cpu list")
	benchtime := fs.String("benchtime", "500ms", "go test -benchtime")
	bench := fs.String("bench", ".", "go test -bench regexp")
	quick := fs.Bool("quick", false, "one short repetition (for tests): -count 1 -benchtime 20ms")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *quick {
		*count, *benchtime = 1, "20ms"
	}
	stage, err := results.NewStage(*out)
	if err != nil {
		return err
	}
	defer stage.Abort()

	goBin, err := tools.Go()
	if err != nil {
		return err
	}
	var raw bytes.Buffer
	raw.WriteString(machine.Read().ConfigLines())
	testArgs := []string{"test", "-run", "^$", "-bench", *bench, "-count", fmt.Sprint(*count), "-cpu", *cpu, "-benchtime", *benchtime, "./strategies/store", "./strategies/config", "./reload", "./harness/walkbench"}
	fmt.Fprintf(stderr, "micro: %s %s\n", goBin, strings.Join(testArgs, " "))
	start := time.Now()
	cmd := exec.CommandContext(ctx, goBin, testArgs...)
	cmd.Stderr = stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("micro: start go test: %w", err)
	}
	n := 0
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		line := sc.Text()
		raw.WriteString(line + "\n")
		if strings.HasPrefix(line, "Benchmark") {
			n++
			name, _, _ := strings.Cut(line, "\t")
			fmt.Fprintf(stderr, "micro: %4d results, %5.0fs  %s\n", n, time.Since(start).Seconds(), strings.TrimSpace(name))
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("micro: go test: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("micro: go test produced no benchmark results")
	}
	if err := results.WriteFile(stage.Path("bench.txt"), raw.Bytes()); err != nil {
		return err
	}

	var table bytes.Buffer
	fmt.Fprintf(&table, "# Store micro benchmarks, summarised by benchstat\n#\n# Made by: go run ./harness/cmd/lab micro -count %d -cpu %s -benchtime %s\n# Raw data: bench.txt in this directory. Medians with 95%% confidence intervals;\n# \"~\" means no significant difference (Mann-Whitney U, p >= 0.05).\n", *count, *cpu, *benchtime)
	for _, tb := range benchstatTables {
		fmt.Fprintf(&table, "\n## %s\n# benchstat %s bench.txt\n\n", tb.title, shellQuote(tb.args))
		res, err := tools.Benchstat(ctx, append(tb.args, stage.Path("bench.txt"))...)
		if err != nil {
			return err
		}
		table.Write(res)
	}
	if err := results.WriteFile(stage.Path("benchstat.txt"), table.Bytes()); err != nil {
		return err
	}
	if err := stage.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "micro: %d results in %.0fs\n", n, time.Since(start).Seconds())
	fmt.Fprintf(stdout, "wrote %s/bench.txt and %s/benchstat.txt\n", *out, *out)
	return nil
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " ()*:$") {
			a = "'" + a + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
