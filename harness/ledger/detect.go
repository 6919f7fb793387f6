package ledger

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/harness/detect"
	"github.com/reloadlab/reloadlab/harness/fsmount"
	"github.com/reloadlab/reloadlab/harness/mdtable"
	"github.com/reloadlab/reloadlab/harness/writepattern"
	"github.com/reloadlab/reloadlab/strategies/trigger"
)

// detectSpec is a claim the detection matrix judges, the rule it is judged
// by, and the judge.
type detectSpec struct {
	id, source, claim, rule string
	judge                   func(q query) judgement
}

// judgement is what a detect judge finds.
type judgement struct {
	verdict        string
	measured       string   // the evidence
	because        string   // "" → derived from cells for depends
	interpretation string   // what the data do not decide
	cells          []string // cells that contradict the claim
}

// detectClaims judges every detect claim against m (D rows).
func detectClaims(m *detect.Matrix) []Claim {
	var out []Claim
	for _, s := range detectSpecs {
		c := Claim{ID: s.id, Section: s.source, Claim: s.claim, Rule: s.rule, Command: cmdDetect}
		if m == nil {
			out = append(out, c.missing("results/detect is missing (run `make detect`)"))
			continue
		}
		j := s.judge(query{m})
		c.Verdict, c.Measured, c.Because, c.Interpretation, c.Cells = j.verdict, j.measured, j.because, j.interpretation, compressCells(j.cells)
		if c.Because == "" && (c.Verdict == Depends || c.Verdict == Refuted) && len(c.Cells) > 0 {
			c.Because = "the cells that contradict it: " + strings.Join(c.Cells, ", ")
		}
		if c.Verdict == NotReproducible && c.Because == "" {
			c.Because = j.measured
		}
		out = append(out, c)
	}
	return out
}

// query answers questions about a matrix.
type query struct{ m *detect.Matrix }

// fsRan reports whether file system name ran.
func (q query) fsRan(name string) bool {
	for _, f := range q.m.FileSystems {
		if f.Name == name && f.Error == "" {
			return true
		}
	}
	return false
}

// local returns the file systems that ran on which inotify can work.
func (q query) local() []string {
	var out []string
	for _, n := range []string{fsmount.Disk, fsmount.Tmpfs, fsmount.Overlay} {
		if q.fsRan(n) {
			out = append(out, n)
		}
	}
	return out
}

// cells returns the cells matching fs (nil: any), patterns (nil: any) and
// columns (nil: any).
func (q query) cells(fss, patterns, columns []string) []detect.Cell {
	var out []detect.Cell
	for _, c := range q.m.Cells {
		if (fss == nil || slices.Contains(fss, c.FS)) && (patterns == nil || slices.Contains(patterns, c.Pattern)) &&
			(columns == nil || slices.Contains(columns, c.Column)) && c.Trials > 0 {
			out = append(out, c)
		}
	}
	return out
}

func cellID(c detect.Cell) string { return c.FS + "/" + c.Pattern + "/" + c.Column }

func ids(cs []detect.Cell) []string {
	var out []string
	for _, c := range cs {
		out = append(out, cellID(c))
	}
	return out
}

