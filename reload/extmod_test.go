package reload

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExternalModule builds and runs testdata/extmod, a service in a module
// of its own (example.com/svc, with a replace pointing at this repository),
// as a user would write it: a nested YAML config in its own struct, an
// invalid file rejected by its validator, a rename-save followed.
func TestExternalModule(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds a program in another module")
	}
	goBin, err := exec.LookPath("go") // go test puts its own GOROOT/bin first on PATH
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "run", ".")
	cmd.Dir = filepath.Join("testdata", "extmod")
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go run in %s:\n%s", cmd.Dir, out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{
		"loaded: name=svc port=8080 rps=100 backends=2 last=b.internal/3",
		`rejected: stale=true reason="rejected config.yaml: validate: service.port 0 out of range"`,
		"serving: port=8080 version=1",
		"applied: port=9090 rps=500 backends=1 version=2 stale=false trigger=robust",
	}
	assert.Equal(t, want, lines)
}
