// Package writepattern changes a config file the way real tools do: each
// Pattern performs the system calls of one tool's save (an editor, a deploy
// tool, the Kubernetes kubelet), so the lab can tell which triggers notice
// which kind of change.
//
// Model patterns (always available):
//
//	inplace              open(O_TRUNC) + write: echo >, cp over an existing file, VS Code, nano
//	inplace-slow         truncate, write half, pause 50 ms, write the rest: a slow writer
//	rename               write a temp file in the same directory, rename(2) over: sed -i, mv, atomic-write libraries
//	vim                  vim's backupcopy=no save: probe file 4913, rename original to backup, write new file, fsync, chmod, delete backup
//	jetbrains            IntelliJ "safe write": temp file, rename original away, rename temp in, delete old
//	k8s-configmap        the kubelet AtomicWriter: new ..<timestamp> dir, ..data_tmp symlink renamed over ..data
//	delete-create        unlink, 20 ms gap, create: tools that remove before writing
//	touch, chmod         metadata only, no content change
//	copy-preserve-mtime  new content of the same size, old mtime restored: cp -p, rsync -t, tar x of reproducible artefacts
//	burst                20 in-place writes back to back; only the last matters
//	noise                swap files, probe files and backups created and removed beside the config; config untouched
//
// Real-tool patterns run the tool itself where it is installed, to check a
// model against the real thing: vim-real, sed-real, cp-real, mv-real,
// tar-real. Available reports whether the tool is there.
//
// Deployment shapes model how the file reaches the process, from users'
// issue threads (Pattern.Shape says how; the sources are in Models):
//
//	bindmount-file-rename   host/config.yaml bind-mounted onto container/config.yaml (docker run -v file:file); the host saves by temp file + rename
//	bindmount-file-inplace  the same mount; the host writes in place
//	subpath                 Kubernetes subPath: host/ holds the AtomicWriter layout, host/..<timestamp>/config.yaml is bind-mounted read-only onto container/config.yaml; updates are the AtomicWriter sequence
//	bindmount-dir-rename    host/ bind-mounted onto container/ (docker run -v dir:dir); the host saves by temp file + rename (the control that works)
//	bindmount-dir-inplace   the same mount; the host writes in place
//	release-symlink         current -> releases/N; a deploy writes releases/N+1 and renames a temp symlink over current
//	git-checkout            a real git checkout of the other branch, the new content committed there first with plumbing (needs git)
//	older-mtime             temp file + rename carrying an mtime older than the old file's, same size (Ansible 2.17)
//
// The mount shapes (Mounts) need root; Available says so otherwise, and the
// detect lab skips them with that reason. CannotFollow is set where the
// change cannot reach the watched path at all (bindmount-file-rename,
// subpath: the mount pins the inode the host replaced, whose st_nlink is
// then 0 on the container side).
//
// # Usage
//
// Init creates the first version in a trial directory (for k8s-configmap,
// the whole ..data layout; for a shape, its host and container sides);
// Setup then makes the shape's bind mount, source in the trial directory,
// target in the view the watchers use (for tmpfs, fsmount's read-only
// view), and returns the function that removes it; Write performs one
// change, calling next for each new complete content it writes, and returns
// the contents it wrote completely, in order (the oracle the detect lab
// checks applied contents against). Watchers watch WatchPath(view, name);
// HostPath(dir, name) is the file the writer saves. Both are Path(dir,
// name) for every pattern that is not a shape.
//
//	if err := p.Available(); err != nil { … skip, with err as the reason … }
//	p.Init(dir, "config.yaml", v1)
//	cleanup, err := p.Setup(dir, view, "config.yaml")
//	defer cleanup()
//	// watch p.WatchPath(view, "config.yaml")
//	written, err := p.Write(ctx, dir, "config.yaml", next)
package writepattern
