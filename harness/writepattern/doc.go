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
// # Usage
//
// Init creates the first version (for k8s-configmap, the whole ..data
// layout); Write performs one change, calling next for each new complete
// content it writes, and returns the contents it wrote completely, in order
// (the oracle the detect lab checks applied contents against). The watched
// path is always Path(dir, name).
package writepattern
