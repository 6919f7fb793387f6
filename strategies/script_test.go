package strategies

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reloadlab/reloadlab/harness/writepattern"
	"github.com/reloadlab/reloadlab/strategies/config"
	"github.com/reloadlab/reloadlab/strategies/store"
	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// TestMain keeps a handler for the reload signals installed for the whole
// run: scripts send SIGUSR1 to the test process (as an operator would after a
// write), and between two signal triggers' lifetimes a Go program would
// otherwise die of it.
//
// It also raises -test.parallel (unless given) to 64: script subtests spend
// their time waiting for file-system events and deadlines, not computing,
// and at the default (GOMAXPROCS) they would run two at a time.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		flag.Set("test.parallel", "64")
	}
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, trigger.ReloadSignals...)
	go func() {
		for range ch {
		}
	}()
	os.Exit(m.Run())
}

// Fast trigger settings for scripts; the scheme-1 delay keeps the article's
// 100 ms.
var scriptTriggerOpts = []trigger.Option{
	trigger.WithPollInterval(20 * time.Millisecond),
	trigger.WithDebounce(30 * time.Millisecond),
	trigger.WithSafetyInterval(200 * time.Millisecond),
}

const (
	scriptDeadline = 10 * time.Second        // generous: how long a change may take to arrive
	scriptSettle   = 1500 * time.Millisecond // how long the outcome must then hold
	scriptKeys     = 10
)

// script is one testdata/script file: commands on a fresh directory, then
// expectations per trigger.
type script struct {
	cmds   [][]string
	expect map[string]map[string]int64 // trigger ("" = all) → "version"/"applied" → value
}

func parseScript(t *testing.T, path string) script {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	s := script{expect: map[string]map[string]int64{}}
	output := false
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if i := strings.Index(text, "#"); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		if text == "Output:" {
			output = true
			continue
		}
		if !output {
			s.cmds = append(s.cmds, strings.Fields(text))
			continue
		}
		who := ""
		if name, rest, ok := strings.Cut(text, ":"); ok {
			who, text = strings.TrimSpace(name), strings.TrimSpace(rest)
			require.Contains(t, trigger.Names(), who, "%s:%d: unknown trigger", path, line)
		}
		f := strings.Fields(text)
		require.Len(t, f, 2, "%s:%d: want `[trigger:] version|applied N`", path, line)
		require.Contains(t, []string{"version", "applied"}, f[0], "%s:%d", path, line)
		n, err := strconv.ParseInt(f[1], 10, 64)
		require.NoError(t, err, "%s:%d", path, line)
		if s.expect[who] == nil {
			s.expect[who] = map[string]int64{}
		}
		s.expect[who][f[0]] = n
	}
	require.NoError(t, sc.Err())
	require.Contains(t, s.expect, "", "%s: no expectation for all triggers", path)
	return s
}

// expected returns what the script expects of trigger name.
func (s script) expected(name string) map[string]int64 {
	out := map[string]int64{}
	for k, v := range s.expect[""] {
		out[k] = v
	}
	for k, v := range s.expect[name] {
		out[k] = v
	}
	return out
}

// TestScript runs every testdata/script file against every trigger, each on
// real files in its own temporary directory, with the atomic store and the
// real pipeline. Expectations are about the outcome (the version finally
// served, the number of reloads applied), never about timing.
func TestScript(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/script/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		s := parseScript(t, file)
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		for _, trig := range trigger.Names() {
			t.Run(name+"/"+trig, func(t *testing.T) {
				t.Parallel()
				runScript(t, s, trig)
			})
		}
	}
}

func runScript(t *testing.T, s script, trig string) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	tr, err := trigger.New(trig, scriptTriggerOpts...)
	require.NoError(t, err)
	r := NewReloader(cfg, store.NewAtomic(), tr)
	started := false
	start := func() {
		require.NoError(t, r.Start())
		started = true
		t.Cleanup(func() { r.Close() })
	}
	cmds := s.cmds
	if !slices.ContainsFunc(cmds, func(c []string) bool { return c[0] == "start" }) {
		cmds = append([][]string{{"write", "config.yaml", "1"}, {"start"}}, cmds...)
	}
	for _, c := range cmds {
		if c[0] == "start" {
			start()
			continue
		}
		require.NoError(t, runCommand(dir, c), "command %q", strings.Join(c, " "))
	}
	require.True(t, started)

	want := s.expected(trig)
	if v, ok := want["version"]; ok {
		deadline := time.Now().Add(scriptDeadline)
		for r.Store().Version() != v && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(scriptSettle)
		assert.Equal(t, v, r.Store().Version(), "version served (events: %s)", eventSummary(r))
	} else {
		time.Sleep(scriptSettle)
	}
	if n, ok := want["applied"]; ok {
		assert.Equal(t, uint64(n), r.Status(0).Reloads, "reloads applied (events: %s)", eventSummary(r))
	}
}

