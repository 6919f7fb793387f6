package writepattern

import (
	"context"
	"github.com/reloadlab/reloadlab/internal/ctxtime"
	"os"
	"path/filepath"
	"time"
)

func models() []Pattern {
	return []Pattern{
		{
			Name:           "inplace",
			Models:         "shell redirection (echo > f), `cp` over an existing file (GNU/BSD cp: \"the target file is not unlinked before the copy\"), VS Code and nano saves (truncate, then write: microsoft/vscode#98063, spf13/viper#142)",
			ChangesContent: true,
			write: one(func(_ context.Context, dir, name string, data []byte) error {
				return writeInPlace(Path(dir, name), data)
			}),
		},
		{
			Name:           "inplace-slow",
			Models:         "a writer that truncates, writes part of the file and stalls (a slow disk, a big file, a process descheduled mid-write), as in the article's vim half-written-file concern",
			ChangesContent: true,
			write: one(func(ctx context.Context, dir, name string, data []byte) error {
				f, err := os.OpenFile(Path(dir, name), os.O_WRONLY|os.O_TRUNC|os.O_CREATE, 0o644)
				if err != nil {
					return err
				}
				defer f.Close()
				if _, err := f.Write(data[:len(data)/2]); err != nil {
					return err
				}
				if err := ctxtime.Sleep(ctx, SlowPause); err != nil {
					return err
				}
				if _, err := f.Write(data[len(data)/2:]); err != nil {
					return err
				}
				return f.Close()
			}),
		},
		{
			Name:           "rename",
			Models:         "GNU sed -i (\"creating a temporary file … the temporary file is renamed\", GNU sed manual), mv over the file, atomic-write libraries: a temp file in the same directory renamed over the config",
			ChangesContent: true,
			write:          one(func(_ context.Context, dir, name string, data []byte) error { return renameIn(dir, name, data, ".tmp") }),
		},
		{
			Name:           "vim",
			Models:         "Vim with backupcopy=no (or auto on an ordinary file): the 4913 probe file (vim src/bufwrite.c), rename the original to name~, write and fsync a new file, give it the original's permissions (mch_setperm), delete the backup (vim options.txt 'backupcopy'; vim/vim#15733; the chmod seen on the real vim's save by the detect lab's event witness)",
			ChangesContent: true,
			write: one(func(_ context.Context, dir, name string, data []byte) error {
				probe := filepath.Join(dir, "4913")
				if f, err := os.OpenFile(probe, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err == nil {
					f.Close()
					os.Remove(probe)
				}
				fi, err := os.Stat(Path(dir, name))
				if err != nil {
					return err
				}
				backup := Path(dir, name) + "~"
				if err := os.Rename(Path(dir, name), backup); err != nil {
					return err
				}
				if err := writeNewSynced(Path(dir, name), data); err != nil {
					return err
				}
				if err := os.Chmod(Path(dir, name), fi.Mode().Perm()); err != nil {
					return err
				}
				return os.Remove(backup)
			}),
		},
		{
			Name:           "jetbrains",
			Models:         "IntelliJ-platform \"safe write\" (Settings › System Settings › Back up files before saving): write name___jb_tmp___, rename the original to name___jb_old___, rename the temp file in, delete the old one (the ___jb_tmp___/___jb_old___ suffixes of IntelliJ's SafeFileOutputStream)",
			ChangesContent: true,
			write: one(func(_ context.Context, dir, name string, data []byte) error {
				tmp, old := Path(dir, name)+"___jb_tmp___", Path(dir, name)+"___jb_old___"
				if err := writeNewSynced(tmp, data); err != nil {
					return err
				}
				if err := os.Rename(Path(dir, name), old); err != nil {
					return err
				}
				if err := os.Rename(tmp, Path(dir, name)); err != nil {
					return err
				}
				return os.Remove(old)
			}),
		},
		{
			Name:           "k8s-configmap",
			Models:         "the kubelet's AtomicWriter (kubernetes pkg/volume/util/atomic_writer.go): files live in a ..<timestamp> directory, ..data is a symlink to it, the visible file is a symlink into ..data; an update writes a new directory, points ..data_tmp at it, renames ..data_tmp over ..data, and removes the old directory",
			ChangesContent: true,
			init:           func(dir, name string, data []byte) error { return atomicWriter(dir, name, data) },
			write: one(func(_ context.Context, dir, name string, data []byte) error {
				return atomicWriter(dir, name, data)
			}),
		},
		{
			Name:           "delete-create",
			Models:         "tools that remove the file before writing it (GNU tar x \"normally replaces the file by removing it before extracting it\", cp --remove-destination, scripts doing rm && cat >): the path is missing for a moment",
			ChangesContent: true,
			write: one(func(ctx context.Context, dir, name string, data []byte) error {
				if err := os.Remove(Path(dir, name)); err != nil {
					return err
				}
				if err := ctxtime.Sleep(ctx, DeleteGap); err != nil {
					return err
				}
				return writeNewSynced(Path(dir, name), data)
			}),
		},
		{
			Name:   "touch",
			Models: "touch(1), backup agents and `git checkout` of an unchanged file: utimes(2) only, no content change",
			write: func(_ context.Context, dir, name string, _ func() []byte) ([][]byte, error) {
				now := time.Now()
				return nil, os.Chtimes(Path(dir, name), now, now)
			},
		},
		{
			Name:   "chmod",
			Models: "chmod(1) and configuration-management runs that re-assert permissions: chmod(2) only, no content change",
			write: func(_ context.Context, dir, name string, _ func() []byte) ([][]byte, error) {
				p := Path(dir, name)
				fi, err := os.Stat(p)
				if err != nil {
					return nil, err
				}
				if err := os.Chmod(p, 0o600); err != nil {
					return nil, err
				}
				return nil, os.Chmod(p, fi.Mode().Perm())
			},
		},
		{
			Name:           "copy-preserve-mtime",
			Models:         "cp -p, rsync -t and tar x restore the source's mtime; reproducible artefacts (SOURCE_DATE_EPOCH) give every version the same mtime, so a same-size new version keeps mtime and size",
			ChangesContent: true,
			write: one(func(_ context.Context, dir, name string, data []byte) error {
				p := Path(dir, name)
				fi, err := os.Stat(p)
				if err != nil {
					return err
				}
				if err := writeInPlace(p, data); err != nil {
					return err
				}
				return os.Chtimes(p, fi.ModTime(), fi.ModTime())
			}),
		},
		{
			Name:           "burst",
			Models:         "a deploy script or editor plugin saving many times in a row (format-on-save, several template passes): in-place writes back to back",
			ChangesContent: true,
			write: func(_ context.Context, dir, name string, next func() []byte) ([][]byte, error) {
				var written [][]byte
				for i := 0; i < BurstWrites; i++ {
					data := next()
					if err := writeInPlace(Path(dir, name), data); err != nil {
						return written, err
					}
					written = append(written, data)
				}
				return written, nil
			},
		},
		{
			Name:   "noise",
			Models: "editors working beside the config: vim's .swp and 4913 probe, backup files (name~), JetBrains temp files, created and removed; the config itself is untouched",
			write: func(_ context.Context, dir, name string, _ func() []byte) ([][]byte, error) {
				for _, n := range []string{"." + name + ".swp", "4913", name + "~", name + "___jb_tmp___", "." + name + ".swx"} {
					p := filepath.Join(dir, n)
					if err := os.WriteFile(p, []byte("noise\n"), 0o644); err != nil {
						return nil, err
					}
					if err := os.Remove(p); err != nil {
						return nil, err
					}
				}
				return nil, nil
			},
		},
	}
}

// writeInPlace truncates the existing file (creating it if needed) and
// writes data with one write(2), keeping the inode.
func writeInPlace(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeNewSynced creates a new file, writes data and fsyncs it.
func writeNewSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// renameIn writes data to name+suffix in dir and renames it over name.
func renameIn(dir, name string, data []byte, suffix string) error {
	tmp := Path(dir, name) + suffix
	if err := writeNewSynced(tmp, data); err != nil {
		return err
	}
	return os.Rename(tmp, Path(dir, name))
}

// atomicWriter performs the kubelet AtomicWriter's steps for one key
// (pkg/volume/util/atomic_writer.go, Write): a new timestamped directory,
// the file written inside, a ..data_tmp symlink renamed over ..data, the
// user-visible symlink created if missing, the old directory removed.
func atomicWriter(dir, name string, data []byte) error {
	dataLink := filepath.Join(dir, "..data")
	old, _ := os.Readlink(dataLink)
	ts, err := os.MkdirTemp(dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return err
	}
	if err := os.Chmod(ts, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(ts, name), data, 0o644); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "..data_tmp")
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dataLink); err != nil {
		return err
	}
	visible := Path(dir, name)
	if _, err := os.Readlink(visible); os.IsNotExist(err) {
		if err := os.Symlink(filepath.Join("..data", name), visible); err != nil {
			return err
		}
	}
	if old != "" {
		return os.RemoveAll(filepath.Join(dir, old))
	}
	return nil
}
