package detect

import (
	"fmt"
	"slices"
	"strings"

	"github.com/reloadlab/reloadlab/harness/fsmount"
)

// why explains a problem cell in one line, from what was observed: the raw
// inotify events of the missed trials, what stat said, what the column
// applied and reported. It returns "" for a cell without problems.
func (c *cellAcc) why(fsName string) string {
	if !c.Problem {
		return ""
	}
	var parts []string
	if c.StartFailed > 0 {
		parts = append(parts, fmt.Sprintf("could not start in %d/%d trials", c.StartFailed, c.Trials))
	}
	if n := c.Missed - c.StartFailed; n > 0 {
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
			s := "the directory watch saw " + c.missedDir.summary(false)
			if c.Column == ColViper && c.missedDir["REMOVE "+ConfigName] > 0 {
				s += fmt.Sprintf(" (REMOVE %s in %d/%d missed trials: viper's watch loop returns on a Remove of the config file, silently)", ConfigName, c.missedDir["REMOVE "+ConfigName], c.Missed)
			}
			if c.Column == ColKoanf && c.missedTwins > 0 {
				s += fmt.Sprintf(" (in %d of the %d missed trials in which koanf reported nothing, two identical events on %s came less than 5 ms apart: koanf drops an event equal to the previous one within 5 ms)", c.missedTwins, c.Missed-c.missedWithErr, ConfigName)
			}
			parts = append(parts, s)
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

func uniq(s []string) []string {
	var out []string
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
