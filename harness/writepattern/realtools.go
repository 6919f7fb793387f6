package writepattern

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// lookPath finds an installed tool.
func lookPath(tool string) (string, error) { return exec.LookPath(tool) }

func realTools() []Pattern {
	return []Pattern{
		{
			Name:           "vim-real",
			Tool:           "vim",
			Models:         "vim itself (-Nu NONE, backupcopy=no, writebackup on, backupskip empty): replaces the buffer with the new content and :wq; checks the vim model",
			ChangesContent: true,
			write: withSource(func(ctx context.Context, dir, name, src string) error {
				// backupskip is emptied: its default (/tmp/*, $TMPDIR/*)
				// makes vim skip the backup and write in place for any file
				// under /tmp, where the lab's directories usually are, but
				// not for a config in /etc or a project directory.
				return runTool(ctx, dir, "vim", "-Nu", "NONE", "-i", "NONE", "-es",
					"-c", "set backupcopy=no writebackup backupskip=", "-c", "%d", "-c", "0r "+src, "-c", "wq", name)
			}),
		},
		{
			Name:           "sed-real",
			Tool:           "sed",
			Models:         "GNU sed -i itself, its output made the new content (1r SRC, d); checks the rename model",
			ChangesContent: true,
			write: withSource(func(ctx context.Context, dir, name, src string) error {
				return runTool(ctx, dir, "sed", "-i", "-e", "1r "+src, "-e", "d", name)
			}),
		},
		{
			Name:           "cp-real",
			Tool:           "cp",
			Models:         "cp SRC config over the existing file; checks the inplace model",
			ChangesContent: true,
			write: withSource(func(ctx context.Context, dir, name, src string) error {
				return runTool(ctx, dir, "cp", src, name)
			}),
		},
		{
			Name:           "mv-real",
			Tool:           "mv",
			Models:         "mv -f of a new file from the same directory over the config; checks the rename model",
			ChangesContent: true,
			write: one(func(ctx context.Context, dir, name string, data []byte) error {
				tmp := name + ".new"
				if err := os.WriteFile(filepath.Join(dir, tmp), data, 0o644); err != nil {
					return err
				}
				return runTool(ctx, dir, "mv", "-f", tmp, name)
			}),
		},
		{
			Name:           "tar-real",
			Tool:           "tar",
			Models:         "GNU tar x of an archive whose member has the old mtime (a reproducible build): tar removes the file, extracts the new one and restores that mtime; checks the copy-preserve-mtime model",
			ChangesContent: true,
			write: withSource(func(ctx context.Context, dir, name, src string) error {
				fi, err := os.Stat(Path(dir, name))
				if err != nil {
					return err
				}
				archive := src + ".tar"
				if err := runTool(ctx, filepath.Dir(src), "tar", "--mtime=@"+strconv.FormatInt(fi.ModTime().Unix(), 10),
					"--transform=s|.*|"+name+"|", "-cf", archive, filepath.Base(src)); err != nil {
					return err
				}
				return runTool(ctx, dir, "tar", "-xf", archive)
			}),
		},
	}
}

// withSource writes the new content to a file outside dir and passes its
// path to fn, which runs the tool.
func withSource(fn func(ctx context.Context, dir, name, src string) error) func(context.Context, string, string, func() []byte) ([][]byte, error) {
	return one(func(ctx context.Context, dir, name string, data []byte) error {
		srcDir, err := os.MkdirTemp("", "writepattern-src-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(srcDir)
		src := filepath.Join(srcDir, "new-"+name)
		if err := os.WriteFile(src, data, 0o644); err != nil {
			return err
		}
		return fn(ctx, dir, name, src)
	})
}

func runTool(ctx context.Context, dir, tool string, args ...string) error {
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", tool, err, out)
	}
	return nil
}
