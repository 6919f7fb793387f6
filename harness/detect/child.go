package detect

import (
	"context"
	"io"

	"github.com/reloadlab/reloadlab/harness/detect/internal/rig"
	"github.com/reloadlab/reloadlab/harness/detect/kernel"
)

// ChildEnv, set to "1" in a test binary's environment, tells the test's
// TestMain to run ChildMain instead of the tests (the lab itself uses its
// hidden "detect-child" command).
const ChildEnv = rig.ChildEnv

// Child says how to start the lab's child process: Path with Args, then the
// child reads its job from stdin (see ChildMain). The lab uses its own
// binary and the hidden "detect-child" command; tests re-run the test
// binary with ChildEnv set. Fields: Path, Args, and Env (added to the lab's
// environment).
type Child = rig.Command

// ChildMain is the lab's child process: it reads one job (JSON) from the
// first line of stdin and writes observations as JSON Lines to stdout. It
// serves every job the matrix and the kernel experiments give a child: the
// columns of a trial (run until stdin is closed, then report each column's
// counters and return; the caller exits the process, which also ends
// watchers that cannot be stopped, viper), and the idle-cost, watch-limit
// and instance-limit jobs of package kernel. SIGUSR1 and SIGHUP never kill
// a child: a process-wide handler is installed first.
func ChildMain(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	return rig.ChildMain(ctx, stdin, stdout, stderr, kernel.ChildModes())
}
