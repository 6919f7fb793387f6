// Package rig is the machinery shared by the detect matrix (package
// detect) and the kernel experiments (package detect/kernel): the columns
// (our triggers through the reload pipeline, and the viper and koanf
// watchers used as their READMEs show), the observations they report, the
// oracle that judges what they serve, and the child process that runs
// columns and experiment jobs away from the lab (ChildMain on the child's
// side, StartChild and Proc on the lab's).
//
// A child reads its job (Spec, JSON) from the first line of stdin and
// writes Observations as JSON Lines to stdout; times are wall-clock Unix
// nanoseconds, which lab and child share. The lab starts the child as its
// own binary's hidden "detect-child" command, tests as the test binary with
// ChildEnv set; either way the child's side is ChildMain, given the modes
// of the kernel experiments besides ModeColumns.
package rig

import (
	"context"
	"github.com/reloadlab/reloadlab/internal/ctxtime"
	"math"
	"strings"
	"time"
)

// ConfigName is the config file's name in every trial and experiment
// directory.
const ConfigName = "config.yaml"

// DefaultStartTimeout bounds how long a child process may take to start
// its columns.
const DefaultStartTimeout = 15 * time.Second

// SleepCtx sleeps d or until ctx is done, returning ctx's error then
// (ctxtime.Sleep).
func SleepCtx(ctx context.Context, d time.Duration) error { return ctxtime.Sleep(ctx, d) }

// MS returns d in milliseconds.
func MS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Round3 rounds f to three decimals, as every number in matrix.json is.
func Round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// PathCleaner replaces temporary directories in messages with "<dir>", so
// messages from different trials compare equal and results name no
// temporary path.
func PathCleaner(dirs ...string) func(string) string {
	return func(s string) string {
		for _, d := range dirs {
			if d != "" {
				s = strings.ReplaceAll(s, d, "<dir>")
			}
		}
		return s
	}
}
