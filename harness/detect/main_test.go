package detect

import (
	"context"
	"os"
	"testing"
)

// TestMain lets the test binary be the detect lab's child process: the
// trials re-run it with ChildEnv=1, and it then serves one job.
func TestMain(m *testing.M) {
	if os.Getenv(ChildEnv) == "1" {
		if err := ChildMain(context.Background(), os.Stdin, os.Stdout, os.Stderr); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testChild is the child-process configuration for tests.
func testChild() Child {
	return Child{Path: os.Args[0], Args: []string{"-test.run=^$"}, Env: []string{ChildEnv + "=1"}}
}
