package reload

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forbiddenDeps are what a service importing this package must not be made
// to build: the lab's harness and the heavy tools it uses.
var forbiddenDeps = []string{"harness", "vegeta", "viper", "koanf", "go-fuse", "gonum", "etcd", "grpc"}

// TestDependencies lists what importing the package pulls into a build
// (go list -deps, tests excluded) and fails on any forbidden one.
func TestDependencies(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs go list")
	}
	goBin, err := exec.LookPath("go") // go test puts its own GOROOT/bin first on PATH
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	cmd := exec.Command(goBin, "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", ".")
	out, err := cmd.Output()
	require.NoError(t, err, "go list -deps: %s", stderrOf(err))
	var nonStd []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, std, _ := strings.Cut(line, " ")
		for _, bad := range forbiddenDeps {
			assert.NotContains(t, path, bad, "importing reload pulls in %s", path)
		}
		if std != "true" {
			nonStd = append(nonStd, path)
		}
	}
	require.NotEmpty(t, nonStd, "the package itself is listed")
	t.Logf("go list -deps: %d non-standard packages (the package itself included): %s", len(nonStd), strings.Join(nonStd, " "))
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
