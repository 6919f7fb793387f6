// Package walkbench measures the article's chapter-2.5 claim that walking a
// directory tree through Go 1.22's os.DirFS takes 18 ms where
// filepath.Walk takes 42 ms (10k files). It holds only benchmarks:
//
//	go test -run '^$' -bench . ./harness/walkbench
//
// BenchmarkWalk walks the same tree (10 directories × 1000 files, created
// once per run in a temporary directory) with filepath.Walk (an lstat per
// entry), filepath.WalkDir (no stat) and fs.WalkDir over os.DirFS (no stat,
// through the fs.FS interface). `lab micro` runs it beside the store
// benchmarks.
package walkbench
