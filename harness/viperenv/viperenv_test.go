package viperenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets Run re-execute the test binary as a case child.
func TestMain(m *testing.M) {
	if handled, err := ServeChild(os.Stdout); handled {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, got, file, env, want string
	}{
		{"env value", "5000", "3000", "5000", SourceEnv},
		{"file value", "3000", "3000", "5000", SourceFile},
		{"zero value", "0", "3000", "5000", SourceOther},
		{"key absent from file, zero", "0", "", "7", SourceOther},
		{"key absent from file, env", "7", "", "7", SourceEnv},
		{"env and file equal: cannot tell", "3000", "3000", "3000", SourceOther},
		{"something else", "42", "10", "41", SourceOther},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Classify(tt.got, tt.file, tt.env), tt.name)
	}
}

// TestGoModViperVersion checks the fallback constant against go.mod's
// require line.
func TestGoModViperVersion(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../../go.mod")
	require.NoError(t, err)
	defer f.Close()
	re := regexp.MustCompile(`^\s*(?:require\s+)?` + regexp.QuoteMeta(ViperModule) + `\s+(\S+)`)
	var found []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			found = append(found, m[1])
		}
	}
	require.NoError(t, sc.Err())
	require.Len(t, found, 1, "go.mod should require %s exactly once", ViperModule)
	assert.Equal(t, found[0], GoModViperVersion, "GoModViperVersion disagrees with go.mod")
}

func TestChildEnv(t *testing.T) {
	t.Parallel()
	in := []string{
		"PATH=/bin", "DB_TIMEOUT=1", "DB_POOL=2", "DB.POOL=3", "DB_RETRIES=4",
		ChildEnvVar + "=old", dirEnvVar + "=/old", "DB_TIMEOUTX=5", "HOME=/root",
	}
	got := childEnv(in, "article-order", "/tmp/d")
	assert.Equal(t, []string{
		"PATH=/bin", "DB_TIMEOUTX=5", "HOME=/root",
		ChildEnvVar + "=article-order", dirEnvVar + "=/tmp/d",
	}, got)
}

func TestCaseNamesUniqueAndValues(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, s := range specs() {
		assert.False(t, seen[s.name], "duplicate case %s", s.name)
		seen[s.name] = true
		assert.NotEqual(t, s.file, s.env, "%s: file and env values must differ to tell the source", s.name)
		assert.Contains(t, []string{"", SourceEnv, SourceFile}, s.articleExpects, s.name)
		assert.NotEmpty(t, s.articleBasis, s.name)
		assert.NotEmpty(t, s.envNames, s.name)
	}
	for _, want := range []string{
		"article-order", "setenv-after-get", "automaticenv-before-read", "bindenv", "unmarshal",
		"nested-key-no-replacer", "nested-key-replacer", "reread-after-setenv",
	} {
		assert.True(t, seen[want], "missing case %s", want)
	}
}

func TestServeChildNotAChild(t *testing.T) {
	var b bytes.Buffer
	handled, err := ServeChild(&b)
	require.NoError(t, err)
	assert.False(t, handled)
	assert.Empty(t, b.String())
}

func TestServeChildUnknownCase(t *testing.T) {
	t.Setenv(ChildEnvVar, "no-such-case")
	handled, err := ServeChild(&bytes.Buffer{})
	assert.True(t, handled)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no-such-case")
}

func TestRunRefusesInsideAChild(t *testing.T) {
	t.Setenv(ChildEnvVar, "article-order")
	_, err := Run(context.Background())
	require.Error(t, err)
}

func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx)
	require.ErrorIs(t, err, context.Canceled)
}

