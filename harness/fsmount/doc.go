// Package fsmount gives the detect lab the file systems its trials run on:
// the local disk, tmpfs, overlayfs (the container case) and a FUSE loopback
// mount changed behind its back (the network file system case). The lab
// mounts them itself and always unmounts them; where mounting is not
// possible (not root, no overlay or FUSE support) Open returns an error
// wrapping ErrSkipped that says why, and the lab skips that file system
// instead of failing the run.
//
//	disk         a directory from os.MkdirTemp under the base directory, on
//	             whatever file system holds it (Info.Type says which: ext4,
//	             xfs, btrfs …; Open refuses a base on tmpfs so "disk" never
//	             silently means RAM)
//	tmpfs        mount -t tmpfs tmpfs <base>/tmpfs/rw (size=256m), trials in
//	             sub-directories, written there and watched through a
//	             read-only bind mount of it (<base>/tmpfs/ro): the view a
//	             Kubernetes container has of a ConfigMap volume
//	overlay      one overlay mount per trial: the first version is written
//	             into the lower layer (the image), the watchers watch and the
//	             write pattern writes through the merged directory, so the
//	             first change copies the file up, as in a container whose
//	             config was baked into the image
//	fuse-remote  go-fuse loopback mounts (fs.NewLoopbackRoot) of a backing
//	             directory, one per view (WithViews); the watchers watch
//	             the mounts while the write pattern changes the backing
//	             directory, out of band, as another NFS client would: the
//	             content changes and no inotify event reaches the watchers
//
// # Usage
//
//	f, err := fsmount.Open(fsmount.Tmpfs, base)
//	if errors.Is(err, fsmount.ErrSkipped) { … report err, carry on … }
//	defer f.Close()
//	d, err := f.NewTrial("rename-03", func(dir string) error { return p.Init(dir, "config.yaml", v1) })
//	defer d.Close()
//	// watch d.Watch (or d.View(i) for watcher i), write into d.Write
//
// NewBase creates the run's base directory with the process id in its name;
// CleanStale detaches mounts and removes base directories left behind by a
// lab process that died without cleaning up (a panic, SIGKILL). It never
// touches the base of a process that is still running.
//
// # Bind mounts
//
// Bind makes one bind mount (mount --bind, optionally remounted read-only)
// and returns the function that removes it: the write patterns that model a
// deployment shape (a single file bind-mounted into a container, a
// Kubernetes subPath, a directory bind mount) use it for one trial at a
// time, inside the trial's directory, so RemoveBase and CleanStale also
// catch a bind mount a crashed run left behind. MountsUnder lists what is
// mounted below a path (tests check with it that nothing is left).
//
// # Parameters
//
//	WithFuseTimeouts   fuse-remote attribute, entry and negative-entry cache
//	                   timeouts; DefaultFuseAttrTimeout (1s) each
//	WithViews          separate views of each trial directory (default 1);
//	                   fuse-remote mounts the backing directory once per view
//
// # Views
//
// The kernel's attribute cache belongs to a mount, and every process reading
// through the mount shares it: one watcher's read refreshes the attributes
// another watcher's stat then sees. Watchers compared side by side would
// not be independent, so fuse-remote gives each its own mount (its own
// superblock, so its own caches), as each NFS client has its own. On the
// other file systems every view is the same directory: their caches are
// coherent with the writes.
//
// # FUSE caching and what it does to polling
//
// The kernel caches a FUSE file's attributes for AttrTimeout and its
// directory entries for EntryTimeout, as an NFS client caches them for
// actimeo (acregmin defaults to 3 s there). The lab uses 1 s: long enough to
// show the effect, short enough that a 3 s deadline separates "late" from
// "never". Effects on the triggers:
//
//   - poll (stat mtime+size) sees the old attributes until they expire: its
//     latency on fuse-remote is up to AttrTimeout plus one poll interval
//     (measured: a stat-only reader saw a change after ~0.7 s with a 1 s
//     timeout, a reader that also reads the file saw it at once, since a
//     read past the cached size refreshes the attributes);
//   - pollhash and every pipeline read open the file; go-fuse's loopback
//     Open does not ask for FOPEN_KEEP_CACHE, so each open drops the page
//     cache and reads the new bytes at once. A read within AttrTimeout of a
//     change that altered the size may still be cut at the old size (the
//     kernel bounds reads by its cached i_size) and is then rejected by the
//     parser, not applied;
//   - no inotify event is ever generated for a change made in the backing
//     directory, so fsnotify, dirwatch and the peers see nothing; robust
//     sees it through its safety poll.
//
// # Linux notes
//
// Mounting needs CAP_SYS_ADMIN (root). go-fuse is mounted with DirectMount
// (mount(2) directly; there is no fusermount binary on the lab machine).
// Close unmounts with umount(2) and, when the mount is busy, falls back to a
// lazy unmount (MNT_DETACH), so an interrupted run never leaves a mount
// behind; base directories are removed only after their mounts are gone.
package fsmount
