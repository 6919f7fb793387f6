package detect

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/reloadlab/reloadlab/harness/detect/internal/rig"
	"github.com/reloadlab/reloadlab/harness/fsmount"
	"github.com/reloadlab/reloadlab/harness/writepattern"
)

// why explains a cell in one line, from what was observed: the raw
// inotify events of the trials concerned, what stat said, what the column
// applied and reported. A problem cell, or one with stale reports, always
// gets one; a cell of a deployment shape (Row.Why set) gets one whatever
// its result, starting with the row's account of what the writer did. It
// returns "" for any other cell.
func (c *cellAcc) why(fsName string) string {
	shape := c.row.Why != ""
	if !c.Problem && c.StaleReported == 0 && c.StaleAlarms == 0 && !shape {
		return ""
	}
	var parts []string
	if shape {
		parts = append(parts, c.row.Why)
	}
	if c.StartFailed > 0 {
		parts = append(parts, fmt.Sprintf("could not start in %d/%d trials", c.StartFailed, c.Trials))
	}
	if shape && c.Changes {
		if served := c.Trials - c.Missed; served > 0 {
			parts = append(parts, c.servedWhy(served))
		}
	}
	if c.StaleReported > 0 {
		parts = append(parts, c.staleWhy())
	}
	if c.StaleAlarms > 0 {
		parts = append(parts, fmt.Sprintf("reported stale but served the last version anyway in %d/%d trials (%s)", c.StaleAlarms, c.Trials, quoteAll(c.StaleReasons)))
	}
	if n := c.MissedSilently - c.StartFailed; n > 0 {
		if shape {
			parts = append(parts, c.silentShapeWhy(n))
		} else {
			parts = append(parts, c.silentWhy(fsName, n)...)
		}
		if c.sawThenMissed > 0 {
			parts = append(parts, fmt.Sprintf("applied the first write but not the last in %d/%d missed trials", c.sawThenMissed, c.Missed))
		}
	}
	if c.Torn > 0 {
		parts = append(parts, fmt.Sprintf("served %d× a state that was never a complete version (%s)", c.Torn, strings.Join(uniq(c.TornStates), "; ")))
	}
	if c.Spurious > 0 {
		parts = append(parts, fmt.Sprintf("%d reloads with the content unchanged, the directory watch saw %s", c.Spurious, c.spurDir.summary(false)))
	}
	if c.Duplicates > 0 {
		parts = append(parts, fmt.Sprintf("%d extra reloads of the content already serving, the directory watch saw %s", c.Duplicates, c.spurDir.summary(false)))
	}
	if len(c.Errors) > 0 {
		parts = append(parts, "reported: "+strings.Join(c.Errors[:min(2, len(c.Errors))], "; "))
	}
	return strings.Join(parts, "; ")
}

// silentWhy explains the silent misses of a cell of a write pattern (not a
// shape), n of them not explained by a failed start.
func (c *cellAcc) silentWhy(fsName string, n int) []string {
	var parts []string
	switch {
	case c.missedNoEvents >= n:
		where := "where inotify cannot see it"
		if fsName == fsmount.FuseRemote {
			where = "behind the FUSE mount, so the kernel generated no inotify event"
		}
		parts = append(parts, fmt.Sprintf("no inotify event reached any watcher in %d/%d missed trials: the change was made %s", c.missedNoEvents, c.Missed, where))
	case c.Column == "fsnotify":
		s := "the watch on the file path saw " + c.missedFile.summary(true)
		if ops := c.missedFile.ops(); !slices.Contains(ops, "WRITE") && !slices.Contains(ops, "RENAME") {
			s += " (scheme 1 re-reads only on WRITE or RENAME; neither came to the watched inode)"
		}
		parts = append(parts, s)
	case c.Column == "poll" || c.Column == "pollhash":
		if c.missedStatSame > 0 {
			parts = append(parts, fmt.Sprintf("stat showed the same mtime and size before and after the last write in %d/%d missed trials", c.missedStatSame, c.Missed))
		}
	case c.Column == "signal":
	default:
		parts = append(parts, "the directory watch saw "+c.missedDir.summary(false)+c.peerNote())
	}
	return parts
}

// peerNote adds what a peer's own code does with the events seen, where
// the lab knows it: viper's loop ends on a Remove of the config file,
// koanf drops an event equal to the previous one within 5 ms.
func (c *cellAcc) peerNote() string {
	var s string
	if c.Column == ColViper && c.missedDir["REMOVE "+ConfigName] > 0 {
		s += fmt.Sprintf(" (REMOVE %s in %d/%d missed trials: viper's watch loop returns on a Remove of the config file, silently)", ConfigName, c.missedDir["REMOVE "+ConfigName], c.Missed)
	}
	if c.Column == ColKoanf && c.missedTwins > 0 {
		s += fmt.Sprintf(" (in %d of the %d missed trials in which koanf reported nothing, two identical events on %s came less than 5 ms apart: koanf drops an event equal to the previous one within 5 ms)", c.missedTwins, c.Missed-c.missedWithErr, ConfigName)
	}
	return s
}

