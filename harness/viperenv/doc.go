// Package viperenv tests the article's chapter 3.3 claim about
// github.com/spf13/viper and os.Setenv against the real library.
//
// The article: a service calls os.Setenv("DB_TIMEOUT", "5000"), loads
// config.yaml (db_timeout: 3000) with viper.AutomaticEnv(), and
// viper.GetInt("db_timeout") still returns 3000. Its explanation is "lazy
// binding": viper reads the environment only on the first Get, a key read
// before (say, during ReadInConfig) keeps its cached value, and a later
// os.Setenv has no effect. It recommends BindEnv("db_timeout", "DB_TIMEOUT").
//
// Run plays that order and several others, each as one case in a fresh
// viper.New() reading a real config.yaml from a temporary directory, and
// records the calls made, the value read, and whether that value is the
// environment's or the file's. It writes no verdict: the JSON records what
// the article expects beside what viper did.
//
// # One child process per case
//
// os.Setenv changes the whole process's environment, so each case runs in a
// child process: the running binary re-executed with ChildEnvVar naming the
// case, which the binary hands to ServeChild before doing anything else (the
// lab does it in an init function, the tests in TestMain). A child process
// is the robust option, rather than running the cases one after another in
// this process and restoring the environment after each:
//
//   - nothing can leak from one case into the next or into the caller, even
//     when a case panics or the run is killed halfway: the environment dies
//     with the child;
//   - no other goroutine of the caller (a parallel test, the lab itself)
//     ever sees the article's DB_TIMEOUT=5000;
//   - each case starts from an environment the parent controls: DB_TIMEOUT,
//     DB_POOL and the other variables the cases set are removed from the
//     child's environment, so a value exported in the caller's shell cannot
//     decide a case, and the article's own name DB_TIMEOUT can be used as is;
//   - each case is a fresh process, like the article's service at start-up.
package viperenv
