package viperenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/viper"

	"github.com/reloadlab/reloadlab/harness/mdtable"
)

// ViperModule is the module path of the library under test.
const ViperModule = "github.com/spf13/viper"

// GoModViperVersion is the viper version go.mod requires. Result reports
// the version from the binary's build information when it has one and
// falls back to this constant; a test checks it against go.mod.
const GoModViperVersion = "v1.21.0"

// ChildEnvVar is the environment variable that makes a process a case
// child: it names the case for ServeChild to run.
const ChildEnvVar = "RELOADLAB_VIPERENV_CASE"

// dirEnvVar tells a case child the directory holding config.yaml.
const dirEnvVar = "RELOADLAB_VIPERENV_DIR"

// Sources a case's value can come from (Case.Source).
const (
	// SourceEnv: the value read is the one the case put in the environment.
	SourceEnv = "env"
	// SourceFile: the value read is config.yaml's.
	SourceFile = "file"
	// SourceOther: neither (a zero value, say), or the two cannot be told
	// apart.
	SourceOther = "other"
)

// ConfigYAML is the config.yaml every case reads.
const ConfigYAML = `# written by reloadlab/harness/viperenv
db_timeout: 3000
db:
  pool: 10
`

const configName = "config.yaml"

// childTimeout bounds one case child; a case takes milliseconds.
const childTimeout = time.Minute

// Result is what Run measured.
type Result struct {
	// ViperVersion is the viper version the cases ran against.
	ViperVersion string `json:"viper_version"`
	// ViperVersionFrom says where ViperVersion was read: "build info" (the
	// binary's runtime/debug build information) or "go.mod constant"
	// (GoModViperVersion, when the binary has no build information).
	ViperVersionFrom string `json:"viper_version_from"`
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string `json:"go_version"`
	// Method describes how the cases ran.
	Method string `json:"method"`
	// ConfigYAML is the config.yaml every case read.
	ConfigYAML string `json:"config_yaml"`
	// Cases holds one entry per case, in the order they ran.
	Cases []Case `json:"cases"`
}

// Case is one sequence of calls and the value it read.
type Case struct {
	// Name identifies the case, e.g. "article-order".
	Name string `json:"name"`
	// Steps are the calls made, in order, as Go source; a read is followed
	// by " → " and the value it returned. $DIR is the temporary directory
	// holding config.yaml.
	Steps []string `json:"steps"`
	// FileValue is the key's value in config.yaml ("" when the file does
	// not have the key).
	FileValue string `json:"file_value"`
	// EnvValue is the value the case puts in the environment.
	EnvValue string `json:"env_value"`
	// Got is the value of the case's last read (the last Get, or the
	// field Unmarshal filled).
	Got string `json:"got"`
	// Source is SourceEnv, SourceFile or SourceOther: Got compared with
	// EnvValue and FileValue (see Classify).
	Source string `json:"source"`
	// ArticleExpects is the source the article's text predicts for Got
	// ("file" or "env"), or "" when it says nothing about this order.
	ArticleExpects string `json:"article_expects"`
	// ArticleBasis says what in the article ArticleExpects rests on.
	ArticleBasis string `json:"article_basis"`
}

// Classify says where got came from: SourceEnv when it equals env,
// SourceFile when it equals file, SourceOther otherwise. When env and file
// are equal the two cannot be told apart and the answer is SourceOther.
func Classify(got, file, env string) string {
	switch {
	case env == file:
		return SourceOther
	case got == env:
		return SourceEnv
	case got == file:
		return SourceFile
	default:
		return SourceOther
	}
}

