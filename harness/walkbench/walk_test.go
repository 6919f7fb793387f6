package walkbench

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

const (
	walkDirs  = 10
	walkFiles = 1000 // per directory
)

func makeTree(b *testing.B) string {
	b.Helper()
	root := b.TempDir()
	for d := 0; d < walkDirs; d++ {
		dir := filepath.Join(root, "d"+strconv.Itoa(d))
		if err := os.Mkdir(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := 0; f < walkFiles; f++ {
			if err := os.WriteFile(filepath.Join(dir, "f"+strconv.Itoa(f)+".yaml"), []byte("k: v\n"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	return root
}

// BenchmarkWalk walks 10k files three ways; every way must see them all.
func BenchmarkWalk(b *testing.B) {
	root := makeTree(b)
	want := walkDirs*walkFiles + walkDirs + 1
	ways := []struct {
		name string
		walk func() (int, error)
	}{
		{"filepath.Walk", func() (int, error) {
			n := 0
			err := filepath.Walk(root, func(string, os.FileInfo, error) error { n++; return nil })
			return n, err
		}},
		{"filepath.WalkDir", func() (int, error) {
			n := 0
			err := filepath.WalkDir(root, func(string, fs.DirEntry, error) error { n++; return nil })
			return n, err
		}},
		{"os.DirFS+fs.WalkDir", func() (int, error) {
			n := 0
			err := fs.WalkDir(os.DirFS(root), ".", func(string, fs.DirEntry, error) error { n++; return nil })
			return n, err
		}},
	}
	for _, w := range ways {
		b.Run("way="+w.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				n, err := w.walk()
				if err != nil {
					b.Fatal(err)
				}
				if n != want {
					b.Fatalf("visited %d entries, want %d", n, want)
				}
			}
		})
	}
}