func filter(cs []detect.Cell, keep func(detect.Cell) bool) []detect.Cell {
	var out []detect.Cell
	for _, c := range cs {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

func sum(cs []detect.Cell, f func(detect.Cell) int) int {
	n := 0
	for _, c := range cs {
		n += f(c)
	}
	return n
}

// p99Max returns the largest p99 latency of the cells (0 if none).
func p99Max(cs []detect.Cell) float64 {
	v := 0.0
	for _, c := range cs {
		if c.P99MS != nil && *c.P99MS > v {
			v = *c.P99MS
		}
	}
	return v
}

// events returns the witness tally summary of a row ("" if not run).
func (q query) events(fs, pattern string, dir bool) string {
	r := q.m.Row(fs, pattern)
	if r == nil {
		return ""
	}
	if dir {
		return detect.EventSummary(r.DirEvents, false)
	}
	return detect.EventSummary(r.FileEvents, true)
}

var inotifyColumns = []string{"fsnotify", "dirwatch", "robust", detect.ColViper, detect.ColKoanf}

var detectSpecs = []detectSpec{
	{
		id: "D1", source: "chapter 1, opening",
		claim: "Vim with backupcopy=no saves with rename()+write(); inotify does not watch IN_MOVED_TO by default, so fsnotify does not perceive the change.",
		rule:  "refuted when a directory watch (dirwatch, robust, viper) saw every vim save in some local cell or scheme 1's file watch saw the first save; confirmed when no watch perceived a vim save",
		judge: func(q query) judgement {
			vim := []string{"vim", "vim-real"}
			dirs := q.cells(q.local(), vim, []string{"dirwatch", "robust", detect.ColViper})
			if len(dirs) == 0 {
				return judgement{verdict: NotReproducible, measured: "no vim cells ran on a local file system"}
			}
			seen := filter(dirs, func(c detect.Cell) bool { return c.Missed == 0 })
			s1 := q.cells(q.local(), vim, []string{"fsnotify"})
			s1first := filter(s1, func(c detect.Cell) bool { return c.MissedFirst < c.Trials })
			s1missed := filter(s1, func(c detect.Cell) bool { return c.Missed > 0 })
			j := judgement{measured: fmt.Sprintf("directory watches saw every vim save in %d of %d cells (the directory watch sees the new file: %s); the article's scheme 1 on the file path saw the first save in %d of %d cells (its file watch saw %s) and missed the last in %d",
				len(seen), len(dirs), q.events(fsmount.Disk, "vim", true), len(s1first), len(s1), q.events(fsmount.Disk, "vim", false), len(s1missed)), cells: ids(append(seen, s1first...))}
			if len(seen) == 0 && len(s1first) == 0 {
				j.verdict = Confirmed
				return j
			}
			j.verdict = Refuted
			j.because = fmt.Sprintf("the save is perceived: %d directory-watch cells saw every save, scheme 1 saw the first save in %d cells", len(seen), len(s1first))
			if len(s1missed) > 0 {
				j.because += fmt.Sprintf("; what fails is a watch on the file itself after the first save (%d cells)", len(s1missed))
			}
			return j
		},
	},
	{
		id: "D2", source: "chapter 1, why fsnotify fails, 1st point",
		claim: "/proc/sys/fs/inotify/max_user_watches is a hard limit (default 8192); beyond it events are silently dropped.",
		rule:  "three parts from the watch-limit experiment (the limit lowered in a user namespace): the lowered limit is enforced exactly (a hard limit), the host's max_user_watches is 8192, and inotify_add_watch beyond the limit fails without an error; confirmed when all hold, refuted when none, depends otherwise",
		judge: func(q query) judgement {
			w := q.m.WatchLimit
			if w == nil || (w.AddError == "" && w.WatchesAdded == 0) {
				reason := "the watch-limit experiment did not run"
				if w != nil && w.Error != "" {
					reason = "the watch-limit experiment failed: " + w.Error
				}
				return judgement{verdict: NotReproducible, measured: reason}
			}
			var silent, loud, survived []string
			for _, c := range w.Columns {
				switch {
				case c.Applied:
					survived = append(survived, c.Column)
				case c.StartError != "" && strings.Contains(c.StartError, "returned normally"):
					silent = append(silent, c.Column+" (logs only)")
				case c.StartError != "":
					loud = append(loud, c.Column)
				default:
					silent = append(silent, c.Column+" (ignores the error)")
				}
			}
			failure := "no error"
			if w.AddError != "" {
				failure = fmt.Sprintf("%s (%s)", w.Errno, lastPart(w.AddError))
			}
			j := judgement{measured: fmt.Sprintf("with max_inotify_watches lowered to %d in a user namespace, one instance added %d watches, then inotify_add_watch failed with %s; the host's max_user_watches is %d. Of the columns started afterwards, %s never reloaded, %s failed at start, %s still served a later change",
				w.LimitSet, w.WatchesAdded, failure, w.HostMaxUserWatches, list(silent), list(loud), list(survived)), cells: []string{"watch-limit/inotify_add_watch"}}
			parts := []part{
				{what: "the limit is enforced exactly", known: true, holds: w.LimitApplies, why: fmt.Sprintf("%d watches added under a limit of %d", w.WatchesAdded, w.LimitSet)},
				{what: "the default is 8192", known: w.HostMaxUserWatches > 0, holds: w.HostMaxUserWatches == 8192, why: fmt.Sprintf("%d here", w.HostMaxUserWatches)},
				{what: "the kernel drops beyond it silently", known: true, holds: w.AddError == "", why: "inotify_add_watch returned " + failure},
			}
			var c Claim
			c.decide(parts...)
			j.verdict, j.because = c.Verdict, c.Because
			if len(silent) > 0 {
				j.interpretation = "the silence users see comes from callers that ignore or only log the error (" + list(silent) + ")"
			}
			return j
		},
	},
	{
		id: "D3", source: "chapter 1, why fsnotify fails, 2nd point",
		claim: "os.Rename() produces IN_MOVED_FROM+IN_MOVED_TO; without listening for fsnotify.Rename, rename-type updates are missed (so listening for Rename catches them).",
		rule:  "confirmed when scheme 1, which listens for Write and Rename, caught the last version in every rename-type cell on local file systems (rename, mv-real, sed-real, jetbrains); refuted when it missed in any",
		judge: func(q query) judgement {
			pats := []string{"rename", "mv-real", "sed-real", "jetbrains"}
			s1 := q.cells(q.local(), pats, []string{"fsnotify"})
			if len(s1) == 0 {
				return judgement{verdict: NotReproducible, measured: "no rename cells ran on a local file system"}
			}
			missed := filter(s1, func(c detect.Cell) bool { return c.Missed > 0 })
			dw := q.cells(q.local(), pats, []string{"dirwatch"})
			dwMissed := filter(dw, func(c detect.Cell) bool { return c.Missed > 0 })
			j := judgement{measured: fmt.Sprintf("scheme 1 listens for Write and Rename and missed in %d of %d rename cells; its file watch saw %s; a directory watch, which needs no Rename, saw %s and missed in %d of %d",
				len(missed), len(s1), q.events(fsmount.Disk, "rename", false), q.events(fsmount.Disk, "rename", true), len(dwMissed), len(dw)), cells: ids(missed)}
			if len(missed) == 0 {
				j.verdict = Confirmed
				return j
			}
			j.verdict = Refuted
			if !strings.Contains(q.events(fsmount.Disk, "rename", false), "RENAME") {
				j.interpretation = "a rename over the watched file unlinks its inode, which gets no RENAME event"
			}
			return j
		},
	},
	{
		id: "D4", source: "chapter 1, why fsnotify fails, 3rd point",
		claim: "A ConfigMap in a container is injected through tmpfs symlinks on a read-only mount, so fsnotify cannot register a watch.",
		rule:  "confirmed when no inotify column could register its watch (every start failed) on tmpfs × k8s-configmap, watched through a read-only bind mount; refuted when any did",
		judge: func(q query) judgement {
			cs := q.cells([]string{fsmount.Tmpfs}, []string{"k8s-configmap"}, inotifyColumns)
			if len(cs) == 0 {
				return judgement{verdict: NotReproducible, measured: "tmpfs × k8s-configmap did not run"}
			}
			started := filter(cs, func(c detect.Cell) bool { return c.StartFailed == 0 })
			detected := filter(started, func(c detect.Cell) bool { return c.Missed == 0 })
			var s1 string
			for _, c := range cs {
				if c.Column == "fsnotify" {
					s1 = fmt.Sprintf("; scheme 1 missed %d/%d (its file watch saw %s)", c.Missed, c.Trials, q.events(fsmount.Tmpfs, "k8s-configmap", false))
				}
			}
			j := judgement{measured: fmt.Sprintf("watched through a read-only bind mount of the tmpfs, %d of %d inotify columns registered their watch in every trial, and %s saw every update (directory events: %s)%s",
				len(started), len(cs), list(columnsOf(detected)), q.events(fsmount.Tmpfs, "k8s-configmap", true), s1), cells: ids(started)}
			if len(started) == 0 {
				j.verdict = Confirmed
			} else {
				j.verdict = Refuted
			}
			return j
		},
	},
	{
		id: "D5", source: "scheme 1 (code)",
		claim: "Scheme 1 (watch the file path, re-read 100 ms after Write or Rename) is a fix for the failures listed.",
		rule:  "confirmed when scheme 1 caught the last version in every changing cell on local file systems; refuted when it missed in any",
		judge: func(q query) judgement {
			cs := filter(q.cells(q.local(), nil, []string{"fsnotify"}), func(c detect.Cell) bool { return c.Changes })
			if len(cs) == 0 {
				return judgement{verdict: NotReproducible, measured: "scheme 1 did not run on a local file system"}
			}
			missed := filter(cs, func(c detect.Cell) bool { return c.Missed > 0 })
			j := judgement{measured: fmt.Sprintf("on local file systems it missed the last version in %d of %d cells (patterns: %s)", len(missed), len(cs), patternsOf(missed)), cells: ids(missed)}
			if len(missed) == 0 {
				j.verdict = Confirmed
			} else {
				j.verdict = Refuted
			}
			return j
		},
	},
	{
		id: "D6", source: "scheme 1 (code comment)",
		claim: "Re-reading 100 ms after the event avoids reading Vim's unfinished write.",
		rule:  "confirmed when scheme 1 applied no half-written file in any inplace-slow cell (a writer that pauses mid-file); refuted when it applied one in any",
		judge: func(q query) judgement {
			cs := q.cells(nil, []string{"inplace-slow"}, []string{"fsnotify"})
			if len(cs) == 0 {
				return judgement{verdict: NotReproducible, measured: "inplace-slow did not run"}
			}
			bad := filter(cs, func(c detect.Cell) bool { return c.Torn > 0 })
			j := judgement{measured: fmt.Sprintf("scheme 1 applied a half-written file %d times over %d inplace-slow cells, whose writer pauses %s mid-file against scheme 1's %s delay",
				sum(cs, func(c detect.Cell) int { return c.Torn }), len(cs), mdtable.Millis(ms(writepattern.SlowPause)), mdtable.Millis(ms(trigger.DefaultDelay))), cells: ids(bad)}
			j.interpretation = "the delay is per event, not a debounce, so a pause longer than the delay is not covered; and Vim with backupcopy=no never writes in place: it writes a new file"
			if len(bad) > 0 {
				j.verdict = Refuted
			} else {
				j.verdict = Confirmed
			}
			return j
		},
	},
	{
		id: "D7", source: "scheme 2 table",
		claim: "Polling mtime+size: low CPU, latency ≤ 500 ms, suited to NFS and Kubernetes ConfigMaps.",
		rule:  "confirmed when poll missed nothing, tore nothing and kept p99 ≤ 500 ms in every changing cell that a watcher can follow (fuse-remote standing for NFS, k8s-configmap for ConfigMaps); refuted when it failed in every such cell; depends otherwise",
		judge: func(q query) judgement {
			f := q.failing("poll", 500)
			if len(f.all) == 0 {
				return judgement{verdict: NotReproducible, measured: "poll did not run"}
			}
			missed := f.missed
			j := judgement{measured: fmt.Sprintf("poll missed in %d of %d cells (%s); its p99 exceeded 500 ms in %d cells (worst fuse-remote p99 %s); it applied half-written files in %d cells; on ConfigMaps (k8s-configmap) it missed %d trials",
				len(f.missed), len(f.all), patternsOf(f.missed), len(f.slow), mdtable.Millis(p99Max(q.cells([]string{fsmount.FuseRemote}, nil, []string{"poll"}))), len(f.torn),
				sum(q.cells(nil, []string{"k8s-configmap"}, []string{"poll"}), func(c detect.Cell) int { return c.Missed })), cells: ids(f.bad)}
			j.verdict = byShare(len(f.bad), len(f.all))
			if len(missed) > 0 {
				j.interpretation = "a change that keeps the size and restores the mtime leaves stat unchanged"
			}
			return j
		},
	},
	{
		id: "D8", source: "scheme 2 table",
		claim: "Polling a SHA-256 of the content: medium CPU, latency ≤ 200 ms, suited to configuration-sensitive services.",
		rule:  "confirmed when pollhash missed nothing, tore nothing and kept p99 ≤ 200 ms in every changing cell that a watcher can follow; refuted when it failed in every such cell; depends otherwise",
		judge: func(q query) judgement {
			f := q.failing("pollhash", 200)
			if len(f.all) == 0 {
				return judgement{verdict: NotReproducible, measured: "pollhash did not run"}
			}
			torn := f.torn
			j := judgement{measured: fmt.Sprintf("pollhash missed in %d of %d cells; its p99 exceeded 200 ms in %d cells (interval %s here; worst p99 %s); it applied a half-written file %d times (%s)",
				len(f.missed), len(f.all), len(f.slow), mdtable.Millis(q.m.Params.PollIntervalMS), mdtable.Millis(p99Max(f.all)), sum(f.torn, func(c detect.Cell) int { return c.Torn }), patternsOf(f.torn)), cells: ids(f.bad)}
			if i := q.m.Idle; i != nil && i.Error == "" {
				j.measured += "; " + idleOrder(i, "pollhash", "poll", "dirwatch")
			}
			j.verdict = byShare(len(f.bad), len(f.all))
			if len(torn) > 0 {
				j.interpretation = "any poller that reads in-place writes can apply a half-written file; safe for a configuration-sensitive service only when every writer renames atomically"
			}
			return j
		},
	},
	{
		id: "D9", source: "scheme 3",
		claim: "Signal-driven reload (SIGUSR1) is the most stable.",
		rule:  "confirmed when signal, sent a SIGUSR1 after every change, missed and tore nothing in any cell that a watcher can follow (a file bind mount whose source was replaced cannot be followed by anyone); refuted when it failed in every such cell; depends otherwise",
		judge: func(q query) judgement {
			cs := q.followable(q.cells(nil, nil, []string{"signal"}))
			if len(cs) == 0 {
				return judgement{verdict: NotReproducible, measured: "signal did not run"}
			}
			bad := filter(cs, func(c detect.Cell) bool { return c.Missed > 0 || c.Torn > 0 })
			j := judgement{measured: fmt.Sprintf("with a SIGUSR1 after every change, signal missed or tore in %d of %d cells", len(bad), len(cs)), cells: ids(bad),
				interpretation: "it notices nothing nobody signals, and the sender learns nothing of the outcome"}
			j.verdict = byShare(len(bad), len(cs))
			return j
		},
	},
	{
		id: "D10", source: "chapter 1, opening",
		claim: "fsnotify often loses events on container file systems (overlay2).",
		rule:  "refuted when overlay's raw witnesses saw the same events as disk for every pattern and fsnotify, dirwatch and robust missed no more often on overlay than on disk; confirmed when the witnesses differ and those columns missed more on overlay; depends otherwise",
		judge: func(q query) judgement {
			if !q.fsRan(fsmount.Overlay) || !q.fsRan(fsmount.Disk) {
				return judgement{verdict: NotReproducible, measured: "overlay or disk did not run"}
			}
			var sameEvents, diffEvents []string
			for _, r := range q.m.Rows {
				if r.FS != fsmount.Overlay {
					continue
				}
				d := q.m.Row(fsmount.Disk, r.Pattern)
				if d == nil {
					continue
				}
				if sameKeys(r.DirEvents, d.DirEvents) && sameKeys(r.FileEvents, d.FileEvents) {
					sameEvents = append(sameEvents, r.Pattern)
				} else {
					diffEvents = append(diffEvents, r.Pattern)
				}
			}
			var worse, caught []detect.Cell
			for _, c := range q.cells([]string{fsmount.Overlay}, nil, []string{"fsnotify", "dirwatch", "robust"}) {
				d := q.m.Cell(fsmount.Disk, c.Pattern, c.Column)
				if d == nil || !c.Changes {
					continue
				}
				switch {
				case c.Missed > d.Missed:
					worse = append(worse, c)
				case c.Missed == 0:
					caught = append(caught, c)
				}
			}
			j := judgement{measured: fmt.Sprintf("on overlayfs (kernel %s, lower layer on disk, written through the merged directory) the raw inotify witnesses saw the same distinct events as on disk for %d of %d patterns (different: %s); fsnotify, dirwatch and robust missed more often than on disk in %d cells (%s) and caught every change in %d",
				q.m.Machine.Kernel, len(sameEvents), len(sameEvents)+len(diffEvents), list(diffEvents), len(worse), list(ids(worse)), len(caught)), cells: ids(caught)}
			switch {
			case len(worse) == 0 && len(diffEvents) == 0:
				j.verdict = Refuted
				j.because = "overlay lost no event that disk did not"
			case len(worse) > 0 && len(diffEvents) > 0:
				j.verdict = Confirmed
				j.cells = nil
			default:
				j.verdict = Depends
				j.because = fmt.Sprintf("the witnesses differ for %s; the columns missed more on overlay in %d cells", list(diffEvents), len(worse))
			}
			return j
		},
	},
	{
		id: "D11", source: "chapter 1, opening; scheme 2 table",
		claim: "fsnotify loses events on NFS mounts.",
		rule:  "confirmed when no inotify-only column (fsnotify, dirwatch, viper, koanf) caught a change on fuse-remote (standing for NFS: changed behind the mount); depends when some did",
		judge: func(q query) judgement {
			cs := filter(q.cells([]string{fsmount.FuseRemote}, nil, []string{"fsnotify", "dirwatch", detect.ColViper, detect.ColKoanf}), func(c detect.Cell) bool { return c.Changes })
			if len(cs) == 0 {
				return judgement{verdict: NotReproducible, measured: "fuse-remote did not run"}
			}
			caught := filter(cs, func(c detect.Cell) bool { return c.Missed < c.Trials })
			noEvents, trials := 0, 0
			for _, r := range q.m.Rows {
				if r.FS == fsmount.FuseRemote {
					noEvents += r.NoEvents
					trials += r.Trials
				}
			}
			j := judgement{measured: fmt.Sprintf("on fuse-remote (changes made behind a FUSE mount, as by another NFS client) no inotify event reached any witness in %d of %d trials; the inotify-only columns caught a change in %d of %d cells", noEvents, trials, len(caught), len(cs)), cells: ids(caught)}
			if len(caught) == 0 {
				j.verdict = Confirmed
				if noEvents == trials {
					j.interpretation = "events are not lost: none is ever generated for a change made on another client"
				}
			} else {
				j.verdict = Depends
			}
			return j
		},
	},
	{
		id: "D12", source: "chapter 2.2",
		claim: "High-frequency changes overflow the kernel queue (max_queued_events 16384); the overflowing events are silently dropped.",
		rule:  "two parts from the overflow experiment (more noise events queued than max_queued_events while the watchers are stopped): the queue overflows (a column is told, or the noise exceeds the limit), and nobody is told (no column receives ErrEventOverflow); confirmed when both hold, refuted when neither, depends when one",
		judge: func(q query) judgement {
			o := q.m.Overflow
			if o == nil || len(o.Columns) == 0 {
				return judgement{verdict: NotReproducible, measured: "the overflow experiment did not run"}
			}
			var reported, lost, rescued []string
			for _, c := range o.Columns {
				if c.OverflowReported {
					reported = append(reported, c.Column)
					if c.LastArrived {
						rescued = append(rescued, c.Column)
					} else {
						lost = append(lost, c.Column)
					}
				}
			}
			j := judgement{measured: fmt.Sprintf("with max_queued_events = %d and %d noise events queued while the watchers were stopped, fsnotify.ErrEventOverflow reached %s; of those %s lost the last version and %s still served it", o.MaxQueuedEvents, o.NoiseEvents, list(reported), list(lost), list(rescued))}
			for _, c := range reported {
				j.cells = append(j.cells, "overflow/"+c)
			}
			var c Claim
			c.decide(
				part{what: "the queue overflows", known: true, holds: len(reported) > 0 || o.NoiseEvents > o.MaxQueuedEvents},
				part{what: "the drop is silent", known: true, holds: len(reported) == 0, why: "told: " + list(reported)},
			)
			j.verdict, j.because = c.Verdict, c.Because
			return j
		},
	},
	{
		id: "D13", source: "chapter 2.2 (comment in the stress-test code)",
		claim: "inotify_add_watch defaults to IN_CREATE|IN_DELETE_SELF.",
		rule:  "refuted when a plain fsnotify watch on the file saw a WRITE or CHMOD (events outside IN_CREATE|IN_DELETE_SELF) in a disk row (inplace, chmod, touch); confirmed when it saw none",
		judge: func(q query) judgement {
			var cells, parts []string
			for _, p := range []string{"inplace", "chmod", "touch"} {
				r := q.m.Row(fsmount.Disk, p)
				if r == nil {
					continue
				}
				parts = append(parts, fmt.Sprintf("%s: %s", p, detect.EventSummary(r.FileEvents, true)))
				for k := range r.FileEvents {
					if op, _, _ := strings.Cut(k, " "); op == "WRITE" || op == "CHMOD" {
						cells = append(cells, "disk/"+p+"/witness")
						break
					}
				}
			}
			if len(parts) == 0 {
				return judgement{verdict: NotReproducible, measured: "no disk rows with a file witness"}
			}
			j := judgement{measured: "a plain fsnotify watch on the file saw " + strings.Join(parts, "; "), cells: cells}
			if len(cells) == 0 {
				j.verdict = Confirmed
			} else {
				j.verdict = Refuted
			}
			return j
		},
	},
	{
		id: "D14", source: "chapter 2.2 table",
		claim: "Duplicate events come from retry logic or IN_MOVED_TO/IN_CREATE firing together.",
		rule:  "over the cells where a column without deduplication (viper, koanf) applied content already serving: confirmed when every such cell's save fires a create or move-in on the config in most trials (IN_CREATE/IN_MOVED_TO firing together with the write), refuted when none does, depends when some do; not reproducible when no duplicate was applied",
		judge: func(q query) judgement {
			peers := filter(q.cells(nil, nil, []string{detect.ColViper, detect.ColKoanf}), func(c detect.Cell) bool { return c.Duplicates > 0 })
			ours := filter(q.cells(nil, nil, []string{"fsnotify", "dirwatch", "poll", "pollhash", "signal", "robust"}), func(c detect.Cell) bool { return c.Duplicates > 0 })
			if len(peers) == 0 {
				return judgement{verdict: NotReproducible, measured: fmt.Sprintf("no column without deduplication applied a duplicate in any of %d cells", len(q.m.Cells))}
			}
			var moveIn, writeOnly []detect.Cell
			for _, c := range peers {
				if q.createsConfig(c.FS, c.Pattern) {
					moveIn = append(moveIn, c)
				} else {
					writeOnly = append(writeOnly, c)
				}
			}
			j := judgement{measured: fmt.Sprintf("peers without deduplication applied content already serving in %d cells (%s): %d of them in rows whose save fires a create or move-in on the config (for example vim on disk: %s), %d in rows whose save fires none (writes in place: several WRITE events for one save); our triggers, behind the pipeline's hash check, applied duplicates in %d cells",
				len(peers), patternsOf(peers), len(moveIn), q.events(fsmount.Disk, "vim", true), len(writeOnly), len(ours)), cells: ids(writeOnly)}
			switch {
			case len(writeOnly) == 0:
				j.verdict = Confirmed
			case len(moveIn) == 0:
				j.verdict = Refuted
			default:
				j.verdict = Depends
				j.because = fmt.Sprintf("duplicates also where no create or move-in fires, in %d cells: %s", len(writeOnly), strings.Join(compressCells(ids(writeOnly)), ", "))
			}
			j.interpretation = "retry logic, the other cause named, is not something the lab's columns have"
			return j
		},
	},
	{
		id: "D15", source: "chapter 2.4 (comment in the ConfigMap code)",
		claim: "A ConfigMap update renames a temporary directory to the config directory, which the parent directory watch sees as IN_MOVED_TO.",
		rule:  "from the directory witness of the k8s-configmap rows (the kubelet's AtomicWriter sequence): confirmed when it saw a create or move-in (fsnotify reports IN_MOVED_TO as CREATE) on the config itself, depends when it saw one only on the kubelet's ..data machinery, refuted when it saw none",
		judge: func(q query) judgement {
			var fss, evs, onData, onConfig []string
			for _, f := range q.local() {
				r := q.m.Row(f, "k8s-configmap")
				if r == nil {
					continue
				}
				fss = append(fss, f)
				evs = append(evs, f+": "+detect.EventSummary(r.DirEvents, true))
				for k := range r.DirEvents {
					op, name, _ := strings.Cut(k, " ")
					if !strings.Contains(op, "CREATE") {
						continue
					}
					switch {
					case name == detect.ConfigName:
						onConfig = append(onConfig, name)
					case strings.HasPrefix(name, ".."):
						onData = append(onData, name)
					}
				}
			}
			if len(fss) == 0 {
				return judgement{verdict: NotReproducible, measured: "k8s-configmap did not run on a local file system"}
			}
			j := judgement{measured: "the directory witness saw " + strings.Join(evs, "; ")}
			for _, f := range fss {
				j.cells = append(j.cells, f+"/k8s-configmap/witness")
			}
			switch {
			case len(onConfig) > 0:
				j.verdict, j.cells = Confirmed, nil
			case len(onData) > 0:
				j.verdict = Depends
				names := uniq(onData)
				sort.Strings(names)
				j.because = "a create or move-in is seen, but on " + list(names) + ", never on " + detect.ConfigName
			default:
				j.verdict = Refuted
				j.because = "no create or move-in event reached the parent directory watch"
			}
			return j
		},
	},
	{
		id: "D16", source: "chapter 2.4 table",
		claim: "On overlayfs with an old kernel (RHEL 8.6, 4.18) fsnotify fails 17% of the time: overlayfs does not report IN_MOVED_TO.",
		rule:  "judged only on kernel 4.18: confirmed when the 95% Wilson interval of dirwatch's miss rate over overlay's rename and ConfigMap cells contains 17%, refuted otherwise; not reproducible on any other kernel",
		judge: func(q query) judgement {
			cs := q.cells([]string{fsmount.Overlay}, []string{"k8s-configmap", "rename", "mv-real"}, []string{"dirwatch"})
			missed, trials := sum(cs, func(c detect.Cell) int { return c.Missed }), sum(cs, func(c detect.Cell) int { return c.Trials })
			j := judgement{measured: fmt.Sprintf("kernel %s; dirwatch on overlay missed %d of %d trials of the rename and ConfigMap patterns", q.m.Machine.Kernel, missed, trials)}
			if !strings.HasPrefix(q.m.Machine.Kernel, "4.18") || trials == 0 {
				j.verdict = NotReproducible
				j.because = fmt.Sprintf("the claim concerns kernel 4.18; this machine runs %s", q.m.Machine.Kernel)
				return j
			}
			lo, hi := wilson(missed, trials)
			if lo <= articleScheme1Failure && articleScheme1Failure <= hi {
				j.verdict = Confirmed
			} else {
				j.verdict = Refuted
			}
			return j
		},
	},
	{
		id: "D17", source: "chapter 1, opening",
		claim: "fsnotify.Watcher often loses events under high-concurrency writes.",
		rule:  "over the burst cells on local file systems (in-place writes back to back): refuted when every inotify column caught the last write in every trial, depends when some missed it",
		judge: func(q query) judgement {
			cs := q.cells(q.local(), []string{"burst"}, inotifyColumns)
			if len(cs) == 0 {
				return judgement{verdict: NotReproducible, measured: "burst did not run on a local file system"}
			}
			caught := filter(cs, func(c detect.Cell) bool { return c.Missed == 0 })
			lost := filter(cs, func(c detect.Cell) bool { return c.Missed > 0 })
			j := judgement{measured: fmt.Sprintf("%d in-place writes back to back: %s caught the last one in every trial; %s missed it in some (%s)",
				writepattern.BurstWrites, list(uniq(columnsOf(caught))), list(uniq(columnsOf(lost))), list(ids(lost))), cells: ids(caught)}
			if len(lost) == 0 {
				j.verdict = Refuted
				j.because = "the kernel merges events, but the last write's event arrives"
			} else {
				j.verdict = Depends
				j.because = fmt.Sprintf("%s never lost the last write; %s did", list(uniq(columnsOf(caught))), list(uniq(columnsOf(lost))))
				j.interpretation = "where a column lost it, the witnesses still saw the last write's event: the consumer loses it (see the why lines)"
			}
			return j
		},
	},
	{
		id: "D18", source: "chapter 2.2 (stress-test code)",
		claim: "The 1000-iteration loop of os.WriteFile + os.Remove on the watched path fills the inotify queue (max_queued_events 16384) so that events are dropped.",
		rule:  "confirmed when some run of the article's loop overflowed the queue, refuted when none did",
		judge: func(q query) judgement {
			al := q.m.ArticleLoop
			if al == nil || len(al.Runs) == 0 {
				return judgement{verdict: NotReproducible, measured: "the article-loop experiment did not run"}
			}
			if al.Error != "" {
				return judgement{verdict: NotReproducible, measured: "the article-loop experiment failed: " + al.Error}
			}
			var parts, overflowed []string
			maxEvents := 0
			for _, r := range al.Runs {
				parts = append(parts, fmt.Sprintf("%s: %d events, overflow %s, %d watches left", r.Name, r.Events, yesNo(r.Overflow), r.WatchesLeft))
				if r.Overflow {
					overflowed = append(overflowed, r.Name)
				}
				maxEvents = max(maxEvents, r.Events)
			}
			j := judgement{measured: fmt.Sprintf("%d iterations, max_queued_events %d: %s", al.Iterations, al.MaxQueuedEvents, strings.Join(parts, "; "))}
			if len(overflowed) == 0 {
				j.verdict = Refuted
				j.because = fmt.Sprintf("at most %d events queued, against a limit of %d", maxEvents, al.MaxQueuedEvents)
				j.cells = []string{"article-loop"}
			} else {
				j.verdict = Confirmed
			}
			return j
		},
	},
	instanceLimitSpec,
}

// failing is a column's changing cells that a watcher can follow, and
// those among them that missed, tore, or kept a p99 above a bound.
type failing struct{ all, missed, torn, slow, bad []detect.Cell }

// failing sorts column's followable changing cells by how they fail;
// p99BoundMs is the article's latency bound for the column.
func (q query) failing(column string, p99BoundMs float64) failing {
	all := filter(q.followable(q.cells(nil, nil, []string{column})), func(c detect.Cell) bool { return c.Changes })
	slow := func(c detect.Cell) bool { return c.P99MS != nil && *c.P99MS > p99BoundMs }
	return failing{
		all:    all,
		missed: filter(all, func(c detect.Cell) bool { return c.Missed > 0 }),
		torn:   filter(all, func(c detect.Cell) bool { return c.Torn > 0 }),
		slow:   filter(all, slow),
		bad:    filter(all, func(c detect.Cell) bool { return c.Missed > 0 || c.Torn > 0 || slow(c) }),
	}
}

// byShare is the verdict of a claim that every cell should meet: confirmed
// when no cell fails, refuted when all do, depends otherwise.
func byShare(failed, cells int) string {
	switch {
	case failed == 0:
		return Confirmed
	case failed == cells:
		return Refuted
	}
	return Depends
}

// followable drops the cells of deployment shapes that no watcher can
// follow (a file bind mount whose source was replaced): they measure the
// deployment, not the trigger, and are judged in their own rows.
func (q query) followable(cs []detect.Cell) []detect.Cell {
	cannot := map[string]bool{}
	for _, p := range q.m.Patterns {
		if p.CannotFollow != "" {
			cannot[p.Name] = true
		}
	}
	return filter(cs, func(c detect.Cell) bool { return !cannot[c.Pattern] })
}

// createsConfig reports whether a row's save fired a create or move-in
// (fsnotify reports IN_MOVED_TO as CREATE) on the config in most trials,
// by the directory witness (its tally counts, per distinct event, the
// trials that saw it).
func (q query) createsConfig(fs, pattern string) bool {
	r := q.m.Row(fs, pattern)
	if r == nil || r.Trials == 0 {
		return false
	}
	for k, trials := range r.DirEvents {
		op, name, _ := strings.Cut(k, " ")
		if strings.Contains(op, "CREATE") && name == detect.ConfigName && 2*trials > r.Trials {
			return true
		}
	}
	return false
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// sameKeys reports whether two event tallies name the same events.
func sameKeys(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func columnsOf(cs []detect.Cell) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Column)
	}
	return out
}

func patternsOf(cs []detect.Cell) string {
	var out []string
	for _, c := range cs {
		if !slices.Contains(out, c.Pattern) {
			out = append(out, c.Pattern)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

func list(s []string) string {
	s = uniq(s)
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// lastPart returns the text after the last ": " (the errno's words).
func lastPart(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// idleOrder states the idle cost of the named columns, most expensive
// first.
func idleOrder(i *detect.Idle, cols ...string) string {
	type kv struct {
		c string
		v float64
	}
	var vs []kv
	for _, r := range i.Rows {
		if slices.Contains(cols, r.Column) && r.Error == "" {
			vs = append(vs, kv{r.Column, r.NetCPUSecPerMin})
		}
	}
	sort.Slice(vs, func(a, b int) bool { return vs[a].v > vs[b].v })
	var parts []string
	for _, x := range vs {
		parts = append(parts, fmt.Sprintf("%s %.3f", x.c, x.v))
	}
	return fmt.Sprintf("idle CPU s/min over the baseline with a %s-key config: %s", mdtable.Thousands(i.Keys), strings.Join(parts, ", "))
}

// compressCells groups cell ids "fs/pattern/column" sharing fs and column
// into "fs/{p1,p2}/column", keeping other ids as they are.
func compressCells(cells []string) []string {
	type key struct{ fs, col string }
	groups := map[key][]string{}
	var order []key
	var other []string
	for _, c := range cells {
		parts := strings.Split(c, "/")
		if len(parts) != 3 {
			if !slices.Contains(other, c) {
				other = append(other, c)
			}
			continue
		}
		k := key{parts[0], parts[2]}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		if !slices.Contains(groups[k], parts[1]) {
			groups[k] = append(groups[k], parts[1])
		}
	}
	var out []string
	for _, k := range order {
		ps := groups[k]
		if len(ps) == 1 {
			out = append(out, k.fs+"/"+ps[0]+"/"+k.col)
		} else {
			out = append(out, k.fs+"/{"+strings.Join(ps, ",")+"}/"+k.col)
		}
	}
	return append(out, other...)
}