// Run runs every case, each in a child process (see the package comment),
// and returns what they read. The running binary must call ServeChild
// before anything else when ChildEnvVar is set.
func Run(ctx context.Context) (*Result, error) {
	if _, ok := os.LookupEnv(ChildEnvVar); ok {
		return nil, fmt.Errorf("viperenv: Run called in a case child (%s is set): the binary must call ServeChild first", ChildEnvVar)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("viperenv: find the running binary to re-execute: %w", err)
	}
	dir, err := os.MkdirTemp("", "viperenv-")
	if err != nil {
		return nil, fmt.Errorf("viperenv: temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, configName), []byte(ConfigYAML), 0o644); err != nil {
		return nil, fmt.Errorf("viperenv: write config.yaml: %w", err)
	}
	version, from := viperVersion()
	r := &Result{
		ViperVersion:     version,
		ViperVersionFrom: from,
		GoVersion:        runtime.Version(),
		Method: "Each case runs in its own child process (this binary re-executed with " + ChildEnvVar +
			") whose environment has " + strings.Join(caseEnvNames(), ", ") + " removed, so os.Setenv stays in " +
			"the child and no case sees another's or the caller's variables. A case makes a fresh viper.New() " +
			"(never the global viper) that reads a real config.yaml from a temporary directory ($DIR) with " +
			"SetConfigFile and ReadInConfig; it calls os.Setenv in the child itself, as the article's service " +
			"does. Got is the value of the case's last read; Source compares it with the file's and the " +
			"environment's value.",
		ConfigYAML: ConfigYAML,
	}
	for _, s := range specs() {
		c, err := runChild(ctx, exe, dir, s.name)
		if err != nil {
			return nil, err
		}
		r.Cases = append(r.Cases, c)
	}
	return r, nil
}

// runChild runs case name in a child process and decodes its answer.
func runChild(ctx context.Context, exe, dir, name string) (Case, error) {
	ctx, cancel := context.WithTimeout(ctx, childTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = childEnv(os.Environ(), name, dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return Case{}, fmt.Errorf("viperenv: case %s: %w", name, ctx.Err())
		}
		return Case{}, fmt.Errorf("viperenv: case %s: child: %w: %s", name, err, clip(stderr.String()))
	}
	var c Case
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Case{}, fmt.Errorf("viperenv: case %s: the child's answer (does the binary call ServeChild first?): %w; stdout %q, stderr %q",
			name, err, clip(stdout.String()), clip(stderr.String()))
	}
	if c.Name != name {
		return Case{}, fmt.Errorf("viperenv: case %s: the child answered for case %q", name, c.Name)
	}
	return c, nil
}

// childEnv returns environ without the variables any case sets (and
// without an earlier ChildEnvVar or dirEnvVar), plus the child's markers.
func childEnv(environ []string, name, dir string) []string {
	drop := append(caseEnvNames(), ChildEnvVar, dirEnvVar)
	env := make([]string, 0, len(environ)+2)
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if slices.Contains(drop, k) {
			continue
		}
		env = append(env, kv)
	}
	return append(env, ChildEnvVar+"="+name, dirEnvVar+"="+dir)
}

// caseEnvNames lists every variable a case sets or viper may look up.
func caseEnvNames() []string {
	seen := map[string]bool{}
	var names []string
	for _, s := range specs() {
		for _, n := range s.envNames {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

// ServeChild makes this process a case child when ChildEnvVar is set: it
// runs that case, writes its Case as JSON to w and returns true, and the
// caller should then exit (with a failure status if err is not nil).
// Without ChildEnvVar it does nothing and returns false. A binary that
// calls Run must call ServeChild before anything else.
func ServeChild(w io.Writer) (handled bool, err error) {
	name, ok := os.LookupEnv(ChildEnvVar)
	if !ok {
		return false, nil
	}
	i := slices.IndexFunc(specs(), func(s spec) bool { return s.name == name })
	if i < 0 {
		return true, fmt.Errorf("viperenv: child: unknown case %q", name)
	}
	s := specs()[i]
	for _, n := range caseEnvNames() {
		if v, set := os.LookupEnv(n); set {
			return true, fmt.Errorf("viperenv: child %s: %s=%q is set before the case starts", name, n, v)
		}
	}
	dir := os.Getenv(dirEnvVar)
	if dir == "" {
		return true, fmt.Errorf("viperenv: child %s: %s is not set", name, dirEnvVar)
	}
	c, err := runCase(s, dir)
	if err != nil {
		return true, err
	}
	if err := json.NewEncoder(w).Encode(c); err != nil {
		return true, fmt.Errorf("viperenv: child %s: write answer: %w", name, err)
	}
	return true, nil
}

// runCase runs one case in this process: it calls os.Setenv.
func runCase(s spec, dir string) (Case, error) {
	sess := &session{v: viper.New(), dir: dir, steps: []string{"v := viper.New()"}}
	got, err := s.run(sess)
	if err != nil {
		return Case{}, fmt.Errorf("viperenv: case %s: %w", s.name, err)
	}
	return Case{
		Name:           s.name,
		Steps:          sess.steps,
		FileValue:      s.file,
		EnvValue:       s.env,
		Got:            got,
		Source:         Classify(got, s.file, s.env),
		ArticleExpects: s.articleExpects,
		ArticleBasis:   s.articleBasis,
	}, nil
}

// viperVersion returns viper's version and where it was read.
func viperVersion() (version, from string) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path != ViperModule {
				continue
			}
			if d.Replace != nil {
				return d.Replace.Path + " " + d.Replace.Version + " (replaces " + d.Version + ")", "build info"
			}
			return d.Version, "build info"
		}
	}
	return GoModViperVersion, "go.mod constant"
}

