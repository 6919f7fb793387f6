package writepattern

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The two sides of a mount shape inside a trial directory: the writer
// saves under HostDir, the watchers watch under ContainerDir, which a bind
// mount made by Setup joins to it.
const (
	HostDir      = "host"
	ContainerDir = "container"
)

// Release-symlink layout: the config lives in ReleasesDir/<n>/ and
// CurrentLink points at the release in service.
const (
	ReleasesDir = "releases"
	CurrentLink = "current"
)

// OlderMtimeBy is how far older-mtime sets the new file's mtime back from
// the old file's.
const OlderMtimeBy = time.Hour

// bindStep is a shape's mount: source (in the trial directory, symbolic
// links resolved) bind-mounted onto target (in the watchers' view).
type bindStep struct {
	source   func(dir, name string) (string, error)
	target   func(view, name string) string
	readOnly bool
}

// hostPath is name on the host side of a mount shape.
func hostPath(dir, name string) string { return filepath.Join(dir, HostDir, name) }

// containerPath is name on the container side of a mount shape.
func containerPath(view, name string) string { return filepath.Join(view, ContainerDir, name) }

// fileBind bind-mounts the host file (resolved) onto the container file.
func fileBind(readOnly bool) *bindStep {
	return &bindStep{
		source: func(dir, name string) (string, error) { return filepath.EvalSymlinks(hostPath(dir, name)) },
		target: containerPath,
		// The kubelet mounts ConfigMap volumes read-only; docker -v is
		// read-write unless :ro.
		readOnly: readOnly,
	}
}

// dirBind bind-mounts the host directory onto the container directory.
var dirBind = &bindStep{
	source: func(dir, _ string) (string, error) { return filepath.Join(dir, HostDir), nil },
	target: func(view, _ string) string { return filepath.Join(view, ContainerDir) },
}

// initFileMount lays out a single-file mount shape: host/ with the first
// version written by hostInit, and container/name, the empty file the
// bind mount will cover (a file mount point must exist, as the container
// runtime creates it).
func initFileMount(hostInit func(hostDir, name string, data []byte) error) func(dir, name string, data []byte) error {
	return func(dir, name string, data []byte) error {
		if err := mkdirs(filepath.Join(dir, HostDir), filepath.Join(dir, ContainerDir)); err != nil {
			return err
		}
		if err := hostInit(filepath.Join(dir, HostDir), name, data); err != nil {
			return err
		}
		return os.WriteFile(containerPath(dir, name), nil, 0o644)
	}
}

// initDirMount lays out a directory mount shape: host/name and an empty
// container/ directory for the mount.
func initDirMount(dir, name string, data []byte) error {
	if err := mkdirs(filepath.Join(dir, HostDir), filepath.Join(dir, ContainerDir)); err != nil {
		return err
	}
	return os.WriteFile(hostPath(dir, name), data, 0o644)
}

func plainInit(dir, name string, data []byte) error {
	return os.WriteFile(Path(dir, name), data, 0o644)
}

// onHost runs a writer of dir/name on the host side of a mount shape.
func onHost(fn func(ctx context.Context, dir, name string, data []byte) error) func(context.Context, string, string, func() []byte) ([][]byte, error) {
	return one(func(ctx context.Context, dir, name string, data []byte) error {
		return fn(ctx, filepath.Join(dir, HostDir), name, data)
	})
}

func hostRename(_ context.Context, dir, name string, data []byte) error {
	return renameIn(dir, name, data, ".tmp")
}

func hostInPlace(_ context.Context, dir, name string, data []byte) error {
	return writeInPlace(Path(dir, name), data)
}

func hostAtomicWriter(_ context.Context, dir, name string, data []byte) error {
	return atomicWriter(dir, name, data)
}

const pinned = "the bind mount pins the inode the container saw; the host's save gives the host path a new inode and unlinks the old one (st_nlink 0 on the container side), so no event and no new byte can reach the container side while the mount lives"

