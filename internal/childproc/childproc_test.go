package childproc

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestTail(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"keeps the last lines", []string{"a\nb\n", "c\nd\n"}, "c\nd"},
		{"joins split lines", []string{"he", "llo\nwor", "ld"}, "hello\nworld"},
		{"nothing", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var copied bytes.Buffer
			tl := NewTail(2, &copied)
			for _, w := range tt.writes {
				n, err := tl.Write([]byte(w))
				require.NoError(t, err)
				assert.Equal(t, len(w), n)
			}
			assert.Equal(t, tt.want, tl.String())
			assert.Equal(t, strings.Join(tt.writes, ""), copied.String(), "everything is copied")
		})
	}
}

// TestWithAffinity starts a child on CPU 0 and reads its mask back; the
// caller's own mask is left as it was.
func TestWithAffinity(t *testing.T) {
	var before unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &before))
	cmd := exec.Command("sleep", "5")
	require.NoError(t, WithAffinity([]int{0}, cmd.Start))
	defer cmd.Process.Kill()
	var got unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(cmd.Process.Pid, &got))
	assert.Equal(t, CPUSet([]int{0}), got)
	var after unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &after))
	assert.Equal(t, before, after)
	cmd.Process.Kill()
	cmd.Wait()
}
