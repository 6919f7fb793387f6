package ledger

import (
	"fmt"
	"strings"

	"github.com/reloadlab/reloadlab/harness/detect"
	"github.com/reloadlab/reloadlab/harness/mdtable"
	"github.com/reloadlab/reloadlab/harness/viperenv"
)

const cmdViperEnv = "make viperenv"

// claimViperEnv judges the article's chapter 3.3 case (E1) from
// results/viperenv: every case for which the article predicts where the
// value comes from is one part.
func claimViperEnv(in *Inputs) Claim {
	c := Claim{ID: "E1", Section: "chapter 3.3", Command: cmdViperEnv,
		Claim: "After os.Setenv(\"DB_TIMEOUT\", \"5000\"), viper with AutomaticEnv() keeps returning the file's 3000: it reads the environment lazily, on the first Get, and a key read before a Setenv keeps its old value.",
		Rule:  "one part per call order for which the article predicts the file's value despite the Setenv (results/viperenv: the real viper, a fresh process per order), holding when viper returned the file's value; confirmed when all hold, refuted when none, depends otherwise"}
	r := in.ViperEnv
	if r == nil || len(r.Cases) == 0 {
		return c.missing("results/viperenv is missing (run `make viperenv`)")
	}
	var measured []string
	var parts []part
	for _, k := range r.Cases {
		measured = append(measured, fmt.Sprintf("%s: %s (%s; file %s, env %s)", k.Name, orNone(k.Got), k.Source, orNone(k.FileValue), orNone(k.EnvValue)))
		if k.ArticleExpects != viperenv.SourceFile {
			continue
		}
		parts = append(parts, part{what: fmt.Sprintf("%s returns the %s value", k.Name, k.ArticleExpects), known: true, holds: k.Source == k.ArticleExpects,
			why: "got " + orNone(k.Got) + " from " + k.Source})
	}
	c.Measured = fmt.Sprintf("viper %s, one fresh process per call order, config.yaml with db_timeout: 3000: %s.", r.ViperVersion, strings.Join(measured, "; "))
	if len(parts) == 0 {
		return c.missing("no case of results/viperenv carries the article's prediction")
	}
	c.decide(parts...)
	if c.Verdict != Confirmed {
		c.Interpretation = "viper's AutomaticEnv looks the variable up on every Get and caches nothing, so the order of Setenv and Get does not matter (and the BindEnv the article recommends fixes nothing that was broken); what does matter is whether viper knows the key (Unmarshal) and how a nested key maps to a variable name"
	}
	return c
}

func orNone(s string) string {
	if s == "" {
		return "(empty)"
	}
	return s
}

// instanceLimitSpec judges the article's chapter 2.3 statement about the
// two inotify limits (D19) from the instance-limit and watch-limit
// experiments.
var instanceLimitSpec = detectSpec{
	id: "D19", source: "chapter 2.3",
	claim: "max_user_instances caps the inotify instances one user can create; max_user_watches (default 8192) caps the inodes each instance watches.",
	rule:  "two parts: instances are capped per user (in a user namespace with max_inotify_instances lowered, inotify_init1 fails exactly at the limit), and watches are capped per instance (with another instance holding the namespace's every watch, an inotify-only column's fresh instance still serves a later change); confirmed when both hold, refuted when neither, depends when one",
	judge: func(q query) judgement {
		il, wl := q.m.InstanceLimit, q.m.WatchLimit
		if il == nil || il.InstancesCreated == 0 && il.InitError == "" {
			reason := "the instance-limit experiment did not run"
			if il != nil && il.Error != "" {
				reason = "the instance-limit experiment failed: " + il.Error
			}
			return judgement{verdict: NotReproducible, measured: reason}
		}
		failure := "no error"
		if il.InitError != "" {
			failure = fmt.Sprintf("%s (%s)", il.Errno, lastPart(il.InitError))
		}
		var outcomes []string
		for _, c := range il.Columns {
			s := fmt.Sprintf("%s %s", c.Column, c.Outcome)
			switch {
			case c.Applied && c.LatencyMS != nil:
				s += fmt.Sprintf(", later change served in %s", mdtable.Millis(*c.LatencyMS))
			case !c.Applied:
				s += ", later change not served"
			}
			if c.Outcome == detect.OutcomeExit && c.Stderr != "" {
				s += fmt.Sprintf(" (%q)", lastLine(c.Stderr))
			}
			outcomes = append(outcomes, s)
		}
		j := judgement{measured: fmt.Sprintf("with max_inotify_instances lowered to %d in a user namespace, %d instances were created, then inotify_init1 failed with %s (host max_user_instances %d, read only). Each column then started in its own such namespace with no instance left: %s",
			il.LimitSet, il.InstancesCreated, failure, il.HostMaxUserInstances, strings.Join(outcomes, "; ")), cells: []string{"instance-limit/inotify_init1"}}
		perUser := part{what: "instances are capped at the limit", known: true, holds: il.LimitApplies, why: fmt.Sprintf("%d created under a limit of %d, then %s", il.InstancesCreated, il.LimitSet, failure)}
		perInstance := part{what: "watches are capped per instance"}
		if wl != nil && len(wl.Columns) > 0 && wl.LimitApplies {
			var served []string
			for _, c := range wl.Columns {
				if (c.Column == "fsnotify" || c.Column == "dirwatch") && c.Applied {
					served = append(served, c.Column)
				}
			}
			perInstance.known, perInstance.holds = true, len(served) > 0
			perInstance.why = fmt.Sprintf("with one instance holding all %d watches of the namespace, inotify-only columns that still served a change: %s", wl.LimitSet, list(served))
		}
		var c Claim
		c.decide(perUser, perInstance)
		j.verdict, j.because = c.Verdict, c.Because
		return j
	},
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