func shapes() []Pattern {
	fileMount := "a single file bind-mounted into a second directory, as `docker run -v ./config.yaml:/etc/app/config.yaml` (Podman the same) does: the writer saves host/config.yaml, the watchers watch container/config.yaml"
	dirMount := "a directory bind-mounted into a second directory, as `docker run -v ./conf:/etc/app` does: the writer saves in host/, the watchers watch container/config.yaml"
	return []Pattern{
		{
			Name:           "bindmount-file-rename",
			Models:         "an editor or a deploy tool on the host saving a single-file bind mount's source by temp file + rename (sed -i, vim, atomic-write libraries): the container keeps the old, unlinked inode for as long as the mount lives (moby/moby#15793, #22627; containrrr/watchtower#596)",
			ChangesContent: true,
			Shape:          fileMount,
			Mounts:         true,
			CannotFollow:   pinned,
			init:           initFileMount(plainInit),
			write:          onHost(hostRename),
			watch:          containerPath,
			host:           hostPath,
			bind:           fileBind(false),
		},
		{
			Name:           "bindmount-file-inplace",
			Models:         "the same single-file bind mount, the host side written in place (truncate + write: cp, echo >, VS Code, nano): the inode is shared, so the container reads the new bytes, but the directory entry that changed is the host's (spf13/viper#1529, #920; traefik/traefik#10409, #5589)",
			ChangesContent: true,
			Shape:          fileMount,
			Mounts:         true,
			init:           initFileMount(plainInit),
			write:          onHost(hostInPlace),
			watch:          containerPath,
			host:           hostPath,
			bind:           fileBind(false),
		},
		{
			Name:           "subpath",
			Models:         "a Kubernetes ConfigMap mounted with subPath: the kubelet bind-mounts (read-only) the file resolved inside the current ..<timestamp> directory; an update is the AtomicWriter sequence on the volume (new ..<timestamp> directory, ..data swapped, the old directory removed), so the pod never sees it (kubernetes/kubernetes#50345, #92296)",
			ChangesContent: true,
			Shape:          "a Kubernetes subPath mount: host/ holds the AtomicWriter layout (..data -> ..<timestamp>, config.yaml -> ..data/config.yaml), container/config.yaml is a read-only bind mount of host/..<timestamp>/config.yaml as resolved when the pod started",
			Mounts:         true,
			CannotFollow:   "the kubelet bind-mounted the file inside the ..<timestamp> directory of the pod's start; an update writes a new directory, swaps ..data and removes the old directory, unlinking the mounted inode (st_nlink 0 in the pod), so no event and no new byte can reach the pod while the mount lives",
			init:           initFileMount(func(dir, name string, data []byte) error { return atomicWriter(dir, name, data) }),
			write:          onHost(hostAtomicWriter),
			watch:          containerPath,
			host:           hostPath,
			bind:           fileBind(true),
		},
		{
			Name:           "bindmount-dir-rename",
			Models:         "the control for bindmount-file-rename: a directory bind mount, the host saving by temp file + rename; the mount pins the directory, so the new directory entry is what the container sees",
			ChangesContent: true,
			Shape:          dirMount,
			Mounts:         true,
			init:           initDirMount,
			write:          onHost(hostRename),
			watch:          containerPath,
			host:           hostPath,
			bind:           dirBind,
		},
		{
			Name:           "bindmount-dir-inplace",
			Models:         "the control for bindmount-file-inplace: a directory bind mount, the host writing the file in place",
			ChangesContent: true,
			Shape:          dirMount,
			Mounts:         true,
			init:           initDirMount,
			write:          onHost(hostInPlace),
			watch:          containerPath,
			host:           hostPath,
			bind:           dirBind,
		},
		{
			Name:           "release-symlink",
			Models:         "a release-directory deploy (Capistrano, git-sync): the config lives under current -> releases/N; a deploy creates releases/N+1 and swaps current atomically (a temp symlink renamed over current, as `ln -sfn` + `mv -T` or Capistrano 3 do); a watch added through current stays on the old release (ByteInternet/nginx_config_reloader#18, #75; capistrano/capistrano#1188; grafana/grafana#13351)",
			ChangesContent: true,
			Shape:          "releases/N/config.yaml, watched as current/config.yaml through the symlink current -> releases/N",
			init: func(dir, name string, data []byte) error {
				rel := filepath.Join(ReleasesDir, "1")
				if err := mkdirs(filepath.Join(dir, rel)); err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(dir, rel, name), data, 0o644); err != nil {
					return err
				}
				return os.Symlink(rel, filepath.Join(dir, CurrentLink))
			},
			write: one(func(_ context.Context, dir, name string, data []byte) error { return deployRelease(dir, name, data) }),
			watch: releasePath,
			host:  releasePath,
		},
		{
			Name:           "git-checkout",
			Tool:           "git",
			Models:         "a real `git checkout` of the other branch in a work tree whose config differs between the two branches (a config repository deployed by checkout): git unlinks the changed file and creates it anew (open O_CREAT|O_EXCL, write, close); the new content is first committed to the other branch with plumbing (hash-object, mktree, commit-tree, update-ref), which leaves the work tree alone",
			ChangesContent: true,
			Shape:          "a git work tree: config.yaml and .git in the trial directory",
			init:           gitInit,
			write:          one(gitCheckoutOther),
		},
		{
			Name:           "older-mtime",
			Models:         "Ansible 2.17 copy/template: the new content written to a temp file beside the config (.ansible_tmp…), the source's older mtime carried onto it, renamed over the config: content changed, same size, mtime went back (ansible/ansible#83013, fixed in #83235); a poller that compares \"newer than\" misses it",
			ChangesContent: true,
			write: one(func(_ context.Context, dir, name string, data []byte) error {
				fi, err := os.Stat(Path(dir, name))
				if err != nil {
					return err
				}
				tmp := filepath.Join(dir, ".ansible_tmp_"+name)
				if err := writeNewSynced(tmp, data); err != nil {
					return err
				}
				older := fi.ModTime().Add(-OlderMtimeBy)
				if err := os.Chtimes(tmp, older, older); err != nil {
					os.Remove(tmp)
					return err
				}
				return os.Rename(tmp, Path(dir, name))
			}),
		},
	}
}