// watches says what a column looks at, for the why lines of the shapes.
func watches(col string) string {
	switch col {
	case "fsnotify":
		return "its inotify watch on the watched path's inode (scheme 1: it re-reads on WRITE or RENAME)"
	case "poll":
		return "its stat(2) of the watched path every poll interval (mtime and size)"
	case "pollhash":
		return "its read of the watched path every poll interval (content hash)"
	case "signal":
		return "SIGUSR1 after each write, on which it re-reads the watched path"
	case "robust", ColLibrary:
		return "its inotify watch on the watched path's directory (backed by a safety poll that re-reads the path)"
	default:
		return "its inotify watch on the watched path's directory"
	}
}

// events returns what the witness that sees what col sees saw, in the
// trials of tally pair (dir, file): the file-path watch for scheme 1, the
// directory watch for the directory watchers; "" for the pollers and
// signal, which see no events.
func events(col string, dir, file eventTally) string {
	switch col {
	case "fsnotify":
		return file.summary(true)
	case "poll", "pollhash", "signal":
		return ""
	}
	return dir.summary(false)
}

// servedWhy is the column part of a shape cell's why for its served
// trials.
func (c *cellAcc) servedWhy(served int) string {
	s := fmt.Sprintf("served the last version in %d/%d trials", served, c.Trials)
	if c.P50MS != nil {
		s += " (p50 " + fmtMS(*c.P50MS) + ")"
	}
	ev := events(c.Column, c.servedDir, c.servedFile)
	switch {
	case ev == "":
		s += " through " + watches(c.Column)
	case ev == "nothing" && (c.Column == "robust" || c.Column == ColLibrary):
		// Not inferred further: robust may watch more than the
		// directory (the file itself, a poll); the witnesses show what
		// a plain watch on either got.
		s += ": the directory watch saw nothing on " + ConfigName + ", the file-path watch saw " + c.servedFile.summary(true)
	default:
		s += ": " + watches(c.Column) + " saw " + ev
	}
	return s
}

// staleWhy is the column part of a cell's why for its stale reports.
func (c *cellAcc) staleWhy() string {
	s := fmt.Sprintf("reported stale in %d/%d trials", c.StaleReported, c.Trials)
	if c.StaleP50MS != nil {
		s += fmt.Sprintf(", the first report %s after the first write (p50)", fmtMS(*c.StaleP50MS))
	}
	if len(c.StaleReasons) > 0 {
		s += ": " + quoteAll(c.StaleReasons)
	}
	return s + "; it kept serving the last version it could read"
}

// silentShapeWhy is the column part of a shape cell's why for its n
// silent misses.
func (c *cellAcc) silentShapeWhy(n int) string {
	lead := fmt.Sprintf("missed silently in %d/%d trials", n, c.Trials)
	var saw string
	switch ev := events(c.Column, c.missedDir, c.missedFile); {
	case c.Column == "signal":
		saw = "SIGUSR1 made it re-read the watched path"
		if c.row.WatchOld > 0 {
			saw += ", which still held an older version"
		}
	case ev == "":
		saw = watches(c.Column)
		switch {
		case c.row.WatchOld > 0 && c.row.WatchNlinkZero > 0:
			saw += " kept finding the old bytes: the mount's pinned inode, unlinked (st_nlink 0)"
		case c.row.WatchOld > 0:
			saw += " kept finding the old bytes at the watched path"
		default:
			saw += " did not see the change by the deadline"
		}
	default:
		saw = watches(c.Column) + " saw " + ev + c.peerNote()
	}
	return lead + ": " + saw + "; it reported nothing and kept serving an older version"
}

