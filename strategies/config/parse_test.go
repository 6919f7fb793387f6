package config

import (
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		version int64
		values  map[string]string
	}{
		{"yaml", "version: 3\na: x\nb: \"y z\"\n", 3, map[string]string{"a": "x", "b": "y z"}},
		{"json", `{"version": 7, "a": "x", "port": 8080}`, 7, map[string]string{"a": "x", "port": "8080"}},
		{"scalars kept as text", "version: 1\nf: 1.5\nb: true\nhex: 0x1F\n", 1, map[string]string{"f": "1.5", "b": "true", "hex": "0x1F"}},
		{"version only", "version: 0\n", 0, map[string]string{}},
		{"hex version", "version: 0x10\n", 16, map[string]string{}},
		{"comments and document marker", "---\n# c\nversion: 2 # two\nk: v\n", 2, map[string]string{"k": "v"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse([]byte(tt.in))
			require.NoError(t, err)
			assert.Equal(t, tt.version, s.Version())
			assert.Equal(t, len(tt.values), s.Len())
			for k, want := range tt.values {
				got, ok := s.Get(k)
				assert.True(t, ok, "key %s missing", k)
				assert.Equal(t, want, got, "key %s", k)
			}
			assert.Equal(t, sha256.Sum256([]byte(tt.in)), s.Hash())
		})
	}
}

// aliasBomb is the YAML "billion laughs": nine levels of nine aliases each.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("version: 1\na0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	for i := 1; i < 9; i++ {
		prev := "*a" + string(rune('0'+i-1))
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [" + strings.Repeat(prev+",", 8) + prev + "]\n")
	}
	return b.String()
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string // substring of the error
	}{
		{"empty", "", "empty file"},
		{"only comments", "# nothing\n", "empty file"},
		{"invalid yaml", "version: 1\nkey: [unclosed\n", "invalid YAML"},
		{"missing version", "a: b\n", `key "version": missing`},
		{"string version", "version: \"3\"\n", "must be an integer, got a string"},
		{"float version", "version: 1.5\n", "must be an integer, got a float"},
		{"negative version", "version: -1\n", "must not be negative"},
		{"huge version", "version: 99999999999999999999\n", "does not fit in int64"},
		{"nested mapping", "version: 1\ndb:\n  host: x\n", `key "db": value must be a flat scalar, got a nested mapping`},
		{"sequence", "version: 1\nhosts: [a, b]\n", "got a sequence"},
		{"null value", "version: 1\nk: ~\n", "value is null"},
		{"top-level sequence", "- 1\n- 2\n", "top level must be a mapping"},
		{"top-level scalar", "hello\n", "top level must be a mapping"},
		{"duplicate key", "version: 1\na: x\na: y\n", `key "a": defined twice`},
		{"duplicate version", "version: 1\nversion: 2\n", `key "version": defined twice`},
		{"two documents", "version: 1\n---\nversion: 2\n", "more than one YAML document"},
		{"alias value", "version: 1\na: &x v\nb: *x\n", "alias"},
		{"alias bomb", aliasBomb(), "got a sequence"},
		{"merge key", "version: 1\nbase: &b {x: 1}\n<<: *b\n", "nested mapping"},
		{"binary garbage", "\x00\x01\x02\xff\xfe\x7f", "invalid YAML"},
		{"invalid utf8", "version: 1\nk: \"\xff\xfe\"\n", "invalid YAML"},
		{"half written", "version: 1\nkey00001: \"v1-1-ab", "invalid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse([]byte(tt.in))
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestParseErrorHasLine(t *testing.T) {
	t.Parallel()
	_, err := Parse([]byte("version: 1\nok: x\nbad:\n  nested: y\n"))
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 4, e.Line)
	assert.Equal(t, "bad", e.Key)
}

func TestGenerateRoundTrip(t *testing.T) {
	t.Parallel()
	for _, keys := range []int{0, 1, 10, 1000} {
		data := Generate(42, keys)
		s, err := Parse(data)
		require.NoError(t, err, "keys=%d", keys)
		assert.Equal(t, int64(42), s.Version())
		require.Equal(t, keys, s.Len())
		for i := 0; i < keys; i++ {
			v, ok := s.Get(KeyName(i))
			require.True(t, ok, "key %d", i)
			assert.Equal(t, Value(42, i), v)
			ver, ok := ValueVersion(v)
			assert.True(t, ok)
			assert.Equal(t, int64(42), ver)
		}
	}
	assert.Equal(t, Generate(3, 100), Generate(3, 100), "generator must be deterministic")
	assert.NotEqual(t, Value(3, 5), Value(4, 5), "versions must differ in every value")
}

func TestKeyName(t *testing.T) {
	t.Parallel()
	for i, want := range map[int]string{0: "key00000", 42: "key00042", 99999: "key99999", 100000: "key100000"} {
		assert.Equal(t, want, KeyName(i))
	}
}

func TestValueVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"v17-42-abc", 17, true},
		{"v0-1", 0, true},
		{"v17", 0, false},
		{"v-1", 0, false},
		{"17-1", 0, false},
		{"vx-1", 0, false},
		{"", 0, false},
		{"v99999999999999999999999-1", 0, false},
	}
	for _, tt := range tests {
		got, ok := ValueVersion(tt.in)
		assert.Equal(t, tt.ok, ok, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
}

// FuzzParse checks that Parse never panics or hangs, and that whatever it
// accepts is a valid flat config that survives a regeneration round trip of
// its version.
func FuzzParse(f *testing.F) {
	f.Add([]byte("version: 1\na: b\n"))
	f.Add(Generate(3, 5))
	f.Add([]byte(`{"version": 2, "k": "v"}`))
	f.Add([]byte(aliasBomb()))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			if s != nil {
				t.Fatalf("Parse returned both a snapshot and error %v", err)
			}
			return
		}
		if s.Version() < 0 {
			t.Fatalf("negative version %d accepted", s.Version())
		}
		if _, ok := s.Get(VersionKey); ok {
			t.Fatalf("version leaked into the values")
		}
		if s.Hash() != sha256.Sum256(data) {
			t.Fatalf("hash does not match the input")
		}
		if len(s.Keys()) != s.Len() {
			t.Fatalf("Keys and Len disagree")
		}
	})
}
