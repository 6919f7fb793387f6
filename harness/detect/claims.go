package detect

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"reloadlab/harness/fsmount"
)

// Claim is one of the article's claims with the verdict the measurement
// gives it. Verdicts are computed from the matrix, never written by hand;
// Cells lists every cell (file system/pattern/column, or experiment/column)
// whose measurement contradicts the claim.
type Claim struct {
	ID       string   `json:"id"`
	Source   string   `json:"source"`   // where in the article
	Claim    string   `json:"claim"`    // what it says (translated)
	Verdict  string   `json:"verdict"`  // agree, disagree, partly, untested
	Evidence string   `json:"evidence"` // what was measured
	Cells    []string `json:"cells,omitempty"`
}

// Verdicts.
const (
	Agree    = "agree"
	Disagree = "disagree"
	Partly   = "partly"
	Untested = "untested"
)

// claimSpec is a claim and the function that judges it.
type claimSpec struct {
	id, source, claim string
	judge             func(q query) (verdict, evidence string, cells []string)
}

// evaluateClaims judges every claim against m.
func evaluateClaims(m *Matrix) []Claim {
	q := query{m}
	var out []Claim
	for _, s := range claimSpecs {
		v, ev, cells := s.judge(q)
		out = append(out, Claim{ID: s.id, Source: s.source, Claim: s.claim, Verdict: v, Evidence: ev, Cells: compressCells(cells)})
	}
	return out
}

// query answers questions about a matrix.
type query struct{ m *Matrix }

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
func (q query) cells(fss, patterns, columns []string) []Cell {
	var out []Cell
	for _, c := range q.m.Cells {
		if (fss == nil || slices.Contains(fss, c.FS)) && (patterns == nil || slices.Contains(patterns, c.Pattern)) &&
			(columns == nil || slices.Contains(columns, c.Column)) && c.Trials > 0 {
			out = append(out, c)
		}
	}
	return out
}

func id(c Cell) string { return c.FS + "/" + c.Pattern + "/" + c.Column }

func ids(cs []Cell) []string {
	var out []string
	for _, c := range cs {
		out = append(out, id(c))
	}
	return out
}