func eventSummary(r *Reloader) string {
	var parts []string
	for _, e := range r.Status(0).Events {
		s := string(e.Outcome) + " v" + strconv.FormatInt(e.Version, 10) + " [" + e.Reason + "]"
		if e.Error != "" {
			s += " " + e.Error
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// runCommand performs one script command in dir. Paths are relative to dir.
func runCommand(dir string, c []string) error {
	p := func(i int) string { return filepath.Join(dir, c[i]) }
	version := func(i int) (int64, error) { return strconv.ParseInt(c[i], 10, 64) }
	switch c[0] {
	case "write": // write FILE VERSION: O_TRUNC in place
		v, err := version(2)
		if err != nil {
			return err
		}
		return os.WriteFile(p(1), config.Generate(v, scriptKeys), 0o644)
	case "write-raw": // write-raw FILE TEXT...: in place, literal text
		return os.WriteFile(p(1), []byte(strings.Join(c[2:], " ")+"\n"), 0o644)
	case "write-slow": // write-slow FILE VERSION PAUSE: truncate, half, pause, rest
		v, err := version(2)
		if err != nil {
			return err
		}
		pause, err := time.ParseDuration(c[3])
		if err != nil {
			return err
		}
		data := config.Generate(v, scriptKeys)
		f, err := os.OpenFile(p(1), os.O_WRONLY|os.O_TRUNC|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := f.Write(data[:len(data)/2]); err != nil {
			return err
		}
		time.Sleep(pause)
		_, err = f.Write(data[len(data)/2:])
		return err
	case "write-keep-mtime": // write-keep-mtime FILE VERSION: new content, old mtime restored
		v, err := version(2)
		if err != nil {
			return err
		}
		fi, err := os.Stat(p(1))
		if err != nil {
			return err
		}
		if err := os.WriteFile(p(1), config.Generate(v, scriptKeys), 0o644); err != nil {
			return err
		}
		return os.Chtimes(p(1), fi.ModTime(), fi.ModTime())
	case "rename-in": // rename-in FILE VERSION: temp file in the same dir, renamed over FILE
		v, err := version(2)
		if err != nil {
			return err
		}
		tmp := p(1) + ".tmp"
		if err := os.WriteFile(tmp, config.Generate(v, scriptKeys), 0o644); err != nil {
			return err
		}
		return os.Rename(tmp, p(1))
	case "burst": // burst FILE FROM TO: in-place writes of versions FROM..TO back to back
		from, err := version(2)
		if err != nil {
			return err
		}
		to, err := version(3)
		if err != nil {
			return err
		}
		for v := from; v <= to; v++ {
			if err := os.WriteFile(p(1), config.Generate(v, scriptKeys), 0o644); err != nil {
				return err
			}
		}
		return nil
	case "mv":
		return os.Rename(p(1), p(2))
	case "rm":
		return os.Remove(p(1))
	case "touch":
		now := time.Now()
		return os.Chtimes(p(1), now, now)
	case "chmod":
		mode, err := strconv.ParseUint(c[1], 8, 32)
		if err != nil {
			return err
		}
		return os.Chmod(p(2), os.FileMode(mode))
	case "k8s-init", "k8s-update": // the kubelet AtomicWriter, as harness/writepattern models it
		v, err := version(1)
		if err != nil {
			return err
		}
		p, err := writepattern.Lookup("k8s-configmap")
		if err != nil {
			return err
		}
		data := config.Generate(v, scriptKeys)
		if c[0] == "k8s-init" {
			return p.Init(dir, "config.yaml", data)
		}
		_, err = p.Write(context.Background(), dir, "config.yaml", func() []byte { return data })
		return err
	case "kill": // kill -USR1 | -HUP: signal this process, as an operator would
		return signalSelf(len(c) > 1 && c[1] == "-HUP")
	case "sleep":
		d, err := time.ParseDuration(c[1])
		if err != nil {
			return err
		}
		time.Sleep(d)
		return nil
	}
	return fmt.Errorf("unknown command %q", c[0])
}