// session is one case's viper instance and the calls made on it, each
// recorded as Go source.
type session struct {
	v     *viper.Viper
	dir   string
	steps []string
}

func (s *session) step(format string, args ...any) {
	s.steps = append(s.steps, fmt.Sprintf(format, args...))
}

func (s *session) setenv(name, value string) error {
	s.step("os.Setenv(%q, %q)", name, value)
	if err := os.Setenv(name, value); err != nil {
		return fmt.Errorf("os.Setenv(%q): %w", name, err)
	}
	return nil
}

func (s *session) getenv(name string) {
	s.step("os.Getenv(%q) → %s", name, os.Getenv(name))
}

func (s *session) setConfigFile() {
	s.step(`v.SetConfigFile("$DIR/%s")`, configName)
	s.v.SetConfigFile(filepath.Join(s.dir, configName))
}

func (s *session) readInConfig() error {
	s.step("v.ReadInConfig()")
	if err := s.v.ReadInConfig(); err != nil {
		return fmt.Errorf("ReadInConfig: %w", err)
	}
	return nil
}

func (s *session) automaticEnv() {
	s.step("v.AutomaticEnv()")
	s.v.AutomaticEnv()
}

func (s *session) envKeyReplacer(from, to string) {
	s.step("v.SetEnvKeyReplacer(strings.NewReplacer(%q, %q))", from, to)
	s.v.SetEnvKeyReplacer(strings.NewReplacer(from, to))
}

func (s *session) bindEnv(key, env string) error {
	s.step("v.BindEnv(%q, %q)", key, env)
	if err := s.v.BindEnv(key, env); err != nil {
		return fmt.Errorf("BindEnv: %w", err)
	}
	return nil
}

func (s *session) getInt(key string) string {
	got := strconv.Itoa(s.v.GetInt(key))
	s.step("v.GetInt(%q) → %s", key, got)
	return got
}

// appConfig is the struct the unmarshal cases decode into.
type appConfig struct {
	DBTimeout int `mapstructure:"db_timeout"`
	DBRetries int `mapstructure:"db_retries"`
	DB        struct {
		Pool int `mapstructure:"pool"`
	} `mapstructure:"db"`
}

func (s *session) unmarshal() (appConfig, error) {
	var c appConfig
	err := s.v.Unmarshal(&c)
	s.step("v.Unmarshal(&cfg) → cfg.DBTimeout=%d cfg.DBRetries=%d cfg.DB.Pool=%d", c.DBTimeout, c.DBRetries, c.DB.Pool)
	if err != nil {
		return c, fmt.Errorf("Unmarshal: %w", err)
	}
	return c, nil
}

// spec is one case: its calls and what the article says about them.
type spec struct {
	name           string
	file, env      string   // the key's value in config.yaml ("" if absent) and in the environment
	envNames       []string // environment variables the case sets or viper may look up
	articleExpects string
	articleBasis   string
	run            func(s *session) (got string, err error)
}

