// Package detect runs reloadlab's detection matrix: which trigger notices
// which change, on which file system. Every trigger of package
// strategies/trigger, and the file watchers of viper and koanf as "peer"
// columns, watch the same trials side by side; every write pattern of
// package writepattern changes the file; every file system of package
// fsmount holds it. Each cell (file system × pattern × column) is judged on
// correctness first (missed, torn, spurious, duplicate reloads) and latency
// second. Kernel-limit experiments (inotify queue overflow, the article's
// stress loop, inotify watch limit, inotify instance limit) and an
// idle-cost measurement complete it; the article's claims are judged
// against the result in package ledger.
//
// The work is split in four packages:
//
//	detect            the matrix: Config, Run, the trials, their judging
//	                  (Cell, Row), the model checks, the why lines, and
//	                  Matrix, the result written as matrix.json
//	detect/kernel     the kernel experiments and their result types
//	                  (detect.Overflow, detect.WatchLimit … are aliases)
//	detect/detectmd   matrix.md and latency.png, drawn from a Matrix
//	detect/internal/rig  what the matrix and the experiments share: the
//	                  columns, their observations, the oracle, the child
//	                  process
//
// # Usage
//
//	make detect                                   # the full matrix → results/detect
//	go run ./harness/cmd/lab detect -quick        # 3 trials per cell
//	go run ./harness/cmd/lab detect -triggers robust,viper -patterns vim,k8s-configmap -fs disk,tmpfs -trials 5
//	go run ./harness/cmd/lab detect -patterns bindmount-file-rename,subpath -fs disk,tmpfs -trials 3 -experiments none -out /tmp/shapes
//	go test -run TestReducedMatrix ./harness/detect   # the verdicts make test checks
//	go run ./harness/cmd/lab detect -render       # re-derive the model checks and redraw the report from results/detect/matrix.json
//
// Run detects as root: tmpfs, overlay and FUSE are mounted by the lab (and
// always unmounted); without root those file systems are skipped with the
// reason. The output is results/detect/matrix.json (below), and, drawn
// from it by package detectmd, matrix.md (one grid per file system, a why
// line under every problem cell, the experiments) and latency.png (one box
// per column, all file systems and patterns pooled).
//
// # Parameters
//
//	Trials          DefaultTrials (10) per cell; each trial is fresh: a new
//	                directory, new watchers, a new child process
//	Writes          DefaultWrites (2) changes per trial, Gap (500 ms + up to
//	                one poll interval) apart: a watch that works once and
//	                then dies misses the second
//	Deadline        DefaultDeadline (3 s) after the last write, raised to at
//	                least 3 poll intervals and 2 safety intervals
//	Keys            DefaultKeys (100, about 4 KiB) per trial config
//	Settle          DefaultSettle (100 ms) + up to one safety interval after
//	                the watchers start, before the first write
//	Quiet           DefaultQuiet (1.5 s) of watching after a no-change pattern
//	Linger          DefaultLinger (250 ms) after every column served the last
//	                version, to catch duplicate reloads
//	Concurrency     DefaultConcurrency (8) trials at once
//	Idle            DefaultIdle (10 s) idle-cost window, DefaultIdleKeys (10k)
//	PollInterval, Debounce, SafetyInterval: the triggers' defaults
//	FuseAttrTimeout fsmount.DefaultFuseAttrTimeout (1 s)
//
// # A trial
//
//  1. The file system makes a fresh directory and the pattern writes
//     version 1 into it (Pattern.Init; for k8s-configmap the ..data layout;
//     for a deployment shape its host and container sides). A shape with a
//     mount step then gets its bind mount (Pattern.Setup): made for this
//     trial, inside its directory, and removed before the directory is,
//     also when the trial fails or the run is interrupted.
//  2. Every column starts watching Pattern.WatchPath(view, "config.yaml")
//     (view/config.yaml, except for the shapes: container/config.yaml,
//     current/config.yaml): the triggers through strategies.NewReloader
//     into store.NewAtomic with an observer; the peers and signal in a
//     child process (below). Two plain fsnotify watchers, one on the
//     watched path's directory and one on the watched path, record the raw
//     events as a witness.
//  3. Settle, then Writes calls of Pattern.Write, Gap apart, each making
//     the next versions with config.Generate. Each complete version
//     written (what Write returns) enters the oracle with the SHA-256 of
//     its bytes and the canonical digest of its parsed map. After each
//     write the child gets SIGUSR1 for the signal column.
//  4. Wait until every column serves the last version or the deadline
//     passes (no-change patterns: watch for Quiet). stat(2) and read the
//     watched path (did the last version reach it? st_nlink 0?), stop every
//     column, collect its observations, and judge each against the oracle.
//
// # Deployment shapes
//
// Besides how a file is written, the field's missed reloads come from how
// it reaches the process (users' issue threads; the sources are in each
// pattern's Models). Each shape is a row of its own (package writepattern):
//
//	bindmount-file-rename   a single file bind-mounted into container/ (docker run -v file:file); the host saves by rename
//	bindmount-file-inplace  the same mount; the host writes in place
//	subpath                 Kubernetes subPath: the file inside the current ..<timestamp> directory bind-mounted read-only; AtomicWriter updates
//	bindmount-dir-rename    a directory bind mount, host rename (the control that works)
//	bindmount-dir-inplace   a directory bind mount, host in-place write
//	release-symlink         current -> releases/N swapped to releases/N+1 by renaming a temp symlink over current
//	git-checkout            a real git checkout of the other branch (needs git)
//	older-mtime             temp file + rename carrying an older mtime, same size (Ansible 2.17)
//
// bindmount-file-rename and subpath cannot be followed from the watched
// side at all: the mount pins the inode the host replaced. There the best a
// column can do is say so (stale reported, below). The mount shapes need
// root and are skipped with that reason otherwise; they do not run on
// fuse-remote (Matrix.NotRun says why). Every cell of a shape gets a why
// line, under its row's (Row.Why: what the writer did at the system-call
// level and what reached the watched path). The field case "inotify
// instances exhausted" is the instance-limit experiment (package kernel,
// instance_limit in matrix.json), not a row.
//
// The settle and the gap get a random part, seeded by the trial, so that
// writes do not land at the same phase of the polling triggers' tickers,
// which start with the columns: without it poll's latency is a constant of
// the schedule and a poll never falls inside a slow writer's pause.
//
// # Processes
//
// The triggers (except signal) run in the lab process, one Reloader each,
// while several trials run concurrently. signal runs in the trial's child
// process, because SIGUSR1 is process-wide: sent to the lab it would also
// fire robust (which answers SIGUSR1 and must be judged on its own safety
// net) and every concurrent trial's signal column. A child per trial gets
// exactly its own trial's signals. The peers run in the same child: viper
// has no way to stop its watcher (spf13/viper#1404) and calls os.Exit(1)
// when fsnotify.NewWatcher fails, and both libraries end their watch on
// errors; the lab kills the child at the end of the trial. The child is the
// lab binary's hidden "detect-child" command (ChildMain), reading its job
// as JSON from stdin and writing observations as JSON Lines to stdout;
// times are wall-clock Unix nanoseconds, which lab and child share. The lab
// holds SIGUSR1 and SIGHUP for the whole run, so a stray reload signal never
// kills it.
//
// # Peers
//
// viper v1.21.0 is used as its README shows: viper.New (with WithLogger, to
// learn what it only logs), SetConfigFile, ReadInConfig, OnConfigChange,
// WatchConfig. koanf v2.4.1 too: file.Provider, koanf.New, Load, and Watch
// with the README's callback, which throws the old koanf away (k =
// koanf.New("."); k.Load(f, parser)) and ignores Load's error, so a failed
// load leaves the program serving an empty config, which the oracle
// reports as torn. The koanf YAML parser module is not in go.mod; koanfYAML
// is the same four lines over go.yaml.in/yaml/v3. A peer "applies" when its
// callback runs; what it serves is the map read from it in the callback,
// compared with the oracle by canonical digest (sorted key=value lines, so
// version, key count and every value must match one complete version).
// Neither library is patched: their misses and tears are findings.
//
// # What is measured
//
//	missed       trials in which the column did not serve the last version
//	             written at the deadline (a column that could not start
//	             counts as missed); split into:
//	  missed silently  it said nothing: the old version kept serving in
//	             silence (a problem cell, ⚠ in matrix.md)
//	  stale reported   it reported, between the start of the trial and the
//	             deadline, that the file it reads was replaced where it
//	             cannot follow (rig.ObsStale: robust's and reload-lib's
//	             stale event, st_nlink 0 on the watched path), and kept
//	             serving the last good version; stale_report_ms is the
//	             delay from the end of the first write to the first report
//	stale alarms trials in which the column reported stale yet served the
//	             last version by the deadline
//	latency      last write finished (the pattern's last system call
//	             returned in the lab) → the column served the last version
//	             (pipeline: the store swap ended; peer: its callback read
//	             the map). Clamped at 0: a child can serve the version
//	             before the lab's goroutine records the time. p50 and p99
//	             are nearest-rank over the detected trials
//	spurious     applies while a no-change pattern ran (touch, chmod,
//	             noise): the content did not change
//	duplicates   applies of the content that was already serving, during a
//	             change pattern
//	torn         applies of a state that is no complete version written in
//	             the trial (exact oracle: byte hash for the pipeline,
//	             canonical digest for peers)
//	rejected     reads that failed to read or parse; the pipeline keeps the
//	             old version, viper too (but still calls OnConfigChange:
//	             such a callback counts as rejected, not duplicate)
//	wasted reads pipeline runs that found the content unchanged (the
//	             trigger fired, the hash check said no): our pipeline's
//	             dedup, made visible
//	idle cost    user+system CPU seconds per minute of a child process
//	             watching an unchanging 10k-key file (getrusage around the
//	             window), minus a child that watches nothing
//
// Our triggers cannot show duplicates or spurious reloads: the pipeline
// skips content whose hash is serving. The why line of a problem cell is
// built from what was observed in the trials concerned: the witness events
// (all trials of the row, or the missed ones), stat before and after the
// writes, whether the first write was applied, the errors the column
// reported, what it served instead.
//
// # Experiments
//
// Queue overflow, the article's stress loop, watch limit, instance limit
// and idle cost: see package kernel, which runs them (Config.Overflow,
// ArticleLoop, WatchLimit, InstanceLimit, Idle select them) with the
// run's trigger settings and child process.
//
// # matrix.json
//
// One JSON object (Matrix), schema "reloadlab.detect/v1". Durations are
// milliseconds (fields ending _ms), CPU is seconds per minute (_s_per_min),
// times are RFC 3339 UTC.
//
//	schema, command, started, wall_seconds
//	machine          machine.Info: go_version, kernel, cpu, num_cpu, commit, root …
//	params           Params: the resolved parameters above
//	columns[]        name, kind (trigger|peer), where (lab|child process), description
//	patterns[]       name, models, changes_content, tool, skipped (why not run),
//	                 shape (a deployment shape's layout), cannot_follow (why
//	                 no watcher can follow it)
//	not_run[]        fs, pattern, reason: combinations left out (the mount
//	                 shapes on fuse-remote)
//	file_systems[]   fsmount.Info: name, type (statfs), setup, note, error (why skipped)
//	rows[]           per file system × pattern: fs, pattern, trials, errored,
//	                 error_samples, dir_events and file_events ({"OP name": trials
//	                 seen in}), no_events, stat_unchanged, inode_changed,
//	                 mtime_back, watch_nlink_zero (st_nlink 0 on the watched
//	                 path at the end), watch_old (the watched path did not
//	                 read the last version at the end), shape, why (shapes:
//	                 what the writer did and what reached the watched path)
//	cells[]          per file system × pattern × column: fs, pattern, column,
//	                 changes, trials, missed (= missed_silently +
//	                 stale_reported), missed_silently, stale_reported,
//	                 stale_report_ms[], stale_p50_ms, stale_reasons[],
//	                 stale_alarms, missed_first, start_failed,
//	                 latency_ms[] (per detected trial), p50_ms, p99_ms, applies,
//	                 spurious, duplicates, torn, torn_states[], rejected,
//	                 wasted_reads, errors[] ("message (n×)"), why, problem
//	models[]         per file system × real tool: fs, real, model (the pattern
//	                 it checks), real_events, model_events (what the witnesses saw
//	                 of the config file), differ[] (columns whose verdict
//	                 differs), agrees
//	overflow         method, max_queued_events, noise_events, stopped_ms,
//	                 columns[]: column, overflow_reported, last_arrived,
//	                 latency_ms (from SIGCONT), via, applies, errors[], start_error
//	watch_limit      method, host_max_user_watches, host_unchanged,
//	                 host_watches_in_use, child_initial, limit_set,
//	                 watches_added, add_error, errno, limit_applies,
//	                 columns[]: column, start_error, errors[], applied, latency_ms, via
//	instance_limit   method, host_max_user_instances, host_unchanged,
//	                 host_instances_held, host_instances_in_use, child_initial,
//	                 limit_set, instances_created, init_error, errno,
//	                 limit_applies, error, columns[]: column, outcome,
//	                 instances_created, errno, start_error, errors[],
//	                 exit_code, signal, stderr, applied, latency_ms (slowest
//	                 change), via, changes[] (pattern, applied, latency_ms,
//	                 via), error
//	idle_cost        method, seconds, keys, bytes, baseline_cpu_s_per_min,
//	                 rows[]: column, cpu_s_per_min, net_cpu_s_per_min, error
//	article_loop     method, iterations, max_queued_events, runs[]: name,
//	                 events, by_op, overflow, errors[], watches_left
//	warnings[]       notes on the run (omitted when none)
//
// Temporary paths in messages are replaced by "<dir>".
//
// # Linux notes
//
// A bind mount pins an inode, not a path: a file bind mount whose source
// is replaced by rename keeps showing the old inode, unlinked (st_nlink 0;
// on overlayfs a file never copied up keeps the lower layer's count, 1).
// inotify reports a change to watches on the inode and on the directory of
// the path it was made through, so a host-side write in place reaches a
// watch on the container-side file, not one on the container-side
// directory. A watch added through a symbolic link stays on the target it
// had when it was added.
//
// inotify reports changes made through the local kernel only: on
// fuse-remote (changes made in the backing directory) no watcher sees an
// event. Each column gets its own view of a trial directory (on
// fuse-remote its own FUSE mount, so its own attribute cache; see package
// fsmount): otherwise one column's reads refresh the attributes another
// column's stat sees. Overlay trials keep version 1 in the lower layer, so
// the first write copies the file up. tmpfs trials are watched through a
// read-only bind mount, as a Kubernetes container watches a ConfigMap.
package detect
