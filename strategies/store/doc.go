// Package store holds the live configuration of a service and swaps in new
// versions while readers keep reading: the "store" axis of a reloadlab
// strategy.
//
// Five implementations behind one interface, [Store]:
//
//	lockmap   sync.RWMutex + map, updated in place under the write lock
//	          (hot read: RLock, lookup, RUnlock; apply: O(keys) under the lock)
//	lockswap  sync.RWMutex guarding a pointer to an immutable snapshot built
//	          outside the lock (apply: O(1) under the lock)
//	syncmap   sync.Map, one Store/Delete per key (apply: O(keys), never
//	          atomic across keys)
//	lockparse sync.RWMutex + map; the parse of the new file and the
//	          rebuild both run under the write lock (the article's chapter
//	          4.4 Reload, kept as the anti-pattern that makes readers block;
//	          it implements [RawApplier])
//	atomic    atomic.Pointer to an immutable snapshot (the article's
//	          "atomic.Value double buffer"; hot read: one atomic load)
//
// Stores whose live state is an immutable snapshot (lockswap, atomic) also
// implement [Viewer]: View returns one consistent version for a whole
// request. lockmap and syncmap do not: a request that reads several keys
// through Get may see two versions (a torn request), and the lab measures how
// often.
//
// # Concurrency
//
// Get, Version and View are safe for any number of concurrent readers. Apply
// may run concurrently with readers; callers serialise Apply calls among
// themselves (the reload pipeline does).
//
// # Examples
//
//	go test -race -run TestContract ./strategies/store
//	go test -run '^$' -bench . -cpu 1,2 ./strategies/store
package store