const (
	envTimeout = "DB_TIMEOUT"
	envPool    = "DB_POOL"
	envRetries = "DB_RETRIES"
	fileTO     = "3000"
	envTO      = "5000"
	filePool   = "10"
	envPoolVal = "42"
	envRetry   = "7"
)

// specs returns the cases in the order Run runs them.
func specs() []spec {
	timeout := []string{envTimeout}
	return []spec{
		{
			name: "article-order", file: fileTO, env: envTO, envNames: timeout,
			articleExpects: SourceFile,
			articleBasis:   `3.3 问题复现场景 and its code: os.Setenv("DB_TIMEOUT", "5000"), then viper loads config.yaml with AutomaticEnv(), and GetInt("db_timeout") "输出 3000(来自 config.yaml)"`,
			run: func(s *session) (string, error) {
				if err := s.setenv(envTimeout, envTO); err != nil {
					return "", err
				}
				s.getenv(envTimeout)
				s.setConfigFile()
				if err := s.readInConfig(); err != nil {
					return "", err
				}
				s.automaticEnv()
				return s.getInt("db_timeout"), nil
			},
		},
		{
			name: "setenv-after-get", file: fileTO, env: envTO, envNames: timeout,
			articleExpects: SourceFile,
			articleBasis:   `3.3 逻辑分析: "若此前已读取过该 key … 则后续 Setenv 无效", and its flowchart: a Get that is not the first "返回缓存旧值"`,
			run: func(s *session) (string, error) {
				s.setConfigFile()
				if err := s.readInConfig(); err != nil {
					return "", err
				}
				s.automaticEnv()
				s.getInt("db_timeout")
				if err := s.setenv(envTimeout, envTO); err != nil {
					return "", err
				}
				return s.getInt("db_timeout"), nil
			},
		},
		{
			name: "automaticenv-before-read", file: fileTO, env: envTO, envNames: timeout,
			articleBasis: "not stated: the article does not give this order (its mechanism, the first Get calls os.Getenv, would predict env; its headline scenario, Setenv before loading, file)",
			run: func(s *session) (string, error) {
				s.automaticEnv()
				if err := s.setenv(envTimeout, envTO); err != nil {
					return "", err
				}
				s.setConfigFile()
				if err := s.readInConfig(); err != nil {
					return "", err
				}
				return s.getInt("db_timeout"), nil
			},
		},
		{
			name: "bindenv", file: fileTO, env: envTO, envNames: timeout,
			articleExpects: SourceEnv,
			articleBasis:   `3.3 解决方案对比: viper.BindEnv("db_timeout", "DB_TIMEOUT") + viper.Get() "推荐显式绑定后读取" (here without AutomaticEnv, so only BindEnv can bring the environment in, after a Get has read the key)`,
			run: func(s *session) (string, error) {
				s.setConfigFile()
				if err := s.readInConfig(); err != nil {
					return "", err
				}
				if err := s.setenv(envTimeout, envTO); err != nil {
					return "", err
				}
				s.getInt("db_timeout")
				if err := s.bindEnv("db_timeout", envTimeout); err != nil {
					return "", err
				}
				return s.getInt("db_timeout"), nil
			},
		},
		{
			name: "unmarshal", file: fileTO, env: envTO, envNames: timeout,
			articleBasis: "not stated: the article does not mention Unmarshal",
			run: func(s *session) (string, error) {
				s.setConfigFile()
				if err := s.readInConfig(); err != nil {
					return "", err
				}
				s.automaticEnv()
				if err := s.setenv(envTimeout, envTO); err != nil {
					return "", err
				}
				c, err := s.unmarshal()
				return strconv.Itoa(c.DBTimeout), err
			},
		},
		{
			name: "unmarshal-env-only-key", file: "", env: envRetry, envNames: []string{envRetries},
			articleBasis: "not stated: the article does not mention Unmarshal; db_retries is in the struct and the environment but not in config.yaml, the case where Unmarshal does not see the environment",
			run: func(s *session) (string, error) {
				s.setConfigFile()
				if err := s.readInConfig(); err != nil {
					return "", err
				}
				s.automaticEnv()
				if err := s.setenv(envRetries, envRetry); err != nil {
					return "", err
				}
				c, err := s.unmarshal()
				if err != nil {
					return "", err
				}
				s.getInt("db_retries") // for contrast: Get does look the key up
				return strconv.Itoa(c.DBRetries), nil
			},
		},
		{
			name: "nested-key-no-replacer", file: filePool, env: envPoolVal, envNames: []string{envPool, "DB.POOL"},
			articleBasis: "not stated: the article mentions SetEnvKeyReplacer only as \"仅影响键名转换\"",
			run: func(s *session) (string, error) {
				s.setConfigFile()
				if err := s.readInConfig(); err != nil {
					return "", err
				}
				s.automaticEnv()
				if err := s.setenv(envPool, envPoolVal); err != nil {
					return "", err
				}
				return s.getInt("db.pool"), nil
			},
		},
		{
			name: "nested-key-replacer", file: filePool, env: envPoolVal, envNames: []string{envPool, "DB.POOL"},
			articleBasis: "not stated: the article mentions SetEnvKeyReplacer only as \"仅影响键名转换\"",
			run: func(s *session) (string, error) {
				s.setConfigFile()
				if err := s.readInConfig(); err != nil {
					return "", err
				}
				s.envKeyReplacer(".", "_")
				s.automaticEnv()
				if err := s.setenv(envPool, envPoolVal); err != nil {
					return "", err
				}
				return s.getInt("db.pool"), nil
			},
		},
		{
			name: "reread-after-setenv", file: fileTO, env: envTO, envNames: timeout,
			articleExpects: SourceFile,
			articleBasis:   `inferred: 3.3 says without condition that once the key has been read "后续 Setenv 无效" (its flowchart: a later Get "返回缓存旧值"); it does not mention reading the file again`,
			run: func(s *session) (string, error) {
				s.setConfigFile()
				if err := s.readInConfig(); err != nil {
					return "", err
				}
				s.automaticEnv()
				s.getInt("db_timeout")
				if err := s.setenv(envTimeout, envTO); err != nil {
					return "", err
				}
				if err := s.readInConfig(); err != nil {
					return "", err
				}
				return s.getInt("db_timeout"), nil
			},
		},
	}
}