func TestRun(t *testing.T) {
	// measured is what viper v1.21.0 does: find() (viper.go) looks the
	// environment up with os.LookupEnv on every Get and caches nothing, and
	// Unmarshal decodes only AllKeys(), which holds keys from the file,
	// defaults, Set and BindEnv but not from AutomaticEnv. A change in viper
	// that changes any of these fails here, before the committed results go
	// stale.
	measured := map[string]struct{ got, source string }{
		"article-order":            {"5000", SourceEnv},
		"setenv-after-get":         {"5000", SourceEnv},
		"automaticenv-before-read": {"5000", SourceEnv},
		"bindenv":                  {"5000", SourceEnv},
		"unmarshal":                {"5000", SourceEnv},
		"unmarshal-env-only-key":   {"0", SourceOther},
		"nested-key-no-replacer":   {"10", SourceFile},
		"nested-key-replacer":      {"42", SourceEnv},
		"reread-after-setenv":      {"5000", SourceEnv},
	}

	// Race-detector children otherwise sleep 1 s at exit to catch late
	// races; a case child has no goroutines of its own.
	t.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))

	// The caller's own DB_TIMEOUT: unset, or set to a value no case uses.
	// Either way the children must not see it and Run must not change it.
	for _, parent := range []*string{nil, ptr("7777")} {
		name := "DB_TIMEOUT unset"
		if parent != nil {
			name = "DB_TIMEOUT=" + *parent
		}
		t.Run(name, func(t *testing.T) {
			t.Setenv(envTimeout, "")
			if parent == nil {
				require.NoError(t, os.Unsetenv(envTimeout))
			} else {
				t.Setenv(envTimeout, *parent)
			}
			before, beforeSet := os.LookupEnv(envTimeout)

			r, err := Run(context.Background())
			require.NoError(t, err)

			after, afterSet := os.LookupEnv(envTimeout)
			assert.Equal(t, beforeSet, afterSet, "DB_TIMEOUT set-ness changed")
			assert.Equal(t, before, after, "DB_TIMEOUT changed")

			assert.Equal(t, GoModViperVersion, r.ViperVersion)
			assert.NotEmpty(t, r.GoVersion)
			assert.NotEmpty(t, r.Method)
			assert.Equal(t, ConfigYAML, r.ConfigYAML)
			require.Len(t, r.Cases, len(specs()))
			for i, c := range r.Cases {
				assert.Equal(t, specs()[i].name, c.Name)
				assert.NotEmpty(t, c.Got, c.Name)
				assert.NotEmpty(t, c.Steps, c.Name)
				assert.Equal(t, "v := viper.New()", c.Steps[0], c.Name)
				assert.Contains(t, []string{SourceEnv, SourceFile, SourceOther}, c.Source, c.Name)
				assert.Equal(t, Classify(c.Got, c.FileValue, c.EnvValue), c.Source, c.Name)
				assert.NotEqual(t, "7777", c.Got, "%s: the caller's DB_TIMEOUT reached the child", c.Name)
				for _, s := range c.Steps {
					assert.NotContains(t, s, os.TempDir()+"/viperenv-", "%s: the temp dir leaked into the steps", c.Name)
				}
				want, ok := measured[c.Name]
				if assert.True(t, ok, "no measured value for %s", c.Name) {
					assert.Equal(t, want.got, c.Got, c.Name)
					assert.Equal(t, want.source, c.Source, c.Name)
				}
			}
			article := r.Cases[0]
			require.Equal(t, "article-order", article.Name)
			assert.Equal(t, []string{
				`v := viper.New()`,
				`os.Setenv("DB_TIMEOUT", "5000")`,
				`os.Getenv("DB_TIMEOUT") → 5000`,
				`v.SetConfigFile("$DIR/config.yaml")`,
				`v.ReadInConfig()`,
				`v.AutomaticEnv()`,
				`v.GetInt("db_timeout") → ` + article.Got,
			}, article.Steps)
			assert.Equal(t, SourceFile, article.ArticleExpects)

			// The JSON uses the documented snake_case names.
			data, err := json.Marshal(r)
			require.NoError(t, err)
			for _, k := range []string{`"viper_version"`, `"go_version"`, `"method"`, `"cases"`, `"file_value"`, `"env_value"`, `"got"`, `"source"`, `"article_expects"`, `"steps"`} {
				assert.Contains(t, string(data), k)
			}
		})
	}
}

func TestWriteMarkdown(t *testing.T) {
	t.Parallel()
	r := &Result{
		ViperVersion: "v1.21.0", ViperVersionFrom: "build info", GoVersion: "go1.26.8", Method: "m.", ConfigYAML: "a: 1\n",
		Cases: []Case{
			{Name: "c1", Steps: []string{`os.Setenv("A", "1")`, `v.GetInt("a") → 1`}, FileValue: "1", EnvValue: "2", Got: "1", Source: SourceFile, ArticleExpects: SourceFile, ArticleBasis: "b1"},
			{Name: "c2", Steps: []string{"x|y"}, FileValue: "", EnvValue: "7", Got: "0", Source: SourceOther, ArticleBasis: "b2"},
		},
	}
	var b bytes.Buffer
	require.NoError(t, WriteMarkdown(&b, r))
	out := b.String()
	assert.Contains(t, out, "| case | steps | file | env | got | source | the article expects |\n|---|---|---|---|---|---|---|\n")
	assert.Contains(t, out, "| c1 | `os.Setenv(\"A\", \"1\")`<br>`v.GetInt(\"a\") → 1` | 1 | 2 | 1 | file | file |\n")
	assert.Contains(t, out, "| c2 | `x\\|y` | (absent) | 7 | 0 | other | — |\n")
	assert.Contains(t, out, "- **c2**: b2\n")
	assert.NotContains(t, strings.ToLower(out), "verdict")
	require.Error(t, WriteMarkdown(&b, nil))
}

func ptr(s string) *string { return &s }