func filter(cs []Cell, keep func(Cell) bool) []Cell {
	var out []Cell
	for _, c := range cs {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

func sum(cs []Cell, f func(Cell) int) int {
	n := 0
	for _, c := range cs {
		n += f(c)
	}
	return n
}

// p99Max returns the largest p99 latency of the cells (0 if none).
func p99Max(cs []Cell) float64 {
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
	t := eventTally(r.FileEvents)
	if dir {
		t = eventTally(r.DirEvents)
	}
	return t.summary(!dir)
}

var inotifyColumns = []string{"fsnotify", "dirwatch", "robust", ColViper, ColKoanf}

var claimSpecs = []claimSpec{
	{
		id: "C1", source: "chapter 1, opening",
		claim: "Vim with backupcopy=no saves with rename()+write(); inotify does not watch IN_MOVED_TO by default, so fsnotify does not perceive the change.",
		judge: func(q query) (string, string, []string) {
			vim := []string{"vim", "vim-real"}
			dirs := q.cells(q.local(), vim, []string{"dirwatch", "robust", ColViper})
			if len(dirs) == 0 {
				return Untested, "no vim cells ran on a local file system", nil
			}
			seen := filter(dirs, func(c Cell) bool { return c.Missed == 0 })
			s1 := q.cells(q.local(), vim, []string{"fsnotify"})
			s1first := filter(s1, func(c Cell) bool { return c.MissedFirst < c.Trials })
			ev := fmt.Sprintf("directory watches saw every vim save in %d of %d cells (the directory watch sees the new file: %s); the article's scheme 1 on the file path saw the first save in %d of %d cells (the watched inode is renamed to the backup: %s) and missed the last in %d",
				len(seen), len(dirs), q.events(fsmount.Disk, "vim", true), len(s1first), len(s1), q.events(fsmount.Disk, "vim", false), len(filter(s1, func(c Cell) bool { return c.Missed > 0 })))
			verdict := Disagree
			if len(seen) == 0 && len(s1first) == 0 {
				verdict = Agree
			}
			return verdict, ev + ": the save is perceived; what fails is a watch on the file itself, after the first save.", ids(append(seen, s1first...))
		},
	},
	{
		id: "C2", source: "chapter 1, why fsnotify fails, 1st point",
		claim: "/proc/sys/fs/inotify/max_user_watches is a hard limit (default 8192); beyond it events are silently dropped.",
		judge: func(q query) (string, string, []string) {
			w := q.m.WatchLimit
			if w == nil || w.AddError == "" {
				reason := "the watch-limit experiment did not run"
				if w != nil && w.Error != "" {
					reason = w.Error
				}
				return Untested, reason, nil
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
			ev := fmt.Sprintf("at the limit inotify_add_watch fails with %s (%s); nothing is dropped silently by the kernel. max_user_watches here is %d, not 8192 (since Linux 5.11 the default scales with memory). Silence comes from callers: %s never reload; %s fail at start; %s still served a later change",
				w.Errno, lastPart(w.AddError), w.HostMaxUserWatches, list(silent), list(loud), list(survived))
			return Disagree, ev + ".", []string{"watch-limit/inotify_add_watch"}
		},
	},
	{
		id: "C3", source: "chapter 1, why fsnotify fails, 2nd point",
		claim: "os.Rename() produces IN_MOVED_FROM+IN_MOVED_TO; without listening for fsnotify.Rename, rename-type updates are missed (so listening for Rename catches them).",
		judge: func(q query) (string, string, []string) {
			pats := []string{"rename", "mv-real", "sed-real", "jetbrains"}
			s1 := q.cells(q.local(), pats, []string{"fsnotify"})
			if len(s1) == 0 {
				return Untested, "no rename cells ran", nil
			}
			missed := filter(s1, func(c Cell) bool { return c.Missed > 0 })
			dw := q.cells(q.local(), pats, []string{"dirwatch"})
			dwMissed := filter(dw, func(c Cell) bool { return c.Missed > 0 })
			ev := fmt.Sprintf("scheme 1 listens for Write and Rename and still missed in %d of %d rename cells: a rename over the watched file unlinks its inode, which gets %s, never RENAME; a directory watch, which needs no Rename, sees %s and missed in %d of %d",
				len(missed), len(s1), q.events(fsmount.Disk, "rename", false), q.events(fsmount.Disk, "rename", true), len(dwMissed), len(dw))
			if len(missed) == 0 {
				return Agree, ev, nil
			}
			return Disagree, ev + ".", ids(missed)
		},
	},
	{
		id: "C4", source: "chapter 1, why fsnotify fails, 3rd point",
		claim: "A ConfigMap in a container is injected through tmpfs symlinks on a read-only mount, so fsnotify cannot register a watch.",
		judge: func(q query) (string, string, []string) {
			cs := q.cells([]string{fsmount.Tmpfs}, []string{"k8s-configmap"}, inotifyColumns)
			if len(cs) == 0 {
				return Untested, "tmpfs × k8s-configmap did not run", nil
			}
			started := filter(cs, func(c Cell) bool { return c.StartFailed == 0 })
			detected := filter(started, func(c Cell) bool { return c.Missed == 0 })
			var s1 string
			for _, c := range cs {
				if c.Column == "fsnotify" {
					s1 = fmt.Sprintf("; scheme 1 missed %d/%d: its watch follows the symlink to the file in the old ..<timestamp> directory, which gets %s when the kubelet removes it", c.Missed, c.Trials, q.events(fsmount.Tmpfs, "k8s-configmap", false))
				}
			}
			ev := fmt.Sprintf("watched through a read-only bind mount of the tmpfs, %d of %d inotify columns registered their watch in every trial, and %s saw every update (directory events: %s)%s",
				len(started), len(cs), list(columnsOf(detected)), q.events(fsmount.Tmpfs, "k8s-configmap", true), s1)
			if len(started) == 0 {
				return Agree, ev + ".", nil
			}
			return Disagree, ev + ".", ids(started)
		},
	},
	{
		id: "C5", source: "scheme 1 (code)",
		claim: "Scheme 1 (watch the file path, re-read 100 ms after Write or Rename) is a fix for the failures listed.",
		judge: func(q query) (string, string, []string) {
			cs := q.cells(q.local(), nil, []string{"fsnotify"})
			cs = filter(cs, func(c Cell) bool { return c.Changes })
			if len(cs) == 0 {
				return Untested, "scheme 1 did not run on a local file system", nil
			}
			missed := filter(cs, func(c Cell) bool { return c.Missed > 0 })
			var pats []string
			for _, c := range missed {
				if !slices.Contains(pats, c.Pattern) {
					pats = append(pats, c.Pattern)
				}
			}
			ev := fmt.Sprintf("on local file systems it missed the last version in %d of %d cells (%s), every pattern that replaces the file or removes it", len(missed), len(cs), strings.Join(pats, ", "))
			if len(missed) == 0 {
				return Agree, ev, nil
			}
			return Disagree, ev + ".", ids(missed)
		},
	},
	{
		id: "C6", source: "scheme 1 (code comment)",
		claim: "Re-reading 100 ms after the event avoids reading Vim's unfinished write.",
		judge: func(q query) (string, string, []string) {
			cs := q.cells(nil, []string{"inplace-slow"}, []string{"fsnotify"})
			if len(cs) == 0 {
				return Untested, "inplace-slow did not run", nil
			}
			bad := filter(cs, func(c Cell) bool { return c.Torn > 0 })
			ev := fmt.Sprintf("scheme 1 applied a half-written file %d times over %d inplace-slow cells, whose writer pauses 50 ms mid-file (less than the delay); the delay is per event, not a debounce, so a longer pause is not covered. Vim itself never writes in place with backupcopy=no: it writes a new file", sum(cs, func(c Cell) int { return c.Torn }), len(cs))
			if len(bad) > 0 {
				return Disagree, ev + ".", ids(bad)
			}
			return Agree, ev + ".", nil
		},
	},
	{
		id: "C7", source: "scheme 2 table",
		claim: "Polling mtime+size: low CPU, latency ≤ 500 ms, suited to NFS and Kubernetes ConfigMaps.",
		judge: func(q query) (string, string, []string) {
			cs := filter(q.cells(nil, nil, []string{"poll"}), func(c Cell) bool { return c.Changes })
			if len(cs) == 0 {
				return Untested, "poll did not run", nil
			}
			missed := filter(cs, func(c Cell) bool { return c.Missed > 0 })
			slow := filter(cs, func(c Cell) bool { return c.P99MS != nil && *c.P99MS > 500 })
			torn := filter(cs, func(c Cell) bool { return c.Torn > 0 })
			ev := fmt.Sprintf("poll missed in %d of %d cells (%s: same size, mtime restored, so stat shows nothing); its p99 exceeded 500 ms in %d cells (fuse-remote p99 up to %s: the client's attribute cache hides the new mtime); it applied half-written files in %d cells; on ConfigMaps (k8s-configmap) it missed %d",
				len(missed), len(cs), patternsOf(missed), len(slow), fmtMS(p99Max(q.cells([]string{fsmount.FuseRemote}, nil, []string{"poll"}))), len(torn),
				sum(q.cells(nil, []string{"k8s-configmap"}, []string{"poll"}), func(c Cell) int { return c.Missed }))
			if len(missed)+len(slow)+len(torn) == 0 {
				return Agree, ev, nil
			}
			return Partly, ev + ".", ids(append(append(missed, slow...), torn...))
		},
	},
	{
		id: "C8", source: "scheme 2 table",
		claim: "Polling a SHA-256 of the content: medium CPU, latency ≤ 200 ms, suited to configuration-sensitive services.",
		judge: func(q query) (string, string, []string) {
			cs := filter(q.cells(nil, nil, []string{"pollhash"}), func(c Cell) bool { return c.Changes })
			if len(cs) == 0 {
				return Untested, "pollhash did not run", nil
			}
			missed := filter(cs, func(c Cell) bool { return c.Missed > 0 })
			torn := filter(cs, func(c Cell) bool { return c.Torn > 0 })
			ev := fmt.Sprintf("pollhash missed in %d of %d cells; its p99 latency is bounded by its interval (%s here; worst p99 %s); it applied a half-written file %d times (%s), as any poller reading in-place writes does", len(missed), len(cs), fmtMS(q.m.Params.PollIntervalMS), fmtMS(p99Max(cs)), sum(torn, func(c Cell) int { return c.Torn }), patternsOf(torn))
			if i := q.m.Idle; i != nil && i.Error == "" {
				ev += "; " + idleOrder(i, "pollhash", "poll", "dirwatch")
			}
			if len(missed)+len(torn) == 0 {
				return Agree, ev + ".", nil
			}
			return Partly, ev + ": reliable detection, but not safe for a configuration-sensitive service unless every writer renames atomically.", ids(append(missed, torn...))
		},
	},
	{
		id: "C9", source: "scheme 3",
		claim: "Signal-driven reload (SIGUSR1) is the most stable.",
		judge: func(q query) (string, string, []string) {
			cs := q.cells(nil, nil, []string{"signal"})
			if len(cs) == 0 {
				return Untested, "signal did not run", nil
			}
			bad := filter(cs, func(c Cell) bool { return c.Missed > 0 || c.Torn > 0 })
			ev := fmt.Sprintf("with a SIGUSR1 after every change, signal missed or tore in %d of %d cells, on every file system; it notices nothing nobody signals, and the sender learns nothing of the outcome", len(bad), len(cs))
			if len(bad) == 0 {
				return Agree, ev + ".", nil
			}
			return Partly, ev + ".", ids(bad)
		},
	},
	{
		id: "C10", source: "chapter 1, opening",
		claim: "fsnotify often loses events on container file systems (overlay2).",
		judge: func(q query) (string, string, []string) {
			if !q.fsRan(fsmount.Overlay) || !q.fsRan(fsmount.Disk) {
				return Untested, "overlay or disk did not run", nil
			}
			// The raw witness answers whether overlay delivers the events;
			// the deterministic consumers whether a reload follows. (The
			// peers' racy misses measure the peers, not the file system.)
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
			var worse, caught []Cell
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
			ev := fmt.Sprintf("on overlayfs (kernel %s, lower layer on disk, written through the merged directory, copy-up on the first write) the raw inotify witnesses saw the same distinct events as on disk for %d of %d patterns (different: %s); fsnotify, dirwatch and robust missed more often than on disk in %d cells (%s) and caught every change in %d",
				q.m.Machine.Kernel, len(sameEvents), len(sameEvents)+len(diffEvents), list(diffEvents), len(worse), list(ids(worse)), len(caught))
			if len(worse) == 0 && len(diffEvents) == 0 {
				return Disagree, ev + ": overlay lost no event that disk did not.", ids(caught)
			}
			return Partly, ev + ".", ids(caught)
		},
	},
	{
		id: "C11", source: "chapter 1, opening; scheme 2 table",
		claim: "fsnotify loses events on NFS mounts.",
		judge: func(q query) (string, string, []string) {
			cs := filter(q.cells([]string{fsmount.FuseRemote}, nil, []string{"fsnotify", "dirwatch", ColViper, ColKoanf}), func(c Cell) bool { return c.Changes })
			if len(cs) == 0 {
				return Untested, "fuse-remote did not run", nil
			}
			caught := filter(cs, func(c Cell) bool { return c.Missed < c.Trials })
			noEvents := 0
			trials := 0
			for _, r := range q.m.Rows {
				if r.FS == fsmount.FuseRemote {
					noEvents += r.NoEvents
					trials += r.Trials
				}
			}
			ev := fmt.Sprintf("on fuse-remote (changes made behind a FUSE mount, as by another NFS client) no inotify event reached any watcher in %d of %d trials; the inotify-only columns caught a change in %d of %d cells; only polling (poll, pollhash, robust's safety net) and signals saw the changes", noEvents, trials, len(caught), len(cs))
			if len(caught) == 0 {
				return Agree, ev + ". (Events are not lost: none is ever generated.)", nil
			}
			return Partly, ev + ".", ids(caught)
		},
	},
	{
		id: "C12", source: "chapter 2.2",
		claim: "High-frequency changes overflow the kernel queue (max_queued_events 16384); the overflowing events are silently dropped.",
		judge: func(q query) (string, string, []string) {
			o := q.m.Overflow
			if o == nil || len(o.Columns) == 0 {
				return Untested, "the overflow experiment did not run", nil
			}
			var reported, lost, rescued, untouched []string
			for _, c := range o.Columns {
				if c.OverflowReported {
					reported = append(reported, c.Column)
					if c.LastArrived {
						rescued = append(rescued, c.Column)
					} else {
						lost = append(lost, c.Column)
					}
				} else if c.Column == "fsnotify" {
					untouched = append(untouched, c.Column)
				}
			}
			ev := fmt.Sprintf("with max_queued_events = %d and %d noise events queued while the watchers were stopped, events were dropped, but not silently: fsnotify.ErrEventOverflow reached %s; of those %s lost the last version and %s still served it", o.MaxQueuedEvents, o.NoiseEvents, list(reported), list(lost), list(rescued))
			if len(untouched) > 0 {
				ev += "; scheme 1's watch on the file path did not overflow (noise beside the file does not reach it)"
			}
			var cells []string
			for _, c := range reported {
				cells = append(cells, "overflow/"+c)
			}
			if len(reported) == 0 {
				return Agree, ev + ".", nil
			}
			return Partly, ev + ".", cells
		},
	},
	{
		id: "C13", source: "chapter 2.2 (comment in the stress-test code)",
		claim: "inotify_add_watch defaults to IN_CREATE|IN_DELETE_SELF.",
		judge: func(q query) (string, string, []string) {
			var cells []string
			var parts []string
			for _, p := range []string{"inplace", "chmod", "touch"} {
				r := q.m.Row(fsmount.Disk, p)
				if r == nil {
					continue
				}
				ev := eventTally(r.FileEvents).summary(true)
				parts = append(parts, fmt.Sprintf("%s: %s", p, ev))
				for k := range r.FileEvents {
					if op, _, _ := strings.Cut(k, " "); op == "WRITE" || op == "CHMOD" {
						cells = append(cells, "disk/"+p+"/witness")
						break
					}
				}
			}
			if len(parts) == 0 {
				return Untested, "no disk rows with a file witness", nil
			}
			ev := "fsnotify's Add watches modify, attrib, create, delete and move events; a plain watch on the file saw " + strings.Join(parts, "; ")
			if len(cells) == 0 {
				return Agree, ev + ".", nil
			}
			return Disagree, ev + ".", cells
		},
	},
	{
		id: "C14", source: "chapter 2.2 table",
		claim: "Duplicate events come from retry logic or IN_MOVED_TO/IN_CREATE firing together.",
		judge: func(q query) (string, string, []string) {
			peers := filter(q.cells(nil, nil, []string{ColViper, ColKoanf}), func(c Cell) bool { return c.Duplicates > 0 })
			ours := filter(q.cells(nil, nil, []string{"fsnotify", "dirwatch", "poll", "pollhash", "signal", "robust"}), func(c Cell) bool { return c.Duplicates > 0 })
			if len(q.m.Cells) == 0 {
				return Untested, "no cells", nil
			}
			ev := fmt.Sprintf("peers without deduplication reloaded content that was already serving in %d cells (%s) because one save produces several events (for example vim: %s); our triggers fire as often, but the pipeline's hash check makes every extra fire a wasted read, so they applied duplicates in %d cells",
				len(peers), patternsOf(peers), q.events(fsmount.Disk, "vim", true), len(ours))
			return Agree, ev + ".", ids(ours)
		},
	},
	{
		id: "C15", source: "chapter 2.4 (comment in the ConfigMap code)",
		claim: "A ConfigMap update renames a temporary directory to the config directory, which the parent directory watch sees as IN_MOVED_TO.",
		judge: func(q query) (string, string, []string) {
			var fss []string
			var evs []string
			for _, f := range q.local() {
				if r := q.m.Row(f, "k8s-configmap"); r != nil {
					fss = append(fss, f)
					evs = append(evs, f+": "+eventTally(r.DirEvents).summary(true))
				}
			}
			if len(fss) == 0 {
				return Untested, "k8s-configmap did not run", nil
			}
			ev := "the kubelet's AtomicWriter renames a ..data_tmp symlink over ..data (fsnotify reports IN_MOVED_TO as CREATE ..data); the directory watch saw " + strings.Join(evs, "; ") + ". config.yaml itself gets no event"
			var cells []string
			for _, f := range fss {
				cells = append(cells, f+"/k8s-configmap/witness")
			}
			return Partly, ev + ".", cells
		},
	},
	{
		id: "C16", source: "chapter 2.4 table",
		claim: "On overlayfs with an old kernel (RHEL 8.6, 4.18) fsnotify fails 17% of the time: overlayfs does not report IN_MOVED_TO.",
		judge: func(q query) (string, string, []string) {
			cs := q.cells([]string{fsmount.Overlay}, []string{"k8s-configmap", "rename", "mv-real"}, []string{"dirwatch"})
			ev := fmt.Sprintf("not testable here: this machine runs kernel %s", q.m.Machine.Kernel)
			if len(cs) > 0 {
				ev += fmt.Sprintf("; on it, dirwatch on overlay missed %d of %d trials of the rename and ConfigMap patterns", sum(cs, func(c Cell) int { return c.Missed }), sum(cs, func(c Cell) int { return c.Trials }))
			}
			return Untested, ev + ".", nil
		},
	},
	{
		id: "C17", source: "chapter 1, opening",
		claim: "fsnotify.Watcher often loses events under high-concurrency writes.",
		judge: func(q query) (string, string, []string) {
			cs := q.cells(q.local(), []string{"burst"}, inotifyColumns)
			if len(cs) == 0 {
				return Untested, "burst did not run", nil
			}
			caught := filter(cs, func(c Cell) bool { return c.Missed == 0 })
			lost := filter(cs, func(c Cell) bool { return c.Missed > 0 })
			ev := fmt.Sprintf("%d in-place writes back to back: %s caught the last one in every trial; %s missed it in some (%s)",
				20, list(uniqStrings(columnsOf(caught))), list(uniqStrings(columnsOf(lost))), strings.Join(ids(lost), ", "))
			if len(lost) == 0 {
				return Disagree, ev + "; the kernel merges events but the last write's event arrives.", ids(caught)
			}
			return Partly, ev + ": inotify delivered the last write's event; what loses it is the consumer (see the why lines).", ids(caught)
		},
	},
	{
		id: "C18", source: "chapter 2.2 (stress-test code)",
		claim: "The 1000-iteration loop of os.WriteFile + os.Remove on the watched path fills the inotify queue (max_queued_events 16384) so that events are dropped.",
		judge: func(q query) (string, string, []string) {
			al := q.m.ArticleLoop
			if al == nil || len(al.Runs) == 0 {
				return Untested, "the article-loop experiment did not run", nil
			}
			if al.Error != "" {
				return Untested, "the article-loop experiment failed: " + al.Error, nil
			}
			var parts, overflowed []string
			for _, r := range al.Runs {
				parts = append(parts, fmt.Sprintf("%s: %d events, overflow %s, %d watches left", r.Name, r.Events, yesNo(r.Overflow), r.WatchesLeft))
				if r.Overflow {
					overflowed = append(overflowed, r.Name)
				}
			}
			ev := fmt.Sprintf("%d iterations, max_queued_events %d: %s", al.Iterations, al.MaxQueuedEvents, strings.Join(parts, "; "))
			if len(overflowed) == 0 {
				return Disagree, ev + ". Watching the file as written, the watch ends at the first Remove; even a stalled reader on the directory queues a few thousand events, far below the limit.", []string{"article-loop"}
			}
			return Partly, ev + ".", nil
		},
	},
}

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

func columnsOf(cs []Cell) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Column)
	}
	return out
}

func patternsOf(cs []Cell) string {
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

func uniqStrings(s []string) []string { return uniq(s) }

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
func idleOrder(i *Idle, cols ...string) string {
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
	return fmt.Sprintf("idle CPU s/min over the baseline with a %s-key config: %s", fmtInt(i.Keys), strings.Join(parts, ", "))
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