// releasePath is current/name in dir.
func releasePath(dir, name string) string { return filepath.Join(dir, CurrentLink, name) }

// deployRelease writes releases/<n+1>/name, where current points at
// releases/<n>, then points current at it atomically: a temp symlink
// renamed over current. Old releases are kept, as Capistrano keeps them.
func deployRelease(dir, name string, data []byte) error {
	cur, err := os.Readlink(filepath.Join(dir, CurrentLink))
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(filepath.Base(cur))
	if err != nil {
		return fmt.Errorf("current -> %s is not a numbered release", cur)
	}
	rel := filepath.Join(ReleasesDir, strconv.Itoa(n+1))
	if err := mkdirs(filepath.Join(dir, rel)); err != nil {
		return err
	}
	if err := writeNewSynced(filepath.Join(dir, rel, name), data); err != nil {
		return err
	}
	tmp := filepath.Join(dir, CurrentLink+".tmp")
	os.Remove(tmp)
	if err := os.Symlink(rel, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, CurrentLink))
}

// git runs git in dir with no system or global configuration (every
// setting it needs is a -c option) and returns its standard output.
func git(ctx context.Context, dir string, stdin []byte, args ...string) ([]byte, error) {
	full := append([]string{
		"-c", "user.name=reloadlab", "-c", "user.email=lab@reloadlab.invalid",
		"-c", "init.defaultBranch=a", "-c", "advice.detachedHead=false",
		"-c", "core.autocrlf=false", "-c", "gc.auto=0", "-c", "maintenance.auto=false",
	}, args...)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "LC_ALL=C", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_TERMINAL_PROMPT=0")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// gitInit makes dir a repository whose branches a and b both hold data as
// name, with a checked out.
func gitInit(dir, name string, data []byte) error {
	ctx := context.Background()
	if err := os.WriteFile(Path(dir, name), data, 0o644); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"init", "-q"},
		{"add", "--", name},
		{"commit", "-q", "-m", "version 1"},
		{"branch", "b"},
	} {
		if _, err := git(ctx, dir, nil, args...); err != nil {
			return err
		}
	}
	return nil
}

// gitCheckoutOther commits data as name on the branch that is not checked
// out, without touching the work tree, then checks that branch out.
func gitCheckoutOther(ctx context.Context, dir, name string, data []byte) error {
	head, err := os.ReadFile(filepath.Join(dir, ".git", "HEAD"))
	if err != nil {
		return err
	}
	other := "b"
	switch strings.TrimSpace(string(head)) {
	case "ref: refs/heads/a":
	case "ref: refs/heads/b":
		other = "a"
	default:
		return fmt.Errorf("git-checkout: HEAD is %q, not branch a or b", strings.TrimSpace(string(head)))
	}
	blob, err := git(ctx, dir, data, "hash-object", "-w", "--stdin")
	if err != nil {
		return err
	}
	tree, err := git(ctx, dir, []byte("100644 blob "+strings.TrimSpace(string(blob))+"\t"+name+"\n"), "mktree")
	if err != nil {
		return err
	}
	commit, err := git(ctx, dir, nil, "commit-tree", strings.TrimSpace(string(tree)), "-p", other, "-m", "next version")
	if err != nil {
		return err
	}
	if _, err := git(ctx, dir, nil, "update-ref", "refs/heads/"+other, strings.TrimSpace(string(commit))); err != nil {
		return err
	}
	_, err = git(ctx, dir, nil, "checkout", "-q", other)
	return err
}

func mkdirs(dirs ...string) error {
	var errs []error
	for _, d := range dirs {
		errs = append(errs, os.MkdirAll(d, 0o755))
	}
	return errors.Join(errs...)
}