// rowWhy says, for a deployment shape, at syscall level what the writer
// did and what reached the watched path, with the row's evidence: what
// stat(2) and a read of the watched path said at the end, and what the
// witnesses saw. It returns "" for a pattern that is not a shape.
func rowWhy(p writepattern.Pattern, r Row) string {
	if r.Trials == 0 {
		return ""
	}
	n := r.Trials
	dirEv := eventTally(r.DirEvents).summary(false)
	fileEv := eventTally(r.FileEvents).summary(true)
	reached := fmt.Sprintf("the watched path read the last version at the end in %d/%d trials", n-r.WatchOld, n)
	pinned := fmt.Sprintf("the watched path still read an older version at the end in %d/%d trials, and stat(2) of it reported st_nlink 0 in %d/%d", r.WatchOld, n, r.WatchNlinkZero, n)
	if r.FS == fsmount.Overlay && r.WatchNlinkZero < n {
		pinned += ": on overlayfs a file never copied up reports the lower layer's link count, which the save through the merged directory left at 1 (it only covered the file in the upper layer)"
	}
	switch p.Name {
	case "bindmount-file-rename":
		return fmt.Sprintf("the host wrote host/%s.tmp and rename(2)d it over host/%s, giving the host path a new inode; the bind mount on container/%s still pins the old inode, unlinked from the host directory (%s), so no event and no new byte can reach the container side (the directory watch on container/ saw %s; the file-path watch saw %s)",
			ConfigName, ConfigName, ConfigName, pinned, dirEv, fileEv)
	case "bindmount-file-inplace":
		return fmt.Sprintf("the host opened host/%s with O_TRUNC and wrote the new bytes into the inode the bind mount shows, so %s; inotify reports the IN_MODIFY to watches on that inode (the file-path watch saw %s) and to the host's directory, not to a watch on container/ (it saw %s)",
			ConfigName, reached, fileEv, dirEv)
	case "subpath":
		return fmt.Sprintf("the AtomicWriter wrote host/..<timestamp>/%s in a new directory, renamed ..data_tmp over ..data and removed the old ..<timestamp> directory, unlinking the file the kubelet had bind-mounted read-only onto container/%s (%s): no event and no new byte reach the pod (the directory watch on container/ saw %s; the file-path watch saw %s)",
			ConfigName, ConfigName, pinned, dirEv, fileEv)
	case "bindmount-dir-rename":
		return fmt.Sprintf("the host rename(2)d host/%s.tmp over host/%s; container/ is a bind mount of host/, the same directory inode, so container/%s resolves to the new entry (%s); the directory watch on container/ saw %s, the file-path watch %s",
			ConfigName, ConfigName, ConfigName, reached, dirEv, fileEv)
	case "bindmount-dir-inplace":
		return fmt.Sprintf("the host truncated and wrote host/%s in place; container/ is a bind mount of host/, the same directory inode, so %s; the directory watch on container/ saw %s, the file-path watch %s",
			ConfigName, reached, dirEv, fileEv)
	case "release-symlink":
		return fmt.Sprintf("the deploy wrote %s/N+1/%s, made a temp symlink to it and rename(2)d it over %s, so a fresh open of %s/%s reads the new release (%s); an inotify watch added through %s/ follows the symlink once, when it is added, and stays on %s/1, where nothing changed (the directory watch on %s/ saw %s; the file-path watch saw %s)",
			writepattern.ReleasesDir, ConfigName, writepattern.CurrentLink, writepattern.CurrentLink, ConfigName, reached, writepattern.CurrentLink, writepattern.ReleasesDir, writepattern.CurrentLink, dirEv, fileEv)
	case "git-checkout":
		return fmt.Sprintf("git checkout unlinked %s and created it anew (unlink, open O_CREAT|O_EXCL, write, close; the file system may hand the freed inode number straight back), so %s; the directory watch saw %s, the file-path watch %s",
			ConfigName, reached, dirEv, fileEv)
	case "older-mtime":
		return fmt.Sprintf("the writer wrote .ansible_tmp_%s, set its mtime %s before the old file's and rename(2)d it over %s: a new inode of the same size whose mtime went back (in %d/%d trials), so %s; the directory watch saw %s, the file-path watch %s",
			ConfigName, fmtDur(writepattern.OlderMtimeBy), ConfigName, r.MtimeBack, n, reached, dirEv, fileEv)
	}
	return ""
}

// quoteAll quotes each message and joins them.
func quoteAll(msgs []string) string {
	q := make([]string, len(msgs))
	for i, m := range msgs {
		q[i] = fmt.Sprintf("%q", m)
	}
	return strings.Join(q, "; ")
}

// fmtMS renders milliseconds for a why line.
func fmtMS(ms float64) string {
	switch {
	case ms < 0.1:
		return "<0.1 ms"
	case ms >= 1000:
		return fmt.Sprintf("%.2f s", ms/1000)
	case ms >= 10:
		return fmt.Sprintf("%.0f ms", ms)
	default:
		return fmt.Sprintf("%.1f ms", ms)
	}
}

// fmtDur renders a duration as fmtMS does.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return fmtMS(rig.MS(d))
}

func uniq(s []string) []string {
	var out []string
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