// CaseNames returns the names of the cases Run runs, in order.
func CaseNames() []string {
	var names []string
	for _, s := range specs() {
		names = append(names, s.name)
	}
	return names
}

// WriteMarkdown writes r as a short Markdown summary: the versions, the
// method and one table row per case. It states no verdict.
func WriteMarkdown(w io.Writer, r *Result) error {
	if r == nil {
		return errors.New("viperenv: WriteMarkdown: nil result")
	}
	var b strings.Builder
	b.WriteString("# viper's AutomaticEnv against os.Setenv (article chapter 3.3)\n\n")
	fmt.Fprintf(&b, "viper %s (from %s), %s. %s\n\n", r.ViperVersion, r.ViperVersionFrom, r.GoVersion, r.Method)
	b.WriteString("config.yaml:\n\n```yaml\n" + r.ConfigYAML + "```\n\n")
	b.WriteString(mdtable.Header("case", "steps", "file", "env", "got", "source", "the article expects"))
	for _, c := range r.Cases {
		steps := make([]string, len(c.Steps))
		for i, s := range c.Steps {
			steps[i] = "`" + strings.ReplaceAll(s, "`", "'") + "`"
		}
		file := c.FileValue
		if file == "" {
			file = "(absent)"
		}
		expects := c.ArticleExpects
		if expects == "" {
			expects = "—"
		}
		b.WriteString(mdtable.Row(c.Name, strings.Join(steps, "<br>"), file, c.EnvValue, c.Got, c.Source, expects))
	}
	b.WriteString("\nWhat each expectation rests on:\n\n")
	for _, c := range r.Cases {
		fmt.Fprintf(&b, "- **%s**: %s\n", c.Name, c.ArticleBasis)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("viperenv: write markdown: %w", err)
	}
	return nil
}
