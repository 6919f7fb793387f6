package kernel

import (
	"context"
	"os"
	"testing"

	"github.com/reloadlab/reloadlab/harness/detect/internal/rig"
)

// TestMain lets the test binary be the experiments' child process: they
// re-run it with rig.ChildEnv=1, and it then serves one job.
func TestMain(m *testing.M) {
	if os.Getenv(rig.ChildEnv) == "1" {
		if err := rig.ChildMain(context.Background(), os.Stdin, os.Stdout, os.Stderr, ChildModes()); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testChild is the child-process configuration for tests.
func testChild() rig.Command {
	return rig.Command{Path: os.Args[0], Args: []string{"-test.run=^$"}, Env: []string{rig.ChildEnv + "=1"}}
}
