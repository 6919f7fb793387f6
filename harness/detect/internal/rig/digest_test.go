package rig

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/viper"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/reloadlab/reloadlab/strategies/config"
)

// TestDigestMatchesPeers checks the oracle's canonical digest against what
// viper and koanf really load from a generated config, so a peer serving a
// complete version is recognised as one.
func TestDigestMatchesPeers(t *testing.T) {
	t.Parallel()
	data := config.Generate(17, 30)
	want, err := OracleEntry(data)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), ConfigName)
	require.NoError(t, os.WriteFile(path, data, 0o644))

	v := viper.New()
	v.SetConfigFile(path)
	require.NoError(t, v.ReadInConfig())
	got := StateOfMap(v.AllSettings())
	assert.Equal(t, want.Digest, got.Digest, "viper")
	assert.Equal(t, int64(17), got.Version)
	assert.Equal(t, 30, got.Keys)

	k := koanf.New(".")
	require.NoError(t, k.Load(file.Provider(path), koanfYAML{}))
	assert.Equal(t, want.Digest, StateOfMap(k.All()).Digest, "koanf")

	var raw map[string]any
	require.NoError(t, yaml.Unmarshal(data[:len(data)/2], &raw))
	half := StateOfMap(raw)
	assert.NotEqual(t, want.Digest, half.Digest, "a prefix is not the version")
	assert.Equal(t, State{Version: -1, Keys: 0, Digest: Digest(map[string]string{})}, StateOfMap(nil), "an empty load")
}
