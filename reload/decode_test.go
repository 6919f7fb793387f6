package reload

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecoders(t *testing.T) {
	t.Parallel()
	want := testConfig{Name: "svc", Server: testServer{Port: 8080, Timeout: 2 * time.Second}, Tags: []string{"a", "b"}}
	tests := []struct {
		name string
		dec  func([]byte) (testConfig, error)
		in   string
		err  string // "" for success
	}{
		{"yaml nested", YAML[testConfig](), yamlConfig("svc", 8080), ""},
		{"yaml flow style", YAML[testConfig](), "{name: svc, server: {port: 8080, timeout: 2s}, tags: [a, b]}", ""},
		{"yaml document marker", YAML[testConfig](), "---\n" + yamlConfig("svc", 8080), ""},
		{"yaml unknown key", YAML[testConfig](), yamlConfig("svc", 8080) + "extra: 1\n", "field extra not found"},
		{"yaml nested unknown key", YAML[testConfig](), "server:\n  prot: 1\n", "field prot not found"},
		{"yaml empty", YAML[testConfig](), "", "empty document"},
		{"yaml comment only", YAML[testConfig](), "# nothing\n", "empty document"},
		{"yaml two documents", YAML[testConfig](), "name: a\n---\nname: b\n", "line 2: more than one document"},
		{"yaml broken second document", YAML[testConfig](), "name: a\n---\nname: [\n", "after the first document"},
		{"yaml syntax", YAML[testConfig](), "name: [\n", "yaml:"},
		{"json nested", JSON[testConfig](), `{"name":"svc","server":{"port":8080,"timeout":2000000000},"tags":["a","b"]}`, ""},
		{"json unknown key", JSON[testConfig](), `{"name":"svc","nmae":"x"}`, "unknown field"},
		{"json empty", JSON[testConfig](), "  \n", "empty document"},
		{"json trailing data", JSON[testConfig](), `{"name":"svc"} {}`, "data after the first value"},
		{"json syntax", JSON[testConfig](), `{"name":`, "json:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.dec([]byte(tt.in))
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

// TestDecodersIntoPointersAndMaps: T may be a pointer (Load then copies a
// pointer) or a map.
func TestDecodersIntoPointersAndMaps(t *testing.T) {
	t.Parallel()
	p, err := YAML[*testConfig]()([]byte(yamlConfig("svc", 1)))
	require.NoError(t, err)
	assert.Equal(t, "svc", p.Name)
	m, err := JSON[map[string]int]()([]byte(`{"a":1}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"a": 1}, m)
}
