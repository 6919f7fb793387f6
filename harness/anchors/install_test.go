package anchors

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// installEnv gates TestInstallNginx: tests never run apt-get unless asked.
const installEnv = "RELOADLAB_ANCHORS_INSTALL"

// TestInstallNginx installs nginx with Install when RELOADLAB_ANCHORS_INSTALL=1
// (as root, on Debian): go test -run TestInstallNginx ./harness/anchors/.
func TestInstallNginx(t *testing.T) {
	if os.Getenv(installEnv) != "1" {
		t.Skipf("set %s=1 to let this test install nginx with apt-get", installEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	_, hadPolicy := os.Lstat(policyRCPath)
	bin, err := Install(ctx, t.Output())
	require.NoError(t, err)
	v, err := NginxVersion(ctx, bin)
	require.NoError(t, err)
	t.Logf("nginx %s at %s", v, bin)
	_, hasPolicy := os.Lstat(policyRCPath)
	require.Equal(t, hadPolicy == nil, hasPolicy == nil, "Install must leave %s as it found it", policyRCPath)
}

func TestForbidServiceStarts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing string // "" for no file
	}{
		{"absent: written, then removed", ""},
		{"present: left alone", "#!/bin/sh\nexit 0\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "policy-rc.d")
			if tc.existing != "" {
				require.NoError(t, os.WriteFile(path, []byte(tc.existing), 0o755))
			}
			restore, err := forbidServiceStarts(path, t.Output())
			require.NoError(t, err)
			if tc.existing == "" {
				err := exec.Command("/bin/sh", path).Run() // sh: no ETXTBSY from a just-written file
				var ee *exec.ExitError
				require.ErrorAs(t, err, &ee)
				assert.Equal(t, 101, ee.ExitCode(), "policy-rc.d must forbid starting services")
			}
			restore()
			if tc.existing == "" {
				assert.NoFileExists(t, path)
			} else {
				b, err := os.ReadFile(path)
				require.NoError(t, err)
				assert.Equal(t, tc.existing, string(b))
			}
		})
	}
}
